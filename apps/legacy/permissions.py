"""Checks that a legacy write service runs before it writes.

Team admins and team members write to their team's legacy registry, team viewers only read
it. Protected aliases are put on, taken off and listed by team admins and the legacy
registry's own `admins`. Support staff see every legacy registry but write to none.
"""

from django.core.exceptions import PermissionDenied
from django.db import connection

from apps.core.exceptions import WritePaused
from apps.legacy.models import LegacyRegistry, RegisteredModel
from apps.orgs.models import TeamMembership, TeamRole
from apps.registry.models import Collection, Registry
from apps.registry.paths import format_legacy_path, format_path

WRITER_ROLES = (TeamRole.ADMIN, TeamRole.MEMBER)


def team_role(user, legacy_registry: LegacyRegistry) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        TeamMembership.objects.filter(team_id=legacy_registry.team_id, user=user)
        .values_list("role", flat=True)
        .first()
    )


def role_can_write(role: str | None) -> bool:
    return role in WRITER_ROLES


def role_can_manage_protected(role: str | None, *, is_registry_admin: bool) -> bool:
    """Team admins and the legacy registry's admins manage protected aliases."""
    return role == TeamRole.ADMIN or is_registry_admin


def can_write(user, legacy_registry: LegacyRegistry) -> bool:
    return role_can_write(team_role(user, legacy_registry))


def can_manage_protected(user, legacy_registry: LegacyRegistry) -> bool:
    role = team_role(user, legacy_registry)
    # A team admin needs no second query for the registry's admins.
    is_registry_admin = bool(
        role != TeamRole.ADMIN
        and getattr(user, "is_authenticated", False)
        and legacy_registry.admins.filter(pk=user.pk).exists()
    )
    return role_can_manage_protected(role, is_registry_admin=is_registry_admin)


def require_write(user, legacy_registry: LegacyRegistry, action: str = "Changing it") -> None:
    """Raise PermissionDenied unless the user is a team admin or member."""
    if not can_write(user, legacy_registry):
        raise PermissionDenied(
            f"{action} in the legacy Model Registry of the team '{legacy_registry.team.name}' "
            f"needs the team's member or admin role; ask a team admin for it."
        )


def require_protected(user, legacy_registry: LegacyRegistry, action: str) -> None:
    """Raise PermissionDenied unless the user may manage protected aliases."""
    if not can_manage_protected(user, legacy_registry):
        raise PermissionDenied(
            f"{action} needs a team admin or an admin of the legacy Model Registry of the "
            f"team '{legacy_registry.team.name}'; ask one of them."
        )


def _row(legacy_registry: LegacyRegistry) -> tuple | None:
    """The pause and read-only columns, read FOR KEY SHARE on PostgreSQL.

    The lock lets writers run side by side, but the migration's SELECT ... FOR UPDATE that
    starts a pause or marks the registry read-only waits until every write already past this
    check has committed, so no write lands after the pause begins.
    """
    query = LegacyRegistry.objects.filter(pk=legacy_registry.pk).values_list(
        "write_paused_since", "write_pause_ends_at", "write_pause_reason", "read_only_since"
    )
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FOR KEY SHARE", params)
            return cursor.fetchone()
    return query.first()


def require_writable(
    legacy_registry: LegacyRegistry,
    *,
    model: RegisteredModel | None = None,
    name: str | None = None,
    version: str | None = None,
) -> None:
    """Raise PermissionDenied once the registry is read-only, WritePaused during a pause.

    `model` (or `name`, for a registered model that does not exist yet) and `version` name
    the target of the write, so the read-only message can give its new path. Call it inside
    the write's transaction: the check holds a lock until commit.
    """
    row = _row(legacy_registry)
    if row is None:
        return
    paused_since, ends_at, reason, read_only_since = row
    if read_only_since is not None:
        raise PermissionDenied(
            read_only_message(legacy_registry, model=model, name=name, version=version)
        )
    if paused_since is None:
        return
    until = f" It is expected to end at {ends_at:%Y-%m-%d %H:%M} UTC." if ends_at else ""
    raise WritePaused(
        f"The legacy Model Registry of the team '{legacy_registry.team.name}' is paused for "
        f"writes: {reason or 'maintenance'}.{until} Reading works as usual; try the change "
        f"again afterwards.",
        until=ends_at,
    )


def read_only_message(
    legacy_registry: LegacyRegistry,
    *,
    model: RegisteredModel | None = None,
    name: str | None = None,
    version: str | None = None,
) -> str:
    """Why a write to a migrated legacy registry is rejected, and where to make it instead."""
    team = legacy_registry.team.name
    head = f"The legacy Model Registry of the team '{team}' is read-only since its migration"
    collection_id = None
    if model is not None:
        collection_id = (
            RegisteredModel.objects.filter(pk=model.pk)
            .values_list("migrated_to_id", flat=True)
            .first()
        )
    if collection_id is not None:
        collection = Collection.objects.select_related("registry__organization").get(
            pk=collection_id
        )
        registry = collection.registry
        new_path = format_path(registry.organization.name, registry.name, collection.name, version)
        old_path = format_legacy_path(team, model.name, version)
        return f"{head}: {old_path} is now {new_path}. Make the change there."

    registry = (
        Registry.objects.select_related("organization")
        .filter(migrated_from=legacy_registry.pk)
        .first()
    )
    if registry is None:
        return f"{head}; changes are no longer accepted."
    target = f"{registry.organization.name}/{registry.path_name}"
    requested_name = name or (model.name if model is not None else None)
    if requested_name:
        old_path = format_legacy_path(team, requested_name)
        new_path = format_path(registry.organization.name, registry.name, requested_name, version)
        return (
            f"{head}, so '{requested_name}' cannot be added under {old_path}. "
            f"Use the registry {target} instead: {new_path}."
        )
    return f"{head}; use the registry {target} instead."

"""Checks that a service runs before it writes; who holds what is read in querysets.py."""

from django.core.exceptions import PermissionDenied
from django.db import connection

from apps.core.exceptions import WritePaused
from apps.registry.models import Registry
from apps.registry.roles import Role


def can_change(user, registry: Registry) -> bool:
    return Registry.objects.changeable_by(user).filter(pk=registry.pk).exists()


def can_administer(user, registry: Registry) -> bool:
    return Registry.objects.administrable_by(user).filter(pk=registry.pk).exists()


def can_download(user, registry: Registry) -> bool:
    return Registry.objects.downloadable_by(user).filter(pk=registry.pk).exists()


def _denied(registry: Registry, action: str, role: Role) -> PermissionDenied:
    return PermissionDenied(
        f"{action} in the registry '{registry.name}' needs the {role.label} role; ask one of "
        f"its admins for it."
    )


def require_change(user, registry: Registry, action: str = "Changing content") -> None:
    """Raise PermissionDenied unless the user is a Member, WritePaused during a pause.

    Call it inside the write's transaction: the pause check holds a lock until commit.
    """
    if not can_change(user, registry):
        raise _denied(registry, action, Role.MEMBER)
    require_writable(registry)


def require_admin(user, registry: Registry, action: str = "Changing settings") -> None:
    """Raise PermissionDenied unless the user is an Admin, WritePaused during a pause."""
    if not can_administer(user, registry):
        raise _denied(registry, action, Role.ADMIN)
    require_writable(registry)


def require_writable(registry: Registry) -> None:
    """Raise WritePaused while the registry is in a write pause.

    On PostgreSQL the row is read FOR KEY SHARE: writers do not block each other, but the
    migration's SELECT ... FOR UPDATE that starts a pause waits until every write already
    past this check has committed, so no write can land after the pause begins.
    """
    query = Registry.objects.filter(pk=registry.pk).values_list(
        "write_paused_since", "write_pause_ends_at", "write_pause_reason"
    )
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FOR KEY SHARE", params)
            row = cursor.fetchone()
    else:
        row = query.first()
    if row is None or row[0] is None:
        return
    _since, ends_at, reason = row
    until = f" It is expected to end at {ends_at:%Y-%m-%d %H:%M} UTC." if ends_at else ""
    raise WritePaused(
        f"The registry '{registry.name}' is paused for writes: {reason or 'maintenance'}."
        f"{until} Reading works as usual; try the change again afterwards.",
        until=ends_at,
    )

"""Every write to a team's legacy Model Registry.

Each function checks the permission and the input, then writes inside one transaction that
also holds the write guard (apps.legacy.permissions.require_writable), a LegacyEvent row in
the registered model's history and an AuditEvent of the team's organization. Pages, htmx
fragments, the API and the MLflow importer all call these.

The write guard raises WritePaused (HTTP 423) while a migration copies the registry and
PermissionDenied (HTTP 403, naming the new path) once the migration finished, before
anything is written.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record_event
from apps.core.validators import validate_alias, validate_name, validate_tag
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyProtectedAlias,
    LegacyRegistry,
    LegacyVersion,
    RegisteredModel,
)
from apps.legacy.permissions import (
    require_protected,
    require_writable,
    require_write,
    team_role,
)
from apps.orgs.models import Team, TeamRole
from apps.registry.models import ArtifactVersion, Tag
from apps.registry.paths import format_legacy_path

# The legacy Model Registry contains models only, and a migration turns each registered
# model into a collection of this type.
MODEL_TYPE = "model"


def _actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _organization_id(legacy_registry: LegacyRegistry) -> int:
    return legacy_registry.team.organization_id


def _path(model: RegisteredModel, version: str | None = None) -> str:
    return format_legacy_path(model.legacy_registry.team.name, model.name, version)


def _record(
    model: RegisteredModel,
    actor,
    action: str,
    data: dict,
    *,
    version: str | None = None,
    at: datetime | None = None,
) -> LegacyEvent:
    """Write the history row and the audit row of one change to a registered model."""
    legacy_registry = model.legacy_registry
    event = LegacyEvent.objects.create(
        model=model,
        actor=_actor_or_none(actor),
        action=action,
        data=data,
        created_at=at or timezone.now(),
    )
    record_event(
        organization_id=_organization_id(legacy_registry),
        actor=actor,
        action=f"legacy.{action}",
        target=_path(model, version),
        data={**data, "legacy_registry": legacy_registry.pk, "model": model.pk},
    )
    return event


def _touch(model: RegisteredModel) -> None:
    RegisteredModel.objects.filter(pk=model.pk).update(updated_at=timezone.now())


def _audit_registry(legacy_registry: LegacyRegistry, actor, action: str, data: dict) -> None:
    """Audit a change to the registry's settings, which belongs to no registered model."""
    record_event(
        organization_id=_organization_id(legacy_registry),
        actor=actor,
        action=f"legacy.{action}",
        target=f"{legacy_registry.team.name}/model-registry",
        data={**data, "legacy_registry": legacy_registry.pk},
    )


# The registry itself --------------------------------------------------------------------------


def ensure_legacy_registry(*, team: Team) -> LegacyRegistry:
    """Return the team's legacy registry, creating the empty one a team starts with."""
    with transaction.atomic():
        legacy_registry, created = LegacyRegistry.objects.get_or_create(team=team)
        if created:
            _audit_registry(legacy_registry, None, "registry.created", {"team": team.name})
    return legacy_registry


def _require_team_admin(actor, legacy_registry: LegacyRegistry, action: str) -> None:
    if team_role(actor, legacy_registry) != TeamRole.ADMIN:
        raise PermissionDenied(
            f"{action} needs the admin role of the team '{legacy_registry.team.name}'."
        )


@transaction.atomic
def add_registry_admin(*, legacy_registry: LegacyRegistry, user, actor) -> None:
    """Make a team member one of the legacy registry's admins (team admins only)."""
    _require_team_admin(actor, legacy_registry, "Choosing the legacy registry's admins")
    if team_role(user, legacy_registry) is None:
        raise ValidationError(
            f"{user.username} is not in the team '{legacy_registry.team.name}'; add them to "
            f"the team first."
        )
    require_writable(legacy_registry)
    if legacy_registry.admins.filter(pk=user.pk).exists():
        return
    legacy_registry.admins.add(user)
    _audit_registry(legacy_registry, actor, "admin.added", {"user": user.username})


@transaction.atomic
def remove_registry_admin(*, legacy_registry: LegacyRegistry, user, actor) -> None:
    _require_team_admin(actor, legacy_registry, "Choosing the legacy registry's admins")
    require_writable(legacy_registry)
    if not legacy_registry.admins.filter(pk=user.pk).exists():
        raise ValidationError(f"{user.username} is not an admin of this legacy registry.")
    legacy_registry.admins.remove(user)
    _audit_registry(legacy_registry, actor, "admin.removed", {"user": user.username})


@transaction.atomic
def add_protected_alias(
    *, legacy_registry: LegacyRegistry, name: str, actor
) -> LegacyProtectedAlias:
    require_protected(actor, legacy_registry, "Protecting an alias")
    validate_alias(name)
    require_writable(legacy_registry)
    if LegacyProtectedAlias.objects.filter(
        legacy_registry=legacy_registry, name__iexact=name
    ).exists():
        raise ValidationError(f"The alias '{name}' is already protected.")
    protected = LegacyProtectedAlias.objects.create(legacy_registry=legacy_registry, name=name)
    _audit_registry(legacy_registry, actor, "protected_alias.added", {"alias": name})
    return protected


@transaction.atomic
def remove_protected_alias(*, legacy_registry: LegacyRegistry, name: str, actor) -> None:
    require_protected(actor, legacy_registry, "Unprotecting an alias")
    require_writable(legacy_registry)
    deleted, _ = LegacyProtectedAlias.objects.filter(
        legacy_registry=legacy_registry, name__iexact=name
    ).delete()
    if not deleted:
        raise ValidationError(f"The alias '{name}' is not protected in this legacy registry.")
    _audit_registry(legacy_registry, actor, "protected_alias.removed", {"alias": name})


def protected_alias_names(legacy_registry: LegacyRegistry) -> set[str]:
    """The registry's protected alias names, lower-cased."""
    return {
        name.lower()
        for name in LegacyProtectedAlias.objects.filter(
            legacy_registry=legacy_registry
        ).values_list("name", flat=True)
    }


def _require_for_protected(
    legacy_registry: LegacyRegistry, names: Iterable[str], actor, action: str
) -> None:
    protected = protected_alias_names(legacy_registry)
    hit = sorted({name for name in names if name.lower() in protected})
    if hit:
        require_protected(actor, legacy_registry, f"{action} (protected alias {', '.join(hit)})")


# Registered models ----------------------------------------------------------------------------


def _get_or_create_tags(organization_id: int, names: Iterable[str]) -> list[Tag]:
    tags = []
    for name in names:
        tag = Tag.objects.filter(organization_id=organization_id, name__iexact=name).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(organization_id=organization_id, name=name)
            except IntegrityError:
                # Another request created it in the meantime, in some case or other.
                tag = Tag.objects.get(organization_id=organization_id, name__iexact=name)
        tags.append(tag)
    return tags


@transaction.atomic
def create_registered_model(
    *,
    legacy_registry: LegacyRegistry,
    name: str,
    description: str = "",
    tags: Iterable[str] = (),
    at: datetime | None = None,
    actor,
) -> RegisteredModel:
    """Create a registered model; `at` keeps the creation time an importer read."""
    require_write(actor, legacy_registry, "Creating a registered model")
    validate_name(name, kind="registered model name")
    tag_names = [validate_tag(tag) for tag in tags]
    require_writable(legacy_registry, name=name)

    if RegisteredModel.objects.filter(legacy_registry=legacy_registry, name__iexact=name).exists():
        raise ValidationError(_taken(legacy_registry, name))
    moment = at or timezone.now()
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.create(
                legacy_registry=legacy_registry,
                name=name,
                description=description,
                created_at=moment,
                updated_at=moment,
            )
    except IntegrityError:
        # A concurrent request created the same name between the check and the insert.
        raise ValidationError(_taken(legacy_registry, name)) from None
    if tag_names:
        model.tags.add(*_get_or_create_tags(_organization_id(legacy_registry), tag_names))
    _record(model, actor, "model.created", {"name": name, "tags": tag_names}, at=moment)
    return model


def _taken(legacy_registry: LegacyRegistry, name: str) -> str:
    return (
        f"A registered model named '{name}' already exists in the legacy Model Registry of "
        f"'{legacy_registry.team.name}' (names are compared without regard to case); choose "
        f"another name."
    )


# Versions -------------------------------------------------------------------------------------


def _check_source(legacy_registry: LegacyRegistry, version: ArtifactVersion) -> None:
    artifact = version.artifact
    if artifact.project.team_id != legacy_registry.team_id:
        raise ValidationError(
            f"The version {version.source_path} belongs to another team; a legacy registry "
            f"links only versions logged in the projects of '{legacy_registry.team.name}'."
        )
    if artifact.type != MODEL_TYPE:
        raise ValidationError(
            f"The version {version.source_path} has the type '{artifact.type}', but the legacy "
            f"Model Registry holds only '{MODEL_TYPE}' versions."
        )


def _unique_aliases(aliases: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for alias in aliases:
        validate_alias(alias)
        seen.setdefault(alias.lower(), alias)
    return list(seen.values())


@transaction.atomic
def link_version(
    *,
    model: RegisteredModel,
    version: ArtifactVersion,
    aliases: Sequence[str] = (),
    index: int | None = None,
    description: str = "",
    at: datetime | None = None,
    actor,
) -> LegacyVersion:
    """Link one of the team's source versions into a registered model and set its aliases.

    The index is the model's next one unless `index` is given, because importers keep the
    version numbers of the system they read. A given index must not be below the model's
    next index, so an index once handed out is never reused. Linking a version that is already
    in the model returns its row and only adds the aliases.
    """
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Linking a version")
    _check_source(legacy_registry, version)
    alias_names = _unique_aliases(aliases)
    require_writable(legacy_registry, model=model)

    # The row lock serializes links into one model: each waiter reads the counter only after
    # the previous holder committed, so indices come out distinct. On SQLite the IMMEDIATE
    # transaction mode gives the same order.
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    locked.legacy_registry = legacy_registry
    linked = LegacyVersion.objects.filter(model=locked, version=version).first()
    if linked is None:
        if index is None:
            index = locked.next_index
        elif index < 0:
            raise ValidationError(f"The index {index} is negative; give 0 or more.")
        elif index < locked.next_index:
            raise ValidationError(
                f"The index v{index} was handed out before in '{model.name}' and is never "
                f"reused; the next free index is v{locked.next_index}."
            )
        moment = at or timezone.now()
        linked = LegacyVersion.objects.create(
            model=locked,
            index=index,
            version=version,
            description=description,
            linked_by=_actor_or_none(actor),
            linked_at=moment,
        )
        RegisteredModel.objects.filter(pk=locked.pk).update(
            next_index=index + 1, updated_at=timezone.now()
        )
        model.next_index = index + 1
        _record(
            locked,
            actor,
            "version.linked",
            {"index": index, "source": version.source_path},
            version=f"v{index}",
            at=moment,
        )
        _refresh_latest(locked)
    for alias in alias_names:
        _move_alias(locked, linked, alias, actor)
    return linked


@transaction.atomic
def reserve_index(*, model: RegisteredModel, index: int, actor) -> None:
    """Keep `index` and every index below it from being handed out by later links.

    Importers call it for the numbers the source system gave to versions it deleted since,
    so those numbers stay gaps. An index already behind the next one changes nothing.
    """
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Reserving an index")
    if index < 0:
        raise ValidationError(f"The index {index} is negative; give 0 or more.")
    require_writable(legacy_registry, model=model)

    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    locked.legacy_registry = legacy_registry
    if locked.next_index > index:
        return
    RegisteredModel.objects.filter(pk=locked.pk).update(next_index=index + 1)
    model.next_index = index + 1
    _record(
        locked,
        actor,
        "index.reserved",
        {"index": index, "next_index": index + 1},
        version=f"v{index}",
    )


@transaction.atomic
def unlink_version(*, legacy_version: LegacyVersion, actor) -> None:
    """Remove a version from its registered model; its index stays used."""
    model = legacy_version.model
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Unlinking a version")
    require_writable(legacy_registry, model=model, version=f"v{legacy_version.index}")

    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    locked.legacy_registry = legacy_registry
    alias_names = list(
        LegacyAlias.objects.filter(version=legacy_version)
        .exclude(name=LegacyAlias.LATEST)
        .values_list("name", flat=True)
    )
    _require_for_protected(legacy_registry, alias_names, actor, "Unlinking a version")
    deleted, _ = LegacyVersion.objects.filter(pk=legacy_version.pk).delete()
    if not deleted:
        return
    _record(
        locked,
        actor,
        "version.unlinked",
        {"index": legacy_version.index, "aliases": alias_names},
        version=f"v{legacy_version.index}",
    )
    _refresh_latest(locked)
    _touch(locked)


def _refresh_latest(model: RegisteredModel) -> None:
    """Point `latest` at the highest remaining index, or drop it when none remains."""
    newest = LegacyVersion.objects.filter(model=model).order_by("-index").first()
    if newest is None:
        LegacyAlias.objects.filter(model=model, name=LegacyAlias.LATEST).delete()
        return
    LegacyAlias.objects.update_or_create(
        model=model, name=LegacyAlias.LATEST, defaults={"version": newest}
    )


# Aliases --------------------------------------------------------------------------------------


@transaction.atomic
def set_alias(*, legacy_version: LegacyVersion, name: str, actor) -> LegacyAlias:
    """Put an alias on a version, moving it from whichever version of the model held it."""
    model = legacy_version.model
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Moving an alias")
    validate_alias(name)
    require_writable(legacy_registry, model=model, version=name)

    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    locked.legacy_registry = legacy_registry
    alias = _move_alias(locked, legacy_version, name, actor)
    _touch(locked)
    return alias


def _move_alias(
    model: RegisteredModel, legacy_version: LegacyVersion, name: str, actor
) -> LegacyAlias:
    _require_for_protected(model.legacy_registry, [name], actor, "Moving an alias")
    alias = LegacyAlias.objects.filter(model=model, name__iexact=name).first()
    previous_index = None
    if alias is None:
        alias = LegacyAlias.objects.create(model=model, version=legacy_version, name=name)
    elif alias.version_id == legacy_version.pk:
        return alias
    else:
        previous_index = alias.version.index
        alias.version = legacy_version
        alias.save(update_fields=["version"])
    _record(
        model,
        actor,
        "alias.set",
        {"alias": alias.name, "index": legacy_version.index, "previous_index": previous_index},
        version=alias.name,
    )
    return alias


@transaction.atomic
def remove_alias(*, model: RegisteredModel, name: str, actor) -> None:
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Removing an alias")
    if name.lower() == LegacyAlias.LATEST:
        raise ValidationError(
            "The alias 'latest' is kept by the registry itself and cannot be removed."
        )
    require_writable(legacy_registry, model=model, version=name)

    alias = (
        LegacyAlias.objects.select_related("version").filter(model=model, name__iexact=name).first()
    )
    if alias is None:
        raise ValidationError(f"The registered model '{model.name}' has no alias '{name}'.")
    _require_for_protected(legacy_registry, [alias.name], actor, "Removing an alias")
    alias.delete()
    _record(
        model,
        actor,
        "alias.removed",
        {"alias": alias.name, "index": alias.version.index},
        version=alias.name,
    )
    _touch(model)


# Tags and descriptions ------------------------------------------------------------------------


def _scope(target: RegisteredModel | LegacyVersion) -> tuple[RegisteredModel, str | None]:
    """The registered model a target belongs to, and its version label (None for a model)."""
    if isinstance(target, LegacyVersion):
        return target.model, f"v{target.index}"
    return target, None


@transaction.atomic
def add_tag(*, target: RegisteredModel | LegacyVersion, name: str, actor) -> Tag:
    model, version = _scope(target)
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Adding a tag")
    validate_tag(name)
    require_writable(legacy_registry, model=model, version=version)

    (tag,) = _get_or_create_tags(_organization_id(legacy_registry), [name])
    if target.tags.filter(pk=tag.pk).exists():
        return tag
    target.tags.add(tag)
    _record(model, actor, "tag.added", {"tag": tag.name, "on": version or "model"}, version=version)
    _touch(model)
    return tag


@transaction.atomic
def remove_tag(*, target: RegisteredModel | LegacyVersion, name: str, actor) -> None:
    model, version = _scope(target)
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Removing a tag")
    require_writable(legacy_registry, model=model, version=version)

    tag = target.tags.filter(name__iexact=name).first()
    if tag is None:
        label = _path(model, version)
        raise ValidationError(f"{label} has no tag '{name}'.")
    target.tags.remove(tag)
    _record(
        model, actor, "tag.removed", {"tag": tag.name, "on": version or "model"}, version=version
    )
    _touch(model)


@transaction.atomic
def edit_description(*, target: RegisteredModel | LegacyVersion, text: str, actor) -> None:
    model, version = _scope(target)
    legacy_registry = model.legacy_registry
    require_write(actor, legacy_registry, "Editing a description")
    require_writable(legacy_registry, model=model, version=version)

    type(target).objects.filter(pk=target.pk).update(description=text)
    target.description = text
    _record(
        model,
        actor,
        "description.edited",
        {"on": version or "model", "length": len(text)},
        version=version,
    )
    _touch(model)


# Linking by path ------------------------------------------------------------------------------


@transaction.atomic
def link_to_path(
    *,
    legacy_registry: LegacyRegistry,
    name: str,
    version: ArtifactVersion,
    aliases: Sequence[str] = (),
    actor,
) -> LegacyVersion:
    """Link a version under TEAM/model-registry/NAME, creating the registered model if new.

    This is how client code links to a legacy path. After the migration it is rejected like
    every other write, and the message names the new path, or the registry to use for a
    name that did not exist before.
    """
    require_write(actor, legacy_registry, "Linking a version")
    model = RegisteredModel.objects.filter(
        legacy_registry=legacy_registry, name__iexact=name
    ).first()
    require_writable(legacy_registry, model=model, name=name)
    if model is None:
        model = create_registered_model(legacy_registry=legacy_registry, name=name, actor=actor)
    model.legacy_registry = legacy_registry
    return link_version(model=model, version=version, aliases=aliases, actor=actor)

"""Every write to registries, collections, links, aliases and tags.

Each function checks the permission and the input, writes inside one transaction and records
an AuditEvent there. Pages, htmx fragments, commands and importers all call these.

Write services run whole inside transaction.atomic, so the write-pause check made by
require_change and require_admin keeps its lock until the write commits.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.audit.services import record_event
from apps.core.lookups import equals_ignoring_case
from apps.core.validators import (
    validate_alias,
    validate_file_path,
    validate_name,
    validate_registry_name,
    validate_tag,
)
from apps.orgs.models import (
    Organization,
    OrgMembership,
    OrgRole,
    ServiceAccount,
    Team,
    TeamRole,
)
from apps.orgs.permissions import require_team_writer
from apps.orgs.services import ensure_org_groups
from apps.registry.access import admin_count, grant_role, revoke_all
from apps.registry.files import require_download
from apps.registry.models import (
    Alias,
    Artifact,
    ArtifactVersion,
    Collection,
    CollectionLink,
    ManifestEntry,
    Project,
    ProtectedAlias,
    Registry,
    Run,
    Star,
    Tag,
    Visibility,
)
from apps.registry.permissions import require_admin, require_change, require_writable
from apps.registry.roles import Role, role_from_codenames

MAX_METADATA_KEYS = 100


# Registries ---------------------------------------------------------------------------------


def create_core_registries(organization: Organization) -> list[Registry]:
    """Create the `model` and `dataset` registries that every organization has.

    Core registries have Organization visibility: every member holds Viewer through the
    members group, and org admins hold Admin through the admins group.
    """
    ensure_org_groups(organization)
    registries = []
    for name, description in (
        ("model", "Models the organization publishes for others to use."),
        ("dataset", "Datasets the organization publishes for others to use."),
    ):
        registry, _ = Registry.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={
                "description": description,
                "visibility": Visibility.ORGANIZATION,
                "is_core": True,
                "accepted_types": [name],
            },
        )
        grant_role(registry, organization.members_group, Role.VIEWER)
        grant_role(registry, organization.admins_group, Role.ADMIN)
        registries.append(registry)
    return registries


def create_organization(*, name: str, display_name: str = "") -> Organization:
    validate_name(name, kind="organization name")
    with transaction.atomic():
        organization = Organization.objects.create(name=name, display_name=display_name)
        create_core_registries(organization)
    return organization


def _touch_registry(registry_id: int) -> None:
    Registry.objects.filter(pk=registry_id).update(updated_at=timezone.now())


# Collections --------------------------------------------------------------------------------


@transaction.atomic
def create_collection(
    *,
    registry: Registry,
    name: str,
    type: str,
    description: str = "",
    tags: Iterable[str] = (),
    actor,
) -> Collection:
    require_change(actor, registry)
    validate_name(name, kind="collection name")
    if not registry.accepts(type):
        accepted = ", ".join(registry.accepted_types) or "none"
        raise ValidationError(
            f"The registry '{registry.name}' does not accept the type '{type}'; "
            f"it accepts: {accepted}."
        )
    tag_names = [validate_tag(tag) for tag in tags]

    try:
        with transaction.atomic():
            collection = Collection.objects.create(
                registry=registry, name=name, type=type, description=description, created_by=actor
            )
            if tag_names:
                collection.tags.add(*_get_or_create_tags(registry.organization_id, tag_names))
            _touch_registry(registry.pk)
            record_event(
                organization_id=registry.organization_id,
                actor=actor,
                action="collection.created",
                target=name,
                registry_id=registry.pk,
                collection_id=collection.pk,
                data={"type": type},
            )
    except IntegrityError:
        raise ValidationError(
            f"A collection named '{name}' already exists in '{registry.name}' "
            f"(names are compared without regard to case); choose another name."
        ) from None
    return collection


# Links --------------------------------------------------------------------------------------


@transaction.atomic
def link_version(
    *,
    collection: Collection,
    version: ArtifactVersion,
    aliases: Sequence[str] = (),
    index: int | None = None,
    description: str = "",
    actor,
) -> CollectionLink:
    """Link a source version into a collection and set its aliases.

    The index is the collection's next one unless `index` is given (importers keep the
    numbers of the system they import from); it must then be unused and is never reused.
    Linking a version that is already in the collection returns its link and only adds the
    aliases.
    """
    registry = collection.registry
    require_change(actor, registry)
    if version.artifact.type != collection.type:
        raise ValidationError(
            f"The version {version.source_path} has the type '{version.artifact.type}', but "
            f"the collection '{collection.name}' accepts only '{collection.type}'."
        )
    alias_names = _unique_aliases(aliases)

    with transaction.atomic():
        # The row lock serializes links into one collection: each waiter reads the counter
        # only after the previous holder committed, so indices come out distinct and
        # consecutive. On SQLite the IMMEDIATE transaction mode gives the same order.
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        existing = CollectionLink.objects.filter(collection=locked, version=version).first()
        if existing is not None:
            link = existing
        else:
            if index is None:
                index = locked.next_index
            elif index < 0:
                raise ValidationError(f"The index {index} is negative; give 0 or more.")
            elif CollectionLink.objects.filter(collection=locked, index=index).exists():
                raise ValidationError(f"The index v{index} is already used in '{collection.name}'.")
            Collection.objects.filter(pk=locked.pk).update(
                next_index=max(locked.next_index, index + 1),
                version_count=F("version_count") + 1,
                updated_at=timezone.now(),
            )
            link = CollectionLink.objects.create(
                collection=locked,
                index=index,
                version=version,
                description=description,
                linked_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            record_event(
                organization_id=registry.organization_id,
                actor=actor,
                action="version.linked",
                target=f"{collection.name}:v{index}",
                registry_id=registry.pk,
                collection_id=collection.pk,
                data={"index": index, "source": version.source_path},
            )
            _refresh_latest(locked)
        for alias in alias_names:
            _move_alias(locked, link, alias, actor)
        _touch_registry(registry.pk)
    return link


@transaction.atomic
def unlink_version(*, link: CollectionLink, actor) -> None:
    collection = link.collection
    registry = collection.registry
    require_change(actor, registry)

    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        alias_names = list(link.aliases.exclude(name=Alias.LATEST).values_list("name", flat=True))
        _require_admin_for_protected(registry, alias_names, actor, "Unlinking a version")
        deleted, _ = CollectionLink.objects.filter(pk=link.pk).delete()
        if not deleted:
            return
        record_event(
            organization_id=registry.organization_id,
            actor=actor,
            action="version.unlinked",
            target=f"{collection.name}:v{link.index}",
            registry_id=registry.pk,
            collection_id=collection.pk,
            data={"index": link.index, "aliases": alias_names, "version_id": link.version_id},
        )
        _refresh_latest(locked)
        Collection.objects.filter(pk=locked.pk).update(
            version_count=F("version_count") - 1, updated_at=timezone.now()
        )
        _touch_registry(registry.pk)


@transaction.atomic
def reserve_index(*, collection: Collection, index: int, actor) -> None:
    """Keep `index` and every index below it from being handed out by later links.

    Importers call it for the numbers that the source system gave to versions it deleted
    since, so those numbers stay gaps. Reserving an index that is already behind the
    collection's next index changes nothing and records nothing.
    """
    registry = collection.registry
    require_change(actor, registry)
    if index < 0:
        raise ValidationError(f"The index {index} is negative; give 0 or more.")

    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        if locked.next_index > index:
            return
        Collection.objects.filter(pk=locked.pk).update(next_index=index + 1)
        collection.next_index = index + 1
        record_event(
            organization_id=registry.organization_id,
            actor=actor,
            action="index.reserved",
            target=f"{collection.name}:v{index}",
            registry_id=registry.pk,
            collection_id=collection.pk,
            data={"index": index, "next_index": index + 1},
        )


def _refresh_latest(collection: Collection) -> None:
    """Point `latest` at the highest remaining index, or drop it when none remains."""
    newest = collection.links.order_by("-index").first()
    if newest is None:
        Alias.objects.filter(collection=collection, name=Alias.LATEST).delete()
        return
    Alias.objects.update_or_create(
        collection=collection, name=Alias.LATEST, defaults={"link": newest}
    )


# Aliases ------------------------------------------------------------------------------------


def _unique_aliases(aliases: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for alias in aliases:
        validate_alias(alias)
        seen.setdefault(alias.lower(), alias)
    return list(seen.values())


@transaction.atomic
def set_alias(*, link: CollectionLink, name: str, actor) -> Alias:
    """Put an alias on a link, moving it from whichever link of the collection held it."""
    collection = link.collection
    require_change(actor, collection.registry)
    validate_alias(name)
    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        alias = _move_alias(locked, link, name, actor)
        _touch_registry(collection.registry_id)
    return alias


def _require_admin_for_protected(registry: Registry, names: Iterable[str], actor, action: str):
    """Raise PermissionDenied unless the actor is an Admin, when any name is protected."""
    protected = protected_alias_names(registry)
    hit = sorted({name for name in names if name.lower() in protected})
    if hit:
        require_admin(actor, registry, f"{action} (protected alias {', '.join(hit)})")


def protected_alias_names(registry: Registry) -> set[str]:
    """Return the registry's protected alias names, lower-cased."""
    return {name.lower() for name in registry.protected_aliases.values_list("name", flat=True)}


def _move_alias(collection: Collection, link: CollectionLink, name: str, actor) -> Alias:
    _require_admin_for_protected(collection.registry, [name], actor, "Moving an alias")
    alias = Alias.objects.filter(equals_ignoring_case("name", name), collection=collection).first()
    previous_index = None
    if alias is None:
        alias = Alias.objects.create(collection=collection, link=link, name=name)
    elif alias.link_id == link.pk:
        return alias
    else:
        previous_index = alias.link.index
        alias.link = link
        alias.save(update_fields=["link", "updated_at"])
    record_event(
        organization_id=collection.registry.organization_id,
        actor=actor,
        action="alias.set",
        target=f"{collection.name}:{alias.name}",
        registry_id=collection.registry_id,
        collection_id=collection.pk,
        data={"alias": alias.name, "index": link.index, "previous_index": previous_index},
    )
    return alias


@transaction.atomic
def remove_alias(*, collection: Collection, name: str, actor) -> None:
    require_change(actor, collection.registry)
    if name.lower() == Alias.LATEST:
        raise ValidationError(
            "The alias 'latest' is kept by the registry itself and cannot be removed."
        )
    with transaction.atomic():
        alias = (
            Alias.objects.select_related("link")
            .filter(equals_ignoring_case("name", name), collection=collection)
            .first()
        )
        if alias is None:
            raise ValidationError(f"The collection '{collection.name}' has no alias '{name}'.")
        _require_admin_for_protected(collection.registry, [alias.name], actor, "Removing an alias")
        alias.delete()
        record_event(
            organization_id=collection.registry.organization_id,
            actor=actor,
            action="alias.removed",
            target=f"{collection.name}:{alias.name}",
            registry_id=collection.registry_id,
            collection_id=collection.pk,
            data={"alias": alias.name, "index": alias.link.index},
        )
        _touch_registry(collection.registry_id)


# Tags and descriptions ----------------------------------------------------------------------


def _get_or_create_tags(organization_id: int, names: Iterable[str]) -> list[Tag]:
    tags = []
    for name in names:
        tag = Tag.objects.filter(
            equals_ignoring_case("name", name), organization_id=organization_id
        ).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(organization_id=organization_id, name=name)
            except IntegrityError:
                # Another request created it in the meantime, in some case or other.
                tag = Tag.objects.get(
                    equals_ignoring_case("name", name), organization_id=organization_id
                )
        tags.append(tag)
    return tags


def _target_scope(target: Collection | CollectionLink) -> tuple[Collection, str]:
    if isinstance(target, CollectionLink):
        return target.collection, f"{target.collection.name}:v{target.index}"
    return target, target.name


def _link_index(target: Collection | CollectionLink) -> dict[str, int]:
    """The link's index for the audit data of a tag event on a version, else nothing."""
    return {"index": target.index} if isinstance(target, CollectionLink) else {}


@transaction.atomic
def add_tag(*, target: Collection | CollectionLink, name: str, actor) -> Tag:
    collection, label = _target_scope(target)
    require_change(actor, collection.registry)
    validate_tag(name)
    with transaction.atomic():
        (tag,) = _get_or_create_tags(collection.registry.organization_id, [name])
        if target.tags.filter(pk=tag.pk).exists():
            return tag
        target.tags.add(tag)
        record_event(
            organization_id=collection.registry.organization_id,
            actor=actor,
            action="tag.added",
            target=label,
            registry_id=collection.registry_id,
            collection_id=collection.pk,
            data={"tag": tag.name, **_link_index(target)},
        )
        _touch_registry(collection.registry_id)
    return tag


@transaction.atomic
def remove_tag(*, target: Collection | CollectionLink, name: str, actor) -> None:
    collection, label = _target_scope(target)
    require_change(actor, collection.registry)
    with transaction.atomic():
        tag = target.tags.filter(equals_ignoring_case("name", name)).first()
        if tag is None:
            raise ValidationError(f"'{label}' has no tag '{name}'.")
        target.tags.remove(tag)
        record_event(
            organization_id=collection.registry.organization_id,
            actor=actor,
            action="tag.removed",
            target=label,
            registry_id=collection.registry_id,
            collection_id=collection.pk,
            data={"tag": tag.name, **_link_index(target)},
        )
        _touch_registry(collection.registry_id)


@transaction.atomic
def edit_description(*, target: Collection | CollectionLink, text: str, actor) -> None:
    collection, label = _target_scope(target)
    require_change(actor, collection.registry)
    with transaction.atomic():
        type(target).objects.filter(pk=target.pk).update(description=text)
        target.description = text
        record_event(
            organization_id=collection.registry.organization_id,
            actor=actor,
            action="description.edited",
            target=label,
            registry_id=collection.registry_id,
            collection_id=collection.pk,
            data={"length": len(text)},
        )
        _touch_registry(collection.registry_id)


# Source artifacts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


# A team's projects, runs and artifact versions are written by the team's admins and members
# and by org admins, as require_team_writer checks. The check runs also when the row exists
# already, so a team viewer gets the rule rather than the existing row.


def get_or_create_project(*, team: Team, name: str, actor) -> Project:
    """Return the team's project of that name, in any case, creating it when it is new."""
    require_team_writer(actor, team, "Creating a project")
    validate_name(name, kind="project name")
    project = Project.objects.filter(equals_ignoring_case("name", name), team=team).first()
    if project is None:
        project = Project.objects.create(team=team, name=name)
    return project


def get_or_create_run(*, project: Project, run_id: str, name: str = "", actor) -> Run:
    require_team_writer(actor, project.team, "Recording a run")
    run, _ = Run.objects.get_or_create(project=project, run_id=run_id, defaults={"name": name})
    return run


def manifest_digest(files: Sequence[FileEntry]) -> str:
    """The version digest: sha256 over the sorted (path, sha256) pairs of its files."""
    canonical = json.dumps(sorted((f.path, f.sha256) for f in files), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_artifact_version(
    *,
    project: Project,
    artifact_name: str,
    type: str,
    metadata: dict | None = None,
    files: Sequence[FileEntry] = (),
    description: str = "",
    produced_by: Run | None = None,
    created_at: datetime | None = None,
    actor,
) -> ArtifactVersion:
    """Log a new version of an artifact in a team's project, creating the artifact if new."""
    require_team_writer(actor, project.team, "Logging an artifact version")
    validate_name(artifact_name, kind="artifact name")
    validate_name(type, kind="artifact type", max_length=64)
    metadata = metadata or {}
    if not isinstance(metadata, dict):
        raise ValidationError("The metadata must be a JSON object.")
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationError(
            f"The metadata has {len(metadata)} top-level keys; the limit is "
            f"{MAX_METADATA_KEYS}. Nest related keys under one key."
        )
    paths = [validate_file_path(f.path) for f in files]
    if len(paths) != len(set(paths)):
        raise ValidationError("The manifest lists a file path twice; list each path once.")

    with transaction.atomic():
        artifact = Artifact.objects.filter(
            equals_ignoring_case("name", artifact_name), project=project
        ).first()
        if artifact is None:
            artifact = Artifact.objects.create(project=project, name=artifact_name, type=type)
        elif artifact.type != type:
            raise ValidationError(
                f"The artifact '{artifact.name}' has the type '{artifact.type}', not '{type}'."
            )
        # Lock the artifact row so two versions logged at once get different numbers.
        Artifact.objects.select_for_update().filter(pk=artifact.pk).first()
        top = artifact.versions.aggregate(top=Max("version"))["top"]
        number = 0 if top is None else top + 1
        version = ArtifactVersion.objects.create(
            artifact=artifact,
            version=number,
            digest=manifest_digest(files),
            metadata=metadata,
            description=description,
            produced_by=produced_by,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=created_at or timezone.now(),
        )
        ManifestEntry.objects.bulk_create(
            ManifestEntry(version=version, path=f.path, size=f.size, sha256=f.sha256) for f in files
        )
        record_event(
            organization_id=project.team.organization_id,
            actor=actor,
            action="artifact_version.created",
            target=version.source_path,
            data={"type": type},
        )
    return version


@transaction.atomic
def record_use(*, version: ArtifactVersion, run: Run, actor) -> None:
    """Record that a run used a version, for its lineage; recording it again changes nothing.

    The actor needs the download permission on the version (using it from code means
    reading its files) and the admin or member role in the team that owns the run.
    """
    require_download(actor, version)
    team = run.project.team
    if not team.memberships.filter(user=actor, role__in=[TeamRole.ADMIN, TeamRole.MEMBER]).exists():
        raise PermissionDenied(
            f"Recording the inputs of runs in the team '{team.name}' needs the team's admin "
            f"or member role."
        )
    if version.used_by.filter(pk=run.pk).exists():
        return
    version.used_by.add(run)
    record_event(
        organization_id=team.organization_id,
        actor=actor,
        action="artifact_version.used",
        target=version.source_path,
        data={"run": run.run_id, "project": run.project.name},
    )


# Registry administration --------------------------------------------------------------------


def _validate_types(types: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for artifact_type in types:
        validate_name(artifact_type, kind="artifact type", max_length=64)
        if artifact_type not in cleaned:
            cleaned.append(artifact_type)
    return cleaned


def create_registry(
    *,
    organization: Organization,
    name: str,
    description: str = "",
    visibility: str = Visibility.RESTRICTED,
    accepted_types: Sequence[str] | None = None,
    actor,
) -> Registry:
    """Create a custom registry; `accepted_types=None` means all types. The creator is Admin."""
    role = (
        OrgMembership.objects.filter(organization=organization, user=actor)
        .values_list("role", flat=True)
        .first()
    )
    if role not in (OrgRole.ADMIN, OrgRole.MEMBER):
        raise PermissionDenied(
            "Creating a registry needs the organization's member or admin role; org viewers "
            "cannot create registries."
        )
    validate_registry_name(name)
    if visibility not in Visibility.values:
        raise ValidationError(
            f"'{visibility}' is not a visibility; use 'organization' or 'restricted'."
        )
    types = None if accepted_types is None else _validate_types(accepted_types)
    if types == []:
        raise ValidationError("Choose at least one accepted artifact type, or all types.")

    try:
        with transaction.atomic():
            ensure_org_groups(organization)
            registry = Registry.objects.create(
                organization=organization,
                name=name,
                description=description,
                visibility=visibility,
                accepts_all_types=types is None,
                accepted_types=types or [],
                owner=actor,
            )
            grant_role(registry, actor, Role.ADMIN)
            grant_role(registry, organization.admins_group, Role.ADMIN)
            if visibility == Visibility.ORGANIZATION:
                grant_role(registry, organization.members_group, Role.VIEWER)
            _audit_registry(registry, actor, "registry.created", {"visibility": visibility})
    except IntegrityError:
        raise ValidationError(
            f"A registry named '{name}' already exists in '{organization.name}' (names are "
            f"compared without regard to case); choose another name."
        ) from None
    return registry


def _audit_registry(registry: Registry, actor, action: str, data: dict | None = None) -> None:
    record_event(
        organization_id=registry.organization_id,
        actor=actor,
        action=action,
        target=registry.name,
        registry_id=registry.pk,
        data=data or {},
    )


@transaction.atomic
def update_registry(
    *,
    registry: Registry,
    actor,
    name: str | None = None,
    description: str | None = None,
    accepted_types: Sequence[str] | None = None,
    accepts_all_types: bool | None = None,
) -> Registry:
    """Edit a registry's name, description and accepted types (types can only be added)."""
    require_admin(actor, registry, "Editing the registry")
    changes: dict[str, object] = {}
    if name is not None and name != registry.name:
        if registry.is_core:
            raise ValidationError(
                f"The core registry '{registry.name}' cannot be renamed; paths depend on it."
            )
        validate_registry_name(name)
        changes["name"] = name
    if description is not None and description != registry.description:
        changes["description"] = description
    if accepts_all_types:
        if not registry.accepts_all_types:
            changes["accepts_all_types"] = True
            changes["accepted_types"] = []
    elif accepted_types is not None or accepts_all_types is False:
        if registry.accepts_all_types:
            raise ValidationError(
                "This registry accepts all types; a type once accepted cannot be removed, so "
                "it cannot be narrowed to a list."
            )
        types = _validate_types(accepted_types or [])
        removed = [t for t in registry.accepted_types if t not in types]
        if removed:
            raise ValidationError(
                f"The type '{removed[0]}' is already accepted and cannot be removed, because "
                f"collections of that type may depend on it; keep it in the list."
            )
        if types != registry.accepted_types:
            changes["accepted_types"] = types
    if not changes:
        return registry

    try:
        with transaction.atomic():
            for attribute, value in changes.items():
                setattr(registry, attribute, value)
            registry.save(update_fields=[*changes, "updated_at"])
            _audit_registry(registry, actor, "registry.updated", {"fields": sorted(changes)})
    except IntegrityError:
        raise ValidationError(
            f"A registry named '{name}' already exists in this organization; choose another."
        ) from None
    return registry


def count_new_viewers(registry: Registry) -> int:
    """Count the organization members who would gain access with Organization visibility."""
    from apps.registry.models import RegistryUserObjectPermission

    members = OrgMembership.objects.filter(organization=registry.organization_id)
    direct = RegistryUserObjectPermission.objects.filter(content_object=registry).values("user_id")
    through_groups = get_user_model().objects.filter(
        groups__registrygroupobjectpermission__content_object=registry
    )
    return (
        members.exclude(user_id__in=direct)
        .exclude(user_id__in=through_groups.values("pk"))
        .values("user_id")
        .distinct()
        .count()
    )


@transaction.atomic
def set_visibility(*, registry: Registry, visibility: str, confirmed: bool, actor) -> Registry:
    """Switch a custom registry's visibility; widening it needs `confirmed=True`."""
    require_admin(actor, registry, "Changing the visibility")
    if visibility not in Visibility.values:
        raise ValidationError(
            f"'{visibility}' is not a visibility; use 'organization' or 'restricted'."
        )
    if registry.is_core:
        raise ValidationError(
            f"The core registry '{registry.name}' always has Organization visibility."
        )
    if visibility == registry.visibility:
        return registry
    if visibility == Visibility.ORGANIZATION and not confirmed:
        raise ValidationError(
            f"Making '{registry.name}' visible to the organization gives "
            f"{count_new_viewers(registry)} more people the Viewer role; confirm to go on."
        )
    organization = registry.organization
    with transaction.atomic():
        ensure_org_groups(organization)
        if visibility == Visibility.ORGANIZATION:
            grant_role(registry, organization.members_group, Role.VIEWER)
        else:
            revoke_all(registry, organization.members_group)
        registry.visibility = visibility
        registry.save(update_fields=["visibility", "updated_at"])
        _audit_registry(registry, actor, "registry.visibility_changed", {"to": visibility})
    return registry


@transaction.atomic
def delete_registry(*, registry: Registry, confirm_name: str, actor) -> None:
    """Delete a custom registry with its collections, links and grants; sources stay."""
    require_admin(actor, registry, "Deleting the registry")
    if registry.is_core:
        raise ValidationError(f"The core registry '{registry.name}' cannot be deleted.")
    if confirm_name != registry.name:
        raise ValidationError(
            f"Type the registry's name exactly ('{registry.name}') to confirm the deletion."
        )
    with transaction.atomic():
        _audit_registry(registry, actor, "registry.deleted")
        # Cascades to collections, links, aliases, stars, protected aliases and every
        # permission row of the registry, so a later registry of the same name inherits nothing.
        registry.delete()


# Members and roles --------------------------------------------------------------------------


def _principal(member) -> tuple[object, str, bool]:
    """Return the user or group that carries `member`'s grants, a label, and whether it is a bot."""
    if isinstance(member, Team):
        return member.group, f"team {member.name}", False
    return member, member.username, ServiceAccount.objects.filter(user=member).exists()


def _check_in_organization(registry: Registry, member) -> None:
    if isinstance(member, Team):
        if member.organization_id != registry.organization_id:
            raise ValidationError(f"The team '{member.name}' belongs to another organization.")
        return
    if not OrgMembership.objects.filter(
        organization=registry.organization_id, user=member
    ).exists():
        raise ValidationError(
            f"{member.username} is not a member of '{registry.organization.name}'; add them "
            f"to the organization first."
        )


def _check_service_account_role(is_service_account: bool, label: str, role: Role) -> None:
    if is_service_account and role < Role.MEMBER:
        raise ValidationError(
            f"The service account {label} needs at least the Member role to act from code; "
            f"choose Member or Admin."
        )


def _granted_role(registry: Registry, principal) -> Role | None:
    from apps.registry.models import RegistryGroupObjectPermission, RegistryUserObjectPermission

    if isinstance(principal, Group):
        rows = RegistryGroupObjectPermission.objects.filter(
            content_object=registry, group=principal
        )
    else:
        rows = RegistryUserObjectPermission.objects.filter(content_object=registry, user=principal)
    return role_from_codenames(rows.values_list("permission__codename", flat=True))


def _lock_members(registry: Registry) -> None:
    """Take the registry's row lock first thing in a change of its members.

    The permission check and the last-Admin count then run after every earlier change of
    the members has committed, so an Admin demoted a moment ago can no longer act, and two
    Admins demoting each other are serialized. Taking FOR UPDATE before the write-pause
    check's FOR KEY SHARE also keeps two such changes from deadlocking on the upgrade.
    """
    Registry.objects.select_for_update().filter(pk=registry.pk).first()


@transaction.atomic
def add_member(*, registry: Registry, member, role: Role | None = None, actor) -> Role:
    """Grant a user, team or service account a role (default: Restricted Viewer, bots Member)."""
    _lock_members(registry)
    require_admin(actor, registry, "Adding members")
    _check_in_organization(registry, member)
    principal, label, is_bot = _principal(member)
    if role is None:
        role = Role.MEMBER if is_bot else Role.RESTRICTED_VIEWER
    _check_service_account_role(is_bot, label, role)
    with transaction.atomic():
        if _granted_role(registry, principal) is not None:
            raise ValidationError(f"{label} is already a member; change their role instead.")
        grant_role(registry, principal, role)
        _audit_registry(registry, actor, "member.added", {"member": label, "role": role.slug})
    return role


def _guard_last_admin(registry: Registry, principal, label: str, new_role: Role | None) -> None:
    """Reject a change that would leave the registry without a granted Admin.

    Runs under the registry's row lock, so two Admins demoting each other at the same moment
    are serialized and the second one reads the first one's change.
    """
    if _granted_role(registry, principal) != Role.ADMIN:
        return
    if new_role == Role.ADMIN:
        return
    if admin_count(registry) <= 1:
        raise ValidationError(
            f"{label} is the registry's last Admin; make someone else Admin first."
        )


@transaction.atomic
def change_role(*, registry: Registry, member, role: Role, actor) -> None:
    _lock_members(registry)
    require_admin(actor, registry, "Changing roles")
    principal, label, is_bot = _principal(member)
    _check_service_account_role(is_bot, label, role)
    with transaction.atomic():
        previous = _granted_role(registry, principal)
        if previous is None:
            raise ValidationError(f"{label} is not a member of '{registry.name}'; add them first.")
        if previous == role:
            return
        _guard_last_admin(registry, principal, label, role)
        grant_role(registry, principal, role)
        _audit_registry(
            registry,
            actor,
            "member.role_changed",
            {"member": label, "from": previous.slug, "to": role.slug},
        )


@transaction.atomic
def remove_member(*, registry: Registry, member, actor) -> None:
    """Remove a member; anyone may remove themselves, Admins may remove anyone."""
    _lock_members(registry)
    principal, label, _ = _principal(member)
    if not (principal == actor and getattr(actor, "is_authenticated", False)):
        require_admin(actor, registry, "Removing members")
    else:
        require_writable(registry)
    with transaction.atomic():
        if _granted_role(registry, principal) is None:
            raise ValidationError(f"{label} is not a member of '{registry.name}'.")
        _guard_last_admin(registry, principal, label, None)
        revoke_all(registry, principal)
        if registry.owner_id is not None and registry.owner_id == getattr(principal, "pk", None):
            Registry.objects.filter(pk=registry.pk).update(owner=None)
        _audit_registry(registry, actor, "member.removed", {"member": label})


@transaction.atomic
def make_owner(*, registry: Registry, user, actor) -> None:
    """Label a member as the registry's owner; it grants nothing."""
    require_admin(actor, registry, "Choosing the owner")
    if _granted_role(registry, user) is None:
        raise ValidationError(
            f"{user.username} is not a member; add them before making them owner."
        )
    with transaction.atomic():
        Registry.objects.filter(pk=registry.pk).update(owner=user)
        registry.owner = user
        _audit_registry(registry, actor, "registry.owner_changed", {"owner": user.username})


@transaction.atomic
def add_protected_alias(*, registry: Registry, name: str, actor) -> ProtectedAlias:
    require_admin(actor, registry, "Protecting an alias")
    validate_alias(name)
    try:
        with transaction.atomic():
            protected = ProtectedAlias.objects.create(registry=registry, name=name)
            _audit_registry(registry, actor, "protected_alias.added", {"alias": name})
    except IntegrityError:
        raise ValidationError(f"The alias '{name}' is already protected.") from None
    return protected


@transaction.atomic
def remove_protected_alias(*, registry: Registry, name: str, actor) -> None:
    require_admin(actor, registry, "Unprotecting an alias")
    with transaction.atomic():
        deleted, _ = ProtectedAlias.objects.filter(
            equals_ignoring_case("name", name), registry=registry
        ).delete()
        if not deleted:
            raise ValidationError(f"The alias '{name}' is not protected in '{registry.name}'.")
        _audit_registry(registry, actor, "protected_alias.removed", {"alias": name})


def star_registry(*, registry: Registry, user, starred: bool = True) -> None:
    """Star or unstar a registry the user can see (personal, so not audited)."""
    if not Registry.objects.visible_to(user).filter(pk=registry.pk).exists():
        raise PermissionDenied("You cannot star a registry you cannot see.")
    if starred:
        Star.objects.get_or_create(user=user, registry=registry)
    else:
        Star.objects.filter(user=user, registry=registry).delete()


@transaction.atomic
def delete_collection(*, collection: Collection, confirm_name: str, actor) -> None:
    """Delete a collection and its links (the source versions stay)."""
    registry = collection.registry
    require_change(actor, registry, "Deleting a collection")
    if confirm_name != collection.name:
        raise ValidationError(
            f"Type the collection's name exactly ('{collection.name}') to confirm the deletion."
        )
    alias_names = collection.aliases.exclude(name=Alias.LATEST).values_list("name", flat=True)
    _require_admin_for_protected(registry, alias_names, actor, "Deleting a collection")
    with transaction.atomic():
        record_event(
            organization_id=registry.organization_id,
            actor=actor,
            action="collection.deleted",
            target=collection.name,
            registry_id=registry.pk,
            collection_id=collection.pk,
        )
        collection.delete()
        _touch_registry(registry.pk)

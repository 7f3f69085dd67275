"""Every write to registries, collections, links, aliases and tags.

Each function checks the permission and the input, writes inside one transaction and records
an AuditEvent there. Pages, htmx fragments, commands and importers all call these.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.services import record_event
from apps.core.validators import (
    validate_alias,
    validate_name,
    validate_tag,
)
from apps.orgs.models import Organization, Team
from apps.orgs.services import ensure_org_groups
from apps.registry.access import grant_role
from apps.registry.models import (
    Alias,
    Artifact,
    ArtifactVersion,
    Collection,
    CollectionLink,
    ManifestEntry,
    Project,
    Registry,
    Run,
    Tag,
    Visibility,
)
from apps.registry.permissions import require_change
from apps.registry.roles import Role

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
                next_index=max(locked.next_index, index + 1), updated_at=timezone.now()
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


def unlink_version(*, link: CollectionLink, actor) -> None:
    collection = link.collection
    registry = collection.registry
    require_change(actor, registry)

    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        alias_names = list(link.aliases.exclude(name=Alias.LATEST).values_list("name", flat=True))
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
            data={"index": link.index, "aliases": alias_names},
        )
        _refresh_latest(locked)
        Collection.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        _touch_registry(registry.pk)


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


def _move_alias(collection: Collection, link: CollectionLink, name: str, actor) -> Alias:
    alias = Alias.objects.filter(collection=collection, name__iexact=name).first()
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


def remove_alias(*, collection: Collection, name: str, actor) -> None:
    require_change(actor, collection.registry)
    if name.lower() == Alias.LATEST:
        raise ValidationError(
            "The alias 'latest' is kept by the registry itself and cannot be removed."
        )
    with transaction.atomic():
        alias = (
            Alias.objects.select_related("link")
            .filter(collection=collection, name__iexact=name)
            .first()
        )
        if alias is None:
            raise ValidationError(f"The collection '{collection.name}' has no alias '{name}'.")
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


def _target_scope(target: Collection | CollectionLink) -> tuple[Collection, str]:
    if isinstance(target, CollectionLink):
        return target.collection, f"{target.collection.name}:v{target.index}"
    return target, target.name


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
            data={"tag": tag.name},
        )
        _touch_registry(collection.registry_id)
    return tag


def remove_tag(*, target: Collection | CollectionLink, name: str, actor) -> None:
    collection, label = _target_scope(target)
    require_change(actor, collection.registry)
    with transaction.atomic():
        tag = target.tags.filter(name__iexact=name).first()
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
            data={"tag": tag.name},
        )
        _touch_registry(collection.registry_id)


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


def get_or_create_project(*, team: Team, name: str) -> Project:
    validate_name(name, kind="project name")
    project = Project.objects.filter(team=team, name__iexact=name).first()
    if project is None:
        project = Project.objects.create(team=team, name=name)
    return project


def get_or_create_run(*, project: Project, run_id: str, name: str = "") -> Run:
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
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        raise ValidationError("The manifest lists a file path twice; list each path once.")

    with transaction.atomic():
        artifact = Artifact.objects.filter(project=project, name__iexact=artifact_name).first()
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

"""Resolve any artifact path, legacy paths included, through the permission gates.

`resolve_any_path` is the one entry point of the `/path/` view and the API's resolve
endpoint. A registry path goes to apps.registry.resolve. A legacy path
`TEAM/model-registry/NAME:VERSION` names a LegacyVersion until its registered model is
migrated. From then on it names the CollectionLink with the same index or alias in the
collection the model became, found through the `migrated_to` foreign key rather than by
name, so renaming the target registry or collection later changes nothing. Such a result
carries a deprecation notice that names the new path.
"""

from dataclasses import dataclass
from datetime import datetime

from apps.core.lookups import equals_ignoring_case
from apps.legacy.models import (
    LegacyAlias,
    LegacyRegistry,
    LegacyState,
    LegacyVersion,
    RegisteredModel,
)
from apps.orgs.support import is_support
from apps.registry.models import Alias, Collection, CollectionLink
from apps.registry.paths import ArtifactPath, format_legacy_path, format_path, parse_path
from apps.registry.resolve import PathNotFound, resolve_registry_path


@dataclass(frozen=True)
class Resolution:
    """The target of a path (a registry link or a legacy version) and the path to use now."""

    target: CollectionLink | LegacyVersion
    # The path to write in code, with the version part as requested: the legacy path itself
    # before the migration, the registry path of the migrated version after it.
    path: str
    # Set when a legacy path led to a migrated version; it names `path`.
    deprecation: str | None = None
    # When the legacy path became deprecated: the moment its legacy registry turned read-only.
    deprecated_since: datetime | None = None

    @property
    def is_legacy(self) -> bool:
        """True while the target is still a version of the legacy registry."""
        return isinstance(self.target, LegacyVersion)


def resolve_any_path(user, path: str | ArtifactPath, *, now: datetime | None = None) -> Resolution:
    """Resolve a full, short or legacy path for the user.

    Raises apps.registry.paths.PathError for a path that cannot be parsed, and PathNotFound
    (an Http404) naming the part that the user cannot see or that does not exist.
    """
    parsed = parse_path(path) if isinstance(path, str) else path
    if parsed.is_legacy:
        return resolve_legacy_path(user, parsed, now=now)

    link = resolve_registry_path(user, parsed)
    registry = link.collection.registry
    return Resolution(
        target=link,
        path=format_path(
            registry.organization.name, registry.name, link.collection.name, parsed.version
        ),
    )


def find_legacy_registry(user, team: str) -> LegacyRegistry:
    """Find the legacy registry of the team named `team` among those of the user's teams.

    Hidden registries count: a legacy path keeps working for the team after the pages are
    hidden.
    """
    # The user's own teams are tried first, so a support person's own team wins over the teams
    # of the same name in other organizations that of_members adds for support staff.
    found: list[LegacyRegistry] = []
    if getattr(user, "is_authenticated", False):
        found = _named(LegacyRegistry.objects.filter(team__memberships__user=user), team)
    if not found:
        found = _named(LegacyRegistry.objects.of_members(user), team)
    if not found:
        raise PathNotFound(f"The team '{team}' has no legacy Model Registry that you can see.")
    if len(found) > 1:
        organizations = ", ".join(sorted(r.team.organization.name for r in found))
        raise PathNotFound(
            f"Teams named '{team}' exist in several organizations ({organizations}); open the "
            f"legacy registry from its team's page instead."
        )
    return found[0]


def _named(legacy_registries, team: str) -> list[LegacyRegistry]:
    return list(
        legacy_registries.filter(equals_ignoring_case("team__name", team)).select_related(
            "team__organization"
        )[:2]
    )


def resolve_legacy_path(user, path: ArtifactPath, *, now: datetime | None = None) -> Resolution:
    """Resolve `TEAM/model-registry/NAME:VERSION` to a legacy version or its migrated link."""
    legacy_registry = find_legacy_registry(user, path.team or "")
    team = legacy_registry.team.name
    model = RegisteredModel.objects.filter(
        equals_ignoring_case("name", path.collection), legacy_registry=legacy_registry
    ).first()
    if model is None:
        raise PathNotFound(
            f"The registered model '{path.collection}' was not found in the legacy Model "
            f"Registry of the team '{team}'."
        )

    model.legacy_registry = legacy_registry
    if legacy_registry.read_only_since is not None and model.migrated_to_id is not None:
        return _resolve_migrated(user, model, path)

    if legacy_registry.state(now) == LegacyState.HIDDEN and not is_support(user):
        raise PathNotFound(
            f"The legacy Model Registry of the team '{team}' is no longer shown, and "
            f"'{model.name}' was not migrated."
        )
    legacy_version = _legacy_version(model, path)
    legacy_path = format_legacy_path(team, model.name, path.version)
    return Resolution(target=legacy_version, path=legacy_path)


def _legacy_version(model: RegisteredModel, path: ArtifactPath) -> LegacyVersion:
    # The related rows that every caller shows come in the same query.
    versions = LegacyVersion.objects.filter(model=model).select_related(
        "model__legacy_registry__team__organization",
        "version__artifact__project__team",
        "linked_by",
    )
    if path.index is not None:
        legacy_version = versions.filter(index=path.index).first()
    else:
        version_id = (
            LegacyAlias.objects.filter(equals_ignoring_case("name", path.version), model=model)
            .values_list("version_id", flat=True)
            .first()
        )
        legacy_version = versions.filter(pk=version_id).first() if version_id else None
    if legacy_version is None:
        raise PathNotFound(
            f"The version '{path.version}' was not found in the registered model '{model.name}'."
        )
    return legacy_version


def _resolve_migrated(user, model: RegisteredModel, path: ArtifactPath) -> Resolution:
    """Find the link with the same index or alias in the collection the model became."""
    collection = (
        Collection.objects.visible_to(user)
        .select_related("registry__organization")
        .filter(pk=model.migrated_to_id)
        .first()
    )
    if collection is None:
        raise PathNotFound(
            f"The registered model '{model.name}' was migrated to a registry that you cannot "
            f"see; ask its admins for access."
        )
    registry = collection.registry
    new_path = format_path(registry.organization.name, registry.name, collection.name, path.version)

    links = CollectionLink.objects.filter(collection=collection).select_related(
        "collection__registry__organization", "version__artifact__project__team", "linked_by"
    )
    if path.index is not None:
        link = links.filter(index=path.index).first()
    else:
        link_id = (
            Alias.objects.filter(equals_ignoring_case("name", path.version), collection=collection)
            .values_list("link_id", flat=True)
            .first()
        )
        link = links.filter(pk=link_id).first() if link_id else None
    if link is None:
        raise PathNotFound(
            f"The version '{path.version}' was not found in {new_path}, where the registered "
            f"model '{model.name}' was migrated."
        )

    old_path = format_legacy_path(model.legacy_registry.team.name, model.name, path.version)
    return Resolution(
        target=link,
        path=new_path,
        deprecation=(
            f"The legacy path {old_path} is deprecated: its registered model was migrated, "
            f"so use {new_path} instead."
        ),
        deprecated_since=model.legacy_registry.read_only_since,
    )

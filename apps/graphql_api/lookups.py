"""Finding projects, collections and memberships by name, always through the gates.

Every function here starts from a `visible_to(user)` queryset (or the legacy registry's
member gate) and returns None for what the user may not see, so a hidden registry,
collection or version gets the same response as a missing one.
"""

import re

from django.conf import settings
from django.db.models import CharField, Max, Subquery, Value
from django.db.models.functions import Concat

from apps.core.lookups import equals_ignoring_case
from apps.graphql_api.nodes import EntityKind, EntityNode
from apps.legacy.models import LegacyRegistry, LegacyState, RegisteredModel
from apps.legacy.resolve import resolve_legacy_path
from apps.orgs.models import TeamMembership
from apps.orgs.support import is_support
from apps.registry.models import (
    Alias,
    Artifact,
    ArtifactVersion,
    Collection,
    CollectionLink,
    Project,
    Registry,
)
from apps.registry.paths import LATEST, LEGACY_PROJECT, ArtifactPath, PathError, parse_path
from apps.registry.resolve import PathNotFound

INDEX = re.compile(r"^[vV](\d+)$")

LINK_RELATED = (
    "collection__registry__organization",
    "version__artifact__project__team__organization",
)


def registry_prefix() -> str:
    return settings.REGISTRY_PATH_PREFIX


def registries_of(user, organization):
    """Return the registries of an organization visible to the user, with path names."""
    return (
        Registry.objects.visible_to(user)
        .filter(organization=organization)
        .select_related("organization")
        .annotate(prefixed_name=Concat(Value(registry_prefix()), "name", output_field=CharField()))
    )


def split_version(name: str) -> tuple[str, str]:
    """`COLLECTION:VERSION` into its parts; without a version it means latest."""
    collection, _, version = name.rpartition(":") if ":" in name else (name, "", LATEST)
    return collection, version


# Projects ------------------------------------------------------------------------------------


def find_project(user, entity: EntityNode | None, name: str | None):
    """Find the project `name` of an entity: a Registry, a team's Project or a LegacyRegistry."""
    if entity is None or not name:
        return None
    if entity.kind == EntityKind.ORGANIZATION:
        prefix = registry_prefix()
        if not name.startswith(prefix):
            return None
        return (
            registries_of(user, entity.organization)
            .filter(equals_ignoring_case("name", name[len(prefix) :]))
            .first()
        )
    if entity.kind == EntityKind.TEAM:
        if name == LEGACY_PROJECT:
            return (
                LegacyRegistry.objects.of_members(user)
                .filter(team=entity.team)
                .select_related("team__organization")
                .first()
            )
        if not is_team_member(user, entity.team):
            return None
        return (
            Project.objects.filter(equals_ignoring_case("name", name), team=entity.team)
            .select_related("team__organization")
            .first()
        )
    return None


def is_team_member(user, team) -> bool:
    return TeamMembership.objects.filter(team=team, user=user).exists()


# Collections ---------------------------------------------------------------------------------


def find_collection(user, project, name: str):
    """Find the collection `name` in a project, or return None.

    In a migrated legacy registry, a migrated registered model resolves to the collection
    it became, as a legacy path does.
    """
    if isinstance(project, Registry):
        return (
            Collection.objects.visible_to(user)
            .filter(equals_ignoring_case("name", name), registry=project)
            .select_related("registry__organization")
            .first()
        )
    if isinstance(project, LegacyRegistry):
        model = RegisteredModel.objects.filter(
            equals_ignoring_case("name", name), legacy_registry=project
        ).first()
        if model is None:
            return None
        model.legacy_registry = project
        if project.read_only_since is not None and model.migrated_to_id is not None:
            return (
                Collection.objects.visible_to(user)
                .filter(pk=model.migrated_to_id)
                .select_related("registry__organization")
                .first()
            )
        if project.state() == LegacyState.HIDDEN and not is_support(user):
            return None
        return model
    if isinstance(project, Project):
        return (
            Artifact.objects.filter(equals_ignoring_case("name", name), project=project)
            .select_related("project__team__organization")
            .first()
        )
    return None


# Memberships ---------------------------------------------------------------------------------


def find_membership(user, project, name: str):
    """Find the membership that `COLLECTION:VERSION` names in a project, or return None.

    A legacy path resolves as the legacy resolver does: to the legacy version before the
    team's migration, and to the migrated CollectionLink after it.
    """
    collection_name, version = split_version(name)
    if isinstance(project, LegacyRegistry):
        try:
            path = parse_path(f"{project.team.name}/{LEGACY_PROJECT}/{collection_name}:{version}")
            return resolve_legacy_path(user, path).target
        except (PathError, PathNotFound):
            return None
    collection = find_collection(user, project, collection_name)
    if collection is None:
        return None
    return membership_in(user, collection, version)


def membership_in(user, collection, version: str):
    """Find the membership with index vN or alias `version` in a collection, or None."""
    if isinstance(collection, Collection):
        links = (
            CollectionLink.objects.visible_to(user)
            .filter(collection=collection)
            .select_related(*LINK_RELATED)
        )
        match = INDEX.match(version)
        if match:
            return links.filter(index=int(match.group(1))).first()
        # As in apps.registry.resolve, the alias is found on its own, through its index.
        alias = (
            Alias.objects.filter(equals_ignoring_case("name", version), collection=collection)
            .order_by()
            .values("link_id")
        )
        return links.filter(pk=Subquery(alias[:1])).first()
    if isinstance(collection, RegisteredModel):
        team = collection.legacy_registry.team.name
        try:
            path = ArtifactPath(collection=collection.name, version=version, team=team)
            return resolve_legacy_path(user, path).target
        except PathNotFound:
            return None
    if isinstance(collection, Artifact):
        return sequence_version(user, collection, version)
    return None


def sequence_version(user, artifact: Artifact, version: str) -> ArtifactVersion | None:
    """Find a version of a logged artifact by vN or `latest`, a sequence's only aliases."""
    versions = ArtifactVersion.objects.visible_to(user).filter(artifact=artifact)
    match = INDEX.match(version)
    if match:
        found = versions.filter(version=int(match.group(1))).first()
    elif version.lower() == LATEST:
        found = versions.order_by("-version").first()
    else:
        return None
    if found is not None:
        found.artifact = artifact
    return found


def latest_version_number(artifact: Artifact) -> int | None:
    return artifact.versions.aggregate(top=Max("version"))["top"]

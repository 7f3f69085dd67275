"""The viewer, server features, organizations and entities."""

from ariadne import ObjectType, QueryType

from apps.graphql_api import search
from apps.graphql_api.entities import find_entity, find_organization, user_organizations
from apps.graphql_api.ids import encode_id
from apps.graphql_api.lookups import find_project, is_team_member
from apps.graphql_api.nodes import EntityKind, EntityNode, organization_entity, team_entity
from apps.graphql_api.pagination import connection
from apps.graphql_api.resolvers.common import user_of
from apps.orgs.models import Team
from apps.registry.models import Project

# The server features this API implements; the SDK treats every other feature as disabled.
SERVER_FEATURES = (
    # api.registries(), api.registry() and their collections() and versions().
    "ARTIFACT_REGISTRY_SEARCH",
    # linkArtifact returns the new membership, so Artifact.link() needs no second request.
    "ARTIFACT_MEMBERSHIP_IN_LINK_ARTIFACT_RESPONSE",
    # FileConnection.totalCount.
    "TOTAL_COUNT_IN_FILE_CONNECTION",
    # Project.artifactCollectionMembership; older SDKs (0.22) fetch by membership only
    # when it is advertised, and only then follow a migrated legacy path.
    "PROJECT_ARTIFACT_COLLECTION_MEMBERSHIP",
    # ArtifactCollectionMembership.files; older SDKs (0.22) list a version's files through
    # its membership only when it is advertised.
    "ARTIFACT_COLLECTION_MEMBERSHIP_FILES",
)

query = QueryType()
user_type = ObjectType("User")
organization_type = ObjectType("Organization")
entity_type = ObjectType("Entity")


@query.field("viewer")
def resolve_viewer(_, info):
    return user_of(info)


@query.field("serverInfo")
def resolve_server_info(_, info):
    return {"features": [{"name": name, "is_enabled": True} for name in SERVER_FEATURES]}


@query.field("entity")
def resolve_entity(_, info, name=None):
    return find_entity(user_of(info), name)


@query.field("organization")
def resolve_organization(_, info, name=None):
    return find_organization(user_of(info), name)


# User ----------------------------------------------------------------------------------------


@user_type.field("id")
def resolve_user_id(user, info):
    return encode_id("User", user.pk)


@user_type.field("entity")
@user_type.field("username")
def resolve_user_name(user, info):
    return user.get_username()


@user_type.field("name")
def resolve_user_full_name(user, info):
    return user.get_full_name() or user.get_username()


@user_type.field("flags")
def resolve_user_flags(user, info):
    return {}


@user_type.field("teams")
def resolve_user_teams(user, info):
    teams = (
        Team.objects.filter(memberships__user=user)
        .select_related("organization")
        .order_by("organization__name", "name")
    )
    return {"edges": [{"node": team_entity(team)} for team in teams]}


@user_type.field("organizations")
def resolve_user_organizations(user, info):
    # Only the viewer's own organizations are ever listed: other users are not entities
    # a viewer can reach.
    if user.pk != user_of(info).pk:
        return []
    return list(user_organizations(user))


# Organization --------------------------------------------------------------------------------


@organization_type.field("id")
def resolve_organization_id(organization, info):
    return encode_id("Organization", organization.pk)


@organization_type.field("orgEntity")
def resolve_org_entity(organization, info):
    return organization_entity(organization)


# Entity --------------------------------------------------------------------------------------


@entity_type.field("id")
def resolve_entity_id(entity: EntityNode, info):
    return encode_id("Entity", entity.kind, entity.pk)


@entity_type.field("entityType")
def resolve_entity_type(entity: EntityNode, info):
    return entity.kind


@entity_type.field("organization")
def resolve_entity_organization(entity: EntityNode, info):
    return entity.organization


@entity_type.field("user")
def resolve_entity_user(entity: EntityNode, info):
    return entity.user


@entity_type.field("project")
def resolve_entity_project(entity: EntityNode, info, name=None):
    return find_project(user_of(info), entity, name)


@entity_type.field("projects")
def resolve_entity_projects(
    entity: EntityNode, info, filters=None, after=None, first=None, order=None
):
    user = user_of(info)
    if entity.kind == EntityKind.ORGANIZATION:
        items = search.registries(user, entity.organization, filters=filters, order=order)
    elif entity.kind == EntityKind.TEAM and is_team_member(user, entity.team):
        items = Project.objects.filter(team=entity.team).select_related("team").order_by("name")
    else:
        items = Project.objects.none()
    return connection(items, after=after, first=first)


@entity_type.field("artifactCollections")
def resolve_entity_collections(
    entity: EntityNode,
    info,
    project_filters=None,
    filters=None,
    collection_types=None,
    after=None,
    first=None,
    order=None,
):
    user = user_of(info)
    # Registry collections are portfolios, and an organization's entity has no sequences.
    if entity.kind != EntityKind.ORGANIZATION or (
        collection_types is not None and "PORTFOLIO" not in collection_types
    ):
        return connection([], after=after, first=first, total=True)
    items = search.collections(
        user, entity.organization, registry_filters=project_filters, filters=filters, order=order
    )
    return connection(items, after=after, first=first, total=True)


@entity_type.field("artifactMemberships")
def resolve_entity_memberships(
    entity: EntityNode,
    info,
    project_filters=None,
    collection_filters=None,
    filters=None,
    after=None,
    first=None,
    order=None,
):
    if entity.kind != EntityKind.ORGANIZATION:
        return connection([], after=after, first=first)
    items = search.links(
        user_of(info),
        entity.organization,
        registry_filters=project_filters,
        collection_filters=collection_filters,
        filters=filters,
        order=order,
    )
    return connection(items, after=after, first=first)


BINDABLES = [query, user_type, organization_type, entity_type]

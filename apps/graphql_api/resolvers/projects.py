"""Projects (registries, team projects, legacy registries) and artifact types."""

from ariadne import ObjectType

from apps.graphql_api.entities import find_entity
from apps.graphql_api.ids import REGISTRY_PROJECT, encode_id
from apps.graphql_api.lookups import (
    find_collection,
    find_membership,
    find_project,
    is_team_member,
)
from apps.graphql_api.nodes import ArtifactTypeNode
from apps.graphql_api.resolvers.accounts import query
from apps.graphql_api.resolvers.collections import collection_type_name, membership_artifact
from apps.graphql_api.resolvers.common import project_entity, type_node, user_of
from apps.legacy.models import LegacyRegistry
from apps.legacy.permissions import can_write
from apps.legacy.services import MODEL_TYPE
from apps.registry.models import Artifact, Collection, Registry, Visibility
from apps.registry.paths import LEGACY_PROJECT
from apps.registry.permissions import can_change

project_type = ObjectType("Project")
artifact_type_type = ObjectType("ArtifactType")


@query.field("project")
def resolve_project(_, info, name=None, entity_name=None):
    user = user_of(info)
    return find_project(user, find_entity(user, entity_name), name)


@project_type.field("id")
@project_type.field("internalId")
def resolve_project_id(project, info):
    if isinstance(project, Registry):
        return encode_id(REGISTRY_PROJECT, project.pk)
    if isinstance(project, LegacyRegistry):
        return encode_id("LegacyProject", project.pk)
    return encode_id("TeamProject", project.pk)


@project_type.field("name")
def resolve_project_name(project, info):
    if isinstance(project, Registry):
        return project.path_name
    if isinstance(project, LegacyRegistry):
        return LEGACY_PROJECT
    return project.name


@project_type.field("entity")
def resolve_project_entity(project, info):
    return project_entity(project)


@project_type.field("description")
def resolve_project_description(project, info):
    return project.description if isinstance(project, Registry) else ""


@project_type.field("updatedAt")
def resolve_project_updated_at(project, info):
    return project.updated_at if isinstance(project, Registry) else project.created_at


@project_type.field("access")
def resolve_project_access(project, info):
    if not isinstance(project, Registry):
        return None
    return "PRIVATE" if project.visibility == Visibility.ORGANIZATION else "RESTRICTED"


@project_type.field("allowAllArtifactTypesInRegistry")
def resolve_project_all_types(project, info):
    return project.accepts_all_types if isinstance(project, Registry) else None


@project_type.field("readOnly")
def resolve_project_read_only(project, info):
    user = user_of(info)
    if isinstance(project, Registry):
        return not can_change(user, project)
    if isinstance(project, LegacyRegistry):
        return project.read_only_since is not None or not can_write(user, project)
    return not is_team_member(user, project.team)


def _type_names(project) -> list[str]:
    if isinstance(project, Registry):
        if project.accepts_all_types:
            used = Collection.objects.filter(registry=project).values_list("type", flat=True)
            return sorted(set(used))
        return list(project.accepted_types)
    if isinstance(project, LegacyRegistry):
        return [MODEL_TYPE]
    return sorted(set(Artifact.objects.filter(project=project).values_list("type", flat=True)))


@project_type.field("artifactTypes")
def resolve_project_artifact_types(project, info, include_all=None, after=None, first=None):
    return {"edges": [{"node": type_node(project, name)} for name in _type_names(project)]}


@project_type.field("artifactType")
def resolve_project_artifact_type(project, info, name):
    if isinstance(project, Registry):
        # A registry that accepts all types has every type, used or not.
        return type_node(project, name) if project.accepts(name) else None
    if isinstance(project, LegacyRegistry):
        return type_node(project, name)
    return type_node(project, name) if name in _type_names(project) else None


@project_type.field("artifactCollection")
def resolve_project_collection(project, info, name):
    return find_collection(user_of(info), project, name)


@project_type.field("artifactCollectionMembership")
def resolve_project_membership(project, info, name):
    return find_membership(user_of(info), project, name)


@project_type.field("artifact")
def resolve_project_artifact(project, info, name):
    membership = find_membership(user_of(info), project, name)
    return membership_artifact(membership) if membership is not None else None


# ArtifactType --------------------------------------------------------------------------------


@artifact_type_type.field("id")
def resolve_type_id(node: ArtifactTypeNode, info):
    return encode_id("ArtifactType", node.name)


@artifact_type_type.field("artifactCollection")
def resolve_type_collection(node: ArtifactTypeNode, info, name):
    collection = find_collection(user_of(info), node.project, name)
    if collection is None or collection_type_name(collection) != node.name:
        return None
    return collection


BINDABLES = [project_type, artifact_type_type]

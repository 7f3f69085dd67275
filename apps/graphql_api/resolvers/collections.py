"""Collections (portfolios and sequences), memberships, aliases and tags.

Parents, by GraphQL type:
    ArtifactPortfolio               Collection, or a legacy RegisteredModel
    ArtifactSequence                Artifact (an artifact logged in a team's project)
    ArtifactCollectionMembership    CollectionLink, LegacyVersion, or an ArtifactVersion as
                                    a member of its own artifact
    ArtifactAlias                   AliasNode
"""

from dataclasses import dataclass

from ariadne import InterfaceType, ObjectType

from apps.graphql_api import search
from apps.graphql_api.filters import parse_filter_json
from apps.graphql_api.ids import LEGACY_PORTFOLIO, PORTFOLIO, SEQUENCE, decode_pk, encode_id
from apps.graphql_api.lookups import is_team_member, latest_version_number, membership_in
from apps.graphql_api.nodes import ArtifactNode
from apps.graphql_api.pagination import connection
from apps.graphql_api.resolvers.accounts import query
from apps.graphql_api.resolvers.common import type_node, user_of
from apps.legacy.models import LegacyAlias, LegacyVersion, RegisteredModel
from apps.legacy.services import MODEL_TYPE
from apps.registry.models import (
    Alias,
    Artifact,
    ArtifactVersion,
    Collection,
    CollectionLink,
    ManifestEntry,
)

collection_interface = InterfaceType("ArtifactCollection")
sequence_type = ObjectType("ArtifactSequence")
portfolio_type = ObjectType("ArtifactPortfolio")
membership_type = ObjectType("ArtifactCollectionMembership")
alias_type = ObjectType("ArtifactAlias")
tag_type = ObjectType("Tag")


@dataclass(frozen=True)
class AliasNode:
    """An alias as the SDK reads it: a name on one version of one collection.

    Besides the stored aliases, every membership carries its index `vN` as an alias, so
    the SDK can tell which version of a collection an artifact is.
    """

    id: str
    alias: str
    collection: object


# Collections ---------------------------------------------------------------------------------


@collection_interface.type_resolver
def resolve_collection_type(collection, *_):
    return "ArtifactSequence" if isinstance(collection, Artifact) else "ArtifactPortfolio"


def collection_type_name(collection) -> str:
    if isinstance(collection, RegisteredModel):
        return MODEL_TYPE
    return collection.type


def collection_project(collection):
    if isinstance(collection, Collection):
        return collection.registry
    if isinstance(collection, RegisteredModel):
        return collection.legacy_registry
    return collection.project


@query.field("artifactCollection")
def resolve_collection_by_id(_, info, id):
    user = user_of(info)
    decoded = decode_pk(id, PORTFOLIO, LEGACY_PORTFOLIO, SEQUENCE)
    if decoded is None:
        return None
    kind, pk = decoded
    if kind == PORTFOLIO:
        return (
            Collection.objects.visible_to(user)
            .select_related("registry__organization")
            .filter(pk=pk)
            .first()
        )
    if kind == LEGACY_PORTFOLIO:
        return (
            RegisteredModel.objects.visible_to(user)
            .select_related("legacy_registry__team__organization")
            .filter(pk=pk)
            .first()
        )
    artifact = Artifact.objects.select_related("project__team__organization").filter(pk=pk).first()
    if artifact is None or not is_team_member(user, artifact.project.team):
        return None
    return artifact


@collection_interface.field("id")
def resolve_collection_id(collection, info):
    if isinstance(collection, Collection):
        return encode_id(PORTFOLIO, collection.pk)
    if isinstance(collection, RegisteredModel):
        return encode_id(LEGACY_PORTFOLIO, collection.pk)
    return encode_id(SEQUENCE, collection.pk)


@collection_interface.field("description")
def resolve_collection_description(collection, info):
    return getattr(collection, "description", "")


@collection_interface.field("updatedAt")
def resolve_collection_updated_at(collection, info):
    return getattr(collection, "updated_at", collection.created_at)


@collection_interface.field("project")
def resolve_collection_project(collection, info):
    return collection_project(collection)


@collection_interface.field("defaultArtifactType")
def resolve_collection_default_type(collection, info):
    return type_node(collection_project(collection), collection_type_name(collection))


@collection_interface.field("tags")
def resolve_collection_tags(collection, info, after=None, first=None):
    tags = [] if isinstance(collection, Artifact) else list(collection.tags.all())
    return {"edges": [{"node": tag} for tag in tags]}


@collection_interface.field("aliases")
def resolve_collection_aliases(collection, info, after=None, first=None):
    return connection(collection_aliases(user_of(info), collection), after=after, first=first)


def collection_aliases(user, collection) -> list[AliasNode]:
    if isinstance(collection, Collection):
        rows = Alias.objects.filter(collection=collection).order_by("name", "pk")
        return [AliasNode(encode_id("ArtifactAlias", a.pk), a.name, collection) for a in rows]
    if isinstance(collection, RegisteredModel):
        rows = LegacyAlias.objects.filter(model=collection).order_by("name", "pk")
        return [AliasNode(encode_id("LegacyAlias", a.pk), a.name, collection) for a in rows]
    latest = latest_version_number(collection)
    if latest is None:
        return []
    return [AliasNode(encode_id("SequenceAlias", collection.pk, "latest"), "latest", collection)]


@collection_interface.field("artifacts")
def resolve_collection_artifacts(
    collection, info, after=None, first=None, order=None, filters=None
):
    """List the collection's versions, newest index first, each edge with its `vN`."""
    items = search.versions_of(user_of(info), collection, filters=filters, order=order)
    # Every link of a collection the user sees is visible to them too, so without a filter
    # the collection's stored count is the total and the links need no COUNT(*).
    use_stored_count = isinstance(collection, Collection) and not parse_filter_json(filters)
    page = connection(items, after=after, first=first, total=not use_stored_count)
    if use_stored_count:
        page["total_count"] = collection.version_count
    page["edges"] = [
        {"version": f"v{membership_index(edge['node'])}", "node": membership_artifact(edge["node"])}
        for edge in page["edges"]
    ]
    return page


@collection_interface.field("artifactMembership")
def resolve_collection_membership(collection, info, alias_name):
    return membership_in(user_of(info), collection, alias_name)


@sequence_type.field("latestArtifact")
def resolve_sequence_latest(artifact, info):
    version = (
        ArtifactVersion.objects.visible_to(user_of(info))
        .filter(artifact=artifact)
        .order_by("-version")
        .first()
    )
    return ArtifactNode(version) if version is not None else None


# Memberships ---------------------------------------------------------------------------------


def membership_index(membership) -> int:
    if isinstance(membership, ArtifactVersion):
        return membership.version
    return membership.index


def membership_collection(membership):
    if isinstance(membership, CollectionLink):
        return membership.collection
    if isinstance(membership, LegacyVersion):
        return membership.model
    return membership.artifact


def membership_artifact(membership) -> ArtifactNode:
    if isinstance(membership, ArtifactVersion):
        return ArtifactNode(membership)
    return ArtifactNode(membership.version, via=membership)


def membership_aliases(membership) -> list[AliasNode]:
    """List the aliases of one membership, its `vN` first, from the prefetched aliases."""
    collection = membership_collection(membership)
    index = membership_index(membership)
    if isinstance(membership, CollectionLink):
        kind, rows = "ArtifactAlias", membership.aliases.all()
    elif isinstance(membership, LegacyVersion):
        kind, rows = "LegacyAlias", membership.aliases.all()
    else:
        kind, rows = "SequenceAlias", []
        if latest_version_number(membership.artifact) == membership.version:
            rows = [_SequenceLatest(membership)]
    aliases = [
        AliasNode(encode_id("VersionAlias", kind, collection.pk, index), f"v{index}", collection)
    ]
    aliases += [AliasNode(encode_id(kind, row.pk), row.name, collection) for row in rows]
    return aliases


@dataclass(frozen=True)
class _SequenceLatest:
    version: ArtifactVersion

    @property
    def pk(self) -> str:
        return f"{self.version.artifact_id}:latest"

    @property
    def name(self) -> str:
        return "latest"


@membership_type.field("id")
def resolve_membership_id(membership, info):
    if isinstance(membership, CollectionLink):
        return encode_id("ArtifactCollectionMembership", membership.pk)
    if isinstance(membership, LegacyVersion):
        return encode_id("LegacyMembership", membership.pk)
    return encode_id("SequenceMembership", membership.pk)


@membership_type.field("versionIndex")
def resolve_membership_index(membership, info):
    return membership_index(membership)


@membership_type.field("createdAt")
def resolve_membership_created_at(membership, info):
    if isinstance(membership, ArtifactVersion):
        return membership.created_at
    return membership.linked_at


@membership_type.field("aliases")
def resolve_membership_aliases(membership, info):
    return membership_aliases(membership)


@membership_type.field("artifactCollection")
def resolve_membership_collection(membership, info):
    return membership_collection(membership)


@membership_type.field("artifact")
def resolve_membership_artifact(membership, info):
    return membership_artifact(membership)


@membership_type.field("files")
def resolve_membership_files(membership, info, names=None, after=None, first=None):
    version = membership if isinstance(membership, ArtifactVersion) else membership.version
    entries = ManifestEntry.objects.filter(version=version).order_by("path", "pk")
    if names is not None:
        entries = entries.filter(path__in=names)
    page = connection(entries.select_related("version"), after=after, first=first, total=True)
    return page


# Aliases and tags ----------------------------------------------------------------------------


@alias_type.field("artifactCollection")
def resolve_alias_collection(alias: AliasNode, info):
    return alias.collection


@tag_type.field("id")
def resolve_tag_id(tag, info):
    return encode_id("Tag", tag.pk)


BINDABLES = [
    collection_interface,
    sequence_type,
    portfolio_type,
    membership_type,
    alias_type,
    tag_type,
]

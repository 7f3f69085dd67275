"""Artifact versions, their manifest and files.

An Artifact resolves from an ArtifactNode; a File from a ManifestEntry or a ManifestFile.
"""

import posixpath

from ariadne import ObjectType
from graphql import GraphQLError

from apps.graphql_api import downloads
from apps.graphql_api.ids import ARTIFACT, decode_pk, encode_id
from apps.graphql_api.nodes import ArtifactNode, ManifestFile
from apps.graphql_api.pagination import connection
from apps.graphql_api.resolvers.accounts import query
from apps.graphql_api.resolvers.collections import membership_aliases
from apps.graphql_api.resolvers.common import (
    may_download_once,
    request_of,
    type_node,
    user_of,
)
from apps.graphql_api.search import with_link_rows
from apps.legacy.models import LegacyVersion
from apps.registry import files
from apps.registry.models import ArtifactVersion, CollectionLink

# The SDK's value for "no time-to-live": a non-positive number means TTL is off.
TTL_DISABLED = -2
MANIFEST_NAME = "wandb_manifest.json"

artifact_type = ObjectType("Artifact")
manifest_type = ObjectType("ArtifactManifest")
file_type = ObjectType("File")


@query.field("artifact")
def resolve_artifact_by_id(_, info, id):
    decoded = decode_pk(id, ARTIFACT)
    if decoded is None:
        return None
    version = (
        ArtifactVersion.objects.visible_to(user_of(info))
        .filter(pk=decoded[1])
        .select_related("artifact__project__team__organization")
        .prefetch_related("files")
        .first()
    )
    return ArtifactNode(version) if version is not None else None


@artifact_type.field("id")
def resolve_artifact_id(node: ArtifactNode, info):
    return encode_id(ARTIFACT, node.version.pk)


@artifact_type.field("artifactSequence")
def resolve_artifact_sequence(node: ArtifactNode, info):
    return node.version.artifact


@artifact_type.field("versionIndex")
def resolve_artifact_version_index(node: ArtifactNode, info):
    return node.version.version


@artifact_type.field("artifactType")
def resolve_artifact_type(node: ArtifactNode, info):
    artifact = node.version.artifact
    return type_node(artifact.project, artifact.type)


@artifact_type.field("description")
def resolve_artifact_description(node: ArtifactNode, info):
    if node.via is not None and node.via.description:
        return node.via.description
    return node.version.description


@artifact_type.field("metadata")
def resolve_artifact_metadata(node: ArtifactNode, info):
    return node.version.metadata


@artifact_type.field("ttlDurationSeconds")
def resolve_artifact_ttl(node: ArtifactNode, info):
    return TTL_DISABLED


@artifact_type.field("ttlIsInherited")
def resolve_artifact_ttl_inherited(node: ArtifactNode, info):
    return True


@artifact_type.field("tags")
def resolve_artifact_tags(node: ArtifactNode, info):
    return list(node.via.tags.all()) if node.via is not None else []


@artifact_type.field("state")
def resolve_artifact_state(node: ArtifactNode, info):
    # A version exists here only once logged; the SDK treats PENDING as an unsaved draft.
    return "COMMITTED"


@artifact_type.field("size")
def resolve_artifact_size(node: ArtifactNode, info):
    return sum(entry.size for entry in downloads.manifest_entries(node.version))


@artifact_type.field("fileCount")
def resolve_artifact_file_count(node: ArtifactNode, info):
    return len(downloads.manifest_entries(node.version))


@artifact_type.field("digest")
def resolve_artifact_digest(node: ArtifactNode, info):
    return downloads.manifest_digest(node.version)


@artifact_type.field("digestAlgorithm")
def resolve_artifact_digest_algorithm(node: ArtifactNode, info):
    return "MANIFEST_MD5"


@artifact_type.field("createdAt")
@artifact_type.field("updatedAt")
def resolve_artifact_created_at(node: ArtifactNode, info):
    return node.version.created_at


@artifact_type.field("historyStep")
@artifact_type.field("commitHash")
def resolve_artifact_nothing(node: ArtifactNode, info):
    return None


@artifact_type.field("aliases")
def resolve_artifact_aliases(node: ArtifactNode, info):
    """List the aliases of every membership of the version that is visible to the user.

    NOTE: runs a few queries per artifact, so a long list that asks for aliases costs a
    few queries per row.
    """
    aliases = []
    for membership in visible_memberships(user_of(info), node.version):
        aliases += membership_aliases(membership)
    return aliases


def visible_memberships(user, version: ArtifactVersion) -> list:
    links = with_link_rows(CollectionLink.objects.visible_to(user).filter(version=version))
    legacy = (
        LegacyVersion.objects.visible_to(user)
        .filter(version=version)
        .select_related("model__legacy_registry__team")
        .prefetch_related("aliases")
    )
    return [*links, *legacy, version]


@artifact_type.field("currentManifest")
def resolve_artifact_manifest(node: ArtifactNode, info):
    return node.version


@artifact_type.field("artifactMemberships")
def resolve_artifact_memberships(node: ArtifactNode, info):
    links = with_link_rows(
        CollectionLink.objects.visible_to(user_of(info)).filter(version=node.version)
    ).order_by("pk")
    return connection(links, after=None, first=None)


# Manifest and files --------------------------------------------------------------------------


@manifest_type.field("id")
def resolve_manifest_id(version: ArtifactVersion, info):
    return encode_id("ArtifactManifest", version.pk)


@manifest_type.field("file")
def resolve_manifest_file(version: ArtifactVersion, info):
    return ManifestFile(version)


@file_type.field("id")
def resolve_file_id(file, info):
    if isinstance(file, ManifestFile):
        return encode_id("ManifestFile", file.version.pk)
    return encode_id("File", file.pk)


@file_type.field("name")
def resolve_file_name(file, info):
    return MANIFEST_NAME if isinstance(file, ManifestFile) else file.path


@file_type.field("displayName")
def resolve_file_display_name(file, info):
    return posixpath.basename(resolve_file_name(file, info))


@file_type.field("sizeBytes")
def resolve_file_size(file, info):
    if isinstance(file, ManifestFile):
        return len(downloads.manifest_bytes(file.version))
    return file.size


@file_type.field("digest")
@file_type.field("md5")
def resolve_file_md5(file, info):
    return None if isinstance(file, ManifestFile) else file.md5


@file_type.field("mimetype")
@file_type.field("updatedAt")
def resolve_file_nothing(file, info):
    return None


@file_type.field("directUrl")
@file_type.field("url")
def resolve_file_direct_url(file, info):
    """Return a signed URL; a file's needs the download permission, checked once per version.

    `url` and `directUrl` share one URL per file, signed once per request. Without the
    download permission the first file's URL fails with the reason and the others are null.
    NOTE: files.sign_download() checks the permission again for every file, so a page of
    N files costs N small queries more.
    """
    user = user_of(info)
    if isinstance(file, ManifestFile):
        return downloads.manifest_url(request_of(info), file.version, user)
    signed = info.context.setdefault("signed_file_urls", {})
    if file.pk in signed:
        return signed[file.pk]
    if not may_download_once(info, file.version):
        return None
    if not files.is_uploaded(file):
        raise GraphQLError(
            f"The file '{file.path}' of {file.version.source_path} has not been uploaded yet, "
            f"so it cannot be downloaded; its run must upload it first."
        )
    signed[file.pk] = downloads.file_url(request_of(info), file, user)
    return signed[file.pk]


@file_type.field("storagePath")
def resolve_file_storage_path(file, info):
    return None


@file_type.field("artifact")
def resolve_file_artifact(file, info):
    version = file.version
    return ArtifactNode(version)


BINDABLES = [artifact_type, manifest_type, file_type]

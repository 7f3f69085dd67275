"""linkArtifact and useArtifact: the two writes the SDK makes without a run upload.

Both call the same services as the pages and the REST API, so permissions, protected
aliases, write pauses and the read-only legacy registry apply unchanged. Each mutation runs
in one transaction: a link whose alias is then rejected leaves no collection or link behind.
"""

from ariadne import MutationType
from django.db import transaction
from graphql import GraphQLError

from apps.graphql_api.entities import find_entity
from apps.graphql_api.ids import ARTIFACT, LEGACY_PORTFOLIO, PORTFOLIO, decode_pk
from apps.graphql_api.lookups import find_collection, find_project
from apps.graphql_api.nodes import ArtifactNode
from apps.graphql_api.resolvers.common import user_of
from apps.legacy import services as legacy_services
from apps.legacy.models import LegacyRegistry, RegisteredModel
from apps.registry import services
from apps.registry.models import Alias, ArtifactVersion, Collection, Project, Registry

mutation = MutationType()


def _source_version(user, artifact_id: str | None) -> ArtifactVersion:
    decoded = decode_pk(artifact_id, ARTIFACT) if artifact_id else None
    version = None
    if decoded is not None:
        version = (
            ArtifactVersion.objects.visible_to(user)
            .select_related("artifact__project__team__organization")
            .filter(pk=decoded[1])
            .first()
        )
    if version is None:
        raise GraphQLError(f"The artifact {artifact_id!r} was not found.")
    return version


def _alias_names(aliases, collection_name: str) -> list[str]:
    """Return the alias names meant for the target collection, without `latest`.

    The registry keeps `latest` on the highest index itself, so a client that requests it
    gets it without it being set by hand.
    """
    names = []
    for item in aliases or []:
        target = item.get("artifact_collection_name")
        if target and target.lower() != collection_name.lower():
            continue
        if item["alias"].lower() != Alias.LATEST:
            names.append(item["alias"])
    return names


def _target_by_id(user, portfolio_id: str):
    decoded = decode_pk(portfolio_id, PORTFOLIO, LEGACY_PORTFOLIO)
    target = None
    if decoded is not None and decoded[0] == PORTFOLIO:
        target = Collection.objects.visible_to(user).filter(pk=decoded[1]).first()
    elif decoded is not None:
        target = (
            RegisteredModel.objects.visible_to(user)
            .select_related("legacy_registry__team")
            .filter(pk=decoded[1])
            .first()
        )
    if target is None:
        raise GraphQLError(f"The collection {portfolio_id!r} was not found.")
    return target


@mutation.field("linkArtifact")
def resolve_link_artifact(_, info, input):
    user = user_of(info)
    version = _source_version(user, input.get("artifact_id"))
    with transaction.atomic():
        if input.get("artifact_portfolio_id"):
            target = _target_by_id(user, input["artifact_portfolio_id"])
            membership = _link_into(user, target, version, input)
        else:
            membership = _link_by_name(user, version, input)
    return {"version_index": membership.index, "artifact_membership": membership}


def _link_into(user, target, version: ArtifactVersion, data: dict):
    aliases = _alias_names(data.get("aliases"), target.name)
    if isinstance(target, Collection):
        return services.link_version(
            collection=target, version=version, aliases=aliases, actor=user
        )
    return legacy_services.link_to_path(
        legacy_registry=target.legacy_registry,
        name=target.name,
        version=version,
        aliases=aliases,
        actor=user,
    )


def _link_by_name(user, version: ArtifactVersion, data: dict):
    entity_name = data.get("entity_name")
    project_name = data.get("project_name")
    name = data.get("artifact_portfolio_name")
    if not (entity_name and project_name and name):
        raise GraphQLError(
            "Name the target with entityName, projectName and artifactPortfolioName, or give "
            "artifactPortfolioID."
        )
    entity = find_entity(user, entity_name)
    project = find_project(user, entity, project_name)
    if project is None:
        raise GraphQLError(f"The project '{project_name}' was not found under '{entity_name}'.")
    aliases = _alias_names(data.get("aliases"), name)

    if isinstance(project, Registry):
        collection = find_collection(user, project, name)
        if collection is None:
            collection = services.create_collection(
                registry=project, name=name, type=version.artifact.type, actor=user
            )
        return services.link_version(
            collection=collection, version=version, aliases=aliases, actor=user
        )
    if isinstance(project, LegacyRegistry):
        # Rejected once the team is migrated, with the new path in the message.
        return legacy_services.link_to_path(
            legacy_registry=project, name=name, version=version, aliases=aliases, actor=user
        )
    raise GraphQLError(
        f"Linking into the project '{project_name}' of the team '{entity_name}' is not "
        f"supported; link into a registry (ORG/wandb-registry-NAME/COLLECTION)."
    )


@mutation.field("useArtifact")
def resolve_use_artifact(_, info, input):
    """Record that a run of a team's project used an artifact version."""
    user = user_of(info)
    version = _source_version(user, input["artifact_id"])
    entity = find_entity(user, input["entity_name"])
    project = find_project(user, entity, input["project_name"])
    if not isinstance(project, Project):
        raise GraphQLError(
            f"The project '{input['project_name']}' was not found in the team "
            f"'{input['entity_name']}'; runs belong to a team's project."
        )
    with transaction.atomic():
        run = services.get_or_create_run(project=project, run_id=input["run_name"], actor=user)
        services.record_use(version=version, run=run, actor=user)
    return {"artifact": ArtifactNode(version)}


BINDABLES = [mutation]

"""Helpers shared by the resolvers: the request's user, ids and timestamps."""

from datetime import UTC, datetime

from apps.graphql_api.nodes import ArtifactTypeNode, organization_entity, team_entity
from apps.legacy.models import LegacyRegistry
from apps.registry import files
from apps.registry.models import ArtifactVersion, Registry


def user_of(info):
    return info.context["user"]


def request_of(info):
    return info.context["request"]


def may_download_once(info, version: ArtifactVersion) -> bool:
    """Return whether the user may download the version's files, checked once per request.

    The first "no" raises PermissionDenied, so a page of files reports it in one error and
    its other URLs are null without an error of their own.
    """
    answers = info.context.setdefault("download_allowed", {})
    if version.pk in answers:
        return answers[version.pk]
    answers[version.pk] = False
    files.require_download(user_of(info), version)
    answers[version.pk] = True
    return True


def timestamp(value: datetime | None) -> str | None:
    """Format an instant as the SDK reads it: ISO 8601 in UTC, to the second, no offset."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def project_entity(project):
    """Return the entity that owns a project: a registry's organization, else the team."""
    if isinstance(project, Registry):
        return organization_entity(project.organization)
    if isinstance(project, LegacyRegistry):
        return team_entity(project.team)
    return team_entity(project.team)


def type_node(project, name: str) -> ArtifactTypeNode:
    return ArtifactTypeNode(project=project, name=name)

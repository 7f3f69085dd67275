"""Helpers shared by the resolvers: the request's user, ids and timestamps."""

from datetime import UTC, datetime

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from apps.graphql_api.nodes import ArtifactTypeNode, organization_entity, team_entity
from apps.legacy.models import LegacyRegistry
from apps.registry import files
from apps.registry.models import ArtifactVersion, Registry


def user_of(info):
    return info.context["user"]


def request_of(info):
    return info.context["request"]


def require_download_once(info, version: ArtifactVersion) -> None:
    """Raise PermissionDenied unless the user may download the version's files.

    The answer is kept for the rest of the request, so a page of files checks it once.
    """
    checked = info.context.setdefault("download_checked", set())
    if version.pk not in checked:
        files.require_download(user_of(info), version)
        checked.add(version.pk)


def selected_names(info, selection_set: SelectionSetNode | None) -> set[str]:
    """Return the field names of one selection level, with its fragments expanded."""
    names: set[str] = set()
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= selected_names(info, selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = info.fragments.get(selection.name.value)
            names |= selected_names(info, fragment.selection_set if fragment else None)
    return names


def child_selections(info, selection_set: SelectionSetNode | None, name: str) -> list:
    """Return the selection sets of the fields `name` at one level, fragments expanded."""
    found = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode) and selection.name.value == name:
            found.append(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            found += child_selections(info, selection.selection_set, name)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = info.fragments.get(selection.name.value)
            if fragment is not None:
                found += child_selections(info, fragment.selection_set, name)
    return found


def connection_node_names(info) -> set[str]:
    """Return the field names the current connection field selects on `edges { node }`."""
    names: set[str] = set()
    for field in info.field_nodes:
        for edges in child_selections(info, field.selection_set, "edges"):
            for node in child_selections(info, edges, "node"):
                names |= selected_names(info, node)
    return names


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

"""Runs, read-only: the run that logged an artifact version and the runs that used it.

A run belongs to a team's project, so only members of that team see it, as they see the
project itself (lookups.find_project). Elsewhere a run is left out of lists and its
place in `createdBy` is null, which the SDK reads as "no run recorded".
"""

from ariadne import ObjectType, UnionType

from apps.graphql_api.ids import encode_id
from apps.graphql_api.lookups import is_team_member
from apps.graphql_api.nodes import ArtifactNode
from apps.graphql_api.pagination import MAX_PAGE_SIZE, connection
from apps.graphql_api.resolvers.artifacts import artifact_type
from apps.graphql_api.resolvers.common import user_of
from apps.graphql_api.resolvers.projects import project_type
from apps.registry.models import Project, Run

# Runs are recorded once they have logged or used a version; the server keeps no run state.
RUN_STATE = "finished"

run_type = ObjectType("Run")
creator_union = UnionType("ArtifactCreator")


def visible_runs(user):
    """Return the runs of the teams the user is a member of."""
    if not getattr(user, "is_authenticated", False):
        return Run.objects.none()
    return Run.objects.filter(project__team__memberships__user=user).select_related(
        "project__team__organization"
    )


@artifact_type.field("createdBy")
def resolve_artifact_created_by(node: ArtifactNode, info):
    run_id = node.version.produced_by_id
    if run_id is None:
        return None
    return visible_runs(user_of(info)).filter(pk=run_id).first()


@artifact_type.field("usedBy")
def resolve_artifact_used_by(node: ArtifactNode, info, after=None, first=None):
    runs = visible_runs(user_of(info)).filter(inputs=node.version).order_by("pk")
    # The SDK's used_by() sends no `first` and reads one page, so that page is a full one.
    return connection(runs, after=after, first=MAX_PAGE_SIZE if first is None else first)


@creator_union.type_resolver
def resolve_creator_type(creator, *_):
    return "Run" if isinstance(creator, Run) else "User"


@project_type.field("run")
def resolve_project_run(project, info, name):
    # Only a team's Project has runs, and find_project returns one only to team members.
    if not isinstance(project, Project) or not is_team_member(user_of(info), project.team):
        return None
    run = Run.objects.filter(project=project, run_id=name).first()
    if run is not None:
        run.project = project
    return run


@run_type.field("id")
def resolve_run_id(run: Run, info):
    return encode_id("Run", run.pk)


@run_type.field("name")
def resolve_run_name(run: Run, info):
    return run.run_id


@run_type.field("displayName")
def resolve_run_display_name(run: Run, info):
    return run.name or run.run_id


@run_type.field("state")
def resolve_run_state(run: Run, info):
    return RUN_STATE


@run_type.field("tags")
def resolve_run_tags(run: Run, info):
    return []


@run_type.field("readOnly")
def resolve_run_read_only(run: Run, info):
    return True


@run_type.field("heartbeatAt")
def resolve_run_heartbeat_at(run: Run, info):
    return run.created_at


@run_type.field("description")
@run_type.field("notes")
@run_type.field("group")
@run_type.field("jobType")
@run_type.field("sweepName")
@run_type.field("commit")
@run_type.field("historyLineCount")
@run_type.field("user")
def resolve_run_nothing(run: Run, info):
    return None


BINDABLES = [run_type, creator_union]

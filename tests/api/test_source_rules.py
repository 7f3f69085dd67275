"""Who may write a team's projects, runs and artifact versions: the services and the API.

The rule lives in the services (require_team_writer): the team's admins and members and the
admins of its organization write, everyone else is rejected with a message naming the role
needed. In the API world, `team_member` (tina) is the only member of `ml-team`. The tests add
a team admin, a team viewer, a service account and an admin of another organization.
"""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from apps.audit.models import AuditEvent
from apps.orgs import services as org_services
from apps.orgs.models import Organization, OrgRole, Team, TeamRole
from apps.orgs.permissions import require_team_writer
from apps.registry import services
from apps.registry.models import Artifact, ArtifactVersion, Project, Run
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TEAM_URL = "/api/v1/orgs/acme/teams/ml-team/projects/"
VERSIONS_URL = TEAM_URL + "fraud/artifacts/spare-model/versions/"
ROLE_NEEDED = (
    "in the team 'ml-team' needs the team's member or admin role; team viewers can only read. "
    "Ask a team admin for the member role."
)


def _team() -> Team:
    return Team.objects.get(name="ml-team")


def _project() -> Project:
    return Project.objects.get(team__name="ml-team", name="fraud")


def _team_user(world, username: str, role: str):
    user = make_user(username)
    org_services.add_org_member(organization=world.organization, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=_team(), user=user, role=role)
    return user


def _foreign_org_admin():
    """An admin of globex: an org admin, but of another organization than the team's."""
    user = make_user("gus")
    globex = Organization.objects.get(name="globex")
    org_services.add_org_member(organization=globex, user=user, role=OrgRole.ADMIN)
    return user


@pytest.fixture
def actor(request, world):
    """The user named by the test's parameter, made when the world does not have one."""
    name = request.param
    if name == "team_admin":
        return _team_user(world, "tom", TeamRole.ADMIN)
    if name == "team_viewer":
        return _team_user(world, "teo", TeamRole.VIEWER)
    if name == "service_account":
        return org_services.create_service_account(team=_team(), name="ml-bot").user
    if name == "foreign_org_admin":
        return _foreign_org_admin()
    if name == "anonymous":
        return AnonymousUser()
    return world.users[name]


WRITERS = ["team_member", "team_admin", "service_account", "org_admin"]
# `admin` has the Admin role on both registries of the world but is not in the team.
OTHERS = ["team_viewer", "admin", "org_viewer", "outsider", "foreign_org_admin", "anonymous"]


def _row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Project, Run, Artifact, ArtifactVersion, AuditEvent)
    }


# The services -------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", WRITERS, indirect=True)
def test_team_writers_log_versions(world, actor):
    project = services.get_or_create_project(team=_team(), name="churn", actor=actor)
    run = services.get_or_create_run(project=project, run_id="run-7", actor=actor)
    version = services.create_artifact_version(
        project=project, artifact_name="churn-model", type="model", produced_by=run, actor=actor
    )

    assert project.team == _team()
    assert Project.objects.filter(team=_team(), name="churn").count() == 1
    assert version.source_path == "ml-team/churn/churn-model:v0"
    assert version.produced_by == run
    assert version.created_by == actor
    event = AuditEvent.objects.get(action="artifact_version.created", target=version.source_path)
    assert event.actor == actor


@pytest.mark.parametrize("actor", OTHERS, indirect=True)
def test_others_cannot_create_project(world, actor):
    before = _row_counts()

    with pytest.raises(PermissionDenied) as raised:
        services.get_or_create_project(team=_team(), name="churn", actor=actor)

    assert str(raised.value) == f"Creating a project {ROLE_NEEDED}"
    assert _row_counts() == before


@pytest.mark.parametrize("actor", OTHERS, indirect=True)
def test_others_cannot_record_run(world, actor):
    before = _row_counts()

    with pytest.raises(PermissionDenied) as raised:
        services.get_or_create_run(project=_project(), run_id="run-7", actor=actor)

    assert str(raised.value) == f"Recording a run {ROLE_NEEDED}"
    assert _row_counts() == before


@pytest.mark.parametrize("actor", OTHERS, indirect=True)
def test_others_cannot_log_version(world, actor):
    before = _row_counts()

    with pytest.raises(PermissionDenied) as raised:
        services.create_artifact_version(
            project=_project(), artifact_name="spare-model", type="model", actor=actor
        )

    assert str(raised.value) == f"Logging an artifact version {ROLE_NEEDED}"
    assert _row_counts() == before


@pytest.mark.parametrize("actor", ["team_viewer"], indirect=True)
def test_existing_project_is_not_returned_to_viewer(world, actor):
    with pytest.raises(PermissionDenied):
        services.get_or_create_project(team=_team(), name="FRAUD", actor=actor)


def test_removed_member_loses_write(world):
    tom = _team_user(world, "tom", TeamRole.MEMBER)
    services.get_or_create_project(team=_team(), name="churn", actor=tom)
    org_services.remove_team_member(team=_team(), user=tom)

    with pytest.raises(PermissionDenied):
        services.get_or_create_project(team=_team(), name="churn", actor=tom)


def test_action_starts_the_message(world):
    with pytest.raises(PermissionDenied) as raised:
        require_team_writer(world.users["admin"], _team(), "Importing from MLflow")

    assert str(raised.value) == f"Importing from MLflow {ROLE_NEEDED}"


# Through the API ----------------------------------------------------------------------------


def _post(client, url: str, body: dict, key: str):
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def _key(user) -> str:
    return org_services.create_api_key(user=user, name="tests")[1]


def test_api_team_viewer_cannot_create_project(world, client):
    viewer = _team_user(world, "teo", TeamRole.VIEWER)

    response = _post(client, TEAM_URL, {"name": "churn"}, _key(viewer))

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": f"Creating a project {ROLE_NEEDED}",
        "field": None,
    }
    assert not Project.objects.filter(name="churn").exists()


def test_api_team_viewer_cannot_log_version(world, client):
    viewer = _team_user(world, "teo", TeamRole.VIEWER)
    key = _key(viewer)
    before = _row_counts()

    response = _post(client, VERSIONS_URL, {"type": "model"}, key)
    with_run = _post(client, VERSIONS_URL, {"type": "model", "run_id": "run-9"}, key)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == f"Logging an artifact version {ROLE_NEEDED}"
    assert with_run.status_code == 403
    assert with_run.json()["error"]["message"] == f"Recording a run {ROLE_NEEDED}"
    assert _row_counts() == before


def test_api_team_member_creates_project(world, client):
    response = _post(client, TEAM_URL, {"name": "churn"}, world.keys["team_member"])

    assert response.status_code == 201
    assert response.json()["team"] == "ml-team"
    assert response.json()["name"] == "churn"
    assert Project.objects.filter(team=_team(), name="churn").exists()


def test_api_service_account_logs_version(world, client):
    account = org_services.create_service_account(team=_team(), name="ml-bot")

    response = _post(client, VERSIONS_URL, {"type": "model", "run_id": "run-9"}, _key(account.user))

    assert response.status_code == 201, response.content
    assert response.json()["created_by"] == "ml-bot"
    assert response.json()["produced_by"] == "run-9"
    assert response.json()["path"] == "ml-team/fraud/spare-model:v1"


def test_api_rejected_version_keeps_no_run(world, client):
    """A run named in a request whose version is rejected is not left behind."""
    response = _post(
        client,
        VERSIONS_URL,
        {"type": "dataset", "run_id": "run-orphan"},
        world.keys["team_member"],
    )

    assert response.status_code == 400
    assert "has the type 'model', not 'dataset'" in response.json()["error"]["message"]
    assert not Run.objects.filter(run_id="run-orphan").exists()

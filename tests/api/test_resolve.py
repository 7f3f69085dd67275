"""The resolve endpoint with legacy paths: before a team's migration, after it, and hidden.

The team `ml-team` of the API world (its member is `team_member`, tina) gets a legacy Model
Registry with the registered model `fraud-detector`: v0, v1 with `champion`, v2 with
`latest`. No other user of the world is in the team.
"""

import hashlib
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.legacy import services as legacy_services
from apps.legacy.models import LegacyRegistry
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, Team, TeamRole
from apps.registry import services
from apps.registry.access import revoke_all
from tests.conftest import make_user
from tests.legacy.conftest import migrate

pytestmark = pytest.mark.django_db

RESOLVE = "/api/v1/resolve/?path="
CHAMPION = "ml-team/model-registry/fraud-detector:champion"
MAX_QUERIES = 8


def _get(client, world, path: str, persona: str = "team_member"):
    return client.get(RESOLVE + quote(path, safe=""), headers=world.headers(persona))


def _team(name: str = "ml-team") -> Team:
    return Team.objects.get(name=name)


def _log(project, actor, name: str):
    content = f"{name} weights".encode()
    return services.create_artifact_version(
        project=project,
        artifact_name=name,
        type="model",
        metadata={"auc": 0.9},
        files=[
            services.FileEntry(
                path="model.pkl", size=len(content), sha256=hashlib.sha256(content).hexdigest()
            )
        ],
        actor=actor,
    )


def _add_models(team: Team, actor, numbers: range, *, versions: int = 1) -> LegacyRegistry:
    """Add registered models `model-N` to the team's legacy registry, `candidate` on each v0."""
    legacy_registry = legacy_services.ensure_legacy_registry(team=team)
    project = services.get_or_create_project(team=team, name="legacy-sources", actor=actor)
    for number in numbers:
        model = legacy_services.create_registered_model(
            legacy_registry=legacy_registry, name=f"model-{number}", actor=actor
        )
        for _ in range(versions):
            linked = legacy_services.link_version(
                model=model, version=_log(project, actor, f"model-{number}"), actor=actor
            )
            legacy_services.add_tag(target=linked, name="nightly", actor=actor)
        first = model.versions.get(index=0)
        legacy_services.set_alias(legacy_version=first, name="candidate", actor=actor)
    return legacy_registry


@pytest.fixture
def legacy(world) -> LegacyRegistry:
    """ml-team's legacy registry with `fraud-detector` v0..v2, `champion` on v1."""
    tina = world.users["team_member"]
    team = _team()
    legacy_registry = legacy_services.ensure_legacy_registry(team=team)
    project = services.get_or_create_project(team=team, name="fraud", actor=tina)
    model = legacy_services.create_registered_model(
        legacy_registry=legacy_registry,
        name="fraud-detector",
        description="Card **fraud** classifier.",
        actor=tina,
    )
    versions = [
        legacy_services.link_version(
            model=model, version=_log(project, tina, "legacy-detector"), actor=tina
        )
        for _ in range(3)
    ]
    legacy_services.set_alias(legacy_version=versions[1], name="champion", actor=tina)
    legacy_services.add_tag(target=versions[1], name="reviewed", actor=tina)
    return legacy_registry


@pytest.fixture
def team_viewer(world):
    user = make_user("teo")
    org_services.add_org_member(organization=world.organization, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=_team(), user=user, role=TeamRole.VIEWER)
    _, world.keys["team_viewer"] = org_services.create_api_key(user=user, name="tests")
    return user


# Before the migration -----------------------------------------------------------------------


def test_legacy_path_names_legacy_version(world, client, legacy):
    response = _get(client, world, CHAMPION)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "legacy"
    assert body["path"] == "ml-team/model-registry/fraud-detector:v1"
    assert body["requested_path"] == CHAMPION
    assert body["organization"] == "acme"
    assert body["team"] == "ml-team"
    assert body["registered_model"] == "fraud-detector"
    assert body["index"] == 1
    assert body["version"] == "v1"
    assert body["aliases"] == ["champion"]
    assert body["tags"] == ["reviewed"]
    assert body["source"]["path"] == "ml-team/fraud/legacy-detector:v1"
    assert body["linked_by"] == "tina"
    assert body["deprecation"] is None
    assert "Deprecation" not in response.headers
    assert "Link" not in response.headers


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("ML-TEAM/model-registry/Fraud-Detector:v0", 0),
        ("ml-team/model-registry/fraud-detector:CHAMPION", 1),
        ("ml-team/model-registry/fraud-detector:latest", 2),
        ("ml-team/model-registry/fraud-detector", 2),
    ],
)
def test_legacy_path_forms(world, client, legacy, path, index):
    body = _get(client, world, path).json()

    assert body["kind"] == "legacy"
    assert body["index"] == index
    assert body["path"] == f"ml-team/model-registry/fraud-detector:v{index}"
    assert body["requested_path"] == path


def test_team_viewer_resolves_legacy_path(world, client, legacy, team_viewer):
    response = _get(client, world, CHAMPION, "team_viewer")

    assert response.status_code == 200
    assert response.json()["index"] == 1


def test_registry_path_has_registry_kind(world, client, legacy):
    response = _get(client, world, "acme/wandb-registry-secret-models/fraud-detector:champion")

    body = response.json()
    assert body["kind"] == "registry"
    assert body["path"] == "acme/wandb-registry-secret-models/Fraud-Detector:v0"
    assert body["registry"] == "secret-models"
    assert body["deprecation"] is None
    assert "Deprecation" not in response.headers


@pytest.mark.parametrize("persona", ["member", "admin", "org_admin", "org_viewer", "outsider"])
def test_legacy_path_outside_team_looks_missing(world, client, legacy, persona):
    """Only the team's members can see its legacy registry; for others the team does not exist."""
    hidden = _get(client, world, CHAMPION, persona)
    missing = _get(client, world, CHAMPION.replace("ml-team", "no-team"), persona)

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == {
        "code": "not_found",
        "message": "The team 'ml-team' has no legacy Model Registry that you can see.",
        "field": None,
    }
    assert hidden.content.replace(b"ml-team", b"no-team") == missing.content


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "ml-team/model-registry/fraud-detector:v9",
            "The version 'v9' was not found in the registered model 'fraud-detector'.",
        ),
        (
            "ml-team/model-registry/churn:v0",
            "The registered model 'churn' was not found in the legacy Model Registry of the "
            "team 'ml-team'.",
        ),
    ],
)
def test_legacy_path_unknown_part_is_named(world, client, legacy, path, message):
    response = _get(client, world, path)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == message


def test_invalid_legacy_path_is_400(world, client, legacy):
    response = _get(client, world, "ml-team/model-registry/a:b:c")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "path"


# After the migration ------------------------------------------------------------------------


def test_migrated_path_names_registry_version(world, client, legacy):
    target = migrate(legacy, actor=world.users["org_admin"])
    legacy.refresh_from_db()

    response = _get(client, world, CHAMPION)

    assert response.status_code == 200, response.content
    body = response.json()
    new_path = "acme/wandb-registry-ml-team/fraud-detector:champion"
    assert body["kind"] == "registry"
    assert body["path"] == "acme/wandb-registry-ml-team/fraud-detector:v1"
    assert body["requested_path"] == CHAMPION
    assert body["registry"] == target.name == "ml-team"
    assert body["collection"] == "fraud-detector"
    assert body["index"] == 1
    assert body["aliases"] == ["champion"]
    assert body["source"]["path"] == "ml-team/fraud/legacy-detector:v1"
    assert body["deprecation"]["message"] == (
        f"The legacy path {CHAMPION} is deprecated: its registered model was migrated, so use "
        f"{new_path} instead."
    )
    assert body["deprecation"]["successor_path"] == new_path
    assert body["deprecation"]["deprecated_since"] == (
        legacy.read_only_since.isoformat().replace("+00:00", "Z")
    )


def test_migrated_path_sends_deprecation_headers(world, client, legacy):
    migrate(legacy, actor=world.users["org_admin"])
    legacy.refresh_from_db()

    response = _get(client, world, CHAMPION)

    assert response.headers["Deprecation"] == f"@{int(legacy.read_only_since.timestamp())}"
    successor = (
        "http://testserver/api/v1/resolve/"
        "?path=acme%2Fwandb-registry-ml-team%2Ffraud-detector%3Achampion"
    )
    assert response.headers["Link"] == f'<{successor}>; rel="successor-version"'


def test_successor_link_resolves_same_version(world, client, legacy):
    migrate(legacy, actor=world.users["org_admin"])
    first = _get(client, world, CHAMPION)
    url = first.headers["Link"].split(">")[0].removeprefix("<http://testserver")

    second = client.get(url, headers=world.headers("team_member"))

    assert second.status_code == 200
    assert second.json()["path"] == first.json()["path"]
    assert second.json()["requested_path"] == "acme/wandb-registry-ml-team/fraud-detector:champion"
    assert second.json()["deprecation"] is None
    assert "Deprecation" not in second.headers


def test_migrated_path_follows_registry_rename(world, client, legacy):
    target = migrate(legacy, actor=world.users["org_admin"])
    services.update_registry(registry=target, name="fraud-models", actor=world.users["org_admin"])

    response = _get(client, world, CHAMPION)

    body = response.json()
    assert body["path"] == "acme/wandb-registry-fraud-models/fraud-detector:v1"
    assert body["deprecation"]["successor_path"] == (
        "acme/wandb-registry-fraud-models/fraud-detector:champion"
    )
    assert "wandb-registry-fraud-models" in response.headers["Link"]


def test_migrated_path_works_after_hiding(world, client, legacy):
    long_ago = timezone.now() - timedelta(days=90)
    migrate(legacy, actor=world.users["org_admin"], read_only_since=long_ago)
    assert legacy.state() == "hidden"

    response = _get(client, world, CHAMPION)

    assert response.status_code == 200
    assert response.json()["registry"] == "ml-team"
    assert response.headers["Deprecation"] == f"@{int(long_ago.timestamp())}"


@pytest.mark.parametrize("persona", ["member", "org_viewer", "outsider"])
def test_migrated_legacy_path_outside_team_looks_missing(world, client, legacy, persona):
    migrate(legacy, actor=world.users["org_admin"])

    hidden = _get(client, world, CHAMPION, persona)
    missing = _get(client, world, CHAMPION.replace("ml-team", "no-team"), persona)

    assert hidden.status_code == 404
    assert hidden.content.replace(b"ml-team", b"no-team") == missing.content
    assert "Deprecation" not in hidden.headers


def test_migrated_to_unseen_registry_is_404(world, client, legacy):
    target = migrate(legacy, actor=world.users["org_admin"])
    revoke_all(target, _team().group)

    response = _get(client, world, CHAMPION)

    assert response.status_code == 404
    assert "was migrated to a registry that you cannot see" in (response.json()["error"]["message"])
    assert "Deprecation" not in response.headers


# Schema ------------------------------------------------------------------------------------


def _resolve_operation(client) -> tuple[dict, dict]:
    schema = client.get("/api/v1/schema/?format=json").json()
    return schema, schema["paths"]["/api/v1/resolve/"]["get"]


def test_schema_describes_both_kinds(client, db):
    schema, operation = _resolve_operation(client)

    ok = operation["responses"]["200"]
    body = ok["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/Resolution"
    resolution = schema["components"]["schemas"]["Resolution"]
    assert resolution["discriminator"]["propertyName"] == "kind"
    assert resolution["discriminator"]["mapping"] == {
        "registry": "#/components/schemas/Resolved",
        "legacy": "#/components/schemas/ResolvedLegacy",
    }
    legacy_fields = schema["components"]["schemas"]["ResolvedLegacy"]["properties"]
    assert {"team", "registered_model", "deprecation"} <= set(legacy_fields)
    assert "deprecation" in schema["components"]["schemas"]["Resolved"]["properties"]


def test_schema_documents_headers_and_examples(client, db):
    _, operation = _resolve_operation(client)

    ok = operation["responses"]["200"]
    assert set(ok["headers"]) == {"Deprecation", "Link"}
    assert "RFC 9745" in ok["headers"]["Deprecation"]["description"]
    examples = ok["content"]["application/json"]["examples"]
    kinds = {example["value"]["kind"] for example in examples.values()}
    assert kinds == {"registry", "legacy"}
    migrated = [e["value"] for e in examples.values() if e["value"]["deprecation"] is not None]
    assert migrated[0]["deprecation"]["successor_path"].startswith("acme/wandb-registry-")


# Query counts ------------------------------------------------------------------------------


def _count(client, world, path: str) -> tuple[int, dict]:
    _get(client, world, path)  # records the key's last use, once a minute at most
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, world, path)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_legacy_resolve_query_count_constant(world, client):
    tina = world.users["team_member"]
    counts = {}

    for rows, numbers in ((5, range(5)), (50, range(5, 50))):
        _add_models(_team(), tina, numbers)
        counts[rows], body = _count(client, world, "ml-team/model-registry/MODEL-4:candidate")
        print(f"{rows} rows: legacy resolve {counts[rows]} queries")

        assert body["kind"] == "legacy"
        assert body["path"] == "ml-team/model-registry/model-4:v0"
        assert body["aliases"] == ["candidate", "latest"]
        assert body["tags"] == ["nightly"]

    assert counts[5] == counts[50]
    assert counts[50] <= MAX_QUERIES


def test_migrated_resolve_query_count_constant(world, client):
    """Two teams, migrated with 5 and with 50 registered models, take as many queries."""
    tina = world.users["team_member"]
    counts = {}

    for rows in (5, 50):
        team = org_services.create_team(organization=world.organization, name=f"team-{rows}")
        org_services.add_team_member(team=team, user=tina, role=TeamRole.MEMBER)
        legacy_registry = _add_models(team, tina, range(rows), versions=2)
        migrate(legacy_registry, actor=world.users["org_admin"])
        path = f"team-{rows}/model-registry/model-4:candidate"
        counts[rows], body = _count(client, world, path)
        print(f"{rows} rows: migrated legacy resolve {counts[rows]} queries")

        assert body["path"] == f"acme/wandb-registry-team-{rows}/model-4:v0"
        assert body["deprecation"]["successor_path"] == (
            f"acme/wandb-registry-team-{rows}/model-4:candidate"
        )

    assert counts[5] == counts[50]
    assert counts[50] <= MAX_QUERIES

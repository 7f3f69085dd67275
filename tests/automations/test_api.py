"""The integration, automation and execution endpoints of the REST API."""

import pytest

from apps.automations.models import Automation, EventType, WebhookIntegration
from apps.registry import services as registry_services
from tests.automations.conftest import SECRET, TOKEN
from tests.conftest import log_version

AUTOMATIONS = "/api/v1/orgs/acme/registries/model/automations/"
EXECUTIONS = "/api/v1/orgs/acme/registries/model/executions/"
INTEGRATIONS = "/api/v1/orgs/acme/teams/fraud-team/integrations/"


def as_user(client, user):
    client.force_login(user)
    return client


def new_automation(target, **overrides):
    body = {
        "name": "api-hook",
        "event_type": EventType.VERSION_LINKED,
        "integration": target.pk,
    }
    body.update(overrides)
    return body


# Automations --------------------------------------------------------------------------------


def test_outsider_gets_404(client, outsider, make_automation):
    make_automation()

    response = as_user(client, outsider).get(AUTOMATIONS)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_anonymous_rejected(client, make_automation):
    make_automation()

    response = client.get(AUTOMATIONS)

    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_viewer_lists_automations(client, viewer, make_automation, collection):
    make_automation(
        name="on-alias",
        event_type=EventType.ALIAS_ADDED,
        alias_pattern="^prod$",
        collection=collection,
    )

    response = as_user(client, viewer).get(AUTOMATIONS)

    (row,) = response.json()["results"]
    assert row["name"] == "on-alias"
    assert row["event_type"] == "alias.added"
    assert row["alias_pattern"] == "^prod$"
    assert row["collection"] == "fraud-detector"
    assert row["integration"]["name"] == "ci-hook"
    assert row["integration"]["team"] == "fraud-team"
    assert row["created_by"] == "mike"


def test_viewer_create_forbidden(client, viewer, integration):
    response = as_user(client, viewer).post(
        AUTOMATIONS, new_automation(integration), content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "needs the Member role" in response.json()["error"]["message"]
    assert Automation.objects.count() == 0


def test_unknown_collection_rejected(client, member, integration, collection):
    response = as_user(client, member).post(
        AUTOMATIONS,
        new_automation(integration, collection="no-such-collection"),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "collection"
    assert "has no collection 'no-such-collection'" in response.json()["error"]["message"]


def test_member_creates_registry_automation(client, member, integration):
    response = as_user(client, member).post(
        AUTOMATIONS, new_automation(integration), content_type="application/json"
    )

    body = response.json()
    assert response.status_code == 201
    assert body["name"] == "api-hook"
    assert body["collection"] is None
    assert body["is_enabled"] is True
    assert '"event": {{ event_type }}' in body["payload_template"]
    assert Automation.objects.get().created_by == member


def test_member_creates_collection_automation(client, member, integration, collection):
    response = as_user(client, member).post(
        AUTOMATIONS,
        new_automation(integration, collection="FRAUD-detector"),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["collection"] == "fraud-detector"


def test_template_error_has_position(client, member, integration):
    template = '{"event": {{ event_type }},\n "tag": {{ tag }},\n}'

    response = as_user(client, member).post(
        AUTOMATIONS,
        new_automation(integration, payload_template=template),
        content_type="application/json",
    )

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["field"] == "payload_template"
    assert error["message"].startswith("The payload template is not valid at line 3, column 1:")


def test_alias_pattern_only_for_alias_event(client, member, integration):
    response = as_user(client, member).post(
        AUTOMATIONS,
        new_automation(integration, alias_pattern="^prod"),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "only applies to the event" in response.json()["error"]["message"]


def test_unknown_integration_rejected(client, member, integration):
    response = as_user(client, member).post(
        AUTOMATIONS,
        new_automation(integration, integration=integration.pk + 100),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "integration"


def test_member_disables_automation(client, member, make_automation):
    automation = make_automation()

    response = as_user(client, member).patch(
        f"{AUTOMATIONS}{automation.pk}/", {"is_enabled": False}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["is_enabled"] is False
    automation.refresh_from_db()
    assert automation.is_enabled is False


def test_viewer_delete_forbidden(client, viewer, make_automation):
    automation = make_automation()

    response = as_user(client, viewer).delete(f"{AUTOMATIONS}{automation.pk}/")

    assert response.status_code == 403
    assert Automation.objects.filter(pk=automation.pk).exists()


def test_member_deletes_automation(client, member, make_automation):
    automation = make_automation()

    response = as_user(client, member).delete(f"{AUTOMATIONS}{automation.pk}/")

    assert response.status_code == 204
    assert not Automation.objects.filter(pk=automation.pk).exists()


def test_test_action_returns_response(client, member, make_automation, receiver):
    automation = make_automation()
    receiver.default_reply = (418, "short and stout")

    response = as_user(client, member).post(f"{AUTOMATIONS}{automation.pk}/test/")

    assert response.status_code == 200
    assert response.json()["succeeded"] is False
    assert response.json()["response_code"] == 418
    assert response.json()["response_excerpt"] == "short and stout"
    assert response.json()["error"] == "The endpoint answered 418."


# Executions ---------------------------------------------------------------------------------


def test_executions_listed_with_attempts(
    client,
    viewer,
    make_automation,
    collection,
    project,
    member,
    receiver,
    django_capture_on_commit_callbacks,
):
    automation = make_automation()
    receiver.replies = [(500, "oops")]
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    response = as_user(client, viewer).get(EXECUTIONS, {"automation": automation.pk})

    (row,) = response.json()["results"]
    assert row["status"] == "finished"
    assert row["event_type"] == "version.linked"
    assert row["target"] == "fraud-detector:v0"
    assert row["author"] == "mike"
    assert [a["outcome"] for a in row["attempts"]] == ["retrying", "succeeded"]
    assert [a["response_code"] for a in row["attempts"]] == [500, 200]
    assert row["attempts"][0]["response_excerpt"] == "oops"
    detail = client.get(f"{EXECUTIONS}{row['id']}/")
    assert detail.json()["id"] == row["id"]


def test_executions_filter_by_status(
    client,
    member,
    make_automation,
    collection,
    project,
    receiver,
    django_capture_on_commit_callbacks,
):
    make_automation()
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    failed = as_user(client, member).get(EXECUTIONS, {"status": "failed"})
    finished = client.get(EXECUTIONS, {"status": "finished"})

    assert failed.json()["results"] == []
    assert len(finished.json()["results"]) == 1


def test_outsider_cannot_list_executions(client, outsider, model_registry):
    response = as_user(client, outsider).get(EXECUTIONS)

    assert response.status_code == 404


# Integrations -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["outsider", "viewer"])
def test_integrations_hidden_outside_team(client, request, integration, persona):
    user = request.getfixturevalue(persona)

    response = as_user(client, user).get(INTEGRATIONS)

    assert response.status_code == 404


def test_team_member_lists_without_secrets(client, member, integration):
    response = as_user(client, member).get(INTEGRATIONS)

    (row,) = response.json()["results"]
    assert row["name"] == "ci-hook"
    assert row["has_access_token"] is True
    assert row["has_signing_secret"] is True
    assert "access_token" not in row
    assert "signing_secret" not in row
    assert TOKEN not in response.content.decode()
    assert SECRET not in response.content.decode()


def test_team_member_create_forbidden(client, member, receiver):
    response = as_user(client, member).post(
        INTEGRATIONS, {"name": "mine", "url": receiver.url}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "needs the team's admin role" in response.json()["error"]["message"]


def test_team_admin_creates_integration(client, team_admin, receiver):
    response = as_user(client, team_admin).post(
        INTEGRATIONS,
        {"name": "deployer", "url": receiver.url, "access_token": TOKEN},
        content_type="application/json",
    )

    body = response.json()
    assert response.status_code == 201
    assert body["has_access_token"] is True
    assert body["has_signing_secret"] is False
    assert TOKEN not in response.content.decode()


def test_team_admin_removes_secret(client, team_admin, integration):
    response = as_user(client, team_admin).patch(
        f"{INTEGRATIONS}{integration.pk}/", {"signing_secret": ""}, content_type="application/json"
    )

    assert response.json()["has_signing_secret"] is False
    assert response.json()["has_access_token"] is True


def test_unsafe_url_rejected(client, team_admin, settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = False

    response = as_user(client, team_admin).post(
        INTEGRATIONS,
        {"name": "metadata", "url": "https://169.254.169.254/latest/"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "cloud metadata address" in response.json()["error"]["message"]
    assert WebhookIntegration.objects.count() == 0


def test_team_admin_tests_integration(client, team_admin, integration, receiver):
    response = as_user(client, team_admin).post(f"{INTEGRATIONS}{integration.pk}/test/")

    assert response.json()["succeeded"] is True
    assert response.json()["response_code"] == 200
    assert len(receiver.requests) == 1


def test_team_admin_deletes_integration(client, team_admin, integration):
    response = as_user(client, team_admin).delete(f"{INTEGRATIONS}{integration.pk}/")

    assert response.status_code == 204
    assert WebhookIntegration.objects.count() == 0


def test_schema_lists_endpoints(client, member):
    response = as_user(client, member).get("/api/v1/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert "/api/v1/orgs/{org}/teams/{team}/integrations/" in paths
    assert "/api/v1/orgs/{org}/registries/{registry}/automations/{automation}/test/" in paths
    assert "/api/v1/orgs/{org}/registries/{registry}/executions/{execution}/" in paths
    properties = response.json()["components"]["schemas"]["IntegrationWriteRequest"]["properties"]
    assert properties["access_token"]["writeOnly"] is True

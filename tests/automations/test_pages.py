"""The Automations and Automations history tabs of a registry, and a team's Integrations page."""

import pytest
from django.urls import reverse

from apps.automations.models import Automation, EventType, WebhookIntegration
from apps.registry import services as registry_services
from tests.automations.conftest import SECRET, TOKEN
from tests.conftest import log_version


def automations_url(name="model"):
    return reverse("automations:automation_list", kwargs={"org": "acme", "registry": name})


def history_url(name="model"):
    return reverse("automations:execution_history", kwargs={"org": "acme", "registry": name})


def integrations_url(team="fraud-team"):
    return reverse("automations:integration_list", kwargs={"org": "acme", "team": team})


def automation_action(automation, action):
    return reverse(
        f"automations:automation_{action}",
        kwargs={"org": "acme", "registry": "model", "pk": automation.pk},
    )


def integration_action(integration, action):
    return reverse(
        f"automations:integration_{action}",
        kwargs={"org": "acme", "team": "fraud-team", "pk": integration.pk},
    )


def create_form(integration, **overrides):
    data = {
        "name": "deploy-on-link",
        "description": "",
        "event_type": EventType.VERSION_LINKED,
        "collection": "",
        "alias_pattern": "",
        "integration": integration.pk,
        "payload_template": '{"event": {{ event_type }}, "version": {{ version_path }}}',
    }
    data.update(overrides)
    return data


# Permission rows ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", [automations_url, history_url])
def test_outsider_gets_404(client, outsider, model_registry, page):
    client.force_login(outsider)

    response = client.get(page())

    assert response.status_code == 404


def test_outsider_cannot_create(client, outsider, integration):
    client.force_login(outsider)

    response = client.post(automations_url(), create_form(integration))

    assert response.status_code == 404
    assert Automation.objects.count() == 0


def test_viewer_sees_list_without_form(client, viewer, make_automation):
    make_automation(name="notify-ci")
    client.force_login(viewer)

    response = client.get(automations_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert "notify-ci" in content
    assert "fraud-team / ci-hook" in content
    assert "New automation" not in content
    assert "Delete" not in content


def test_viewer_create_forbidden(client, viewer, integration):
    client.force_login(viewer)

    response = client.post(automations_url(), create_form(integration))

    assert response.status_code == 403
    assert "needs the Member role" in response.content.decode()
    assert Automation.objects.count() == 0


def test_viewer_delete_forbidden(client, viewer, make_automation):
    automation = make_automation()
    client.force_login(viewer)

    response = client.post(automation_action(automation, "delete"))

    assert response.status_code == 403
    assert "needs the Member role" in response.content.decode()
    assert Automation.objects.filter(pk=automation.pk).exists()


def test_member_creates_automation(member_client, integration):
    response = member_client.post(automations_url(), create_form(integration), follow=True)

    content = response.content.decode()
    assert "Created the automation “deploy-on-link”." in content
    automation = Automation.objects.get()
    assert automation.name == "deploy-on-link"
    assert automation.collection is None
    assert automation.integration == integration
    assert "All collections" in content


def test_member_creates_collection_automation(member_client, integration, collection):
    form = create_form(
        integration,
        collection=collection.pk,
        event_type=EventType.ALIAS_ADDED,
        alias_pattern="^prod",
    )

    member_client.post(automations_url(), form)

    automation = Automation.objects.get()
    assert automation.collection == collection
    assert automation.alias_pattern == "^prod"


def test_member_deletes_automation(member_client, make_automation):
    automation = make_automation(name="old-hook")

    response = member_client.post(automation_action(automation, "delete"), follow=True)

    assert "Deleted the automation “old-hook”." in response.content.decode()
    assert not Automation.objects.filter(pk=automation.pk).exists()


def test_delete_with_htmx_swaps_list(member_client, make_automation):
    automation = make_automation(name="old-hook")

    response = member_client.post(automation_action(automation, "delete"), HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="automation-list"')
    assert "No automations yet." in content
    assert 'hx-swap-oob="innerHTML"' in content
    assert "Deleted the automation “old-hook”." in content


def test_toggle_disables_automation(member_client, make_automation):
    automation = make_automation()

    response = member_client.post(automation_action(automation, "toggle"), follow=True)

    automation.refresh_from_db()
    assert automation.is_enabled is False
    assert "Disabled the automation “notify-ci”." in response.content.decode()


def test_invalid_template_shows_position(member_client, integration):
    template = '{\n  "event": {{ event_type }}\n  "version": 1\n}'

    response = member_client.post(
        automations_url(), create_form(integration, payload_template=template)
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "not valid at line 3, column 3: Expecting &#x27;,&#x27; delimiter." in content
    assert Automation.objects.count() == 0


def test_foreign_integration_rejected(member_client, org, org_admin, integration):
    from apps.automations import services
    from apps.orgs import services as org_services
    from apps.orgs.models import TeamRole

    other_team = org_services.create_team(organization=org, name="platform")
    org_services.add_team_member(team=other_team, user=org_admin, role=TeamRole.ADMIN)
    foreign = services.create_integration(
        team=other_team, name="platform-hook", url=integration.url, actor=org_admin
    )

    response = member_client.post(automations_url(), create_form(foreign))

    assert "Select a valid choice" in response.content.decode()
    assert Automation.objects.count() == 0


# Test sends ---------------------------------------------------------------------------------


def test_test_button_shows_response(member_client, make_automation, receiver):
    automation = make_automation()
    receiver.default_reply = (202, '{"queued": 1}')

    response = member_client.post(automation_action(automation, "test"), HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert "The endpoint accepted the test payload." in content
    assert "202" in content
    assert "{&quot;queued&quot;: 1}" in content
    (request,) = receiver.requests
    assert request.headers["X-Registry-Event"] == "test"
    assert request.json()["event"] == "version.linked"
    assert request.json()["version"] == "acme/wandb-registry-model/example-collection:v0"


def test_test_button_without_htmx_shows_page(member_client, make_automation, receiver):
    automation = make_automation()
    receiver.default_reply = (500, "boom")

    response = member_client.post(automation_action(automation, "test"))

    content = response.content.decode()
    assert "Automations of model" in content
    assert "The test failed: The endpoint answered 500." in content
    assert "boom" in content
    assert len(receiver.requests) == 1


def test_viewer_cannot_test(client, viewer, make_automation, receiver):
    automation = make_automation()
    client.force_login(viewer)

    response = client.post(automation_action(automation, "test"))

    assert response.status_code == 403
    assert receiver.requests == []


# History ------------------------------------------------------------------------------------


def test_history_shows_retries_and_failure(
    member_client,
    make_automation,
    collection,
    project,
    member,
    receiver,
    django_capture_on_commit_callbacks,
):
    make_automation(name="flaky")
    receiver.default_reply = (503, "try later")
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    response = member_client.get(history_url())

    content = response.content.decode()
    assert "flaky" in content
    assert "Failed" in content
    assert "4 attempts" in content
    assert content.count("Failed, will retry") == 3
    assert "The endpoint answered 503. Gave up after 4 attempts." in content
    assert "try later" in content
    assert "fraud-detector:v0" in content


def test_history_filters_by_status(
    member_client,
    make_automation,
    collection,
    project,
    member,
    receiver,
    django_capture_on_commit_callbacks,
):
    make_automation(name="works")
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    failed = member_client.get(history_url(), {"status": "failed"}, HTTP_HX_REQUEST="true")
    finished = member_client.get(history_url(), {"status": "finished"})

    assert "No webhooks sent yet that match these filters." in failed.content.decode()
    assert failed.content.decode().lstrip().startswith("<section")
    assert "Finished" in finished.content.decode()
    assert "works" in finished.content.decode()


def test_history_visible_to_viewer(client, viewer, model_registry):
    client.force_login(viewer)

    response = client.get(history_url())

    assert response.status_code == 200
    assert "Automations history of model" in response.content.decode()
    assert "No webhooks sent yet." in response.content.decode()


# Integrations -------------------------------------------------------------------------------


def test_integrations_hidden_from_non_members(client, viewer, outsider, integration):
    for user in (viewer, outsider):
        client.force_login(user)

        response = client.get(integrations_url())

        assert response.status_code == 404


def test_team_member_sees_integrations_read_only(member_client, integration):
    response = member_client.get(integrations_url())

    content = response.content.decode()
    assert response.status_code == 200
    assert "ci-hook" in content
    assert integration.url in content
    assert "New integration" not in content
    assert "Only the team's admins can change them." in content


def test_team_member_cannot_add_integration(member_client, receiver):
    form = {"name": "mine", "url": receiver.url, "access_token": "", "signing_secret": ""}

    response = member_client.post(integrations_url(), form)

    assert response.status_code == 403
    assert "needs the team&#x27;s admin role" in response.content.decode()
    assert WebhookIntegration.objects.count() == 0


def test_team_member_cannot_edit_integration(member_client, integration):
    response = member_client.get(integration_action(integration, "edit"))

    assert response.status_code == 403


def test_team_admin_adds_integration(client, team_admin, receiver):
    client.force_login(team_admin)
    form = {
        "name": "deployer",
        "url": receiver.url,
        "access_token": TOKEN,
        "signing_secret": SECRET,
    }

    response = client.post(integrations_url(), form, follow=True)

    content = response.content.decode()
    assert "Added the integration “deployer”." in content
    assert WebhookIntegration.objects.get().name == "deployer"
    assert TOKEN not in content
    assert SECRET not in content
    assert content.count(">Set<") == 2


def test_secrets_never_shown_on_edit_page(client, team_admin, integration):
    client.force_login(team_admin)

    response = client.get(integration_action(integration, "edit"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Access token: set" in content
    assert TOKEN not in content
    assert SECRET not in content


def test_edit_keeps_secret_when_left_empty(client, team_admin, integration, receiver):
    client.force_login(team_admin)
    form = {
        "name": "ci-hook-renamed",
        "url": receiver.url,
        "access_token": "",
        "signing_secret": "",
    }

    client.post(integration_action(integration, "edit"), form)

    integration.refresh_from_db()
    assert integration.name == "ci-hook-renamed"
    assert integration.has_access_token
    assert integration.has_signing_secret


def test_edit_removes_token_on_request(client, team_admin, integration, receiver):
    client.force_login(team_admin)
    form = {"name": "ci-hook", "url": receiver.url, "remove_access_token": "on"}

    client.post(integration_action(integration, "edit"), form)

    integration.refresh_from_db()
    assert not integration.has_access_token
    assert integration.has_signing_secret


def test_unsafe_url_rejected_on_page(client, team_admin, settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = False
    client.force_login(team_admin)
    form = {"name": "internal", "url": "https://10.0.0.7/hook"}

    response = client.post(integrations_url(), form)

    content = response.content.decode()
    assert "The host 10.0.0.7 is a private address" in content
    assert WebhookIntegration.objects.count() == 0


def test_team_admin_tests_integration(client, team_admin, integration, receiver):
    client.force_login(team_admin)

    response = client.post(integration_action(integration, "test"), HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert "The endpoint accepted the test payload." in content
    (request,) = receiver.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_team_admin_deletes_integration(client, team_admin, integration):
    client.force_login(team_admin)

    response = client.post(integration_action(integration, "delete"), follow=True)

    assert "Deleted the integration “ci-hook”." in response.content.decode()
    assert WebhookIntegration.objects.count() == 0


def test_member_cannot_delete_integration(member_client, integration):
    response = member_client.post(integration_action(integration, "delete"))

    assert response.status_code == 403
    assert WebhookIntegration.objects.filter(pk=integration.pk).exists()


def link_versions(count, collection, project, member, capture):
    with capture(execute=True):
        for _ in range(count):
            registry_services.link_version(
                collection=collection, version=log_version(project, member), actor=member
            )


def test_history_paginates(
    member_client,
    make_automation,
    collection,
    project,
    member,
    receiver,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from apps.automations import views

    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 2)
    make_automation()
    link_versions(3, collection, project, member, django_capture_on_commit_callbacks)

    first = member_client.get(history_url()).content.decode()
    older_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = member_client.get(older_link.replace("&amp;", "&")).content.decode()

    assert "fraud-detector:v2" in first
    assert "fraud-detector:v1" in first
    assert "fraud-detector:v0" not in first
    assert "Older" in first
    assert "fraud-detector:v0" in second
    assert "fraud-detector:v2" not in second
    assert "Newer" in second


def test_history_query_count_flat(
    member_client,
    make_automation,
    collection,
    project,
    member,
    receiver,
    django_capture_on_commit_callbacks,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_automation()
    link_versions(1, collection, project, member, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as few:
        member_client.get(history_url())
    link_versions(4, collection, project, member, django_capture_on_commit_callbacks)

    with CaptureQueriesContext(connection) as many:
        response = member_client.get(history_url())

    assert response.content.decode().count("fraud-detector:v") == 5
    assert len(many) == len(few)


def test_write_pause_rejects_create(member_client, integration, model_registry):
    from django.utils import timezone

    from apps.registry.models import Registry

    Registry.objects.filter(pk=model_registry.pk).update(
        write_paused_since=timezone.now(), write_pause_reason="a migration is copying it"
    )

    response = member_client.post(automations_url(), create_form(integration))

    assert response.status_code == 423
    assert "Retry-After" in response
    assert "paused for writes: a migration is copying it" in response.content.decode()
    assert Automation.objects.count() == 0


def test_registry_page_links_tabs(member_client, model_registry):
    response = member_client.get(
        reverse("registry:registry_detail", kwargs={"org": "acme", "registry": "model"})
    )

    content = response.content.decode()
    assert f'href="{automations_url()}"' in content
    assert f'href="{history_url()}"' in content
    assert ">Automations history</a>" in content

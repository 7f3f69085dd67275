"""The automation form's hint links team admins to their teams' Integrations pages."""

from tests.registry.conftest import signed_in

AUTOMATIONS_URL = "/orgs/acme/registries/model/automations/"
FRAUD_INTEGRATIONS = '<a href="/orgs/acme/teams/fraud-team/integrations/">fraud-team</a>'


def test_hint_links_team_admin_to_integrations(team_admin, model_registry):
    body = signed_in(team_admin).get(AUTOMATIONS_URL).content.decode()

    assert "None of your teams has an integration yet." in body
    assert "Add or change integrations on the Integrations page of\n" in body
    assert FRAUD_INTEGRATIONS in body


def test_hint_links_even_with_integrations(team_admin, integration):
    body = signed_in(team_admin).get(AUTOMATIONS_URL).content.decode()

    assert "None of your teams has an integration yet." not in body
    assert FRAUD_INTEGRATIONS in body


def test_hint_names_team_admin_to_members(member, model_registry):
    body = signed_in(member).get(AUTOMATIONS_URL).content.decode()

    assert "A team admin adds them on the team's Integrations page." in body
    assert "/integrations/" not in body

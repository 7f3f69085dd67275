"""The top navigation's links to the legacy Model Registries of the person's teams."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.legacy.conftest import migrate

LIST = "/orgs/acme/teams/fraud-team/model-registry/"
NAV_LINK = (
    f'<a href="{LIST}" title="The legacy Model Registry of the team fraud-team">'
    "fraud-team Model Registry (legacy)</a>"
)
PAGES = [
    "/",
    "/?q=fraud",
    "/orgs/acme/registries/model/",
    "/orgs/acme/registries/model/collections/fraud-detector/",
    "/orgs/acme/registries/model/collections/fraud-detector/versions/v0/",
    "/orgs/acme/create-registry/",
    "/profile/",
    LIST,
]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def navigation(html: str) -> str:
    return html[html.index('<nav class="topbar-nav"') : html.index("</nav>")]


def legacy_registry_queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return sum(
        query["sql"].startswith('SELECT "legacy_legacyregistry"."id"')
        for query in captured.captured_queries
    )


@pytest.mark.parametrize("url", PAGES)
def test_every_page_links_team_registry(legacy_registry, linked, member, url):
    html = signed_in(member).get(url).content.decode()

    assert NAV_LINK in navigation(html)


@pytest.mark.parametrize("url", PAGES[:-1])
def test_other_team_gets_no_link(legacy_registry, linked, stranger, url):
    html = signed_in(stranger).get(url).content.decode()

    assert "Model Registry (legacy)" not in navigation(html)


def test_support_outside_team_gets_no_link(legacy_registry, support):
    html = signed_in(support).get("/support/notices/").content.decode()

    assert "Model Registry (legacy)" not in navigation(html)


def test_signed_out_page_gets_no_link(legacy_registry):
    html = Client().get("/accounts/login/").content.decode()

    assert "Model Registry (legacy)" not in html


def test_hidden_registry_leaves_navigation(legacy_registry, member, org_admin, settings):
    settings.LEGACY_RETENTION_DAYS = 28
    read_only_since = timezone.now() - timedelta(days=29)
    migrate(legacy_registry, actor=org_admin, read_only_since=read_only_since)

    html = signed_in(member).get("/").content.decode()

    assert "Model Registry (legacy)" not in navigation(html)


def test_read_only_registry_stays_in_navigation(legacy_registry, member, org_admin):
    migrate(legacy_registry, actor=org_admin, read_only_since=timezone.now())

    html = signed_in(member).get("/orgs/acme/registries/model/").content.decode()

    assert NAV_LINK in navigation(html)


@pytest.mark.parametrize("url", PAGES[:-1])
def test_navigation_costs_one_query(legacy_registry, linked, member, url):
    assert legacy_registry_queries(signed_in(member), url) == 1


def test_htmx_partial_skips_navigation(legacy_registry, linked, member):
    client = signed_in(member)

    full = legacy_registry_queries(client, "/", data={"q": "fraud"})
    partial = legacy_registry_queries(client, "/", data={"q": "fraud"}, HTTP_HX_REQUEST="true")

    assert full == 1
    assert partial == 0

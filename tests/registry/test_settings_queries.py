"""Query counts of the list pages stay the same with 5 and with 50 rows, and within eight.

The person measured has many grants: a direct role on every other Restricted registry and
a team role on the rest, which is where a permission check per row would show.
"""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.orgs import services as org_services
from apps.registry import services
from apps.registry.roles import Role
from tests.conftest import make_user
from tests.registry.conftest import HTMX, signed_in

MAX_QUERIES = 8


def count_queries(client, url: str, params: dict | None = None, headers=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {}, headers=headers or {})
    assert response.status_code == 200, response.content.decode()[:500]
    return len(queries.captured_queries)


@pytest.fixture
def grantee(org, team):
    """gina: org member in fraud-team, to be granted a role on many registries."""
    user = make_user("gina")
    org_services.add_org_member(organization=org, user=user)
    org_services.add_team_member(team=team, user=user)
    return user


@pytest.fixture
def grant_registries(org, org_admin, grantee, team):
    """Create `count` Restricted registries: gina directly on even ones, her team on odd."""
    numbers = itertools.count()

    def make(count: int) -> None:
        for number in itertools.islice(numbers, count):
            registry = services.create_registry(
                organization=org,
                name=f"granted-{number:03d}",
                accepted_types=["model"],
                actor=org_admin,
            )
            member = grantee if number % 2 == 0 else team
            services.add_member(registry=registry, member=member, role=Role.MEMBER, actor=org_admin)
            collection = services.create_collection(
                registry=registry, name=f"plans-{number:03d}", type="model", actor=org_admin
            )
            services.add_tag(target=collection, name="quarterly", actor=org_admin)

    return make


def test_home_and_search_constant_for_many_grants(grantee, grant_registries):
    client = signed_in(grantee)

    grant_registries(5)
    home_5 = count_queries(client, "/")
    search_5 = count_queries(client, "/", {"q": "plans"})
    fragment_5 = count_queries(client, "/", {"q": "quarterly"}, HTMX)
    grant_registries(45)
    home_50 = count_queries(client, "/")
    search_50 = count_queries(client, "/", {"q": "plans"})
    fragment_50 = count_queries(client, "/", {"q": "quarterly"}, HTMX)

    body = client.get("/").content.decode()
    assert body.count('href="/orgs/acme/registries/granted-') == 50
    assert (home_5, search_5, fragment_5) == (home_50, search_50, fragment_50)
    assert max(home_50, search_50, fragment_50) <= MAX_QUERIES


def test_registry_pages_constant_for_many_grants(grantee, grant_registries):
    client = signed_in(grantee)
    urls = [
        "/orgs/acme/registries/granted-000/",
        "/orgs/acme/registries/granted-000/members/",
        "/orgs/acme/registries/granted-000/collections/plans-000/",
    ]

    grant_registries(5)
    with_5 = [count_queries(client, url) for url in urls]
    grant_registries(45)
    with_50 = [count_queries(client, url) for url in urls]

    assert with_5 == with_50
    assert max(with_50) <= MAX_QUERIES


@pytest.fixture
def crowded_registry(secret_registry, registry_admin, org):
    """Add `count` more users and teams to secret-models, and changes to its activity."""
    numbers = itertools.count()

    def make(count: int) -> None:
        for number in itertools.islice(numbers, count):
            user = make_user(f"user-{number:03d}")
            org_services.add_org_member(organization=org, user=user)
            team = org_services.create_team(organization=org, name=f"team-{number:03d}")
            org_services.add_team_member(team=team, user=user)
            services.add_member(
                registry=secret_registry, member=user, role=Role.VIEWER, actor=registry_admin
            )
            services.add_member(registry=secret_registry, member=team, actor=registry_admin)

    return make


def test_settings_pages_constant_for_many_members(registry_admin, crowded_registry, settings):
    settings.REGISTRY_PAGE_SIZE = 100
    client = signed_in(registry_admin)
    pages = [
        ("/orgs/acme/registries/secret-models/settings/", None, None),
        ("/orgs/acme/registries/secret-models/members/", None, None),
        ("/orgs/acme/registries/secret-models/activity/", None, None),
        ("/orgs/acme/registries/secret-models/activity/", None, HTMX),
        ("/orgs/acme/registries/secret-models/settings/members/candidates/", {"name": "u"}, HTMX),
    ]

    crowded_registry(5)
    with_5 = [count_queries(client, url, params, headers) for url, params, headers in pages]
    crowded_registry(45)
    with_50 = [count_queries(client, url, params, headers) for url, params, headers in pages]

    body = client.get(pages[0][0]).content.decode()
    assert body.count('<tr id="member-') == 101
    assert with_5 == with_50
    assert max(with_50) <= MAX_QUERIES

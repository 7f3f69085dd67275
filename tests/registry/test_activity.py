"""The activity page of a registry: its audit events, filtered and keyset-paginated."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from apps.registry.roles import Role
from tests.registry.conftest import HTMX, signed_in

SECRET = "/orgs/acme/registries/secret-models/"
ACTIVITY = f"{SECRET}activity/"


@pytest.fixture
def admin_client(registry_admin):
    return signed_in(registry_admin)


@pytest.fixture
def busy_registry(secret_registry, registry_admin, member, org_admin):
    """secret-models with changes by ada (creation, members) and by mike (collections)."""
    services.add_member(
        registry=secret_registry, member=member, role=Role.MEMBER, actor=registry_admin
    )
    for number in range(3):
        services.create_collection(
            registry=secret_registry, name=f"plan-{number}", type="model", actor=member
        )
    services.add_protected_alias(registry=secret_registry, name="production", actor=org_admin)
    return secret_registry


def rows(body: str) -> list[tuple[str, str]]:
    """Return (who, what) of each row of the events table, top to bottom."""
    table = body.split('<section id="activity-list"')[1].split("</section>")[0]
    return [
        (who.strip(), re.sub(r"\s+", " ", what).strip())
        for who, what in re.findall(
            r"<tr>\s*<td><time[^>]*>[^<]*</time></td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>",
            table,
        )
    ]


def link(body: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" hx-get="[^"]+"[^>]*rel="{rel}"', body)
    return match.group(1).replace("&amp;", "&") if match else None


def test_activity_lists_events_newest_first(admin_client, busy_registry):
    response = admin_client.get(ACTIVITY)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Activity of secret-models</h1>" in body
    assert rows(body) == [
        ("olivia", "protected the alias production"),
        ("mike", "created the collection"),
        ("mike", "created the collection"),
        ("mike", "created the collection"),
        ("ada", "added mike with the Member role"),
        ("ada", "created the registry with restricted visibility"),
    ]


def test_activity_filters_by_person(admin_client, busy_registry):
    body = admin_client.get(ACTIVITY, {"person": "mike"}).content.decode()

    assert [who for who, _ in rows(body)] == ["mike", "mike", "mike"]
    assert '<option value="mike" selected>mike</option>' in body


def test_activity_filters_by_action(admin_client, busy_registry):
    body = admin_client.get(ACTIVITY, {"action": "member.added"}).content.decode()

    assert rows(body) == [("ada", "added mike with the Member role")]


def test_filter_choices_come_from_this_registry(admin_client, busy_registry, org, member):
    other = services.create_registry(
        organization=org, name="other", accepted_types=["model"], actor=member
    )
    services.create_collection(registry=other, name="elsewhere", type="model", actor=member)
    services.add_protected_alias(registry=other, name="gold", actor=member)

    body = admin_client.get(ACTIVITY).content.decode()

    people = re.findall(r'<option value="([^"]+)">', body.split('id="activity-person"')[1])
    assert '<option value="protected_alias.added">' in body
    assert "elsewhere" not in body
    assert "gold" not in body
    assert people[:3] == ["ada", "mike", "olivia"]


def test_activity_without_match_says_so(admin_client, busy_registry):
    body = admin_client.get(ACTIVITY, {"person": "nobody"}).content.decode()

    assert "No event matches these filters." in body


def test_activity_pages_with_keys(admin_client, busy_registry, settings):
    settings.REGISTRY_PAGE_SIZE = 4
    first = admin_client.get(ACTIVITY).content.decode()
    next_url = link(first, "next")

    with CaptureQueriesContext(connection) as queries:
        second = admin_client.get(next_url).content.decode()
    back = admin_client.get(link(second, "prev")).content.decode()

    statements = " ".join(query["sql"].upper() for query in queries.captured_queries)
    assert len(rows(first)) == 4
    assert rows(second) == [
        ("ada", "added mike with the Member role"),
        ("ada", "created the registry with restricted visibility"),
    ]
    assert link(second, "next") is None
    assert rows(back) == rows(first)
    assert "OFFSET" not in statements


def test_activity_pager_keeps_filters(admin_client, busy_registry, settings):
    settings.REGISTRY_PAGE_SIZE = 2

    body = admin_client.get(ACTIVITY, {"person": "mike"}).content.decode()

    assert "person=mike" in link(body, "next")


def test_activity_htmx_returns_list_only(admin_client, busy_registry):
    response = admin_client.get(ACTIVITY, {"action": "collection.created"}, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="activity-list"')
    assert "<html" not in body
    assert len(rows(body)) == 3
    assert "HX-Request" in response["Vary"]


def test_activity_for_admins_only(busy_registry, member):
    response = signed_in(member).get(ACTIVITY)

    assert response.status_code == 403
    assert (
        "Reading the activity in the registry &#x27;secret-models&#x27; needs the Admin role"
        in response.content.decode()
    )


def test_activity_of_hidden_registry_is_404(viewer, busy_registry):
    client = signed_in(viewer)

    hidden = client.get(ACTIVITY)
    missing = client.get("/orgs/acme/registries/no-such/activity/")

    assert hidden.status_code == 404
    assert hidden.content == missing.content

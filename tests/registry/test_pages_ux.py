"""What people see around the registry pages: search limits, tabs, focus marks, error pages."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from tests.registry.conftest import HTMX, REGISTRY_URL, signed_in, version_url

LONG_ALIAS = "a" * 64


# Search -------------------------------------------------------------------------------------


def test_long_search_names_the_limit(member_client):
    response = member_client.get("/", {"q": "x" * 200})

    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "The search text has 200 characters, more than the limit of 128; "
        "shorten it and search again."
    ) in body
    assert 'role="alert"' in body


def test_long_search_htmx_shows_the_error(member_client):
    response = member_client.get("/", {"q": "x" * 129}, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="search-results"')
    assert "more than the limit of 128" in body


def test_search_at_the_limit_searches(member_client):
    body = member_client.get("/", {"q": "x" * 128}).content.decode()

    assert "more than the limit" not in body
    assert "Nothing you can see matches" in body


# Tabs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "current"),
    [
        (REGISTRY_URL, "Collections"),
        (f"{REGISTRY_URL}automations/", "Automations"),
        (f"{REGISTRY_URL}automations/history/", "Automations history"),
    ],
)
def test_registry_tabs_mark_current(member_client, model_registry, url, current):
    body = member_client.get(url).content.decode()

    tabs = body[body.index('<nav class="tabs"') : body.index("</nav>", body.index('class="tabs"'))]
    assert tabs.count('aria-current="page"') == 1
    assert f'aria-current="page">{current}</a>' in tabs


# Focus after swaps --------------------------------------------------------------------------


def test_alias_remove_marks_add_field_for_focus(member_client, linked):
    response = member_client.post(
        f"{version_url(1)}aliases/remove/", {"name": "champion"}, headers=HTMX
    )

    body = response.content.decode()
    assert 'id="version-alias-name" maxlength="128" required data-focus-after-swap' in body


def test_tag_add_marks_add_field_for_focus(member_client, linked):
    response = member_client.post(f"{version_url(1)}tags/", {"name": "nightly"}, headers=HTMX)

    body = response.content.decode()
    assert 'id="version-tag-name" maxlength="128" required data-focus-after-swap' in body


def test_star_marks_its_button_for_focus(member_client, model_registry):
    response = member_client.post(f"{REGISTRY_URL}star/", {"starred": "true"}, headers=HTMX)

    body = response.content.decode()
    assert 'class="button-quiet star-button is-starred" data-focus-after-swap' in body


def test_visibility_confirm_marks_first_button(client, registry_admin, secret_registry, member):
    response = signed_in(registry_admin).post(
        "/orgs/acme/registries/secret-models/settings/visibility/",
        {"visibility": "organization"},
        headers=HTMX,
    )

    body = response.content.decode()
    box = body[body.index('<div class="confirm-box"') :]
    first_button = box[box.index("<button") : box.index(">", box.index("<button"))]
    assert "data-focus-after-swap" in first_button


# Long aliases -------------------------------------------------------------------------------


def test_long_alias_shown_in_full(member_client, member, linked):
    services.set_alias(link=linked[1], name=LONG_ALIAS, actor=member)

    body = member_client.get(version_url(1)).content.decode()

    assert f'<li class="alias">\n          {LONG_ALIAS}' in body
    assert f"fraud-detector:{LONG_ALIAS}</code>" in body


# Top bar ------------------------------------------------------------------------------------


def test_support_link_costs_staff_one_query(member, linked):
    plain = signed_in(member)
    with CaptureQueriesContext(connection) as without_link:
        plain.get("/")

    member.is_staff = True
    member.save(update_fields=["is_staff"])
    member.user_permissions.add(Permission.objects.get(codename="support_console"))
    staff = signed_in(member)
    with CaptureQueriesContext(connection) as with_link:
        body = staff.get("/").content.decode()

    assert "Support: migrations" in body
    assert len(with_link) == len(without_link) + 1


def test_home_links_username_to_profile(member_client, member):
    body = member_client.get("/").content.decode()

    profile_link = '<a href="/profile/" title="Your settings and API keys">'
    assert f"{profile_link}<strong>{member.username}</strong></a>" in body


# Error pages --------------------------------------------------------------------------------


def test_not_found_page_has_full_header(member_client):
    response = member_client.get("/orgs/acme/registries/no-such-registry/")

    body = response.content.decode()
    assert response.status_code == 404
    assert '<span class="topbar-org" title="Organization">' in body
    assert 'data-csrf-from-cookie="csrftoken" hidden>' in body
    assert ">Sign out</button>" in body
    assert "csrfmiddlewaretoken" not in body


def test_not_found_page_stays_byte_identical(member_client, secret_registry):
    hidden = member_client.get("/orgs/acme/registries/secret-models/")
    missing = member_client.get("/orgs/acme/registries/secret-modelz/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_forbidden_page_has_org_badge(viewer_client, linked):
    response = viewer_client.post(f"{version_url(1)}tags/", {"name": "nightly"})

    body = response.content.decode()
    assert response.status_code == 403
    assert '<span class="topbar-org" title="Organization">' in body
    assert ">Sign out</button>" in body


def test_not_found_page_for_anonymous_has_no_sign_out(client, db):
    body = client.get("/accounts/no-such-page/").content.decode()

    assert ">Sign out</button>" not in body
    assert "topbar-org" not in body

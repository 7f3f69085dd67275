"""The API keys page: list, create (the key shown once) and revoke after a confirmation."""

import re

import pytest
from django.contrib.auth.models import Permission

from apps.orgs import services
from apps.orgs.models import ApiKey
from tests.registry.conftest import signed_in

KEYS_URL = "/profile/api-keys/"


def revoke_url(key: ApiKey) -> str:
    return f"{KEYS_URL}{key.pk}/revoke/"


def shown_key(body: str) -> str:
    match = re.search(r'<code id="new-api-key" class="secret">([^<]+)</code>', body)
    assert match is not None, "the new key is not on the page"
    return match.group(1)


def test_keys_page_lists_name_prefix_and_use(member_client, member):
    key, secret = services.create_api_key(user=member, name="CI runner")

    response = member_client.get(KEYS_URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>API keys</h1>" in body
    assert ">CI runner</th>" in body
    # The listed start, "reg-" and the first eight characters of the key, tells keys apart.
    assert f"<code>{secret[:12]}…</code>" in body
    assert "never" in body
    assert f'href="{revoke_url(key)}"' in body


def test_keys_page_lists_only_own_keys(member_client, viewer):
    services.create_api_key(user=viewer, name="viewer laptop")

    body = member_client.get(KEYS_URL).content.decode()

    assert "viewer laptop" not in body
    assert "You have no API keys yet." in body


def test_keys_page_needs_sign_in(client):
    response = client.get(KEYS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_create_key_shows_it_once(member_client, member):
    response = member_client.post(KEYS_URL, {"name": "laptop"})

    body = response.content.decode()
    full_key = shown_key(body)
    key = ApiKey.objects.get(user=member)
    assert response.status_code == 200
    assert "Your new key “laptop”" in body
    assert "This is the only time it is shown" in body
    assert 'data-copy="new-api-key"' in body
    assert "no-store" in response["Cache-Control"]
    assert services.authenticate_api_key(full_key) == key
    assert full_key not in member_client.get(KEYS_URL).content.decode()


def test_created_key_works_on_the_api(member_client):
    full_key = shown_key(member_client.post(KEYS_URL, {"name": "script"}).content.decode())

    response = member_client.get("/api/v1/me/", headers={"Authorization": f"Bearer {full_key}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("   ", "This field is required."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("ab\u202ecd", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("ci\u200b", "U+200B (ZERO WIDTH SPACE)"),
    ],
)
def test_create_key_rejects_bad_name(member_client, member, name, message):
    response = member_client.post(KEYS_URL, {"name": name})

    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'aria-invalid="true"' in body
    assert 'id="new-api-key"' not in body
    assert not ApiKey.objects.filter(user=member).exists()


def test_revoke_asks_for_confirmation(member_client, member):
    key, _ = services.create_api_key(user=member, name="old laptop")

    response = member_client.get(revoke_url(key))

    body = response.content.decode()
    key.refresh_from_db()
    assert response.status_code == 200
    assert "Revoke the key “old laptop”?" in body
    assert ">Revoke key</button>" in body
    assert key.is_active


def test_revoke_confirmed_stops_the_key(member_client, member):
    key, full_key = services.create_api_key(user=member, name="old laptop")

    response = member_client.post(revoke_url(key), follow=True)

    body = response.content.decode()
    key.refresh_from_db()
    assert response.redirect_chain == [(KEYS_URL, 302)]
    assert f"The API key “old laptop” ({full_key[:12]}…) is revoked and no longer works." in body
    assert not key.is_active
    assert services.authenticate_api_key(full_key) is None
    assert f'href="{revoke_url(key)}"' not in body


def test_revoke_of_another_persons_key_is_not_found(member_client, viewer):
    key, _ = services.create_api_key(user=viewer, name="viewer laptop")

    shown = member_client.get(revoke_url(key))
    posted = member_client.post(revoke_url(key))

    key.refresh_from_db()
    assert shown.status_code == 404
    assert posted.status_code == 404
    assert key.is_active


def test_top_bar_links_profile_and_keys(member):
    body = signed_in(member).get(KEYS_URL).content.decode()

    profile_link = '<a href="/profile/" title="Your settings and API keys">'
    assert f"{profile_link}<strong>{member.username}</strong></a>" in body
    assert '<a href="/profile/api-keys/" aria-current="page">API keys</a>' in body


def test_support_link_for_staff_with_permission(member):
    member.is_staff = True
    member.save(update_fields=["is_staff"])
    member.user_permissions.add(Permission.objects.get(codename="support_console"))

    body = signed_in(member).get(KEYS_URL).content.decode()

    assert '<a href="/support/migrations/">Support: migrations</a>' in body
    assert '<a href="/support/notices/">Support: notices</a>' in body


@pytest.mark.parametrize("is_staff", [True, False])
def test_no_support_link_without_permission(member, is_staff):
    member.is_staff = is_staff
    member.save(update_fields=["is_staff"])

    body = signed_in(member).get(KEYS_URL).content.decode()

    assert "Support: migrations" not in body
    assert "Support: notices" not in body

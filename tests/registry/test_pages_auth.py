"""Sign in, sign out, the lockout after repeated failures, and pages behind sign-in."""

import re

import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tests.registry.conftest import COLLECTION_URL


def test_login_page_labels_every_input(client, db):
    response = client.get("/accounts/login/")

    body = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in body
    assert '<label for="id_password">Password</label>' in body
    assert 'id="id_username"' in body
    assert 'id="id_password"' in body


def test_sign_in_lands_on_registry_home(client, member):
    response = client.post(
        "/accounts/login/", {"username": "mike", "password": PASSWORD}, follow=True
    )

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == "/"
    profile_link = '<a href="/profile/" title="Your settings and API keys">'
    assert f"Signed in as {profile_link}<strong>mike</strong></a>" in body
    assert "model" in body


def test_wrong_password_shows_form_error(client, member):
    response = client.post("/accounts/login/", {"username": "mike", "password": "wrong"})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert "Please enter a correct username and password" in body


def test_sign_out_is_a_post_form(member_client):
    page = member_client.get("/").content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/"', page)

    response = member_client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "Signed in as" not in response.content.decode()
    assert member_client.get("/").status_code == 302


def test_anonymous_page_redirects_to_login(client, linked):
    response = client.get(COLLECTION_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.skipif(not settings.AXES_ENABLED, reason="sign-in throttling is switched off")
def test_repeated_failures_show_locked_out_page(client, member):
    limit = settings.AXES_FAILURE_LIMIT
    responses = [
        client.post("/accounts/login/", {"username": "mike", "password": "wrong"})
        for _ in range(limit)
    ]

    locked = responses[-1]
    body = locked.content.decode()
    assert locked.status_code == 429
    assert "Sign-in locked" in body
    assert f"after {limit} failed attempts" in body
    assert "<strong>mike</strong>" in body
    assert "minutes" in body
    assert "ask an administrator" in body


@pytest.mark.skipif(not settings.AXES_ENABLED, reason="sign-in throttling is switched off")
def test_locked_account_rejects_right_password(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "mike", "password": "wrong"})

    response = client.post("/accounts/login/", {"username": "mike", "password": PASSWORD})

    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()

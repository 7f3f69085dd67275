"""A locked sign-in returns 429 with Retry-After, the cool-off in seconds."""

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.AXES_ENABLED, reason="sign-in throttling is switched off"),
]


def _lock(client) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "mike", "password": "wrong"})


def test_locked_page_has_retry_after(client, member):
    _lock(client)

    response = client.post("/accounts/login/", {"username": "mike", "password": PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == str(round(settings.AXES_COOLOFF_TIME * 3600))
    assert "Sign-in locked" in response.content.decode()


def test_retry_after_follows_cooloff_setting(client, member, settings):
    settings.AXES_COOLOFF_TIME = 0.5  # hours

    _lock(client)
    response = client.post("/accounts/login/", {"username": "mike", "password": "wrong"})

    assert response.status_code == 429
    assert response["Retry-After"] == "1800"


def test_locked_xhr_gets_json_with_retry_after(client, member):
    _lock(client)

    response = client.post(
        "/accounts/login/",
        {"username": "mike", "password": "wrong"},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )

    assert response.status_code == 429
    assert response.json()["cooloff_seconds"] == int(response["Retry-After"])
    assert response.json()["username"] == "mike"

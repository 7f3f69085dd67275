"""API keys: shape, shown once, stored hashed, last use, revocation, the command; throttling."""

import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.orgs.models import ApiKey
from apps.orgs.services import authenticate_api_key, create_api_key

pytestmark = pytest.mark.django_db

# The W&B SDK accepts `[prefix-]secret` with a secret of 40 or more of these characters.
SDK_KEY_SHAPE = re.compile(r"^(?:[A-Za-z0-9_-]+-)?[A-Za-z0-9_]{40,}$")


def _bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_key_created_shown_once_and_stored_hashed(world, client):
    response = client.post(
        "/api/v1/me/api-keys/",
        data=json.dumps({"name": "CI", "user": "ada", "prefix": "evil", "revoked_at": None}),
        content_type="application/json",
        headers=world.headers("member"),
    )

    assert response.status_code == 201
    created = response.json()
    key = created["key"]
    assert SDK_KEY_SHAPE.match(key)
    prefix, secret = key.split("-")
    assert prefix == "reg"
    assert created["prefix"] == f"reg-{secret[:8]}"
    assert len(secret) == 48
    row = ApiKey.objects.get(pk=created["id"])
    assert row.user == world.users["member"]
    assert row.hashed_secret == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(ApiKey.objects.values()), default=str)

    listed = client.get("/api/v1/me/api-keys/", headers=world.headers("member")).json()
    assert [item["name"] for item in listed["results"]] == ["CI", "tests"]
    assert all("key" not in item for item in listed["results"])
    assert key not in json.dumps(listed)


def test_new_key_authenticates(world, client):
    key = client.post(
        "/api/v1/me/api-keys/",
        data=json.dumps({"name": "laptop"}),
        content_type="application/json",
        headers=world.headers("viewer"),
    ).json()["key"]

    response = client.get("/api/v1/me/", headers=_bearer(key))

    assert response.status_code == 200
    assert response.json()["username"] == "vic"


def test_last_used_written_at_most_once_a_minute(world):
    key, raw = create_api_key(user=world.users["viewer"], name="timer")
    assert key.last_used_at is None

    first = authenticate_api_key(raw).last_used_at
    second = authenticate_api_key(raw).last_used_at
    assert first is not None
    assert second == first

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    third = authenticate_api_key(raw).last_used_at
    assert third > first


def test_last_used_check_costs_no_write_when_fresh(world, django_assert_num_queries):
    _key, raw = create_api_key(user=world.users["viewer"], name="quiet")
    authenticate_api_key(raw)
    with django_assert_num_queries(1):
        authenticate_api_key(raw)


def test_revoked_key_is_rejected(world, client):
    headers = world.headers("member")
    created = client.post(
        "/api/v1/me/api-keys/",
        data=json.dumps({"name": "old"}),
        content_type="application/json",
        headers=headers,
    ).json()

    revoked = client.delete(f"/api/v1/me/api-keys/{created['id']}/", headers=headers)
    after = client.get("/api/v1/me/", headers=_bearer(created["key"]))

    assert revoked.status_code == 204
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is not None
    assert after.status_code == 401
    assert after.json() == {
        "error": {
            "code": "authentication_failed",
            "message": (
                "The API key is invalid or revoked; create a new one under /api/v1/me/api-keys/."
            ),
            "field": None,
        }
    }
    assert after["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer reg-" + "x" * 48,
        "Bearer " + "y" * 40,
        "Bearer short",
        "Bearer two words",
    ],
    ids=["unknown", "unknown-no-prefix", "malformed", "two-parts"],
)
def test_unknown_keys_get_one_error_shape(world, client, header):
    response = client.get("/api/v1/me/", headers={"Authorization": header})

    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "field"}
    assert response.json()["error"]["code"] == "authentication_failed"


def test_key_with_wrong_prefix_rejected(world, client):
    _prefix, secret = world.keys["member"].split("-")
    response = client.get("/api/v1/me/", headers=_bearer(f"xyz-{secret}"))
    assert response.status_code == 401


def test_missing_credentials_get_401(world, client):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_other_users_key_cannot_be_revoked(world, client):
    target = world.key_ids["admin"]
    response = client.delete(f"/api/v1/me/api-keys/{target}/", headers=world.headers("member"))

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=target).revoked_at is None


def test_create_api_key_command_prints_key_last(world, client):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_key", "max", "--name", "deploy", stdout=out, stderr=err)

    key = out.getvalue().strip().splitlines()[-1]
    assert SDK_KEY_SHAPE.match(key)
    assert key not in err.getvalue()
    assert ApiKey.objects.filter(user=world.users["member"], name="deploy").exists()
    assert client.get("/api/v1/me/", headers=_bearer(key)).json()["username"] == "max"


def test_create_api_key_command_unknown_user(world):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No user is named 'nobody'"):
        call_command("create_api_key", "nobody")


def test_key_never_logged(world, client, caplog):
    caplog.set_level("DEBUG")
    response = client.post(
        "/api/v1/me/api-keys/",
        data=json.dumps({"name": "audit"}),
        content_type="application/json",
        headers=world.headers("member"),
    )
    key = response.json()["key"]
    client.get("/api/v1/me/", headers=_bearer(key))
    client.get("/api/v1/me/", headers=_bearer(key + "x"))

    assert key.split("-")[1] not in caplog.text


# Throttling ---------------------------------------------------------------------------------


def test_key_throttled_with_retry_after(world, client, settings):
    settings.API_THROTTLE_RATES = {"key": "3/min", "anonymous": "100/min"}
    headers = world.headers("member")

    statuses = [client.get("/api/v1/me/", headers=headers).status_code for _ in range(4)]
    other_key = client.get("/api/v1/me/", headers=world.headers("viewer"))

    assert statuses == [200, 200, 200, 429]
    throttled = client.get("/api/v1/me/", headers=headers)
    assert throttled.json()["error"]["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert (
        f"try again in {throttled['Retry-After']} seconds" in throttled.json()["error"]["message"]
    )
    assert other_key.status_code == 200


def test_anonymous_throttled_per_address(world, client, settings):
    settings.API_THROTTLE_RATES = {"key": "100/min", "anonymous": "2/min"}

    first = [client.get("/api/v1/me/", REMOTE_ADDR="127.0.0.5").status_code for _ in range(3)]
    other_address = client.get("/api/v1/me/", REMOTE_ADDR="127.0.0.6")

    assert first == [401, 401, 429]
    assert other_address.status_code == 401
    throttled = client.get("/api/v1/me/", REMOTE_ADDR="127.0.0.5")
    assert int(throttled["Retry-After"]) >= 1


def test_service_account_acts_with_its_key(world, client):
    from apps.orgs import services as org_services
    from apps.orgs.models import Team

    team = Team.objects.get(name="ml-team")
    account = org_services.create_service_account(team=team, name="ci-bot")
    out = io.StringIO()
    call_command("create_api_key", "ci-bot", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip().splitlines()[-1]

    me = client.get("/api/v1/me/", headers=_bearer(key))
    projects = client.get("/api/v1/orgs/acme/teams/ml-team/projects/", headers=_bearer(key))

    assert me.json()["username"] == account.user.username
    assert me.json()["is_service_account"] is True
    assert [item["name"] for item in projects.json()["results"]] == ["fraud"]


def _create_key(client, world, name: str, persona: str = "member"):
    return client.post(
        "/api/v1/me/api-keys/",
        data=json.dumps({"name": name}),
        content_type="application/json",
        headers=world.headers(persona),
    )


def test_key_list_tells_keys_apart(world, client):
    first = _create_key(client, world, "laptop").json()
    second = _create_key(client, world, "desktop").json()

    listed = client.get("/api/v1/me/api-keys/", headers=world.headers("member")).json()
    prefixes = {item["name"]: item["prefix"] for item in listed["results"]}
    assert prefixes["laptop"] == first["key"][:12]
    assert prefixes["desktop"] == second["key"][:12]
    assert prefixes["laptop"] != prefixes["desktop"]


def test_key_created_before_start_was_stored_still_works(world, client):
    created = _create_key(client, world, "old").json()
    ApiKey.objects.filter(pk=created["id"]).update(secret_start="")

    response = client.get("/api/v1/me/", headers=_bearer(created["key"]))
    listed = client.get("/api/v1/me/api-keys/", headers=world.headers("member")).json()

    assert response.status_code == 200
    assert {item["name"]: item["prefix"] for item in listed["results"]}["old"] == "reg"


@pytest.mark.parametrize("second_name", ["laptop", "Laptop", "  laptop "])
def test_duplicate_key_name_rejected(world, client, second_name):
    assert _create_key(client, world, "laptop").status_code == 201

    response = _create_key(client, world, second_name)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "name"
    assert "already has an active API key named 'laptop'" in error["message"]
    assert "choose another name, or revoke that key first" in error["message"]
    assert ApiKey.objects.filter(user=world.users["member"], name__iexact="laptop").count() == 1


def test_key_name_reusable_after_revoke(world, client):
    first = _create_key(client, world, "laptop").json()
    client.delete(f"/api/v1/me/api-keys/{first['id']}/", headers=world.headers("member"))

    response = _create_key(client, world, "laptop")

    assert response.status_code == 201


def test_same_key_name_for_two_people(world, client):
    assert _create_key(client, world, "laptop", persona="member").status_code == 201

    assert _create_key(client, world, "laptop", persona="viewer").status_code == 201

"""A request body over DATA_UPLOAD_MAX_MEMORY_SIZE gets 413 with the limit, never a 500."""

import base64
import io
import json

import pytest
from django.test import Client, RequestFactory

from apps.api.parsers import ManifestJSONParser, RequestTooLarge
from apps.registry.models import ArtifactVersion

pytestmark = pytest.mark.django_db

VERSIONS_URL = "/api/v1/orgs/acme/teams/ml-team/projects/fraud/artifacts/big/versions/"


def _manifest(count: int) -> str:
    files = [{"path": f"shard/{i:06d}.bin", "size": 1, "sha256": "a" * 64} for i in range(count)]
    return json.dumps({"type": "model", "files": files})


def _post_manifest(client, world, body: str):
    return client.post(
        VERSIONS_URL,
        data=body,
        content_type="application/json",
        headers=world.headers("team_member"),
    )


def test_manifest_over_its_limit_is_413(world, client, settings):
    settings.API_MANIFEST_MAX_BYTES = 100_000
    body = _manifest(1_000)

    response = _post_manifest(client, world, body)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert f"The request body has {len(body)} bytes" in error["message"]
    assert "the limit for a version's manifest is 100000 bytes (0.1 MiB)" in error["message"]
    assert "API_MANIFEST_MAX_BYTES" in error["message"]
    assert not ArtifactVersion.objects.filter(artifact__name="big").exists()


def test_manifest_over_form_limit_is_created(world, client, settings):
    # 25,000 files take about 3 MB, over the 2.5 MiB of REQUEST_BODY_MAX_BYTES.
    body = _manifest(25_000)
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = _post_manifest(client, world, body)

    assert response.status_code == 201, response.content[:500]
    assert len(response.json()["files"]) == 25_000
    version = ArtifactVersion.objects.get(artifact__name="big")
    assert version.files.count() == 25_000


def test_manifest_without_content_length_is_limited(settings):
    settings.API_MANIFEST_MAX_BYTES = 10_000
    body = _manifest(1_000).encode()
    request = RequestFactory().post(VERSIONS_URL, data=body, content_type="application/json")
    # A chunked request has no Content-Length, so only reading the stream finds the size.
    request.META["CONTENT_LENGTH"] = ""

    with pytest.raises(RequestTooLarge) as raised:
        ManifestJSONParser().parse(io.BytesIO(body), "application/json", {"request": request})

    assert "more than 10000 bytes" in str(raised.value.detail)


def test_manifest_broken_json_is_400(world, client):
    response = _post_manifest(client, world, '{"type": "model", "files": [')

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("JSON parse error")


def test_manifest_nan_is_400(world, client):
    response = _post_manifest(client, world, '{"type": "model", "metadata": {"auc": NaN}}')

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]["message"]


def test_other_api_body_over_limit_is_413(world, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "big", "type": "model", "description": "x" * 20_000})

    response = client.post(
        "/api/v1/orgs/acme/registries/shared-models/collections/",
        data=body,
        content_type="application/json",
        headers=world.headers("member"),
    )

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert f"The request body has {len(body)} bytes" in error["message"]
    assert "the limit is 10000 bytes" in error["message"]
    assert "REQUEST_BODY_MAX_BYTES" in error["message"]


def test_default_limits(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert settings.API_MANIFEST_MAX_BYTES == 16 * 1024 * 1024


def test_graphql_body_over_limit_is_413(world, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    token = base64.b64encode(f"api:{world.keys['team_member']}".encode()).decode()
    body = json.dumps({"query": "{ viewer { username } }", "variables": {"x": "y" * 20_000}})

    response = client.post(
        "/graphql",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Basic {token}"},
    )

    assert response.status_code == 413
    message = response.json()["errors"][0]["message"]
    assert "the limit is 10000 bytes" in message


def test_form_post_over_limit_is_413_page(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    # CSRF checks on, as in production: the CSRF middleware reads the form first.
    browser = Client(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value

    response = browser.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": "x" * 20_000, "password": "p"},
    )

    assert response.status_code == 413
    assert "text/html" in response["Content-Type"]
    page = response.content.decode()
    assert "Request too large" in page
    assert "the limit is 10000 bytes" in page


def test_form_post_under_limit_still_checks_csrf(world, settings):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/accounts/login/", {"username": "tina", "password": "p"})

    assert response.status_code == 403

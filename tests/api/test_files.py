"""Upload, download and signed-URL round trips, with digest checks."""

import base64
import hashlib
import json

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from apps.registry import files
from apps.registry.models import ManifestEntry
from tests.api.conftest import FILE_CONTENT, FILE_SHA256

pytestmark = pytest.mark.django_db

NEW_CONTENT = b"a fresh model checkpoint\n" * 40
NEW_SHA256 = hashlib.sha256(NEW_CONTENT).hexdigest()


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path):
    """A storage folder per test: stored files are not rolled back with the database."""
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    storage = storages["artifacts"]
    storage.save(files.blob_name(FILE_SHA256), ContentFile(FILE_CONTENT))


def _log_version(client, world, content_files, persona="team_member"):
    response = client.post(
        "/api/v1/orgs/acme/teams/ml-team/projects/fraud/artifacts/churn-model/versions/",
        data=json.dumps({"type": "model", "metadata": {"auc": 0.8}, "files": content_files}),
        content_type="application/json",
        headers=world.headers(persona),
    )
    assert response.status_code == 201, response.content
    return response.json()


def _content_url(version_id: int, file_id: int) -> str:
    return f"/api/v1/artifact-versions/{version_id}/files/{file_id}/content/"


def _upload(client, world, url, content: bytes, persona="team_member"):
    return client.put(
        url, data=content, content_type="application/octet-stream", headers=world.headers(persona)
    )


def _stored(sha256: str) -> bool:
    return storages["artifacts"].exists(files.blob_name(sha256))


def test_upload_download_round_trip(world, client):
    version = _log_version(
        client, world, [{"path": "ckpt/model.bin", "size": len(NEW_CONTENT), "sha256": NEW_SHA256}]
    )
    entry = version["files"][0]
    assert entry["uploaded"] is False
    assert entry["md5"] == ""

    uploaded = _upload(client, world, _content_url(version["id"], entry["id"]), NEW_CONTENT)

    assert uploaded.status_code == 200, uploaded.content
    expected_md5 = base64.b64encode(hashlib.md5(NEW_CONTENT).digest()).decode()  # noqa: S324
    assert uploaded.json()["md5"] == expected_md5
    assert uploaded.json()["uploaded"] is True
    assert _stored(NEW_SHA256)

    download = client.get(
        _content_url(version["id"], entry["id"]), headers=world.headers("team_member")
    )
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == NEW_SHA256
    assert download["X-Checksum-Sha256"] == NEW_SHA256
    assert download["Content-MD5"] == expected_md5
    assert 'filename="model.bin"' in download["Content-Disposition"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (NEW_CONTENT[:-1], "size_mismatch"),
        (NEW_CONTENT + b"!", "size_mismatch"),
        (NEW_CONTENT[:-1] + b"?", "digest_mismatch"),
    ],
    ids=["short", "long", "other-bytes"],
)
def test_upload_mismatch_stores_nothing(world, client, content, code):
    version = _log_version(
        client, world, [{"path": "model.bin", "size": len(NEW_CONTENT), "sha256": NEW_SHA256}]
    )
    entry = version["files"][0]

    response = _upload(client, world, _content_url(version["id"], entry["id"]), content)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert "manifest" in response.json()["error"]["message"]
    assert not _stored(NEW_SHA256)
    assert ManifestEntry.objects.get(pk=entry["id"]).md5 == ""
    download = client.get(
        _content_url(version["id"], entry["id"]), headers=world.headers("team_member")
    )
    assert download.status_code == 404


def test_upload_over_size_limit(world, client, settings):
    version = _log_version(
        client, world, [{"path": "model.bin", "size": len(NEW_CONTENT), "sha256": NEW_SHA256}]
    )
    settings.ARTIFACT_FILE_MAX_BYTES = 100
    entry = version["files"][0]

    response = _upload(client, world, _content_url(version["id"], entry["id"]), NEW_CONTENT)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert "limit is 100 bytes" in response.json()["error"]["message"]
    assert not _stored(NEW_SHA256)


def test_manifest_over_size_limit_rejected(world, client, settings):
    settings.ARTIFACT_FILE_MAX_BYTES = 100
    response = client.post(
        "/api/v1/orgs/acme/teams/ml-team/projects/fraud/artifacts/big/versions/",
        data=json.dumps(
            {"type": "model", "files": [{"path": "a.bin", "size": 101, "sha256": NEW_SHA256}]}
        ),
        content_type="application/json",
        headers=world.headers("team_member"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "files[0].size"


def test_upload_needs_team_writer(world, client):
    from apps.orgs import services as org_services
    from apps.orgs.models import Team, TeamRole

    version = _log_version(
        client, world, [{"path": "model.bin", "size": len(NEW_CONTENT), "sha256": NEW_SHA256}]
    )
    entry = version["files"][0]
    team = Team.objects.get(name="ml-team")
    org_services.add_team_member(team=team, user=world.users["org_viewer"], role=TeamRole.VIEWER)
    url = _content_url(version["id"], entry["id"])

    as_team_viewer = _upload(client, world, url, NEW_CONTENT, persona="org_viewer")
    as_stranger = _upload(client, world, url, NEW_CONTENT, persona="admin")

    assert as_team_viewer.status_code == 403
    assert "admin or member role in the team 'ml-team'" in as_team_viewer.json()["error"]["message"]
    assert as_stranger.status_code == 404
    assert not _stored(NEW_SHA256)


def _linked_file(world, visibility="restricted"):
    source = world.versions[visibility][0]
    return source, source.files.get()


def test_restricted_viewer_sees_manifest_but_cannot_download(world, client):
    source, entry = _linked_file(world)
    headers = world.headers("restricted_viewer")

    detail = client.get(f"/api/v1/artifact-versions/{source.pk}/", headers=headers)
    download = client.get(_content_url(source.pk, entry.pk), headers=headers)
    signed = client.get(
        f"/api/v1/artifact-versions/{source.pk}/files/{entry.pk}/signed-url/", headers=headers
    )

    assert detail.status_code == 200
    assert detail.json()["files"][0]["sha256"] == FILE_SHA256
    assert download.status_code == 403
    assert "needs the Viewer role" in download.json()["error"]["message"]
    assert signed.status_code == 403


def _signed_url(client, world, persona="viewer"):
    source, entry = _linked_file(world)
    response = client.get(
        f"/api/v1/artifact-versions/{source.pk}/files/{entry.pk}/signed-url/",
        headers=world.headers(persona),
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_signed_url_downloads_without_credentials(world, client):
    signed = _signed_url(client, world)
    assert signed["url"].startswith("http://testserver/api/v1/files/signed/")
    assert "Bearer" not in signed["url"]

    response = client.get(signed["url"])

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == FILE_CONTENT
    assert hashlib.sha256(body).hexdigest() == FILE_SHA256


def test_signed_url_expired(world, client, settings):
    signed = _signed_url(client, world)
    settings.ARTIFACT_SIGNED_URL_SECONDS = -1

    response = client.get(signed["url"])

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "This download link has expired; request a new one from the API."
    )


def test_signed_url_tampered(world, client):
    signed = _signed_url(client, world)
    token = signed["url"].rstrip("/").rsplit("/", 1)[1]
    payload = signing.loads(token, salt=files.SIGNING_SALT)
    other_file = world.versions["organization"][0].files.get()
    # A token for another file, signed with a wrong key, and one with a flipped character.
    forged = signing.dumps({**payload, "file": other_file.pk}, key="not-the-secret-key")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")

    for bad in (forged, flipped):
        response = client.get(f"/api/v1/files/signed/{bad}/")
        assert response.status_code == 403
        assert "invalid" in response.json()["error"]["message"]


def test_signed_url_stops_when_access_ends(world, client):
    from apps.registry import services

    signed = _signed_url(client, world)
    registry = world.registries["restricted"]
    services.remove_member(
        registry=registry, member=world.users["viewer"], actor=world.users["admin"]
    )

    response = client.get(signed["url"])

    assert response.status_code == 403
    assert "Viewer role" in response.json()["error"]["message"]


def test_signed_downloads_have_own_budget(world, client, settings):
    signed = _signed_url(client, world)
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "download": "2/min"}

    statuses = [client.get(signed["url"]).status_code for _ in range(3)]
    throttled = client.get(signed["url"])

    assert statuses == [200, 200, 429]
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) >= 1

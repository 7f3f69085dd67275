"""File paths in a version's manifest: every one that leaves its folder or hides is rejected."""

import json

import pytest
from django.core.exceptions import ValidationError

from apps.core.validators import validate_file_path
from apps.registry import services
from apps.registry.models import ArtifactVersion, Project
from apps.registry.services import FileEntry
from tests.api.conftest import FILE_SHA256

pytestmark = pytest.mark.django_db

VERSIONS_URL = "/api/v1/orgs/acme/teams/ml-team/projects/fraud/artifacts/paths/versions/"

REJECTED = [
    ("../../.bashrc", "contains the segment '..'"),
    ("..", "contains the segment '..'"),
    ("../etc/passwd", "contains the segment '..'"),
    ("a/../../b", "contains the segment '..'"),
    ("a/..", "contains the segment '..'"),
    ("./a", "contains the segment '.'"),
    ("a/./b", "contains the segment '.'"),
    (".", "contains the segment '.'"),
    ("/etc/passwd", "is absolute"),
    ("~/.bashrc", "starts with '~'"),
    ("~root", "starts with '~'"),
    ("a//b", "empty folder name"),
    ("a/", "empty folder name"),
    ("a\\b", "contains a backslash"),
    ("..\\..\\x", "contains a backslash"),
    ("a\x00b", "control character U+0000"),
    ("a\nb", "control character U+000A"),
    ("a\x7fb", "control character U+007F"),
    ("a\x85b", "control character U+0085"),
    ("\u202etxt.exe", "format character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("a\u200bb", "format character U+200B (ZERO WIDTH SPACE)"),
    ("a\ufeffb", "format character U+FEFF"),
    ("a\ud800b", "unpaired surrogate U+D800"),
]

ACCEPTED = [
    "model.pkl",
    "model/weights.bin",
    ".hidden/config",
    "a..b/c...d",
    "a~b",
    "folder with spaces/file name.txt",
    "модель/веса.bin",
]


@pytest.mark.parametrize(("path", "fragment"), REJECTED)
def test_validator_rejects_path(path, fragment):
    with pytest.raises(ValidationError) as raised:
        validate_file_path(path)
    message = raised.value.messages[0]
    assert fragment in message
    assert repr(path) in message


@pytest.mark.parametrize("path", ACCEPTED)
def test_validator_accepts_path(path):
    assert validate_file_path(path) == path


def _post(client, world, path: str):
    body = {"type": "model", "files": [{"path": path, "size": 1, "sha256": FILE_SHA256}]}
    return client.post(
        VERSIONS_URL,
        data=json.dumps(body),
        content_type="application/json",
        headers=world.headers("team_member"),
    )


@pytest.mark.parametrize(("path", "fragment"), REJECTED)
def test_api_rejects_path(world, client, path, fragment):
    response = _post(client, world, path)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == "files[0].path"
    assert fragment in error["message"]
    assert repr(path) in error["message"]
    assert not ArtifactVersion.objects.filter(artifact__name="paths").exists()


def test_api_rejection_says_fix(world, client):
    response = _post(client, world, "../../.bashrc")

    message = response.json()["error"]["message"]
    assert "give a relative path such as 'model/weights.bin'" in message


@pytest.mark.parametrize("path", ACCEPTED)
def test_api_accepts_path(world, client, path):
    response = _post(client, world, path)

    assert response.status_code == 201, response.content
    assert [f["path"] for f in response.json()["files"]] == [path]


@pytest.mark.parametrize(("path", "fragment"), REJECTED)
def test_service_rejects_path(world, path, fragment):
    project = Project.objects.get(team__name="ml-team", name="fraud")

    with pytest.raises(ValidationError) as raised:
        services.create_artifact_version(
            project=project,
            artifact_name="paths",
            type="model",
            files=[FileEntry(path=path, size=1, sha256=FILE_SHA256)],
            actor=world.users["team_member"],
        )

    assert fragment in raised.value.messages[0]
    assert not ArtifactVersion.objects.filter(artifact__name="paths").exists()

"""Downloads on the version page: for Viewers and above, hidden from Restricted Viewers."""

import hashlib

import pytest

from apps.orgs import services as org_services
from apps.registry import files, services
from apps.registry.roles import Role
from tests.conftest import make_user
from tests.registry.conftest import signed_in

CONTENT = b"weights"
SECRET = "/orgs/acme/registries/secret-models/"
VERSION = f"{SECRET}collections/plans/versions/v0/"


class Stream:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def read(self, size: int = -1) -> bytes:
        chunk, self.content = self.content, b""
        return chunk


@pytest.fixture
def artifact_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


@pytest.fixture
def plans(artifact_storage, secret_registry, registry_admin, project, member):
    """plans v0 in secret-models: model.pkl uploaded, notes.txt listed but not uploaded."""
    version = services.create_artifact_version(
        project=project,
        artifact_name="plans",
        type="model",
        metadata={"auc": 0.97},
        files=[
            services.FileEntry("model.pkl", len(CONTENT), hashlib.sha256(CONTENT).hexdigest()),
            services.FileEntry("notes.txt", 5, "b" * 64),
        ],
        actor=member,
    )
    files.store_file(
        entry=version.files.get(path="model.pkl"), stream=Stream(CONTENT), actor=member
    )
    collection = services.create_collection(
        registry=secret_registry, name="plans", type="model", actor=registry_admin
    )
    services.link_version(collection=collection, version=version, actor=registry_admin)
    return version


@pytest.fixture
def reader(org, org_admin, plans, secret_registry, registry_admin):
    """Return a signed-in client of rita, granted `role` on secret-models."""
    user = make_user("rita")
    org_services.add_org_member(organization=org, user=user)

    def with_role(role: Role):
        services.add_member(registry=secret_registry, member=user, role=role, actor=registry_admin)
        return signed_in(user)

    return with_role


def test_restricted_viewer_sees_metadata_not_downloads(reader, plans):
    client = reader(Role.RESTRICTED_VIEWER)
    body = client.get(VERSION).content.decode()

    entry = plans.files.get(path="model.pkl")
    download = client.get(f"{VERSION}files/{entry.pk}/")

    assert '<th scope="row"><code>auc</code></th><td class="wrap">0.97</td>' in body
    assert "<code>model.pkl</code>" in body
    assert ">Download<" not in body
    assert "artifact.download()" not in body
    assert "need the Viewer role on secret-models" in body
    assert download.status_code == 403
    assert "needs the Viewer role" in download.content.decode()


def test_viewer_downloads_uploaded_file(reader, plans):
    client = reader(Role.VIEWER)
    body = client.get(VERSION).content.decode()
    entry = plans.files.get(path="model.pkl")

    response = client.get(f"{VERSION}files/{entry.pk}/")

    assert f'href="{VERSION}files/{entry.pk}/" download>Download' in body
    assert "artifact.download()" in body
    assert '<span class="muted">not uploaded</span>' in body
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert 'attachment; filename="model.pkl"' in response["Content-Disposition"]


def test_file_not_uploaded_is_404_with_reason(reader, plans):
    client = reader(Role.VIEWER)
    entry = plans.files.get(path="notes.txt")

    response = client.get(f"{VERSION}files/{entry.pk}/")

    assert response.status_code == 404
    assert "The file &#x27;notes.txt&#x27; of v0 has not been uploaded yet" in (
        response.content.decode()
    )


def test_file_of_other_version_is_404(reader, plans, project, member):
    other = services.create_artifact_version(
        project=project,
        artifact_name="other",
        type="model",
        files=[services.FileEntry("x.bin", 1, "c" * 64)],
        actor=member,
    )
    client = reader(Role.VIEWER)

    response = client.get(f"{VERSION}files/{other.files.get().pk}/")

    assert response.status_code == 404


def test_hidden_version_file_is_404(plans, viewer):
    client = signed_in(viewer)
    entry = plans.files.get(path="model.pkl")

    hidden = client.get(f"{VERSION}files/{entry.pk}/")
    missing = client.get(
        f"/orgs/acme/registries/none/collections/plans/versions/v0/files/{entry.pk}/"
    )

    assert hidden.status_code == 404
    assert hidden.content == missing.content

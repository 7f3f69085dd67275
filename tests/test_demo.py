"""manage.py load_demo: the acme organization, its accounts and the imported MLflow sample."""

import os
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

from apps.audit.models import AuditEvent
from apps.orgs.models import Organization, OrgMembership, TeamMembership
from apps.orgs.support import is_support
from apps.registry.models import (
    Alias,
    ArtifactVersion,
    Collection,
    CollectionLink,
    ManifestEntry,
    Registry,
    RegistryGroupObjectPermission,
    Run,
)
from apps.registry.paths import parse_path
from apps.registry.permissions import can_change
from apps.registry.resolve import resolve_registry_path

CHAMPION = "acme/wandb-registry-model/fraud-detector:champion"
# The files of fraud-detector v2 (the champion): an MLflow 3 logged model of the sample store.
CHAMPION_FILES = (
    Path(settings.BASE_DIR)
    / "demo/mlflow-sample/mlruns/357347381044710756/models/m-3ae8c33132f84b80911a999b747b6cbc"
    / "artifacts"
)

pytestmark = pytest.mark.django_db


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def stored_blobs(root: Path) -> dict[str, int]:
    """Every file in the artifact storage folder, with its modification time in nanoseconds."""
    return {
        path.relative_to(root).as_posix(): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file()
    }


def user(username: str):
    return get_user_model().objects.get(username=username)


def snapshot() -> dict[str, list]:
    """Every row the demo creates, by primary key and natural key."""
    return {
        "users": sorted(get_user_model().objects.values_list("pk", "username", "is_staff")),
        "organizations": sorted(Organization.objects.values_list("pk", "name")),
        "org memberships": sorted(
            OrgMembership.objects.values_list("pk", "user__username", "role")
        ),
        "team memberships": sorted(
            TeamMembership.objects.values_list("pk", "team__name", "user__username", "role")
        ),
        "team grants": sorted(
            RegistryGroupObjectPermission.objects.values_list(
                "pk", "content_object__name", "group__name", "permission__codename"
            )
        ),
        "collections": sorted(
            Collection.objects.values_list("pk", "registry__name", "name", "next_index")
        ),
        "links": sorted(CollectionLink.objects.values_list("pk", "collection__name", "index")),
        "aliases": sorted(Alias.objects.values_list("pk", "name", "link__index")),
        "source versions": sorted(ArtifactVersion.objects.values_list("pk", "digest")),
        "files": sorted(ManifestEntry.objects.values_list("pk", "path", "sha256", "md5")),
        "runs": sorted(Run.objects.values_list("pk", "run_id")),
        "audit events": sorted(AuditEvent.objects.values_list("pk", "action")),
    }


def test_load_demo_rejected_without_debug():
    with pytest.raises(CommandError, match="loads only with DEBUG on"):
        load_demo()

    assert not Organization.objects.exists()
    assert not get_user_model().objects.exists()


def test_load_demo_forced_without_debug():
    load_demo("--force")

    assert Organization.objects.filter(name="acme").exists()
    assert Collection.objects.filter(name="fraud-detector").exists()


@override_settings(DEBUG=True)
def test_load_demo_again_changes_nothing(artifact_storage_root):
    load_demo()
    first = snapshot()
    blobs = stored_blobs(artifact_storage_root)

    again = load_demo()

    assert snapshot() == first
    assert stored_blobs(artifact_storage_root) == blobs
    assert "File contents: 0 stored, 6 skipped (stored before), 0 not stored." in again
    assert len(first["collections"]) >= 3
    assert len(first["links"]) >= 4

    # A role changed since is kept too.
    OrgMembership.objects.filter(user__username="carol").update(role="member")
    load_demo()
    assert OrgMembership.objects.get(user__username="carol").role == "member"


@override_settings(DEBUG=True)
class LoadedDemoTests(TestCase):
    """The demo, loaded once for the class; each test runs in a rolled-back savepoint."""

    @classmethod
    def setUpTestData(cls):
        with mock.patch.dict(os.environ, {"PORT": "8123"}):
            cls.output = load_demo()

    def test_accounts_and_roles(self):
        for username in ("admin", "alice", "bob", "dave", "carol", "support"):
            assert user(username).check_password("demo-password"), username
        roles = dict(OrgMembership.objects.values_list("user__username", "role"))
        assert roles == {
            "admin": "admin",
            "alice": "member",
            "bob": "member",
            "dave": "member",
            "carol": "viewer",
        }
        teams = sorted(TeamMembership.objects.values_list("team__name", "user__username", "role"))
        assert teams == [
            ("fraud-team", "alice", "admin"),
            ("fraud-team", "bob", "member"),
            ("nlp-team", "dave", "admin"),
        ]

    def test_support_is_staff_without_superuser(self):
        support = user("support")

        assert support.is_staff
        assert not support.is_superuser
        assert is_support(support)
        assert not is_support(user("admin"))

    def test_sample_imported_for_fraud_team(self):
        registry = Registry.objects.get(organization__name="acme", name="model")
        names = sorted(Collection.objects.filter(registry=registry).values_list("name", flat=True))
        sources = ArtifactVersion.objects.filter(links__collection__registry=registry)
        projects = set(
            sources.values_list("artifact__project__team__name", "artifact__project__name")
        )

        assert names == ["Sentiment-BERT", "churn-model", "fraud-detector"]
        assert projects == {("fraud-team", "mlflow-registry")}
        assert "skipped prompt 'summarize-prompt'" in self.output

    def test_champion_path_resolves_to_v2(self):
        bob = user("bob")

        link = resolve_registry_path(bob, parse_path(CHAMPION))

        assert link.collection.name == "fraud-detector"
        assert link.index == 2
        assert link.version.metadata["mlflow_stage"] == "Production"
        assert can_change(bob, link.collection.registry)
        assert not can_change(user("carol"), link.collection.registry)

    def test_champion_path_page_shows_v2(self):
        self.client.force_login(user("bob"))

        response = self.client.get(f"/path/{CHAMPION}", follow=True)

        assert response.redirect_chain
        assert "acme/wandb-registry-model/fraud-detector:v2" in response.content.decode()

    def test_champion_files_download(self):
        self.client.force_login(user("bob"))
        link = resolve_registry_path(user("bob"), parse_path(CHAMPION))
        page_url = "/orgs/acme/registries/model/collections/fraud-detector/versions/v2/"
        page = self.client.get(page_url).content.decode()

        assert sorted(link.version.files.values_list("path", flat=True)) == [
            "MLmodel",
            "weights.txt",
        ]
        assert "File contents: 6 stored, 0 skipped (stored before), 0 not stored." in self.output
        assert "not uploaded" not in page
        for entry in link.version.files.all():
            expected = (CHAMPION_FILES / entry.path).read_bytes()
            from_page = self.client.get(f"{page_url}files/{entry.pk}/")
            from_api = self.client.get(
                f"/api/v1/artifact-versions/{link.version_id}/files/{entry.pk}/content/"
            )

            assert from_page.status_code == 200, entry.path
            assert b"".join(from_page.streaming_content) == expected
            assert from_api.status_code == 200, entry.path
            assert b"".join(from_api.streaming_content) == expected

    def test_output_lists_url_and_accounts(self):
        assert "Open http://127.0.0.1:8123/ and sign in" in self.output
        assert "password 'demo-password'" in self.output
        assert "  bob       org member, fraud-team member" in self.output
        assert "  carol     org viewer" in self.output
        assert "  support   support staff (support console), in no organization" in self.output

"""A shared world for the API tests, built once per module and rolled back after it.

Organization `acme` with two custom registries made by `ada`, one per visibility:

    secret-models   Restricted
    shared-models   Organization

and the personas of the permission matrix, each with an API key:

    anonymous           no credentials
    outsider            member of another organization, `globex`
    org_viewer          org viewer with no grant
    restricted_viewer   granted Restricted Viewer on both registries
    viewer              granted Viewer
    member              granted Member
    admin               granted Admin (the creator)
    team_member         Member only through the team `ml-team`
    org_admin           org admin, Admin through the organization

Each registry contains the collection `Fraud-Detector` (v0 with `champion`, v1 with the
protected alias `production`) and `Other-Model` (v0). The versions come from the project
`fraud` of `ml-team`, and the first one's file `model.pkl` has been uploaded.

Two notices for the members of `acme` are active: `dismissible` and `pinned`, which cannot
be dismissed.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.notices import services as notice_services
from apps.notices.models import Audience
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import files, services
from apps.registry.models import ArtifactVersion, Registry
from apps.registry.roles import Role
from tests.conftest import make_user

PERSONAS = [
    "anonymous",
    "outsider",
    "org_viewer",
    "restricted_viewer",
    "viewer",
    "member",
    "admin",
    "team_member",
    "org_admin",
]
USERNAMES = {
    "outsider": "oscar",
    "org_viewer": "vera",
    "restricted_viewer": "rita",
    "viewer": "vic",
    "member": "max",
    "admin": "ada",
    "team_member": "tina",
    "org_admin": "olivia",
}
REGISTRIES = {"restricted": "secret-models", "organization": "shared-models"}
FILE_CONTENT = b"weights of the fraud model"
FILE_SHA256 = hashlib.sha256(FILE_CONTENT).hexdigest()


@dataclass
class World:
    users: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    key_ids: dict = field(default_factory=dict)
    registries: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    spare_version: ArtifactVersion | None = None
    extra_user: object = None
    organization: object = None
    notice_ids: dict = field(default_factory=dict)

    def headers(self, persona: str) -> dict:
        if persona == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.keys[persona]}"}


def _build_world() -> World:
    world = World()
    organization = services.create_organization(name="acme", display_name="Acme Corp")
    other = services.create_organization(name="globex")
    world.organization = organization

    org_roles = {"org_viewer": OrgRole.VIEWER, "org_admin": OrgRole.ADMIN}
    for persona, username in USERNAMES.items():
        user = make_user(username)
        if persona == "outsider":
            org_services.add_org_member(organization=other, user=user, role=OrgRole.MEMBER)
        else:
            role = org_roles.get(persona, OrgRole.MEMBER)
            org_services.add_org_member(organization=organization, user=user, role=role)
        world.users[persona] = user
        key, world.keys[persona] = org_services.create_api_key(user=user, name="tests")
        world.key_ids[persona] = key.pk
    world.extra_user = make_user("uma")
    org_services.add_org_member(organization=organization, user=world.extra_user)

    team = org_services.create_team(organization=organization, name="ml-team")
    org_services.add_team_member(team=team, user=world.users["team_member"], role=TeamRole.MEMBER)
    team_member = world.users["team_member"]
    project = services.get_or_create_project(team=team, name="fraud", actor=team_member)
    admin = world.users["admin"]

    def log(name: str, content: bytes = FILE_CONTENT) -> ArtifactVersion:
        return services.create_artifact_version(
            project=project,
            artifact_name=name,
            type="model",
            metadata={"auc": 0.9},
            files=[
                services.FileEntry(
                    path="model.pkl", size=len(content), sha256=hashlib.sha256(content).hexdigest()
                )
            ],
            actor=team_member,
        )

    world.spare_version = log("spare-model")
    for visibility, name in REGISTRIES.items():
        registry = services.create_registry(
            organization=organization,
            name=name,
            visibility=visibility,
            accepted_types=["model"],
            actor=admin,
        )
        for persona, role in (
            ("restricted_viewer", Role.RESTRICTED_VIEWER),
            ("viewer", Role.VIEWER),
            ("member", Role.MEMBER),
        ):
            services.add_member(
                registry=registry, member=world.users[persona], role=role, actor=admin
            )
        services.add_member(registry=registry, member=team, role=Role.MEMBER, actor=admin)
        services.add_protected_alias(registry=registry, name="production", actor=admin)

        # Each registry links its own source versions, so that access through one registry
        # never leaks into the cells of the other.
        versions = [log(f"{name}-detector") for _ in range(3)]
        files.store_file(
            entry=versions[0].files.get(),
            stream=_Stream(FILE_CONTENT),
            actor=world.users["team_member"],
        )
        world.versions[visibility] = versions
        collection = services.create_collection(
            registry=registry, name="Fraud-Detector", type="model", actor=admin
        )
        first = services.link_version(
            collection=collection, version=versions[0], aliases=["champion"], actor=admin
        )
        services.link_version(
            collection=collection, version=versions[1], aliases=["production"], actor=admin
        )
        other_collection = services.create_collection(
            registry=registry, name="Other-Model", type="model", actor=admin
        )
        services.link_version(collection=other_collection, version=versions[2], actor=admin)
        assert first.index == 0
        world.registries[visibility] = registry

    for name, dismissible in (("dismissible", True), ("pinned", False)):
        notice = notice_services.upsert_notice(
            origin_key=f"tests:{name}",
            values=notice_services.NoticeFields(
                message=f"The **{name}** notice of acme.",
                starts_at=timezone.now() - timedelta(hours=1),
                ends_at=None,
                audience=Audience.ORGANIZATION,
                organization=organization,
                dismissible=dismissible,
            ),
        )
        world.notice_ids[name] = notice.pk
    return world


class _Stream:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def read(self, size: int = -1) -> bytes:
        chunk, self.content = self.content, b""
        return chunk


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Build the world once for a test module, inside a transaction rolled back at its end."""
    from django.test import override_settings

    storage_root = tmp_path_factory.mktemp("artifacts")
    storages = _artifact_storages(storage_root)
    with django_db_blocker.unblock(), override_settings(STORAGES=storages), transaction.atomic():
        world = _build_world()
        yield world
        transaction.set_rollback(True)


def _artifact_storages(root) -> dict:
    from django.conf import settings

    storages = dict(settings.STORAGES)
    storages["artifacts"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(root)},
    }
    return storages


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def registry_names() -> dict:
    return dict(REGISTRIES)


def registry_of(world: World, visibility: str) -> Registry:
    return Registry.objects.get(pk=world.registries[visibility].pk)

"""Personas and a small registry that most tests start from.

Organization `acme` with the core registries, team `fraud-team`, and:
    org_admin   org admin
    member      org member, member of fraud-team (so Member of the `model` registry)
    viewer      org viewer, in no team (Viewer of the core registries)
    outsider    member of another organization, `globex`
plus a `model` collection `fraud-detector` with three linked versions (v0, v1, v2),
`champion` on v1 and `latest` on v2.
"""

import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import services
from apps.registry.access import grant_role
from apps.registry.models import Registry
from apps.registry.roles import Role

PASSWORD = "correct-horse-battery-staple"


# Real services -----------------------------------------------------------------------------
#
# Tests marked `postgres`, `worker` or `browser` need PostgreSQL, Redis or Chromium. Where one
# is missing they are skipped with a message on how to enable them, except when
# REQUIRE_SERVICES=1 (set by .ci/run), which turns the skip into a failure.


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str):
    """Skip the running test for `reason`, or fail it when REQUIRE_SERVICES=1."""
    if services_required():
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    # The SQLite pass skips these even under REQUIRE_SERVICES=1: they run in the PostgreSQL
    # pass, which fails by itself when no server is reachable.
    if on_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: run `make test-postgres` with a server on 127.0.0.1:5432 "
        "or DATABASE_URL set"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _artifact_storage_outside_the_project(tmp_path_factory):
    """Store the artifact files that tests write in a temporary folder, not the project's.

    The MLflow import stores file contents, so every test that imports a store writes
    files. Tests that look at stored files point "artifacts" at a folder of their own.
    """
    storages = dict(settings.STORAGES)
    storages["artifacts"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path_factory.mktemp("artifacts"))},
    }
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture
def artifact_storage_root(settings, tmp_path):
    """Point the artifact storage at a folder of the test's own, and return that folder."""
    root = tmp_path / "artifact-storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def make_user(username: str):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com"
    )


@pytest.fixture
def org(db):
    return services.create_organization(name="acme", display_name="Acme Corp")


@pytest.fixture
def other_org(db):
    return services.create_organization(name="globex")


@pytest.fixture
def team(org):
    """fraud-team, granted the Member role on the core `model` registry."""
    team = org_services.create_team(organization=org, name="fraud-team")
    grant_role(Registry.objects.get(organization=org, name="model"), team.group, Role.MEMBER)
    return team


@pytest.fixture
def org_admin(org):
    user = make_user("olivia")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.ADMIN)
    return user


@pytest.fixture
def member(org, team):
    user = make_user("mike")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=team, user=user, role=TeamRole.MEMBER)
    return user


@pytest.fixture
def viewer(org):
    user = make_user("vera")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.VIEWER)
    return user


@pytest.fixture
def outsider(other_org):
    user = make_user("oscar")
    org_services.add_org_member(organization=other_org, user=user, role=OrgRole.MEMBER)
    return user


@pytest.fixture
def model_registry(org) -> Registry:
    return Registry.objects.get(organization=org, name="model")


@pytest.fixture
def project(team, member):
    return services.get_or_create_project(team=team, name="fraud", actor=member)


def log_version(project, actor, *, name="fraud-detector", type="model", metadata=None):
    return services.create_artifact_version(
        project=project,
        artifact_name=name,
        type=type,
        metadata=metadata or {"auc": 0.9},
        files=[services.FileEntry(path="model.pkl", size=3, sha256="a" * 64)],
        actor=actor,
    )


@pytest.fixture
def collection(model_registry, member):
    return services.create_collection(
        registry=model_registry,
        name="fraud-detector",
        type="model",
        description="Card **fraud** classifier.",
        actor=member,
    )


@pytest.fixture
def linked(collection, project, member):
    """Three links v0..v2 in `collection`; `champion` on v1."""
    links = [
        services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )
        for _ in range(3)
    ]
    services.set_alias(link=links[1], name="champion", actor=member)
    return links


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def registry_admin(org):
    """ada: org member who creates `secret-models` (see secret_registry), so its Admin."""
    user = make_user("ada")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    return user


@pytest.fixture
def secret_registry(org, registry_admin) -> Registry:
    """A custom registry with Restricted visibility for models; ada is its only granted Admin."""
    return services.create_registry(
        organization=org,
        name="secret-models",
        visibility="restricted",
        accepted_types=["model"],
        actor=registry_admin,
    )

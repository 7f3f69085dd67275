"""Personas and a small registry that most tests start from.

Organization `acme` with the core registries, team `fraud-team`, and:
    org_admin   org admin
    member      org member, member of fraud-team (so Member of the `model` registry)
    viewer      org viewer, in no team (Viewer of the core registries)
    outsider    member of another organization, `globex`
plus a `model` collection `fraud-detector` with three linked versions (v0, v1, v2),
`champion` on v1 and `latest` on v2.
"""

import pytest
from django.contrib.auth import get_user_model

from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import services
from apps.registry.access import grant_role
from apps.registry.models import Registry
from apps.registry.roles import Role

PASSWORD = "correct-horse-battery-staple"


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
def project(team):
    return services.get_or_create_project(team=team, name="fraud")


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

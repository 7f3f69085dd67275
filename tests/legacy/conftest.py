"""Personas of a team's legacy Model Registry, on top of the suite's personas.

`fraud-team` (from the suite's conftest) gets its legacy registry with:
    member      team member (the suite's `mike`)
    team_admin  team admin
    team_viewer team viewer
    stranger    org member in another team of the same organization
    support     support staff, in no team
and a registered model `fraud-detector` with three versions v0..v2 linked from the team's
project, `champion` on v1.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.legacy import services
from apps.legacy.models import LegacyRegistry
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import services as registry_services
from apps.registry.access import grant_role
from apps.registry.roles import Role
from tests.conftest import log_version, make_user


@pytest.fixture
def legacy_registry(team):
    return services.ensure_legacy_registry(team=team)


@pytest.fixture
def team_admin(org, team):
    user = make_user("tara")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=team, user=user, role=TeamRole.ADMIN)
    return user


@pytest.fixture
def team_viewer(org, team):
    user = make_user("tess")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=team, user=user, role=TeamRole.VIEWER)
    return user


@pytest.fixture
def other_team(org):
    return org_services.create_team(organization=org, name="nlp-team")


@pytest.fixture
def stranger(org, other_team):
    user = make_user("sam")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=other_team, user=user, role=TeamRole.ADMIN)
    return user


@pytest.fixture
def support(db):
    user = make_user("sue")
    user.user_permissions.add(Permission.objects.get(codename="support_console"))
    return user


@pytest.fixture
def registered_model(legacy_registry, member):
    return services.create_registered_model(
        legacy_registry=legacy_registry,
        name="fraud-detector",
        description="Card **fraud** classifier.",
        actor=member,
    )


@pytest.fixture
def legacy_versions(registered_model, project, member):
    """v0..v2 of `fraud-detector`, `champion` on v1."""
    versions = [
        services.link_version(
            model=registered_model, version=log_version(project, member), actor=member
        )
        for _ in range(3)
    ]
    services.set_alias(legacy_version=versions[1], name="champion", actor=member)
    return versions


def pause(legacy_registry, minutes=30, reason="migration of fraud-team to the new registry"):
    LegacyRegistry.objects.filter(pk=legacy_registry.pk).update(
        write_paused_since=timezone.now(),
        write_pause_ends_at=timezone.now() + timedelta(minutes=minutes),
        write_pause_reason=reason,
    )


def migrate(legacy_registry, *, actor, read_only_since=None, registry_name=None):
    """Stand in for a finished migration: copy every model by hand through the services.

    Creates the target registry, a collection per registered model and a link per version
    with the same index, then records migrated_to and read_only_since on the legacy rows the
    way the migration does. Returns the target registry.
    """
    team = legacy_registry.team
    organization = team.organization
    registry = registry_services.create_registry(
        organization=organization,
        name=registry_name or team.name,
        accepted_types=["model"],
        actor=actor,
    )
    grant_role(registry, team.group, Role.MEMBER)
    for model in legacy_registry.models.order_by("id"):
        collection = registry_services.create_collection(
            registry=registry,
            name=model.name,
            type="model",
            description=model.description,
            actor=actor,
        )
        for legacy_version in model.versions.order_by("index"):
            aliases = [a.name for a in legacy_version.aliases.all() if a.name != "latest"]
            registry_services.link_version(
                collection=collection,
                version=legacy_version.version,
                index=legacy_version.index,
                aliases=aliases,
                actor=actor,
            )
        model.migrated_to = collection
        model.save(update_fields=["migrated_to"])
    LegacyRegistry.objects.filter(pk=legacy_registry.pk).update(
        migrated_to=registry,
        read_only_since=read_only_since or timezone.now(),
        write_paused_since=None,
        write_pause_ends_at=None,
    )
    legacy_registry.refresh_from_db()
    return registry

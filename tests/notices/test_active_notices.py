"""Which notices a person sees, and when: audiences, time boundaries and severity order."""

from datetime import timedelta

import pytest
import time_machine

from apps.notices.models import Audience, Severity
from apps.notices.selectors import active_notices_for
from apps.registry.access import grant_role
from apps.registry.roles import Role
from tests.notices.conftest import T0

SECOND = timedelta(seconds=1)


def messages_seen(user, at=None):
    return [notice.message for notice in active_notices_for(user, now=at)]


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (T0 - SECOND, False),
        (T0, True),
        (T0 + SECOND, True),
        (T0 + timedelta(days=1) - SECOND, True),
        (T0 + timedelta(days=1), False),
        (T0 + timedelta(days=1) + SECOND, False),
    ],
)
def test_notice_shows_between_start_and_end(write_notice, member, moment, shown):
    write_notice(message="Maintenance window")

    with time_machine.travel(moment, tick=False):
        seen = messages_seen(member)

    assert seen == (["Maintenance window"] if shown else [])


def test_notice_without_end_shows_until_ended(write_notice, member, support):
    from apps.notices import services

    notice = write_notice(message="Open-ended", ends_at=None)
    assert messages_seen(member, T0 + timedelta(days=400)) == ["Open-ended"]

    services.end_notice(notice=notice, actor=support, at=T0 + timedelta(days=2))

    assert messages_seen(member, T0 + timedelta(days=2) - SECOND) == ["Open-ended"]
    assert messages_seen(member, T0 + timedelta(days=2)) == []


def test_team_notice_reaches_only_that_team(write_notice, team, member, bob, org_admin):
    write_notice(message="For fraud-team", audience=Audience.TEAM, team=team)

    assert messages_seen(member, T0) == ["For fraud-team"]
    assert messages_seen(bob, T0) == []
    assert messages_seen(org_admin, T0) == []


def test_team_and_org_admins_notice(write_notice, team, member, bob, org_admin, outsider):
    write_notice(message="Migration", audience=Audience.TEAM_AND_ORG_ADMINS, team=team)

    assert messages_seen(member, T0) == ["Migration"]
    assert messages_seen(org_admin, T0) == ["Migration"]
    assert messages_seen(bob, T0) == []
    assert messages_seen(outsider, T0) == []


def test_organization_notice(write_notice, org, member, viewer, outsider):
    write_notice(message="For acme", audience=Audience.ORGANIZATION, organization=org)

    assert messages_seen(member, T0) == ["For acme"]
    assert messages_seen(viewer, T0) == ["For acme"]
    assert messages_seen(outsider, T0) == []


def test_org_admins_notice(write_notice, org, member, org_admin):
    write_notice(message="Admins only", audience=Audience.ORG_ADMINS, organization=org)

    assert messages_seen(org_admin, T0) == ["Admins only"]
    assert messages_seen(member, T0) == []


def test_registry_admins_notice(write_notice, model_registry, member, bob, org_admin):
    write_notice(
        message="Model registry admins", audience=Audience.REGISTRY_ADMINS, registry=model_registry
    )
    assert messages_seen(member, T0) == []

    grant_role(model_registry, bob, Role.ADMIN)

    # Org admins hold Admin on every registry of their organization.
    assert messages_seen(org_admin, T0) == ["Model registry admins"]
    assert messages_seen(bob, T0) == ["Model registry admins"]
    assert messages_seen(member, T0) == []


def test_everyone_notice_reaches_signed_out_visitors(write_notice, org, outsider):
    from django.contrib.auth.models import AnonymousUser

    write_notice(message="For all")
    write_notice(message="For acme", audience=Audience.ORGANIZATION, organization=org)

    assert messages_seen(AnonymousUser(), T0) == ["For all"]
    assert messages_seen(outsider, T0) == ["For all"]


def test_most_severe_first(write_notice, member):
    write_notice(message="info", severity=Severity.INFO, starts_at=T0 - timedelta(hours=3))
    write_notice(message="critical", severity=Severity.CRITICAL)
    write_notice(message="warning", severity=Severity.WARNING, starts_at=T0 - timedelta(hours=1))
    write_notice(message="older critical", severity=Severity.CRITICAL, starts_at=T0 - SECOND)

    assert messages_seen(member, T0) == ["older critical", "critical", "warning", "info"]


def test_removed_team_member_stops_seeing_team_notice(write_notice, team, member):
    from apps.orgs import services as org_services

    write_notice(message="For fraud-team", audience=Audience.TEAM, team=team)
    org_services.remove_team_member(team=team, user=member)

    assert messages_seen(member, T0) == []

"""Notices fixtures: a support person, a second team, and a helper that writes notices.

On top of the shared personas (`member` in fraud-team, `org_admin`, `viewer`, `outsider`):
    support     holds the support permission, in no organization
    bob         org member in another team of acme, `nlp-team`
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from apps.notices import services
from apps.notices.models import Audience, Severity
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from tests.conftest import make_user

# A fixed moment far from any daylight saving change in the zones the tests use.
T0 = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def support(db):
    user = make_user("sam")
    user.user_permissions.add(Permission.objects.get(codename="support_console"))
    return user


@pytest.fixture
def other_team(org):
    return org_services.create_team(organization=org, name="nlp-team")


@pytest.fixture
def bob(org, other_team):
    user = make_user("bob")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=other_team, user=user, role=TeamRole.MEMBER)
    return user


@pytest.fixture
def write_notice(support):
    """Create a notice through the support service; defaults: info, everyone, T0 to T0+1d."""

    def write(**overrides):
        values = {
            "message": "Planned maintenance on **Saturday**.",
            "starts_at": T0,
            "ends_at": T0 + timedelta(days=1),
            "audience": Audience.EVERYONE,
            "severity": Severity.INFO,
            **overrides,
        }
        return services.create_notice(values=services.NoticeFields(**values), actor=support)

    return write

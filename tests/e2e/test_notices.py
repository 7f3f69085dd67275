"""Site banners in Chromium: shown at the top of pages, dismissed in place."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from apps.notices import services
from apps.notices.models import Audience, Dismissal, Severity
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole
from tests.conftest import make_user
from tests.e2e.conftest import finish_journey
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def support(db):
    user = make_user("sam")
    user.user_permissions.add(Permission.objects.get(codename="support_console"))
    return user


@pytest.fixture
def bob(org):
    """A member of acme in another team than fraud-team."""
    user = make_user("bob")
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    other_team = org_services.create_team(organization=org, name="nlp-team")
    org_services.add_team_member(team=other_team, user=user)
    return user


def write(actor, **values):
    now = timezone.now()
    fields = {
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(days=1),
        **values,
    }
    return services.create_notice(values=services.NoticeFields(**fields), actor=actor)


def test_banners_show_and_dismiss_in_place(page, browser_errors, member, team, support):
    info = write(support, message="Registry tour on **Friday**", severity=Severity.INFO)
    write(
        support,
        message="Writes to `fraud-team/model-registry` are paused",
        severity=Severity.CRITICAL,
        dismissible=False,
        audience=Audience.TEAM,
        team=team,
    )

    sign_in(page, member)

    banners = page.get_by_role("region", name="Notices").locator("section")
    expect(banners).to_have_count(2)
    expect(banners.nth(0)).to_contain_text("Writes to fraud-team/model-registry are paused")
    expect(banners.nth(0).get_by_role("button", name="Dismiss this notice")).to_have_count(0)
    expect(banners.nth(1)).to_contain_text("Registry tour on Friday")
    url = page.url

    banners.nth(1).get_by_role("button", name="Dismiss this notice").click()

    expect(banners).to_have_count(1)
    assert page.url == url
    assert Dismissal.objects.filter(notice=info, user=member).exists()
    page.reload()
    expect(page.get_by_text("Registry tour on Friday")).to_have_count(0)
    expect(page.get_by_text("are paused")).to_be_visible()
    finish_journey(page, browser_errors, "notices-dismiss")


def test_other_team_sees_no_team_banner(page, browser_errors, bob, team, support):
    write(support, message="Only for fraud-team", audience=Audience.TEAM, team=team)

    sign_in(page, bob)

    expect(page.get_by_role("heading", name="Registries", exact=True)).to_be_visible()
    expect(page.get_by_text("Only for fraud-team")).to_have_count(0)
    finish_journey(page, browser_errors, "notices-other-team")

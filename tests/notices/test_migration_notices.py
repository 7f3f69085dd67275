"""A migration plan's notices follow the plan: schedule, move, start, complete, abort."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.legacy import services as legacy_services
from apps.migration import services as migration_services
from apps.migration.tasks import run_copy
from apps.notices.models import Audience, Notice
from apps.notices.selectors import active_notices_for

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
WINDOW = NOW + timedelta(weeks=8)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _copy_inline(settings):
    settings.MIGRATION_EAGER_THREAD = False


@pytest.fixture
def plan(team, member, bob, org_admin, support):
    legacy_services.ensure_legacy_registry(team=team)
    with time_machine.travel(NOW, tick=False):
        return migration_services.schedule_migration(team=team, window_start=WINDOW, actor=support)


def stages_seen(user, at) -> list[str]:
    return [notice.origin_key.rsplit(":", 1)[1] for notice in active_notices_for(user, now=at)]


def test_scheduling_creates_the_timeline(plan, team):
    notices = {n.origin_key: n for n in Notice.objects.all()}

    prefix = f"migration:{plan.pk}:"
    assert set(notices) == {
        f"{prefix}announcement",
        f"{prefix}reminder",
        f"{prefix}final-reminder",
        f"{prefix}pause",
    }
    for notice in notices.values():
        assert notice.audience == Audience.TEAM_AND_ORG_ADMINS
        assert notice.team == team
        assert notice.organization == team.organization
    announcement = notices[f"{prefix}announcement"]
    assert announcement.starts_at == WINDOW - timedelta(weeks=6)
    assert "`fraud-team/model-registry`" in announcement.message
    assert "`acme/wandb-registry-fraud-team`" in announcement.message


def test_audience_team_and_org_admins(plan, member, org_admin, bob):
    moment = WINDOW - timedelta(weeks=6)

    assert stages_seen(member, moment - SECOND) == []
    assert stages_seen(member, moment) == ["announcement"]
    assert stages_seen(org_admin, moment) == ["announcement"]
    assert stages_seen(bob, moment) == []


def test_moving_the_window_moves_the_notices(plan, member, support):
    later = WINDOW + timedelta(days=10)

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        migration_services.move_window(plan=plan, window_start=later, actor=support)

    assert stages_seen(member, WINDOW - timedelta(weeks=6)) == []
    assert stages_seen(member, later - timedelta(weeks=6)) == ["announcement"]
    assert stages_seen(member, later - SECOND) == ["final-reminder"]
    assert stages_seen(member, later) == ["pause"]
    assert Notice.objects.count() == 4


def test_start_and_completion(plan, member, support):
    started = WINDOW - timedelta(minutes=5)
    with time_machine.travel(started, tick=False) as clock:
        migration_services.start_migration(plan=plan, actor=support)
        assert stages_seen(member, started - SECOND) == ["final-reminder"]
        assert stages_seen(member, started) == ["pause"]
        clock.shift(timedelta(minutes=3))
        run_copy(plan.pk)

    plan.refresh_from_db()
    assert plan.state == "completed"
    completed = plan.completed_at
    assert completed == started + timedelta(minutes=3)
    assert stages_seen(member, completed - SECOND) == ["pause"]
    assert stages_seen(member, completed) == ["completed"]
    done = Notice.objects.get(origin_key=f"migration:{plan.pk}:completed")
    assert done.link_url == "/orgs/acme/registries/fraud-team/"
    assert done.ends_at == completed + timedelta(days=28)
    assert stages_seen(member, done.ends_at - SECOND) == ["completed"]
    assert stages_seen(member, done.ends_at) == []


def test_abort_after_announcement_says_so(plan, member, support):
    aborted = WINDOW - timedelta(weeks=5)

    with time_machine.travel(aborted, tick=False):
        migration_services.abort_migration(plan=plan, actor=support)

    assert stages_seen(member, aborted - SECOND) == ["announcement"]
    assert stages_seen(member, aborted) == ["aborted"]
    assert stages_seen(member, WINDOW) == []


def test_abort_before_announcement_leaves_no_notice(plan, member, support):
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        migration_services.abort_migration(plan=plan, actor=support)

    for moment in (NOW + timedelta(days=1), WINDOW - timedelta(weeks=6), WINDOW):
        assert stages_seen(member, moment) == []
    assert not Notice.objects.filter(origin_key__endswith=":aborted").exists()


def test_scheduled_five_weeks_ahead_announces_at_once(team, member, bob, support):
    legacy_services.ensure_legacy_registry(team=team)
    window = NOW + timedelta(weeks=5)

    with time_machine.travel(NOW, tick=False):
        migration_services.schedule_migration(team=team, window_start=window, actor=support)

    assert stages_seen(member, NOW - SECOND) == []
    assert stages_seen(member, NOW) == ["announcement"]
    assert stages_seen(bob, NOW) == []

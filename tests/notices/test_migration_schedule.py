"""The notices of a team's migration, computed from its window, checked to the second."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from apps.core.markdown import render_markdown
from apps.notices import services
from apps.notices.migration_schedule import (
    LeadTimes,
    MigrationFacts,
    Stage,
    duration_words,
    migration_aborted_spec,
    migration_key_prefix,
    migration_notice_specs,
    team_notice_values,
)
from apps.notices.models import Notice, Severity
from apps.notices.selectors import active_banners_for, active_notices_for
from apps.orgs import services as org_services

SECOND = timedelta(seconds=1)
WINDOW = datetime(2027, 6, 14, 8, 0, tzinfo=UTC)
SCHEDULED = WINDOW - timedelta(weeks=8)
PAUSE = timedelta(hours=4)
FACTS = MigrationFacts(
    team_name="fraud-team",
    legacy_path="fraud-team/model-registry",
    new_path="acme/wandb-registry-fraud-team",
    registry_name="fraud-team",
    new_registry_url="https://registry.example.com/orgs/acme/registries/fraud-team/",
)
PLAN_ID = 7


def specs_for(window=WINDOW, scheduled=SCHEDULED, **kwargs):
    return migration_notice_specs(
        window_start=window, expected_pause=PAUSE, facts=FACTS, scheduled_at=scheduled, **kwargs
    )


def by_stage(specs):
    return {spec.stage: spec for spec in specs}


def sync(team, specs, at):
    return services.sync_notices(
        origin_key_prefix=migration_key_prefix(PLAN_ID),
        values_by_key=team_notice_values(specs, plan_id=PLAN_ID, team=team),
        at=at,
    )


def stages_seen(user, at) -> list[str]:
    return [notice.origin_key.rsplit(":", 1)[1] for notice in active_notices_for(user, now=at)]


# The pure timeline ------------------------------------------------------------------------


def test_timeline_with_default_lead_times():
    stages = by_stage(specs_for())

    assert list(stages) == [
        Stage.ANNOUNCEMENT,
        Stage.REMINDER,
        Stage.FINAL_REMINDER,
        Stage.PAUSE,
    ]
    assert stages[Stage.ANNOUNCEMENT].starts_at == WINDOW - timedelta(weeks=6)
    assert stages[Stage.ANNOUNCEMENT].ends_at == WINDOW - timedelta(weeks=1)
    assert stages[Stage.REMINDER].starts_at == WINDOW - timedelta(weeks=1)
    assert stages[Stage.REMINDER].ends_at == WINDOW - timedelta(days=1)
    assert stages[Stage.FINAL_REMINDER].starts_at == WINDOW - timedelta(days=1)
    assert stages[Stage.FINAL_REMINDER].ends_at == WINDOW
    assert stages[Stage.PAUSE].starts_at == WINDOW
    assert stages[Stage.PAUSE].ends_at is None


def test_severities_and_dismissibility():
    stages = by_stage(specs_for(completed_at=WINDOW + PAUSE))

    assert stages[Stage.ANNOUNCEMENT].severity == Severity.INFO
    assert stages[Stage.REMINDER].severity == Severity.WARNING
    assert stages[Stage.FINAL_REMINDER].severity == Severity.CRITICAL
    assert stages[Stage.PAUSE].severity == Severity.CRITICAL
    assert stages[Stage.PAUSE].dismissible is False
    assert all(spec.dismissible for stage, spec in stages.items() if stage != Stage.PAUSE)


def test_announcement_says_when_how_long_paths_and_name():
    announcement = by_stage(specs_for())[Stage.ANNOUNCEMENT]

    assert "pause for about 4 hours" in announcement.message
    assert "`fraud-team/model-registry`" in announcement.message
    assert "`acme/wandb-registry-fraud-team`" in announcement.message
    assert "**fraud-team**" in announcement.message
    assert announcement.event_at == WINDOW
    assert announcement.event_label == "Writes pause"


@pytest.mark.parametrize(
    "stage, headline",
    [
        (Stage.ANNOUNCEMENT, "**The fraud-team Model Registry moves to the new Registry.**"),
        (
            Stage.REMINDER,
            "**Reminder: the fraud-team Model Registry moves to the new Registry soon.**",
        ),
        (
            Stage.FINAL_REMINDER,
            "**The fraud-team Model Registry moves to the new Registry shortly.**",
        ),
        (
            Stage.COMPLETED,
            "**The fraud-team Model Registry now lives in the registry fraud-team**",
        ),
    ],
)
def test_headlines_name_the_team(stage, headline):
    spec = by_stage(specs_for(completed_at=WINDOW + PAUSE))[stage]

    assert spec.message.startswith(headline)
    assert "your team" not in spec.message.lower()


def test_names_with_markdown_characters_stay_plain():
    facts = replace(
        FACTS,
        team_name="ml_ops*",
        legacy_path="ml_ops`x/model-registry",
        registry_name="ml_ops*",
    )
    specs = migration_notice_specs(
        window_start=WINDOW, expected_pause=PAUSE, facts=facts, scheduled_at=SCHEDULED
    )

    html = render_markdown(by_stage(specs)[Stage.ANNOUNCEMENT].message)
    assert "<strong>The ml_ops* Model Registry moves to the new Registry.</strong>" in html
    assert "<strong>ml_ops*</strong>" in html
    assert "<code>ml_ops`x/model-registry</code>" in html
    assert "<em>" not in html


def test_scheduled_late_announces_at_once():
    scheduled = WINDOW - timedelta(weeks=4)

    stages = by_stage(specs_for(scheduled=scheduled))

    assert stages[Stage.ANNOUNCEMENT].starts_at == scheduled
    assert stages[Stage.REMINDER].starts_at == WINDOW - timedelta(weeks=1)


def test_scheduled_within_a_week_skips_announcement():
    scheduled = WINDOW - timedelta(days=3)

    stages = by_stage(specs_for(scheduled=scheduled))

    assert list(stages) == [Stage.REMINDER, Stage.FINAL_REMINDER, Stage.PAUSE]
    assert stages[Stage.REMINDER].starts_at == scheduled


def test_completion_ends_pause_and_starts_read_only_banner():
    completed = WINDOW + timedelta(hours=3, minutes=10)

    stages = by_stage(specs_for(completed_at=completed))

    assert stages[Stage.PAUSE].ends_at == completed
    done = stages[Stage.COMPLETED]
    assert done.starts_at == completed
    assert done.ends_at == completed + timedelta(days=28)
    assert done.event_at == completed + timedelta(days=28)
    assert done.event_label == "Old view hidden"
    assert "read-only" in done.message
    assert done.link_url == FACTS.new_registry_url
    assert done.link_label == "Open fraud-team"


def test_empty_pause_left_out():
    stages = by_stage(specs_for(completed_at=WINDOW))

    assert Stage.PAUSE not in stages
    assert stages[Stage.COMPLETED].starts_at == WINDOW


def test_no_retention_leaves_out_completed_banner():
    stages = by_stage(specs_for(completed_at=WINDOW + PAUSE, retention=timedelta(0)))

    assert Stage.COMPLETED not in stages
    assert stages[Stage.PAUSE].ends_at == WINDOW + PAUSE


@override_settings(
    MIGRATION_ANNOUNCEMENT_LEAD_DAYS=35,
    MIGRATION_REMINDER_LEAD_DAYS=3,
    MIGRATION_FINAL_REMINDER_LEAD_HOURS=2,
    LEGACY_RETENTION_DAYS=10,
)
def test_lead_times_and_retention_come_from_settings():
    completed = WINDOW + PAUSE

    stages = by_stage(specs_for(completed_at=completed))

    assert LeadTimes.from_settings() == LeadTimes(
        timedelta(days=35), timedelta(days=3), timedelta(hours=2)
    )
    assert stages[Stage.ANNOUNCEMENT].starts_at == WINDOW - timedelta(days=35)
    assert stages[Stage.REMINDER].starts_at == WINDOW - timedelta(days=3)
    assert stages[Stage.FINAL_REMINDER].starts_at == WINDOW - timedelta(hours=2)
    assert stages[Stage.COMPLETED].ends_at == completed + timedelta(days=10)


def test_moving_the_window_moves_every_spec():
    shift = timedelta(days=9, hours=5)

    before = specs_for(completed_at=WINDOW + PAUSE)
    after = specs_for(window=WINDOW + shift, completed_at=WINDOW + shift + PAUSE)

    for old, new in zip(before, after, strict=True):
        assert new.stage == old.stage
        assert new.starts_at == old.starts_at + shift
        assert (new.ends_at - old.ends_at) == shift
        assert new.event_at == old.event_at + shift


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=4), "4 hours"),
        (timedelta(hours=3, minutes=1), "4 hours"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(hours=50), "3 days"),
    ],
)
def test_duration_words(span, words):
    assert duration_words(span) == words


# The timeline in the database, as people see it -------------------------------------------


@pytest.fixture
def plan_notices(team, member, bob, org_admin):
    return sync(team, specs_for(), at=SCHEDULED)


EDGES = [
    (WINDOW - timedelta(weeks=6) - SECOND, []),
    (WINDOW - timedelta(weeks=6), ["announcement"]),
    (WINDOW - timedelta(weeks=1) - SECOND, ["announcement"]),
    (WINDOW - timedelta(weeks=1), ["reminder"]),
    (WINDOW - timedelta(days=1) - SECOND, ["reminder"]),
    (WINDOW - timedelta(days=1), ["final-reminder"]),
    (WINDOW - SECOND, ["final-reminder"]),
    (WINDOW, ["pause"]),
    (WINDOW + timedelta(days=30), ["pause"]),
]


@pytest.mark.parametrize(("moment", "expected"), EDGES)
def test_team_member_sees_each_stage_to_the_second(plan_notices, member, moment, expected):
    with time_machine.travel(moment, tick=False):
        assert stages_seen(member, None) == expected


@pytest.mark.parametrize(("moment", "expected"), EDGES)
def test_org_admin_sees_the_same_timeline(plan_notices, org_admin, moment, expected):
    assert stages_seen(org_admin, moment) == expected


@pytest.mark.parametrize(("moment", "_"), EDGES)
def test_other_team_sees_nothing(plan_notices, bob, moment, _):
    assert stages_seen(bob, moment) == []


def test_completion_edges(team, member):
    completed = WINDOW + timedelta(hours=3, minutes=10)
    sync(team, specs_for(), at=SCHEDULED)

    sync(team, specs_for(completed_at=completed), at=completed)

    hidden_at = completed + timedelta(days=28)
    assert stages_seen(member, completed - SECOND) == ["pause"]
    assert stages_seen(member, completed) == ["completed"]
    assert stages_seen(member, hidden_at - SECOND) == ["completed"]
    assert stages_seen(member, hidden_at) == []


def test_moving_the_window_updates_the_same_notices(team, member):
    first = {n.origin_key: n for n in sync(team, specs_for(), at=SCHEDULED)}
    shift = timedelta(weeks=2)

    moved = {n.origin_key: n for n in sync(team, specs_for(WINDOW + shift), at=SCHEDULED)}

    assert set(moved) == set(first)
    assert Notice.objects.count() == len(first)
    for key, notice in moved.items():
        assert notice.pk == first[key].pk
        assert notice.starts_at == first[key].starts_at + shift
        if notice.ends_at is not None:
            assert notice.ends_at == first[key].ends_at + shift
    new_window = WINDOW + shift
    assert stages_seen(member, WINDOW) == ["announcement"]
    assert stages_seen(member, new_window - timedelta(weeks=1)) == ["reminder"]
    assert stages_seen(member, new_window - timedelta(days=1) - SECOND) == ["reminder"]
    assert stages_seen(member, new_window - SECOND) == ["final-reminder"]
    assert stages_seen(member, new_window) == ["pause"]


def test_moving_the_window_shows_dismissed_reminder_again(team, member):
    sync(team, specs_for(), at=SCHEDULED)
    reminder = Notice.objects.get(origin_key=f"migration:{PLAN_ID}:reminder")
    services.dismiss_notice(notice=reminder, user=member)
    assert stages_seen(member, WINDOW - timedelta(days=3)) == []

    sync(team, specs_for(WINDOW + timedelta(days=2)), at=WINDOW - timedelta(days=3))

    assert stages_seen(member, WINDOW - timedelta(days=3)) == ["reminder"]


def test_closer_window_ends_dropped_stages(team, member):
    sync(team, specs_for(), at=SCHEDULED)
    now = WINDOW - timedelta(weeks=5)

    # Moved to four days from now (with an override): no announcement any more.
    sync(team, specs_for(window=now + timedelta(days=4), scheduled=now), at=now)

    announcement = Notice.objects.get(origin_key=f"migration:{PLAN_ID}:announcement")
    assert announcement.ends_at == now
    assert stages_seen(member, now - SECOND) == ["announcement"]
    assert stages_seen(member, now) == ["reminder"]


def test_abort_ends_the_timeline_and_says_so(team, member):
    sync(team, specs_for(), at=SCHEDULED)
    aborted_at = WINDOW + timedelta(hours=1)

    spec = migration_aborted_spec(aborted_at=aborted_at, facts=FACTS)
    sync(team, [spec], at=aborted_at)

    assert stages_seen(member, aborted_at - SECOND) == ["pause"]
    assert stages_seen(member, aborted_at) == ["aborted"]
    assert stages_seen(member, aborted_at + timedelta(days=7)) == []
    message = Notice.objects.get(origin_key=f"migration:{PLAN_ID}:aborted").message
    assert "was cancelled" in message
    assert "writable again" in message


def test_pause_banner_cannot_be_dismissed(team, member):
    sync(team, specs_for(), at=SCHEDULED)
    pause = Notice.objects.get(origin_key=f"migration:{PLAN_ID}:pause")

    with pytest.raises(PermissionDenied):
        services.dismiss_notice(notice=pause, user=member)

    assert stages_seen(member, WINDOW + timedelta(hours=1)) == ["pause"]


def test_sync_twice_changes_nothing(team):
    sync(team, specs_for(), at=SCHEDULED)
    before = list(Notice.objects.order_by("pk").values())

    sync(team, specs_for(), at=SCHEDULED)

    assert list(Notice.objects.order_by("pk").values()) == before


def test_window_across_dst_in_person_zone(team, member):
    # The window opens at 09:00 in New York on Monday 15 March 2027, the day after clocks
    # moved from EST (UTC-5) to EDT (UTC-4). Lead times are exact durations, so the final
    # reminder starts at 09:00 EDT on the 14th, and the announcement six weeks of 24 hours
    # earlier, at 08:00 EST on 1 February.
    org_services.set_time_zone(user=member, time_zone="America/New_York")
    window = datetime(2027, 3, 15, 13, 0, tzinfo=UTC)
    sync(team, specs_for(window=window, scheduled=window - timedelta(weeks=10)), at=SCHEDULED)

    announce_at = datetime(2027, 2, 1, 13, 0, tzinfo=UTC)
    final_at = datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    assert stages_seen(member, announce_at - SECOND) == []
    assert stages_seen(member, announce_at) == ["announcement"]
    assert stages_seen(member, final_at - SECOND) == ["reminder"]
    assert stages_seen(member, final_at) == ["final-reminder"]
    assert stages_seen(member, window - SECOND) == ["final-reminder"]
    assert stages_seen(member, window) == ["pause"]

    [banner] = active_banners_for(member, now=announce_at)
    assert banner.event_local == "Mon 15 Mar 2027, 09:00 EDT"
    assert banner.event_relative == "in 6 weeks"
    [banner] = active_banners_for(member, now=final_at)
    assert banner.event_relative == "in 1 day"

"""Scheduling and moving a plan: the target name, the lead time, the estimate, the audit."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.legacy import services as legacy_services
from apps.legacy.models import LegacyRegistry
from apps.migration import services
from apps.migration.models import MigrationPlan, PlanState
from apps.orgs import services as org_services
from apps.registry import services as registry_services
from apps.registry.models import Visibility
from tests.migration.conftest import schedule, soon


def plan_events(plan) -> list[str]:
    events = AuditEvent.objects.filter(data__plan=plan.pk).order_by("id")
    return list(events.values_list("action", flat=True))


def test_target_defaults_to_team_name(small_legacy, nlp_team, support):
    plan = schedule(nlp_team, support)

    assert plan.target_name == "nlp-team"
    assert plan.target_visibility == Visibility.RESTRICTED
    assert plan.state == PlanState.SCHEDULED
    assert plan.legacy_registry == small_legacy
    assert plan.created_by == support
    assert plan_events(plan) == ["migration.scheduled"]


def test_taken_name_rejected_when_scheduling(small_legacy, nlp_team, support, org_admin, org):
    registry_services.create_registry(organization=org, name="NLP-Team", actor=org_admin)

    with pytest.raises(ValidationError) as raised:
        schedule(nlp_team, support)

    assert "The registry name 'nlp-team' is already taken in 'acme'" in raised.value.messages[0]
    assert "without regard to case" in raised.value.messages[0]
    assert not MigrationPlan.objects.exists()


def test_other_name_accepted_when_default_taken(small_legacy, nlp_team, support, org_admin, org):
    registry_services.create_registry(organization=org, name="nlp-team", actor=org_admin)

    plan = schedule(nlp_team, support, target_name="NLP models")

    assert plan.target_name == "NLP models"


def test_name_of_another_plan_rejected(small_legacy, nlp_team, support, org, team, member):
    schedule(nlp_team, support, target_name="shared-models")
    legacy_services.ensure_legacy_registry(team=team)

    with pytest.raises(ValidationError) as raised:
        schedule(team, support, target_name="Shared-Models")

    assert "already the target of the migration of the team 'nlp-team'" in raised.value.messages[0]


def test_invalid_target_name_rejected(small_legacy, nlp_team, support):
    with pytest.raises(ValidationError) as raised:
        schedule(nlp_team, support, target_name="nlp/models")

    assert "contains '/'" in raised.value.messages[0]


def test_short_lead_needs_override(small_legacy, nlp_team, support):
    with pytest.raises(ValidationError) as raised:
        schedule(nlp_team, support, window_start=soon(days=27))

    assert "less than 28 days" in raised.value.messages[0]
    assert "override reason" in raised.value.messages[0]
    assert not MigrationPlan.objects.exists()


def test_blank_override_reason_rejected(small_legacy, nlp_team, support):
    with pytest.raises(ValidationError):
        schedule(nlp_team, support, window_start=soon(days=3), override_reason="   ")


def test_short_lead_with_override_accepted(small_legacy, nlp_team, support):
    plan = schedule(
        nlp_team, support, window_start=soon(days=3), override_reason="  Legal deadline.  "
    )

    assert plan.override_reason == "Legal deadline."
    event = AuditEvent.objects.get(action="migration.scheduled")
    assert event.data["override_reason"] == "Legal deadline."


def test_lead_time_is_a_setting(small_legacy, nlp_team, support, settings):
    settings.MIGRATION_MIN_LEAD_DAYS = 2

    plan = schedule(nlp_team, support, window_start=soon(days=3))

    assert plan.override_reason == ""


def test_lead_edge_exactly_four_weeks(small_legacy, nlp_team, support):
    now = timezone.now()

    plan = services.schedule_migration(
        team=nlp_team, window_start=now + timedelta(days=28), actor=support, now=now
    )

    assert plan.window_start == now + timedelta(days=28)


def test_lead_edge_one_second_short(small_legacy, nlp_team, support):
    now = timezone.now()

    with pytest.raises(ValidationError):
        services.schedule_migration(
            team=nlp_team,
            window_start=now + timedelta(days=28, seconds=-1),
            actor=support,
            now=now,
        )


def test_past_window_rejected(small_legacy, nlp_team, support):
    with pytest.raises(ValidationError) as raised:
        schedule(
            nlp_team,
            support,
            window_start=timezone.now() - timedelta(minutes=1),
            override_reason="late",
        )

    assert "is in the past" in raised.value.messages[0]


def test_estimate_from_counts_and_rate(small_legacy, nlp_team, support, settings):
    settings.MIGRATION_COPY_ROWS_PER_SECOND = 10
    settings.MIGRATION_PAUSE_MARGIN_SECONDS = 5

    plan = schedule(nlp_team, support)

    counts = services.copy.count_source_rows(small_legacy, Visibility.RESTRICTED)
    assert counts["collections"] == 3
    assert counts["links"] == 6
    assert counts["aliases"] == 4
    assert counts["protected_aliases"] == 1
    assert counts["grants"] == 6
    assert plan.estimated_rows == sum(counts.values())
    assert plan.estimated_pause_seconds == -(-plan.estimated_rows // 10) + 5


def test_only_support_schedules(small_legacy, nlp_team, nlp_people, org_admin):
    for person in (org_admin, nlp_people["nadia"]):
        with pytest.raises(PermissionDenied) as raised:
            schedule(nlp_team, person)
        assert "support console permission" in str(raised.value)

    assert not MigrationPlan.objects.exists()


def test_team_without_legacy_registry_rejected(org, support):
    team = org_services.create_team(organization=org, name="vision-team")

    with pytest.raises(ValidationError) as raised:
        schedule(team, support)

    assert "has no legacy Model Registry" in raised.value.messages[0]


def test_second_plan_for_team_rejected(small_legacy, nlp_team, support):
    schedule(nlp_team, support)

    with pytest.raises(ValidationError) as raised:
        schedule(nlp_team, support, target_name="nlp-two", window_start=soon(40))

    assert "already has a migration plan" in raised.value.messages[0]


def test_migrated_team_rejected(small_legacy, nlp_team, support):
    LegacyRegistry.objects.filter(pk=small_legacy.pk).update(read_only_since=timezone.now())

    with pytest.raises(ValidationError) as raised:
        schedule(nlp_team, support)

    assert "already been migrated" in raised.value.messages[0]


def test_aborted_plan_frees_team_and_name(small_legacy, nlp_team, support):
    first = schedule(nlp_team, support)
    services.abort_migration(plan=first, actor=support)

    second = schedule(nlp_team, support)

    assert second.target_name == first.target_name
    assert MigrationPlan.objects.get(pk=first.pk).state == PlanState.ABORTED


def test_unknown_time_zone_rejected(small_legacy, nlp_team, support):
    with pytest.raises(ValidationError) as raised:
        schedule(nlp_team, support, time_zone="Mars/Olympus")

    assert "not a known time zone" in raised.value.messages[0]


def test_move_window_rechecks_lead(small_legacy, nlp_team, support):
    plan = schedule(nlp_team, support)
    later = soon(days=50)

    moved = services.move_window(plan=plan, window_start=later, actor=support)

    assert moved.window_start == later
    with pytest.raises(ValidationError):
        services.move_window(plan=plan, window_start=soon(days=2), actor=support)
    moved = services.move_window(
        plan=plan, window_start=soon(days=2), override_reason="Team asked", actor=support
    )
    assert moved.override_reason == "Team asked"
    assert plan_events(plan) == ["migration.scheduled", "migration.moved", "migration.moved"]
    event = AuditEvent.objects.filter(action="migration.moved").first()
    assert event.data["to"] == later.isoformat()


def test_move_window_keeps_earlier_override(small_legacy, nlp_team, support):
    plan = schedule(nlp_team, support, window_start=soon(days=5), override_reason="Deadline")

    moved = services.move_window(plan=plan, window_start=soon(days=6), actor=support)

    assert moved.override_reason == "Deadline"


def test_started_plan_cannot_move(small_legacy, nlp_team, support):
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)

    with pytest.raises(ValidationError) as raised:
        services.move_window(plan=plan, window_start=soon(40), actor=support)

    assert "Only a scheduled plan can be moved; this one is copying" in raised.value.messages[0]

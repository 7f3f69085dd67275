"""The scheduler tick: due plans start once, lost jobs are queued again."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings as site_settings
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.migration import services, tasks
from apps.migration.models import MigrationPlan, PlanState
from tests.migration.conftest import schedule


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, int]]:
    """Record the jobs the tick queues instead of running them."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks, "enqueue_copy", lambda plan_id: calls.append(("copy", plan_id)))
    monkeypatch.setattr(tasks, "enqueue_verify", lambda plan_id: calls.append(("verify", plan_id)))
    return calls


def make_due(plan, minutes: int = 1) -> None:
    MigrationPlan.objects.filter(pk=plan.pk).update(
        window_start=timezone.now() - timedelta(minutes=minutes)
    )


def started_events(plan) -> int:
    return AuditEvent.objects.filter(action="migration.started", data__plan=plan.pk).count()


def test_beat_runs_tick_every_minute():
    entry = site_settings.CELERY_BEAT_SCHEDULE["migration-start-due-plans"]

    assert entry["task"] == tasks.start_due_migrations.name
    assert entry["schedule"] == 60.0


def test_tick_starts_due_plan(small_legacy, nlp_team, support, django_capture_on_commit_callbacks):
    plan = schedule(nlp_team, support)
    make_due(plan)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.start_due_migrations()

    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED, plan.failure
    event = AuditEvent.objects.get(action="migration.started", data__plan=plan.pk)
    assert event.actor is None
    assert event.data["due_only"] is True


def test_tick_leaves_future_plan(small_legacy, nlp_team, support, queued):
    plan = schedule(nlp_team, support)

    tasks.start_due_migrations()

    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.SCHEDULED
    assert queued == []


def test_two_ticks_start_once(
    small_legacy, nlp_team, support, queued, django_capture_on_commit_callbacks
):
    plan = schedule(nlp_team, support)
    make_due(plan)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.start_due_migrations()
        tasks.start_due_migrations()

    assert started_events(plan) == 1
    assert queued == [("copy", plan.pk)]


def test_moved_plan_not_started_by_stale_read(small_legacy, nlp_team, support, queued):
    plan = schedule(nlp_team, support)
    stale = MigrationPlan.objects.get(pk=plan.pk)
    make_due(stale)
    stale.refresh_from_db()
    # The window moves out between the tick's query and its start call.
    MigrationPlan.objects.filter(pk=plan.pk).update(window_start=timezone.now() + timedelta(days=9))

    assert services.start_migration(plan=stale, due_only=True) is False
    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.SCHEDULED


def test_stalled_plan_queued_again(small_legacy, nlp_team, support, queued, settings):
    settings.MIGRATION_STALL_SECONDS = 60
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)
    stalled_at = timezone.now() - timedelta(seconds=61)
    MigrationPlan.objects.filter(pk=plan.pk).update(progress_at=stalled_at)

    tasks.start_due_migrations()
    tasks.start_due_migrations()

    assert queued == [("copy", plan.pk)]
    assert MigrationPlan.objects.get(pk=plan.pk).progress_at > stalled_at


def test_stalled_verification_queued_again(small_legacy, nlp_team, support, queued, settings):
    settings.MIGRATION_STALL_SECONDS = 60
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)
    MigrationPlan.objects.filter(pk=plan.pk).update(
        state=PlanState.VERIFYING, progress_at=timezone.now() - timedelta(minutes=5)
    )

    tasks.start_due_migrations()

    assert queued == [("verify", plan.pk)]


def test_recent_progress_not_queued(small_legacy, nlp_team, support, queued):
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)

    tasks.start_due_migrations()

    assert queued == []


def test_resume_from_console_queues_job(
    small_legacy, nlp_team, support, queued, django_capture_on_commit_callbacks
):
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)

    with django_capture_on_commit_callbacks(execute=True):
        services.resume_migration(plan=plan, actor=support)

    assert queued == [("copy", plan.pk)]
    assert AuditEvent.objects.filter(action="migration.resumed", data__plan=plan.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_start_once(small_legacy, nlp_team, support, queued):
    plan = schedule(nlp_team, support)
    make_due(plan)

    def tick() -> None:
        try:
            tasks.start_due_migrations()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(tick) for _ in range(8)]:
            future.result()

    assert started_events(plan) == 1
    assert queued == [("copy", plan.pk)]
    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.RUNNING

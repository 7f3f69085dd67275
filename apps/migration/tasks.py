"""Celery tasks of the migration: the copy chain, the verification and the scheduler tick.

Each copy task takes a plan id, copies one chunk (apps.migration.copy) and queues the next
task once its chunk has committed, so the job is a chain of small tasks. Tasks are
acknowledged late: a worker killed mid-task gets the message re-delivered, and the re-run
starts from the plan's checkpoint.

Without a broker (the embedded default, Celery eager), the chain cannot queue itself without
recursing, so the same chunks run in a loop in a background thread of the web process.
"""

import logging
import threading
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connections
from django.utils import timezone

from apps.migration import copy, services
from apps.migration.models import MigrationPlan, PlanState

logger = logging.getLogger(__name__)


def _eager() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def enqueue_copy(plan_id: int) -> None:
    """Start or continue the copy of a running plan."""
    if not _eager():
        copy_chunk.delay(plan_id)
    elif settings.MIGRATION_EAGER_THREAD:
        _start_thread(plan_id)
    else:
        run_copy(plan_id)


def enqueue_verify(plan_id: int) -> None:
    if not _eager():
        verify_plan.delay(plan_id)
    elif settings.MIGRATION_EAGER_THREAD:
        _start_thread(plan_id)
    else:
        _verify_or_fail(plan_id)


def _start_thread(plan_id: int) -> None:
    thread = threading.Thread(
        target=_run_in_thread, args=(plan_id,), name=f"migration-plan-{plan_id}", daemon=True
    )
    thread.start()


def _run_in_thread(plan_id: int) -> None:
    try:
        run_copy(plan_id)
    finally:
        connections.close_all()


def run_copy(plan_id: int) -> str | None:
    """Copy every remaining chunk of a plan in this process, then verify it.

    Returns the plan's state at the end. A plan that is verifying already is only verified.
    """
    logger.info("Migration plan %s: copy running in process", plan_id)
    while True:
        outcome = _copy_chunk_or_fail(plan_id)
        if outcome is copy.Outcome.STOPPED:
            break
        if outcome is copy.Outcome.FINISHED:
            break
    _verify_or_fail(plan_id)
    return MigrationPlan.objects.filter(pk=plan_id).values_list("state", flat=True).first()


def _copy_chunk_or_fail(plan_id: int) -> copy.Outcome:
    try:
        return copy.copy_next_chunk(plan_id)
    except copy.SimulatedCrash:
        raise
    except Exception as error:
        logger.exception("Migration plan %s: a copy chunk failed", plan_id)
        services.fail_migration(plan_id, reason=_describe(error))
        return copy.Outcome.STOPPED


def _verify_or_fail(plan_id: int) -> None:
    try:
        services.verify_migration(plan_id)
    except copy.SimulatedCrash:
        raise
    except Exception as error:
        logger.exception("Migration plan %s: verification failed to run", plan_id)
        services.fail_migration(plan_id, reason=f"Verification could not run: {_describe(error)}")


def _describe(error: Exception) -> str:
    if isinstance(error, copy.TargetNameTaken):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _queue_of(task) -> str | None:
    """Return the queue the running task came from, so the chain stays on it."""
    return (task.request.delivery_info or {}).get("routing_key")


@shared_task(bind=True, name="migration.copy_chunk", acks_late=True, ignore_result=True)
def copy_chunk(self, plan_id: int) -> None:
    outcome = _copy_chunk_or_fail(plan_id)
    # The chunk has committed: a crash from here on re-delivers this message, which copies
    # the next slice, so the chain goes on either way.
    if outcome in (copy.Outcome.COPIED, copy.Outcome.STEP_DONE):
        copy_chunk.apply_async(args=[plan_id], queue=_queue_of(self))
    elif outcome is copy.Outcome.FINISHED:
        verify_plan.apply_async(args=[plan_id], queue=_queue_of(self))


@shared_task(name="migration.verify_plan", acks_late=True, ignore_result=True)
def verify_plan(plan_id: int) -> None:
    _verify_or_fail(plan_id)


@shared_task(name="migration.start_due_migrations", ignore_result=True)
def start_due_migrations() -> None:
    """Start every plan whose window has come, and queue again plans whose task was lost.

    Celery beat runs this every minute. A plan counts as lost when its progress has not
    moved for MIGRATION_STALL_SECONDS; queueing it again is safe even if its task was only
    slow, because chunks wait for the plan's row lock and re-read the checkpoint.
    """
    now = timezone.now()
    due = MigrationPlan.objects.filter(state=PlanState.SCHEDULED, window_start__lte=now)
    for plan in due.order_by("window_start"):
        try:
            services.start_migration(plan=plan, due_only=True, now=now)
        except Exception:
            logger.exception("Migration plan %s: could not start", plan.pk)

    stalled_before = now - timedelta(seconds=settings.MIGRATION_STALL_SECONDS)
    stalled = MigrationPlan.objects.filter(
        state__in=(PlanState.RUNNING, PlanState.VERIFYING), progress_at__lt=stalled_before
    )
    for plan_id, state in stalled.values_list("pk", "state"):
        # Only the first scheduler to move the heartbeat queues the plan again.
        if MigrationPlan.objects.filter(
            pk=plan_id, state=state, progress_at__lt=stalled_before
        ).update(progress_at=now):
            logger.warning("Migration plan %s made no progress; queueing it again", plan_id)
            services.requeue(plan_id, state)

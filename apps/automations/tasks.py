"""Delivery of executions: one attempt per task run, retried with exponential backoff.

Every run re-reads the execution, so it is safe to run twice or at once with another run of
the same execution. A run sends only while the execution is pending and its next attempt is
due, and only after it took the execution's lease with one conditional UPDATE. A run that is
too early, or finds the lease taken, queues itself again for when it can go on. So a message
that the broker delivers again after a worker died still finishes the execution.

Without a broker (Celery's eager mode, the embedded default) a delivery runs in a background
thread of the web process, so a request never waits for a webhook endpoint.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from apps.automations import delivery
from apps.automations.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Execution,
    ExecutionStatus,
)

logger = logging.getLogger(__name__)

# A pending execution untouched for this long has lost its queued task, for example to a
# broker outage at commit time or to a web process that stopped during a delivery. The
# sweeper and `manage.py deliver_stalled_webhooks` pick it up again.
STALLED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Step:
    """The remaining work of a run: none (settled), or another run in `delay` seconds."""

    delay: float | None = None
    # True when another run holds the lease, so this run did not send anything.
    busy: bool = False


def backoff_seconds(attempt_number: int) -> float:
    """Return the wait after failed attempt `attempt_number` (1-based): base * 2^(n-1), capped."""
    base = settings.AUTOMATIONS_RETRY_BACKOFF_SECONDS
    return min(settings.AUTOMATIONS_RETRY_BACKOFF_MAX_SECONDS, base * 2 ** (attempt_number - 1))


def _lease_duration() -> timedelta:
    # Longer than one request can take, so a lease only expires when its holder died.
    timeouts = settings.AUTOMATIONS_CONNECT_TIMEOUT + settings.AUTOMATIONS_READ_TIMEOUT
    return timedelta(seconds=timeouts + 30)


def _seconds_until(moment: datetime) -> float:
    return max(0.0, (moment - timezone.now()).total_seconds())


def _claim(execution_id: int, now: datetime) -> bool:
    return bool(
        Execution.objects.filter(pk=execution_id, status=ExecutionStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(lease_expires_at=now + _lease_duration())
    )


def _send(execution: Execution) -> delivery.SendResult:
    integration = execution.automation.integration
    if integration is None:
        return delivery.SendResult(
            succeeded=False,
            retryable=False,
            duration_ms=0,
            error="The automation's integration was deleted; nothing was sent.",
        )
    return delivery.send(
        integration,
        execution.body,
        event_type=execution.event_type,
        delivery_id=str(execution.pk),
    )


def _record(execution: Execution, result: delivery.SendResult, started_at: datetime) -> Step:
    number = execution.attempt_count + 1
    max_attempts = settings.AUTOMATIONS_MAX_ATTEMPTS
    will_retry = not result.succeeded and result.retryable and number < max_attempts
    if result.succeeded:
        outcome = AttemptOutcome.SUCCEEDED
    elif will_retry:
        outcome = AttemptOutcome.RETRYING
    else:
        outcome = AttemptOutcome.FAILED

    now = timezone.now()
    changes: dict[str, object] = {"attempt_count": number, "lease_expires_at": None}
    if result.succeeded:
        changes.update(status=ExecutionStatus.FINISHED, finished_at=now, error="")
    elif will_retry:
        delay = backoff_seconds(number)
        changes.update(next_attempt_at=now + timedelta(seconds=delay), error=result.error)
    else:
        error = result.error
        if result.retryable:
            error = f"{error} Gave up after {number} attempts."
        changes.update(status=ExecutionStatus.FAILED, finished_at=now, error=error)

    try:
        with transaction.atomic():
            DeliveryAttempt.objects.create(
                execution=execution,
                number=number,
                outcome=outcome,
                started_at=started_at,
                duration_ms=result.duration_ms,
                response_code=result.response_code,
                response_excerpt=result.response_excerpt,
                error=result.error,
            )
            Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(
                **changes
            )
    except IntegrityError:
        # Another run recorded this attempt number after this run's lease expired.
        logger.warning("Execution %s: attempt %s was already recorded", execution.pk, number)
        return Step()

    logger.info(
        "Execution %s attempt %s: %s (status %s, %s ms)%s",
        execution.pk,
        number,
        outcome,
        result.response_code,
        result.duration_ms,
        f": {result.error}" if result.error else "",
    )
    return Step(delay=backoff_seconds(number)) if will_retry else Step()


def attempt_delivery(execution_id: int) -> Step:
    """Make the execution's next attempt if it is due; return what remains to do."""
    execution = (
        Execution.objects.select_related("automation__integration").filter(pk=execution_id).first()
    )
    if execution is None or execution.status != ExecutionStatus.PENDING:
        return Step()
    now = timezone.now()
    if execution.next_attempt_at is not None and execution.next_attempt_at > now:
        return Step(delay=_seconds_until(execution.next_attempt_at))
    if not _claim(execution_id, now):
        lease = Execution.objects.filter(pk=execution_id).values_list("lease_expires_at", flat=True)
        expires = lease.first()
        return Step(delay=_seconds_until(expires) if expires else 0.0, busy=True)

    result = _send(execution)
    return _record(execution, result, started_at=now)


def deliver_until_settled(execution_id: int) -> None:
    """Make attempts in this thread, sleeping out the backoff, until the execution settles."""
    while True:
        step = attempt_delivery(execution_id)
        if step.delay is None or step.busy:
            return
        time.sleep(step.delay)


@shared_task(name="automations.deliver_execution", bind=True, ignore_result=True)
def deliver_execution(self, execution_id: int) -> None:
    if self.request.is_eager:
        # No broker to hold a countdown: the waits happen here.
        deliver_until_settled(execution_id)
        return
    step = attempt_delivery(execution_id)
    if step.delay is not None:
        deliver_execution.apply_async((execution_id,), countdown=step.delay)


def _deliver_in_thread(execution_id: int) -> None:
    close_old_connections()
    try:
        deliver_until_settled(execution_id)
    except Exception:
        logger.exception("Execution %s: delivery in a background thread failed", execution_id)
    finally:
        connections.close_all()


def enqueue_delivery(execution_id: int) -> None:
    """Start delivering an execution; called once the transaction that created it commits.

    A delivery thread is a daemon, so it ends with its process: executions it left pending
    are finished by `manage.py deliver_stalled_webhooks`, or by the sweeper where beat runs.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER and settings.AUTOMATIONS_DELIVER_IN_THREAD:
        threading.Thread(
            target=_deliver_in_thread,
            args=(execution_id,),
            name=f"webhook-execution-{execution_id}",
            daemon=True,
        ).start()
        return
    deliver_execution.delay(execution_id)


def stalled_execution_ids(limit: int = 1000) -> list[int]:
    """Return pending executions that no task has touched for STALLED_AFTER, oldest first."""
    cutoff = timezone.now() - STALLED_AFTER
    stalled = (
        Execution.objects.filter(status=ExecutionStatus.PENDING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=cutoff))
        .filter(
            Q(next_attempt_at__isnull=True, created_at__lte=cutoff) | Q(next_attempt_at__lte=cutoff)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(stalled[:limit])


@shared_task(name="automations.requeue_stalled_executions", ignore_result=True)
def requeue_stalled_executions() -> int:
    """Queue again the pending executions whose task was lost; return how many."""
    ids = stalled_execution_ids()
    for execution_id in ids:
        enqueue_delivery(execution_id)
    if ids:
        logger.info("Queued %s stalled executions again", len(ids))
    return len(ids)

"""The delivery task outside the request: background threads, the sweeper and the backoff."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.automations.models import Execution, ExecutionStatus
from apps.automations.tasks import backoff_seconds, requeue_stalled_executions
from apps.registry import services as registry_services
from tests.conftest import log_version

WAIT_SECONDS = 30


def wait_for_status(execution_id: int, status: str) -> Execution:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        execution = Execution.objects.get(pk=execution_id)
        if execution.status == status:
            return execution
        time.sleep(0.05)
    pytest.fail(f"execution {execution_id} not {status} after {WAIT_SECONDS}s")


@pytest.mark.django_db(transaction=True)
def test_slow_endpoint_does_not_hold_write(
    make_automation, collection, project, member, receiver, settings
):
    settings.AUTOMATIONS_DELIVER_IN_THREAD = True
    settings.AUTOMATIONS_READ_TIMEOUT = WAIT_SECONDS
    receiver.requests_to_hold = 1
    make_automation()

    link = registry_services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )

    # The write has returned while the endpoint has not replied to the delivery yet.
    assert link.index == 0
    assert receiver.arrived.wait(timeout=WAIT_SECONDS)
    execution = Execution.objects.get()
    assert execution.status == ExecutionStatus.PENDING
    assert execution.attempts.count() == 0
    receiver.release.set()
    finished = wait_for_status(execution.pk, ExecutionStatus.FINISHED)
    assert finished.attempts.get().response_code == 200


def test_sweeper_requeues_stalled_execution(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()
    # The write commits but its queued delivery is lost (the callbacks never run).
    with django_capture_on_commit_callbacks(execute=False):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )
    execution = Execution.objects.get()
    Execution.objects.filter(pk=execution.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    requeued = requeue_stalled_executions()

    assert requeued == 1
    assert Execution.objects.get().status == ExecutionStatus.FINISHED
    assert len(receiver.requests) == 1


def test_sweeper_leaves_fresh_executions(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()
    with django_capture_on_commit_callbacks(execute=False):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    requeued = requeue_stalled_executions()

    assert requeued == 0
    assert Execution.objects.get().status == ExecutionStatus.PENDING
    assert receiver.requests == []


def test_backoff_doubles_up_to_cap(settings):
    settings.AUTOMATIONS_RETRY_BACKOFF_SECONDS = 10
    settings.AUTOMATIONS_RETRY_BACKOFF_MAX_SECONDS = 600

    waits = [backoff_seconds(attempt) for attempt in range(1, 9)]

    assert waits == [10, 20, 40, 80, 160, 320, 600, 600]


def test_command_delivers_stalled(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    make_automation()
    with django_capture_on_commit_callbacks(execute=False):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )
    execution = Execution.objects.get()
    Execution.objects.filter(pk=execution.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    output = StringIO()

    call_command("deliver_stalled_webhooks", stdout=output)

    assert output.getvalue() == f"Execution {execution.pk}: finished after 1 attempt(s).\n"
    assert len(receiver.requests) == 1

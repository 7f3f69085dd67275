"""A webhook delivered by a real Celery worker through Redis, retry included.

The worker reads the test's PostgreSQL database, so this runs in the PostgreSQL pass only.
The site's Celery app stays eager in the test process, so the test hands the execution to the
broker itself, under the task's own name, where the site would call `delay`.
"""

import base64
import hashlib
import hmac
import time

import pytest
from django.db import connection

from apps.automations import events
from apps.automations.models import Execution, ExecutionStatus
from apps.registry import services as registry_services
from tests.automations.conftest import SECRET
from tests.conftest import log_version
from tests.worker.conftest import (  # noqa: F401 (fixtures)
    TASK_TIMEOUT_SECONDS,
    broker,
    start_worker,
    worker_logs,
)

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def database_url() -> str:
    settings = connection.settings_dict
    credentials = settings["USER"]
    if settings["PASSWORD"]:
        credentials += f":{settings['PASSWORD']}"
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings['NAME']}"


def wait_until_settled(execution_id: int, worker) -> Execution:
    deadline = time.monotonic() + TASK_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        execution = Execution.objects.get(pk=execution_id)
        if execution.status != ExecutionStatus.PENDING:
            return execution
        time.sleep(0.2)
    pytest.fail(
        f"execution {execution_id} still pending after {TASK_TIMEOUT_SECONDS}s\n{worker.log_tail()}"
    )


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_after_retry(
    broker,  # noqa: F811
    start_worker,  # noqa: F811
    receiver,
    make_automation,
    collection,
    project,
    member,
    monkeypatch,
):
    # The worker's retries go to Celery's default queue, so the worker consumes that one;
    # the session's key prefix keeps it apart from any other run.
    worker = start_worker(
        "celery",
        "automations",
        DATABASE_URL=database_url(),
        AUTOMATIONS_ALLOW_PRIVATE_TARGETS="1",
        AUTOMATIONS_RETRY_BACKOFF_SECONDS="1",
        AUTOMATIONS_MAX_ATTEMPTS="3",
    )
    worker.wait_ready()
    monkeypatch.setattr(
        events,
        "enqueue_delivery",
        lambda execution_id: broker.client.send_task(
            "automations.deliver_execution", args=[execution_id], queue=worker.queue
        ),
    )
    receiver.replies = [(502, "upstream restarting")]
    make_automation()

    registry_services.link_version(
        collection=collection, version=log_version(project, member), actor=member
    )

    (pending,) = Execution.objects.all()
    execution = wait_until_settled(pending.pk, worker)
    assert execution.status == ExecutionStatus.FINISHED, worker.log_tail()
    first, second = execution.attempts.all()
    assert (first.outcome, first.response_code) == ("retrying", 502)
    assert (second.outcome, second.response_code) == ("succeeded", 200)
    assert len(receiver.requests) == 2
    request = receiver.requests[1]
    signature = hmac.new(SECRET.encode(), request.body, hashlib.sha256).digest()
    assert request.headers["X-Registry-Signature"] == base64.b64encode(signature).decode()
    assert request.json()["version"] == "acme/wandb-registry-model/fraud-detector:v0"

"""The copy job on real Celery workers over Redis, SIGKILLed several times mid-copy.

Each kill takes the worker and its pool process down at once, at whatever point the copy
is: inside a chunk's transaction, between a commit and queueing the next task, or while
idle. A fresh worker on the same queue takes the unacknowledged message back from Redis
after the visibility timeout and the job continues from its checkpoint. The result must be
the exact copy an unbroken run makes.
"""

import time

import pytest
from django.db import connection

from apps.migration import services, tasks, verification
from apps.migration.models import MigrationPlan, PlanState
from tests.migration.conftest import dump_legacy, schedule
from tests.migration.test_end_to_end import (
    check_aliases,
    check_collections,
    check_finish,
    check_history,
    check_links,
    check_permissions,
    check_report,
)
from tests.worker.conftest import broker, start_worker, worker_logs  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.worker]

QUEUE = "migration-kill"
# Redis hands an unacknowledged message to another worker after this many seconds.
VISIBILITY_TIMEOUT = "3"
WAIT_SECONDS = 180
# Kill the worker once the copy has passed each of these fractions of its rows.
KILL_AT = (0.1, 0.3, 0.5, 0.7)
CHUNK_ROWS = "10"


def database_url() -> str:
    """The URL of the test database, for worker processes started from this test."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    port = settings["PORT"] or 5432
    return f"postgres://{settings['USER']}{password}@{settings['HOST']}:{port}/{settings['NAME']}"


def wait_for(condition, worker, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        plan = condition()
        if plan is not None:
            return plan
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(60)}")


@pytest.mark.django_db(transaction=True)
def test_sigkilled_workers_leave_exact_copy(
    nlp_legacy,
    nlp_team,
    nlp_people,
    support,
    org_admin,
    member,
    outsider,
    broker,  # noqa: F811
    start_worker,  # noqa: F811
    monkeypatch,
):
    legacy_before = dump_legacy(nlp_legacy)
    measures_before = verification.measure_legacy(nlp_legacy, "restricted")
    plan = schedule(nlp_team, support)
    # The workers below run the job; this process must not run it when the start commits.
    monkeypatch.setattr(tasks, "enqueue_copy", lambda plan_id: None)
    services.start_migration(plan=plan, actor=support)
    environment = {
        "DATABASE_URL": database_url(),
        "MIGRATION_CHUNK_ROWS": CHUNK_ROWS,
        "TEST_CELERY_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT,
    }

    worker = start_worker(QUEUE, "copier", **environment)
    worker.wait_ready()
    broker.client.send_task(tasks.copy_chunk.name, args=[plan.pk], queue=QUEUE)
    total = MigrationPlan.objects.get(pk=plan.pk).rows_total
    kills = []
    for fraction in KILL_AT:

        def passed(fraction=fraction):
            current = MigrationPlan.objects.get(pk=plan.pk)
            done = current.state != PlanState.RUNNING
            return current if done or current.rows_copied >= fraction * total else None

        current = wait_for(passed, worker, f"{fraction:.0%} of the copy")
        if current.state != PlanState.RUNNING:
            break
        worker.kill()
        kills.append(MigrationPlan.objects.get(pk=plan.pk).rows_copied)
        worker = start_worker(QUEUE, "copier", **environment)
        worker.wait_ready()

    def finished():
        current = MigrationPlan.objects.get(pk=plan.pk)
        return current if current.state in (PlanState.COMPLETED, PlanState.FAILED) else None

    plan = wait_for(finished, worker, "the plan to finish")

    assert len(kills) == len(KILL_AT), f"the copy ended after {len(kills)} kills"
    assert all(0 < rows < total for rows in kills), kills
    assert plan.state == PlanState.COMPLETED, f"{plan.failure}\n{worker.log_tail(60)}"
    check_report(plan, measures_before)
    assert dump_legacy(nlp_legacy) == legacy_before
    check_collections(plan, nlp_legacy)
    check_links(plan, nlp_legacy)
    check_aliases(plan, nlp_legacy)
    check_history(plan, nlp_legacy)
    check_permissions(plan, nlp_people, org_admin, member, outsider)
    check_finish(plan, nlp_legacy)

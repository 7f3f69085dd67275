"""Two workers copying one plan at once, and the checksum computed by PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.migration import copy, services, verification
from apps.migration.models import PlanState
from apps.migration.tasks import run_copy
from tests.migration.conftest import dump_target, rolled_back, schedule

pytestmark = pytest.mark.postgres


def in_thread(function, *args):
    try:
        return function(*args)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_workers_at_once_copy_each_row_once(small_legacy, nlp_team, support, settings):
    settings.MIGRATION_CHUNK_ROWS = 2
    plan = schedule(nlp_team, support)
    plan_id = plan.pk
    # Start without running the job on commit: the threads below are the workers.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("apps.migration.tasks.enqueue_copy", lambda plan_id: None)
        services.start_migration(plan=plan, actor=support)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(in_thread, run_copy, plan_id) for _ in range(4)]:
            future.result()

    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED, plan.failure
    assert plan.verification["ok"] is True
    assert plan.rows_copied == plan.rows_total
    history = next(kind for kind in plan.verification["kinds"] if kind["name"] == "history")
    assert history["target"]["count"] == history["legacy"]["count"] > 10


@pytest.mark.django_db(transaction=True)
def test_redelivered_chunks_copy_nothing_twice(small_legacy, nlp_team, support, settings):
    """Many deliveries of the chunk task for one plan, at once, end in one exact copy."""
    settings.MIGRATION_CHUNK_ROWS = 3
    plan = schedule(nlp_team, support)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("apps.migration.tasks.enqueue_copy", lambda plan_id: None)
        services.start_migration(plan=plan, actor=support)

    outcomes = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        while not outcomes or copy.Outcome.FINISHED not in outcomes:
            futures = [pool.submit(in_thread, copy.copy_next_chunk, plan.pk) for _ in range(6)]
            outcomes.extend(future.result() for future in futures)
    services.verify_migration(plan.pk)

    plan.refresh_from_db()
    assert outcomes.count(copy.Outcome.FINISHED) == 1
    assert plan.state == PlanState.COMPLETED, plan.failure
    assert plan.rows_copied == plan.rows_total


def test_database_checksum_equals_python(small_legacy, nlp_team, support):
    with rolled_back():
        plan = schedule(nlp_team, support)
        services.start_migration(plan=plan, actor=support)
        run_copy(plan.pk)
        plan.refresh_from_db()
        dump = dump_target(plan.target_registry)
        params = {"legacy": plan.legacy_registry_id, "registry": plan.target_registry_id}
        for kind in verification.KINDS:
            for sql in (kind.legacy_sql, kind.target_sql):
                keys = list(verification._keys(sql, params).elements())
                assert verification._measure(sql, params) == verification._measure_keys(keys)
    assert dump["collections"]

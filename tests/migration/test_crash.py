"""A crash at any durable step of the job: the resumed run ends exactly like an unbroken one.

The job calls copy.crash_hook at each durable step: before and after each chunk's commit,
before and after each step change, between steps, and around the verification's commit. A
test hook raises SimulatedCrash at the n-th call, which unwinds the job like a killed worker
would (an open transaction rolls back, a committed one stays). Then the job runs again, as
the re-delivered task would, and the target is compared with an uninterrupted run's by a
canonical dump. Each run happens inside a transaction that is rolled back afterwards, so
every run starts from the same legacy rows.
"""

import math

import pytest
from django.db.models import Count

from apps.migration import copy, services
from apps.migration.models import MigrationPlan, PlanState
from apps.migration.tasks import run_copy
from apps.registry.models import Collection
from tests.migration.conftest import dump_legacy, dump_target, rolled_back, schedule


class CrashAt:
    """A crash hook that records every durable step and raises at the n-th one."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.crash_at = crash_at
        self.points: list[str] = []

    def __call__(self, point: str) -> None:
        self.points.append(point)
        if self.crash_at is not None and len(self.points) - 1 == self.crash_at:
            raise copy.SimulatedCrash(point)


def outcome(plan_id: int) -> dict:
    plan = MigrationPlan.objects.get(pk=plan_id)
    return {
        "state": plan.state,
        "rows": (plan.rows_copied, plan.rows_total),
        "ok": plan.verification.get("ok"),
        "target": dump_target(plan.target_registry),
        "miscounted": miscounted(plan.target_registry),
    }


def miscounted(registry) -> list[tuple[str, int, int]]:
    """List the collections whose stored version count differs from their number of links."""
    collections = Collection.objects.filter(registry=registry).annotate(links_now=Count("links"))
    return sorted(
        (collection.name, collection.version_count, collection.links_now)
        for collection in collections
        if collection.version_count != collection.links_now
    )


def reference_run(team, support, monkeypatch) -> tuple[dict, list[str]]:
    hook = CrashAt()
    monkeypatch.setattr(copy, "crash_hook", hook)
    with rolled_back():
        plan = schedule(team, support)
        services.start_migration(plan=plan, actor=support)
        run_copy(plan.pk)
        reference = outcome(plan.pk)
    monkeypatch.setattr(copy, "crash_hook", None)
    return reference, hook.points


def crashed_run(team, support, monkeypatch, crash_at: int) -> tuple[dict, str]:
    """Crash at the given durable step, resume, and return the result and the step."""
    hook = CrashAt(crash_at)
    with rolled_back():
        plan = schedule(team, support)
        services.start_migration(plan=plan, actor=support)
        monkeypatch.setattr(copy, "crash_hook", hook)
        with pytest.raises(copy.SimulatedCrash) as crashed:
            run_copy(plan.pk)
        monkeypatch.setattr(copy, "crash_hook", None)
        run_copy(plan.pk)
        result = outcome(plan.pk)
    return result, str(crashed.value)


def expected_points(legacy, chunk_rows: int) -> int:
    """Durable steps of an unbroken run: 2 per chunk, 3 per step change, 2 for verifying.

    The registry and grants steps are one chunk each, whatever their row count.
    """
    counts = copy.count_source_rows(legacy, "restricted")
    chunks = sum(
        1 if isinstance(step, copy.SingleStep) else math.ceil(counts[step.name] / chunk_rows)
        for step in copy.STEPS
    )
    return 2 * chunks + 3 * len(copy.STEPS) + 2


def test_crash_at_every_durable_step(small_legacy, nlp_team, support, settings, monkeypatch):
    settings.MIGRATION_CHUNK_ROWS = 3
    legacy_before = dump_legacy(small_legacy)
    reference, points = reference_run(nlp_team, support, monkeypatch)

    assert reference["state"] == PlanState.COMPLETED
    assert reference["ok"] is True
    assert reference["miscounted"] == []
    assert len(points) == expected_points(small_legacy, 3)
    assert any(point.endswith("before commit") for point in points)
    assert any(point.startswith("between steps") for point in points)

    for crash_at, point in enumerate(points):
        result, crashed_at = crashed_run(nlp_team, support, monkeypatch, crash_at)
        assert crashed_at == point
        assert result == reference, f"resumed after a crash at '{point}'"

    assert dump_legacy(small_legacy) == legacy_before


def test_crash_on_demo_store(nlp_legacy, nlp_team, support, settings, monkeypatch):
    """The demo store in chunks of 100 rows, crashing at every fifth durable step."""
    settings.MIGRATION_CHUNK_ROWS = 100
    reference, points = reference_run(nlp_team, support, monkeypatch)
    assert reference["state"] == PlanState.COMPLETED
    assert len(points) == expected_points(nlp_legacy, 100)

    for crash_at in range(0, len(points), 5):
        result, crashed_at = crashed_run(nlp_team, support, monkeypatch, crash_at)
        assert crashed_at == points[crash_at]
        assert result == reference, f"resumed after a crash at '{points[crash_at]}'"


def test_two_crashes_in_a_row(small_legacy, nlp_team, support, settings, monkeypatch):
    settings.MIGRATION_CHUNK_ROWS = 3
    reference, _ = reference_run(nlp_team, support, monkeypatch)

    with rolled_back():
        plan = schedule(nlp_team, support)
        services.start_migration(plan=plan, actor=support)
        for crash_at in (5, 11):
            # Each resumed run counts its durable steps from its own start.
            monkeypatch.setattr(copy, "crash_hook", CrashAt(crash_at))
            with pytest.raises(copy.SimulatedCrash):
                run_copy(plan.pk)
        monkeypatch.setattr(copy, "crash_hook", None)
        run_copy(plan.pk)
        result = outcome(plan.pk)

    assert result == reference

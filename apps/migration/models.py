"""A team's migration from its legacy Model Registry to an organization-level registry.

A plan moves through its states only by compare-and-set updates in apps.migration.services:

    scheduled -> running -> verifying -> completed
        |           |           |
        |           +-----------+-> failed -> running (retry)
        +-----------+-----------+------+--> aborted

From `running` until `completed` or `aborted`, the legacy registry and the target registry
are in a write pause. A failed plan keeps the pause on until support retries or aborts it.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from apps.migration.querysets import MigrationPlanQuerySet
from apps.registry.models import Visibility


class PlanState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Copying"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    ABORTED = "aborted", "Aborted"


# A team has at most one plan in these states, and its target name is reserved meanwhile.
ACTIVE_STATES = (PlanState.SCHEDULED, PlanState.RUNNING, PlanState.VERIFYING, PlanState.FAILED)
# States in which both registries are in the write pause.
PAUSED_STATES = (PlanState.RUNNING, PlanState.VERIFYING, PlanState.FAILED)
# States in which the copy job may be working, so the progress bar keeps polling.
WORKING_STATES = (PlanState.RUNNING, PlanState.VERIFYING)


class MigrationPlan(models.Model):
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="migration_plans"
    )
    team = models.ForeignKey("orgs.Team", on_delete=models.CASCADE, related_name="migration_plans")
    legacy_registry = models.ForeignKey(
        "legacy.LegacyRegistry", on_delete=models.CASCADE, related_name="migration_plans"
    )
    window_start = models.DateTimeField()
    # The zone support entered the window in; the console shows the window in it besides UTC.
    time_zone = models.CharField(max_length=64, default="UTC")
    target_name = models.CharField(max_length=113)
    target_visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.RESTRICTED
    )
    # Why the window starts sooner than the minimum lead time; empty when it does not.
    override_reason = models.TextField(blank=True)
    # Rows to copy and the write pause expected for them, from the copy rate setting.
    estimated_rows = models.BigIntegerField(default=0)
    estimated_pause_seconds = models.PositiveIntegerField(default=0)

    state = models.CharField(max_length=16, choices=PlanState.choices, default=PlanState.SCHEDULED)
    target_registry = models.ForeignKey(
        "registry.Registry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="migration_plans",
    )
    # The copy's checkpoint: the step in progress and the last legacy id it copied. Each
    # chunk advances it in the transaction that writes the chunk's rows.
    step = models.CharField(max_length=32, blank=True)
    step_cursor = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(default=0)
    rows_copied = models.BigIntegerField(default=0)
    rows_per_second = models.FloatField(null=True, blank=True)
    seconds_left = models.PositiveIntegerField(null=True, blank=True)
    # The last time a chunk committed: a running plan whose progress is older than
    # MIGRATION_STALL_SECONDS lost its task and is queued again by the scheduler.
    progress_at = models.DateTimeField(null=True, blank=True)

    started_at = models.DateTimeField(null=True, blank=True)
    copied_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    aborted_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)
    # Counts and checksums per kind of row, legacy against target; see verification.py.
    verification = models.JSONField(default=dict, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MigrationPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(state__in=ACTIVE_STATES),
                name="migration_plan_one_active_per_team",
                violation_error_message="The team already has a migration plan in progress.",
            ),
            models.UniqueConstraint(
                "organization",
                Lower("target_name"),
                condition=Q(state__in=ACTIVE_STATES),
                name="migration_plan_target_name_unique_ci",
                violation_error_message="Another migration plan already uses this name.",
            ),
        ]
        indexes = [models.Index(fields=["state", "window_start"], name="migration_plan_due")]

    def __str__(self) -> str:
        return f"{self.team.name} -> {self.target_name} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_paused(self) -> bool:
        return self.state in PAUSED_STATES

    @property
    def is_working(self) -> bool:
        return self.state in WORKING_STATES

    @property
    def progress_percent(self) -> int:
        if self.state == PlanState.COMPLETED:
            return 100
        if not self.rows_total:
            return 0
        return min(100, math.floor(100 * self.rows_copied / self.rows_total))

    @property
    def pause_seconds(self) -> float | None:
        """How long the write pause lasted, or has lasted so far at its last end."""
        end = self.completed_at or self.aborted_at
        if self.started_at is None or end is None:
            return None
        return (end - self.started_at).total_seconds()

    @property
    def estimated_pause(self) -> timedelta:
        return timedelta(seconds=self.estimated_pause_seconds)

    @property
    def estimated_end(self):
        """When the write pause is expected to end, from the window and the estimate."""
        start = self.started_at or self.window_start
        return start + self.estimated_pause

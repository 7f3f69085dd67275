"""Every change to a migration plan: schedule, move, start, resume, retry, abort, finish.

Each state change is a compare-and-set on the plan row (`filter(state=old).update(...)`)
made while holding the plan's row lock, with an AuditEvent in the same transaction. Work that
follows, such as queueing the copy, starts after commit. Support staff call these from the
console, the scheduler calls start_migration, and the copy job calls fail_migration and
verify_migration.

Lock order, shared with apps.migration.copy: the plan row, then the legacy registry row, then
the target registry row. Taking the legacy registry row FOR UPDATE to start a pause waits for
every write that already passed the pause check (which reads that row FOR KEY SHARE) to
commit, so no write lands after the pause begins.
"""

import logging
import math
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.validators import validate_registry_name
from apps.legacy.models import LegacyRegistry, RegisteredModel
from apps.migration import copy
from apps.migration.models import (
    ACTIVE_STATES,
    PAUSED_STATES,
    WORKING_STATES,
    MigrationPlan,
    PlanState,
)
from apps.migration.notices import sync_plan_notices
from apps.migration.verification import build_report
from apps.orgs.models import Team
from apps.orgs.support import is_support
from apps.registry.models import Registry, Visibility

logger = logging.getLogger(__name__)


def require_support(actor, action: str = "Managing migrations") -> None:
    if not is_support(actor):
        raise PermissionDenied(f"{action} needs the support console permission.")


def minimum_lead() -> timedelta:
    """How far ahead a window must start unless an override reason is given."""
    return timedelta(days=settings.MIGRATION_MIN_LEAD_DAYS)


def estimate_pause_seconds(rows: int) -> int:
    """Estimate the write pause, in seconds, for copying and verifying `rows` rows."""
    rate = max(1, settings.MIGRATION_COPY_ROWS_PER_SECOND)
    return math.ceil(rows / rate) + settings.MIGRATION_PAUSE_MARGIN_SECONDS


def estimate(legacy_registry: LegacyRegistry, visibility: str) -> tuple[int, int]:
    """Rows to copy and the expected pause in seconds, from today's row counts."""
    rows = sum(copy.count_source_rows(legacy_registry, visibility).values())
    return rows, estimate_pause_seconds(rows)


def pause_reason(plan: MigrationPlan) -> str:
    return (
        f"the legacy Model Registry of the team '{plan.team.name}' is being migrated to the "
        f"registry '{plan.target_name}'"
    )[:500]


def check_target_name(organization, name: str, *, plan: MigrationPlan | None = None) -> str:
    """Validate a target registry name and check that no registry or other plan uses it."""
    validate_registry_name(name)
    if Registry.objects.filter(organization=organization, name__iexact=name).exists():
        raise ValidationError(
            f"The registry name '{name}' is already taken in '{organization.name}' (names "
            f"are compared without regard to case); choose another target name."
        )
    others = MigrationPlan.objects.filter(
        organization=organization, target_name__iexact=name, state__in=ACTIVE_STATES
    )
    if plan is not None:
        others = others.exclude(pk=plan.pk)
    other = others.select_related("team").first()
    if other is not None:
        raise ValidationError(
            f"The registry name '{name}' is already the target of the migration of the team "
            f"'{other.team.name}'; choose another target name."
        )
    return name


def check_window(window_start: datetime, override_reason: str, *, now: datetime) -> str:
    """Check the window start against the minimum lead time; return the stripped reason."""
    if timezone.is_naive(window_start):
        raise ValidationError("The window start has no time zone; give one.")
    reason = (override_reason or "").strip()
    if window_start <= now:
        raise ValidationError(
            f"The window start {window_start:%Y-%m-%d %H:%M} UTC is in the past; choose a "
            f"later start. To start at once, schedule a start in the near future with an "
            f"override reason, then use Start now."
        )
    lead = minimum_lead()
    if window_start - now < lead and not reason:
        earliest = now + lead
        raise ValidationError(
            f"The window starts in less than {lead.days} days, so people would not be told "
            f"early enough. Give an override reason, or choose a start on or after "
            f"{earliest:%Y-%m-%d %H:%M} UTC."
        )
    return reason


def _check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"'{name}' is not a known time zone; use a name such as Europe/Berlin or UTC."
        ) from None
    return name


def _audit(plan: MigrationPlan, actor, action: str, data: dict | None = None) -> None:
    """Record a change of the plan; it names the plan, not a registry, so it outlives both."""
    record_event(
        organization_id=plan.organization_id,
        actor=actor,
        action=f"migration.{action}",
        target=f"{plan.team.name}/model-registry",
        data={"plan": plan.pk, "team": plan.team.name, "target": plan.target_name, **(data or {})},
    )


def _enqueue_copy(plan_id: int) -> None:
    # Imported here: the tasks module imports this one.
    from apps.migration.tasks import enqueue_copy

    enqueue_copy(plan_id)


def _lock(plan: MigrationPlan) -> MigrationPlan:
    return MigrationPlan.objects.select_for_update().select_related("team").get(pk=plan.pk)


# Scheduling ---------------------------------------------------------------------------------


def schedule_migration(
    *,
    team: Team,
    window_start: datetime,
    actor,
    target_name: str | None = None,
    target_visibility: str = Visibility.RESTRICTED,
    override_reason: str = "",
    time_zone: str = "UTC",
    now: datetime | None = None,
) -> MigrationPlan:
    """Plan the migration of a team's legacy registry to a new registry at `window_start`."""
    require_support(actor, "Scheduling a migration")
    now = now or timezone.now()
    legacy = LegacyRegistry.objects.filter(team=team).select_related("team").first()
    if legacy is None:
        raise ValidationError(f"The team '{team.name}' has no legacy Model Registry to migrate.")
    if legacy.read_only_since is not None:
        raise ValidationError(f"The team '{team.name}' has already been migrated.")
    active = MigrationPlan.objects.filter(team=team, state__in=ACTIVE_STATES).first()
    if active is not None:
        raise ValidationError(
            f"The team '{team.name}' already has a migration plan ({active.get_state_display()}"
            f", window {active.window_start:%Y-%m-%d %H:%M} UTC); move or abort that one."
        )
    reason = check_window(window_start, override_reason, now=now)
    name = target_name if target_name else team.name
    check_target_name(team.organization, name)
    if target_visibility not in Visibility.values:
        raise ValidationError(
            f"'{target_visibility}' is not a visibility; use 'restricted' or 'organization'."
        )
    _check_time_zone(time_zone)
    rows, seconds = estimate(legacy, target_visibility)

    try:
        with transaction.atomic():
            plan = MigrationPlan.objects.create(
                organization=team.organization,
                team=team,
                legacy_registry=legacy,
                window_start=window_start,
                time_zone=time_zone,
                target_name=name,
                target_visibility=target_visibility,
                override_reason=reason,
                estimated_rows=rows,
                estimated_pause_seconds=seconds,
                created_by=actor,
            )
            _audit(
                plan,
                actor,
                "scheduled",
                {
                    "window_start": window_start.isoformat(),
                    "estimated_pause_seconds": seconds,
                    "override_reason": reason,
                },
            )
            sync_plan_notices(plan.pk, at=now, actor=actor)
    except IntegrityError:
        # Another request scheduled the same team or name between the checks and the insert.
        raise ValidationError(
            f"The team '{team.name}' or the name '{name}' was just taken by another migration "
            f"plan; reload the list and try again."
        ) from None
    logger.info("Migration plan %s scheduled for team %s at %s", plan.pk, team.pk, window_start)
    return plan


def move_window(
    *,
    plan: MigrationPlan,
    window_start: datetime,
    actor,
    override_reason: str | None = None,
    time_zone: str | None = None,
    now: datetime | None = None,
) -> MigrationPlan:
    """Move a scheduled plan's window; the lead-time rule applies to the new start."""
    require_support(actor, "Moving a migration window")
    now = now or timezone.now()
    reason = override_reason if override_reason is not None else plan.override_reason
    reason = check_window(window_start, reason, now=now)
    time_zone = _check_time_zone(time_zone or plan.time_zone)

    with transaction.atomic():
        locked = _lock(plan)
        if locked.state != PlanState.SCHEDULED:
            raise ValidationError(
                f"Only a scheduled plan can be moved; this one is "
                f"{locked.get_state_display().lower()}."
            )
        rows, seconds = estimate(locked.legacy_registry, locked.target_visibility)
        previous = locked.window_start
        MigrationPlan.objects.filter(pk=locked.pk, state=PlanState.SCHEDULED).update(
            window_start=window_start,
            time_zone=time_zone,
            override_reason=reason,
            estimated_rows=rows,
            estimated_pause_seconds=seconds,
            updated_at=now,
        )
        _audit(
            locked,
            actor,
            "moved",
            {
                "from": previous.isoformat(),
                "to": window_start.isoformat(),
                "override_reason": reason,
            },
        )
        sync_plan_notices(locked.pk, at=now, actor=actor)
    plan.refresh_from_db()
    return plan


# Running ------------------------------------------------------------------------------------


def start_migration(
    *,
    plan: MigrationPlan,
    actor=None,
    due_only: bool = False,
    now: datetime | None = None,
) -> bool:
    """Start the write pause and queue the copy; return False when the plan was not started.

    `actor` is None for the scheduler, which passes `due_only` so that a plan whose window
    was moved later in the meantime stays scheduled. Two schedulers calling this at once
    start the plan once: the second waits for the row lock and finds it running.
    """
    if actor is not None:
        require_support(actor, "Starting a migration")
    with transaction.atomic():
        locked = _lock(plan)
        if locked.state != PlanState.SCHEDULED:
            return False
        if due_only and locked.window_start > (now or timezone.now()):
            return False
        # Counted before the pause begins, so the pause does not last through the count. A
        # write that lands in between can only make the progress bar's total a few rows off.
        counts = copy.count_source_rows(locked.legacy_registry, locked.target_visibility)
        rows = sum(counts.values())
        seconds = estimate_pause_seconds(rows)
        legacy = (
            LegacyRegistry.objects.select_for_update()
            .select_related("team")
            .get(pk=locked.legacy_registry_id)
        )
        now = now or timezone.now()
        updated = MigrationPlan.objects.filter(pk=locked.pk, state=PlanState.SCHEDULED).update(
            state=PlanState.RUNNING,
            started_at=now,
            step=copy.FIRST_STEP,
            step_cursor=0,
            rows_total=rows,
            rows_copied=0,
            rows_per_second=None,
            seconds_left=seconds,
            progress_at=now,
            updated_at=now,
        )
        if updated != 1:
            return False
        LegacyRegistry.objects.filter(pk=legacy.pk).update(
            write_paused_since=now,
            write_pause_ends_at=now + timedelta(seconds=seconds),
            write_pause_reason=pause_reason(locked),
        )
        _audit(locked, actor, "started", {"rows": rows, "due_only": due_only})
        sync_plan_notices(locked.pk, at=now, actor=actor)
        transaction.on_commit(partial(_enqueue_copy, locked.pk))
    logger.info("Migration plan %s started: %s rows to copy", plan.pk, rows)
    return True


def resume_migration(*, plan: MigrationPlan, actor) -> None:
    """Queue the job of a running or verifying plan again, after its task was lost.

    The job resumes at its checkpoint. If the old task is alive after all, the two take turns
    on the plan's row lock and copy each slice once.
    """
    require_support(actor, "Resuming a migration")
    with transaction.atomic():
        locked = _lock(plan)
        if locked.state not in WORKING_STATES:
            raise ValidationError(
                f"Only a plan that is copying or verifying can be resumed; this one is "
                f"{locked.get_state_display().lower()}."
            )
        MigrationPlan.objects.filter(pk=locked.pk, state=locked.state).update(
            progress_at=timezone.now()
        )
        _audit(locked, actor, "resumed", {"state": locked.state, "step": locked.step})
        transaction.on_commit(partial(requeue, locked.pk, locked.state))


def requeue(plan_id: int, state: str) -> None:
    from apps.migration.tasks import enqueue_copy, enqueue_verify

    if state == PlanState.VERIFYING:
        enqueue_verify(plan_id)
    else:
        enqueue_copy(plan_id)


def retry_migration(*, plan: MigrationPlan, actor) -> MigrationPlan:
    """Run a failed plan again, with the write pause still on.

    A copy that failed part-way resumes at its checkpoint. A copy that finished but failed
    verification cannot be trusted, so its target is removed and the copy starts over.
    """
    require_support(actor, "Retrying a migration")
    with transaction.atomic():
        locked = _lock(plan)
        if locked.state != PlanState.FAILED:
            raise ValidationError(
                f"Only a failed plan can be retried; this one is "
                f"{locked.get_state_display().lower()}."
            )
        now = timezone.now()
        changes: dict = {
            "state": PlanState.RUNNING,
            "failure": "",
            "failed_at": None,
            "rows_per_second": None,
            "progress_at": now,
            "updated_at": now,
        }
        from_start = locked.copied_at is not None
        if from_start:
            LegacyRegistry.objects.select_for_update().filter(pk=locked.legacy_registry_id).first()
            _remove_target(locked)
            changes.update(
                step=copy.FIRST_STEP,
                step_cursor=0,
                rows_copied=0,
                copied_at=None,
                target_registry=None,
                verification={},
            )
        MigrationPlan.objects.filter(pk=locked.pk, state=PlanState.FAILED).update(**changes)
        _audit(locked, actor, "retried", {"from_start": from_start, "step": locked.step})
        transaction.on_commit(partial(_enqueue_copy, locked.pk))
    plan.refresh_from_db()
    return plan


def abort_migration(*, plan: MigrationPlan, actor) -> MigrationPlan:
    """Stop a plan before it completes: remove the partial target and lift the pause."""
    require_support(actor, "Aborting a migration")
    with transaction.atomic():
        locked = _lock(plan)
        if locked.state not in ACTIVE_STATES:
            raise ValidationError(f"A {locked.get_state_display().lower()} plan cannot be aborted.")
        removed = locked.target_name if locked.target_registry_id else None
        if locked.state in PAUSED_STATES:
            LegacyRegistry.objects.select_for_update().filter(pk=locked.legacy_registry_id).first()
            _remove_target(locked)
            LegacyRegistry.objects.filter(pk=locked.legacy_registry_id).update(
                write_paused_since=None, write_pause_ends_at=None, write_pause_reason=""
            )
        now = timezone.now()
        MigrationPlan.objects.filter(pk=locked.pk, state=locked.state).update(
            state=PlanState.ABORTED,
            aborted_at=now,
            target_registry=None,
            seconds_left=None,
            updated_at=now,
        )
        _audit(locked, actor, "aborted", {"from": locked.state, "removed_registry": removed})
        sync_plan_notices(locked.pk, at=now, actor=actor)
    logger.info("Migration plan %s aborted from %s", plan.pk, locked.state)
    plan.refresh_from_db()
    return plan


def fail_migration(plan_id: int, *, reason: str) -> bool:
    """Stop a running or verifying plan with a reason; the write pause stays on."""
    with transaction.atomic():
        locked = MigrationPlan.objects.select_for_update().select_related("team").get(pk=plan_id)
        if locked.state not in WORKING_STATES:
            return False
        if locked.state == PlanState.RUNNING:
            reason = f"The copy stopped in the step '{copy.step_label(locked.step)}': {reason}"
        now = timezone.now()
        MigrationPlan.objects.filter(pk=locked.pk, state=locked.state).update(
            state=PlanState.FAILED, failed_at=now, failure=reason[:5000], updated_at=now
        )
        _audit(locked, None, "failed", {"from": locked.state, "reason": reason[:500]})
    logger.warning("Migration plan %s failed: %s", plan_id, reason)
    return True


def verify_migration(plan_id: int) -> str | None:
    """Compare the copy with the legacy registry; complete the plan or fail it.

    Returns the plan's state afterwards, or None when the plan was not verifying.
    """
    plan = MigrationPlan.objects.filter(pk=plan_id, state=PlanState.VERIFYING).first()
    if plan is None:
        return None
    # A heartbeat: the scheduler queues a verification again only when this one goes quiet.
    MigrationPlan.objects.filter(pk=plan_id, state=PlanState.VERIFYING).update(
        progress_at=timezone.now()
    )
    report = build_report(plan)

    with transaction.atomic():
        locked = _lock(plan)
        if locked.state != PlanState.VERIFYING:
            return locked.state
        now = timezone.now()
        if report["ok"]:
            _complete(locked, report, now)
            state = PlanState.COMPLETED
        else:
            failure = "Verification found differences. " + " ".join(report["differences"])
            MigrationPlan.objects.filter(pk=locked.pk, state=PlanState.VERIFYING).update(
                state=PlanState.FAILED,
                failed_at=now,
                failure=failure[:5000],
                verification=report,
                updated_at=now,
            )
            _audit(locked, None, "failed", {"from": PlanState.VERIFYING, "reason": "verification"})
            state = PlanState.FAILED
        copy._reach(f"verification {state} before commit")
    copy._reach(f"verification {state} after commit")
    logger.info("Migration plan %s verified: %s", plan_id, state)
    return state


def _complete(plan: MigrationPlan, report: dict, now: datetime) -> None:
    """Lift the target's pause and make the legacy registry read-only, in one transaction."""
    LegacyRegistry.objects.select_for_update().filter(pk=plan.legacy_registry_id).first()
    Registry.objects.select_for_update().filter(pk=plan.target_registry_id).first()
    Registry.objects.filter(pk=plan.target_registry_id).update(
        write_paused_since=None, write_pause_ends_at=None, write_pause_reason=""
    )
    LegacyRegistry.objects.filter(pk=plan.legacy_registry_id).update(
        write_paused_since=None,
        write_pause_ends_at=None,
        write_pause_reason="",
        read_only_since=now,
        migrated_to=plan.target_registry_id,
    )
    MigrationPlan.objects.filter(pk=plan.pk, state=PlanState.VERIFYING).update(
        state=PlanState.COMPLETED,
        completed_at=now,
        verification=report,
        seconds_left=0,
        updated_at=now,
    )
    _audit(plan, None, "completed", {"registry": plan.target_registry_id})
    sync_plan_notices(plan.pk, at=now)


# Removing a partial target ------------------------------------------------------------------


def _remove_target(plan: MigrationPlan) -> None:
    """Delete everything the copy wrote: the target registry, its rows and copied history.

    Called under the plan's lock while the target is still paused, so every row under the
    target registry and every audit row naming it came from the copy.
    """
    RegisteredModel.objects.filter(legacy_registry_id=plan.legacy_registry_id).exclude(
        migrated_to=None
    ).update(migrated_to=None)
    if plan.target_registry_id is None:
        return
    _delete_rows(AuditEvent.objects.filter(registry_id=plan.target_registry_id))
    _delete_rows(Registry.objects.filter(pk=plan.target_registry_id))


def _delete_rows(queryset: models.QuerySet) -> None:
    """Delete the rows with one DELETE per table, children first, without loading them.

    QuerySet.delete() would load every cascaded row into memory to send signals, which
    takes minutes for a registry with millions of links. This walks the reverse relations
    instead: CASCADE deletes the referencing rows the same way, SET_NULL clears their column.
    """
    model = queryset.model
    ids = queryset.values("pk")
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete):
            continue
        if not (relation.one_to_many or relation.one_to_one):
            continue
        field = relation.field
        referencing = relation.related_model._base_manager.filter(**{f"{field.name}__in": ids})
        on_delete = field.remote_field.on_delete
        if on_delete is models.CASCADE:
            _delete_rows(referencing)
        elif on_delete is models.SET_NULL:
            referencing.update(**{field.name: None})
        elif on_delete is not models.DO_NOTHING:
            raise RuntimeError(
                f"{relation.related_model.__name__}.{field.name} has an on_delete that removing "
                f"a migration target does not handle."
            )
    sql, params = ids.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({sql})", params)  # noqa: S608

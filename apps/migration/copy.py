"""The copy job: the steps that copy a team's legacy registry, one chunk at a time.

Each chunk copies one slice of one step, the legacy rows with ids in (cursor, bound], with a
single set-based INSERT ... SELECT, and moves the plan's checkpoint to the bound in the same
transaction, while it holds the plan's row lock. So a chunk either lands whole with its
checkpoint or not at all, and a worker killed anywhere resumes at the checkpoint. A
re-delivered task or a second worker waits for the lock and then copies the next slice.
Besides, every copied row except history is backed by a unique constraint and inserted with
ON CONFLICT DO NOTHING, so copying a slice twice adds nothing. Each collection's
version_count grows by the links that the INSERT returns as inserted, so it stays exact too.

The legacy rows are only read, except RegisteredModel.migrated_to, which records the
collection each registered model became.

Lock order, shared with apps.migration.services: the plan row, then the legacy registry row,
then the target registry row.
"""

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.lookups import equals_ignoring_case
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyProtectedAlias,
    LegacyRegistry,
    LegacyVersion,
    RegisteredModel,
)
from apps.migration import grants
from apps.migration.models import MigrationPlan, PlanState
from apps.orgs.services import ensure_org_groups
from apps.registry.access import grant_role
from apps.registry.models import (
    Alias,
    Collection,
    CollectionLink,
    ProtectedAlias,
    Registry,
)
from apps.registry.roles import Role

logger = logging.getLogger(__name__)

# The type of every collection a migration creates, because the legacy Model Registry
# contains models only.
COLLECTION_TYPE = "model"

# Table names for the SQL below, read from the models so a renamed table cannot go unnoticed.
TABLES = {
    "registered_model": RegisteredModel._meta.db_table,
    "model_tags": RegisteredModel.tags.through._meta.db_table,
    "legacy_version": LegacyVersion._meta.db_table,
    "version_tags": LegacyVersion.tags.through._meta.db_table,
    "legacy_alias": LegacyAlias._meta.db_table,
    "legacy_protected_alias": LegacyProtectedAlias._meta.db_table,
    "legacy_event": LegacyEvent._meta.db_table,
    "collection": Collection._meta.db_table,
    "collection_tags": Collection.tags.through._meta.db_table,
    "link": CollectionLink._meta.db_table,
    "link_tags": CollectionLink.tags.through._meta.db_table,
    "alias": Alias._meta.db_table,
    "protected_alias": ProtectedAlias._meta.db_table,
    "audit_event": AuditEvent._meta.db_table,
}


class Outcome(Enum):
    COPIED = "copied"  # a chunk landed; more may follow
    STEP_DONE = "step done"  # a step finished and the next one begins
    FINISHED = "finished"  # the last step finished; the plan is now verifying
    STOPPED = "stopped"  # the plan is not running (aborted, failed, completed, unknown)


class SimulatedCrash(Exception):
    """Raised by crash_hook in tests to stop the job at a durable step."""


# Tests set this to a callable that receives the name of each durable step of the job
# ("STEP@CURSOR before commit", "... after commit", "between steps ...") and may raise
# there, to check that every interrupted run resumes to the same result.
crash_hook: Callable[[str], None] | None = None


def _reach(point: str) -> None:
    if crash_hook is not None:
        crash_hook(point)


@dataclass(frozen=True)
class Context:
    """The ids and instants that every statement of one plan's copy uses."""

    plan_id: int
    legacy: int
    registry: int | None
    organization: int
    visibility: str
    started_at: datetime

    @classmethod
    def of(cls, plan: MigrationPlan) -> "Context":
        return cls(
            plan_id=plan.pk,
            legacy=plan.legacy_registry_id,
            registry=plan.target_registry_id,
            organization=plan.organization_id,
            visibility=plan.target_visibility,
            started_at=plan.started_at or timezone.now(),
        )

    def params(self, **extra) -> dict:
        return {
            "legacy": self.legacy,
            "registry": self.registry,
            "organization": self.organization,
            "at": self.started_at,
            "latest": Alias.LATEST,
            "collection_type": COLLECTION_TYPE,
            **extra,
        }


def _fetch_value(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _execute(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


class Step:
    """One kind of row to copy, in slices of legacy ids."""

    name = ""
    label = ""
    # Tables whose planner statistics must be fresh once the step is done, because later
    # steps join them on the rows it wrote.
    analyze: tuple[str, ...] = ()

    def count(self, context: Context) -> int:
        raise NotImplementedError

    def next_slice(self, context: Context, after: int, limit: int) -> "Slice | None":
        """Find the next slice of at most `limit` legacy rows after `after`; None when done."""
        raise NotImplementedError

    def copy(self, context: Context, after: int, upto: int) -> None:
        """Copy the legacy rows with ids in (after, upto]."""
        raise NotImplementedError


@dataclass(frozen=True)
class Slice:
    upto: int  # the last legacy id in the slice
    rows: int  # how many legacy rows the slice contains


class SqlStep(Step):
    """A step whose slice is copied by one INSERT ... SELECT over a legacy table.

    `source` is the FROM and WHERE of the legacy rows to copy, `key` their id column, and
    `insert` the statement that copies the slice `key` in (%(after)s, %(upto)s].
    """

    def __init__(
        self,
        name: str,
        label: str,
        *,
        key: str,
        source: str,
        insert: str,
        analyze: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.label = label
        self.key = key
        self.source = source.format(**TABLES)
        self.insert = insert.format(**TABLES, slice="{slice}")
        self.analyze = tuple(TABLES[table] for table in analyze)

    def _slice_filter(self) -> str:
        return f"{self.key} > %(after)s AND {self.key} <= %(upto)s"

    def count(self, context: Context) -> int:
        return _fetch_value(f"SELECT COUNT(*) {self.source}", context.params()) or 0

    def next_slice(self, context: Context, after: int, limit: int) -> Slice | None:
        params = context.params(after=after, offset=limit - 1)
        upto = _fetch_value(
            f"SELECT {self.key} {self.source} AND {self.key} > %(after)s "
            f"ORDER BY {self.key} LIMIT 1 OFFSET %(offset)s",
            params,
        )
        if upto is not None:
            return Slice(upto, limit)
        # Fewer than `limit` rows remain: the slice ends at the last one.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT MAX({self.key}), COUNT(*) {self.source} AND {self.key} > %(after)s",
                params,
            )
            upto, rows = cursor.fetchone()
        return Slice(upto, rows) if rows else None

    def copy(self, context: Context, after: int, upto: int) -> None:
        _execute(
            self.insert.replace("{slice}", self._slice_filter()),
            context.params(after=after, upto=upto),
        )


class CollectionStep(SqlStep):
    """Registered models become collections, with their descriptions and next indices."""

    def copy(self, context: Context, after: int, upto: int) -> None:
        super().copy(context, after, upto)
        # The link steps find each model's collection through this column.
        RegisteredModel.objects.filter(
            legacy_registry_id=context.legacy, pk__gt=after, pk__lte=upto
        ).update(
            migrated_to=Subquery(
                Collection.objects.filter(
                    registry_id=context.registry, name=OuterRef("name")
                ).values("pk")[:1]
            )
        )


class LinkStep(SqlStep):
    """Legacy versions become links, and each collection's version_count grows by its new links.

    The INSERT returns the collection of each row it inserted, and only of those: a row
    that a unique constraint turned away returns nothing. So the counts grow in the chunk's
    transaction by exactly the links it added, and a slice copied again adds nothing.
    """

    def copy(self, context: Context, after: int, upto: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                self.insert.replace("{slice}", self._slice_filter()),
                context.params(after=after, upto=upto),
            )
            added = Counter(collection_id for (collection_id,) in cursor.fetchall())
        # One UPDATE per distinct number of new links, not one per collection. A slice of n
        # rows has fewer than sqrt(2n) distinct numbers: at most 140 for 10,000 rows.
        by_number: dict[int, list[int]] = {}
        for collection_id, number in added.items():
            by_number.setdefault(number, []).append(collection_id)
        for number, collection_ids in by_number.items():
            Collection.objects.filter(pk__in=collection_ids).update(
                version_count=F("version_count") + number
            )


class SingleStep(Step):
    """A step done in one chunk, for rows computed in Python (the registry, the grants)."""

    def next_slice(self, context: Context, after: int, limit: int) -> Slice | None:
        return Slice(1, self.count(context)) if after < 1 else None

    def count(self, context: Context) -> int:
        return 1


class CreateRegistryStep(SingleStep):
    name = "registry"
    label = "Target registry"

    def copy(self, context: Context, after: int, upto: int) -> None:
        """Create the target registry, already in the write pause, with the org admins' grant.

        Only org admins see it until the grants step, because team members get their roles
        last, once everything they would see is in place.
        """
        plan = MigrationPlan.objects.select_related("organization", "team").get(pk=context.plan_id)
        if plan.target_registry_id is not None:
            return
        organization = plan.organization
        if Registry.objects.filter(
            equals_ignoring_case("name", plan.target_name), organization=organization
        ).exists():
            raise TargetNameTaken(
                f"The registry name '{plan.target_name}' was taken after the plan was "
                f"scheduled. Abort this plan and schedule it again with another target name."
            )
        legacy = LegacyRegistry.objects.get(pk=plan.legacy_registry_id)
        ensure_org_groups(organization)
        registry = Registry.objects.create(
            organization=organization,
            name=plan.target_name,
            description=(f"Migrated from the legacy Model Registry of the team {plan.team.name}."),
            visibility=plan.target_visibility,
            accepted_types=[COLLECTION_TYPE],
            write_paused_since=legacy.write_paused_since or context.started_at,
            write_pause_ends_at=legacy.write_pause_ends_at,
            write_pause_reason=legacy.write_pause_reason,
        )
        grant_role(registry, organization.admins_group, Role.ADMIN)
        MigrationPlan.objects.filter(pk=plan.pk).update(target_registry=registry)
        record_event(
            organization_id=organization.pk,
            actor=None,
            action="registry.created",
            target=registry.name,
            registry_id=registry.pk,
            data={"visibility": registry.visibility, "migrated_from": plan.team.name},
        )


class GrantsStep(SingleStep):
    """Team members, the legacy registry's admins and org admins get their roles."""

    name = "grants"
    label = "Permissions"

    def _mapping(self, context: Context) -> list[grants.Grant]:
        legacy = LegacyRegistry.objects.select_related("team").get(pk=context.legacy)
        return grants.mapping(legacy, context.visibility)

    def count(self, context: Context) -> int:
        return max(1, len(self._mapping(context)))

    def copy(self, context: Context, after: int, upto: int) -> None:
        grants.apply(self._mapping(context), registry_id=context.registry)


class TargetNameTaken(Exception):
    """The target name belongs to a registry created after the plan was scheduled."""


_MODELS = "FROM {registered_model} m WHERE m.legacy_registry_id = %(legacy)s"
_VERSIONS = (
    "FROM {legacy_version} v JOIN {registered_model} m ON m.id = v.model_id "
    "WHERE m.legacy_registry_id = %(legacy)s"
)

STEPS: list[Step] = [
    CreateRegistryStep(),
    CollectionStep(
        "collections",
        "Collections",
        key="m.id",
        source=_MODELS,
        analyze=("registered_model", "collection"),
        insert="""
            INSERT INTO {collection}
                (registry_id, name, type, description, next_index, created_at, updated_at)
            SELECT %(registry)s, m.name, %(collection_type)s, m.description, m.next_index,
                   m.created_at, m.updated_at
            FROM {registered_model} m
            WHERE m.legacy_registry_id = %(legacy)s AND {slice}
            ON CONFLICT DO NOTHING
        """,
    ),
    LinkStep(
        "links",
        "Versions",
        key="v.id",
        source=_VERSIONS,
        analyze=("link",),
        insert="""
            INSERT INTO {link}
                (collection_id, "index", version_id, description, linked_by_id, linked_at)
            SELECT m.migrated_to_id, v."index", v.version_id, v.description,
                   v.linked_by_id, v.linked_at
            FROM {legacy_version} v JOIN {registered_model} m ON m.id = v.model_id
            WHERE m.legacy_registry_id = %(legacy)s AND {slice}
            ON CONFLICT DO NOTHING
            RETURNING collection_id
        """,
    ),
    # `latest` is kept by the registry itself: it points at the highest remaining index, so
    # the copy derives it from the links instead of copying the legacy row.
    SqlStep(
        "latest",
        "Latest aliases",
        key="m.id",
        source=_MODELS,
        insert="""
            INSERT INTO {alias} (collection_id, link_id, name, updated_at)
            SELECT l.collection_id, l.id, %(latest)s, l.linked_at
            FROM {registered_model} m JOIN {link} l ON l.collection_id = m.migrated_to_id
            WHERE m.legacy_registry_id = %(legacy)s AND {slice}
              AND l."index" = (
                  SELECT MAX(top."index") FROM {link} top
                  WHERE top.collection_id = m.migrated_to_id
              )
            ON CONFLICT DO NOTHING
        """,
    ),
    SqlStep(
        "protected_aliases",
        "Protected aliases",
        key="p.id",
        source="FROM {legacy_protected_alias} p WHERE p.legacy_registry_id = %(legacy)s",
        insert="""
            INSERT INTO {protected_alias} (registry_id, name)
            SELECT %(registry)s, p.name
            FROM {legacy_protected_alias} p
            WHERE p.legacy_registry_id = %(legacy)s AND {slice}
            ON CONFLICT DO NOTHING
        """,
    ),
    SqlStep(
        "aliases",
        "Aliases",
        key="a.id",
        source=(
            "FROM {legacy_alias} a JOIN {registered_model} m ON m.id = a.model_id "
            "WHERE m.legacy_registry_id = %(legacy)s AND LOWER(a.name) <> %(latest)s"
        ),
        insert="""
            INSERT INTO {alias} (collection_id, link_id, name, updated_at)
            SELECT m.migrated_to_id, l.id, a.name, %(at)s
            FROM {legacy_alias} a
            JOIN {registered_model} m ON m.id = a.model_id
            JOIN {legacy_version} v ON v.id = a.version_id
            JOIN {link} l ON l.collection_id = m.migrated_to_id AND l."index" = v."index"
            WHERE m.legacy_registry_id = %(legacy)s AND LOWER(a.name) <> %(latest)s
              AND {slice}
            ON CONFLICT DO NOTHING
        """,
    ),
    SqlStep(
        "collection_tags",
        "Collection tags",
        key="t.id",
        source=(
            "FROM {model_tags} t JOIN {registered_model} m ON m.id = t.registeredmodel_id "
            "WHERE m.legacy_registry_id = %(legacy)s"
        ),
        insert="""
            INSERT INTO {collection_tags} (collection_id, tag_id)
            SELECT m.migrated_to_id, t.tag_id
            FROM {model_tags} t JOIN {registered_model} m ON m.id = t.registeredmodel_id
            WHERE m.legacy_registry_id = %(legacy)s AND {slice}
            ON CONFLICT DO NOTHING
        """,
    ),
    SqlStep(
        "version_tags",
        "Version tags",
        key="t.id",
        source=(
            "FROM {version_tags} t JOIN {legacy_version} v ON v.id = t.legacyversion_id "
            "JOIN {registered_model} m ON m.id = v.model_id "
            "WHERE m.legacy_registry_id = %(legacy)s"
        ),
        insert="""
            INSERT INTO {link_tags} (collectionlink_id, tag_id)
            SELECT l.id, t.tag_id
            FROM {version_tags} t
            JOIN {legacy_version} v ON v.id = t.legacyversion_id
            JOIN {registered_model} m ON m.id = v.model_id
            JOIN {link} l ON l.collection_id = m.migrated_to_id AND l."index" = v."index"
            WHERE m.legacy_registry_id = %(legacy)s AND {slice}
            ON CONFLICT DO NOTHING
        """,
    ),
    # History rows have no natural unique key, so only the checkpoint, written in the same
    # transaction under the plan's row lock, keeps a slice from being copied twice.
    SqlStep(
        "history",
        "History",
        key="e.id",
        source=(
            "FROM {legacy_event} e JOIN {registered_model} m ON m.id = e.model_id "
            "WHERE m.legacy_registry_id = %(legacy)s"
        ),
        insert="""
            INSERT INTO {audit_event}
                (organization_id, actor_id, action, registry_id, collection_id, target,
                 data, created_at)
            SELECT %(organization)s, e.actor_id, e.action, %(registry)s, m.migrated_to_id,
                   m.name, e.data, e.created_at
            FROM {legacy_event} e JOIN {registered_model} m ON m.id = e.model_id
            WHERE m.legacy_registry_id = %(legacy)s AND {slice}
        """,
    ),
    # NOTE: automations are not copied: the automations app has no legacy automations to
    # copy from, and the team's webhook integrations belong to the team, so they need no copy.
    GrantsStep(),
]
STEPS_BY_NAME = {step.name: step for step in STEPS}
FIRST_STEP = STEPS[0].name


def step_label(name: str) -> str:
    step = STEPS_BY_NAME.get(name)
    return step.label if step else name


def count_source_rows(legacy_registry: LegacyRegistry, visibility: str) -> dict[str, int]:
    """Rows each step will copy from this legacy registry, for the estimate and the progress."""
    context = Context(
        plan_id=0,
        legacy=legacy_registry.pk,
        registry=None,
        organization=legacy_registry.team.organization_id,
        visibility=visibility,
        started_at=timezone.now(),
    )
    return {step.name: step.count(context) for step in STEPS}


def chunk_rows() -> int:
    return max(1, settings.MIGRATION_CHUNK_ROWS)


def copy_next_chunk(plan_id: int) -> Outcome:
    """Copy the next slice of a running plan, or move it to its next step or to verifying."""
    finished_step = None
    with transaction.atomic():
        plan = MigrationPlan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None or plan.state != PlanState.RUNNING:
            return Outcome.STOPPED
        _plan_for_slices()
        step = STEPS_BY_NAME[plan.step]
        context = Context.of(plan)
        next_slice = step.next_slice(context, plan.step_cursor, chunk_rows())
        now = timezone.now()
        point = f"{step.name}@{plan.step_cursor}"

        if next_slice is None:
            index = STEPS.index(step)
            finished_step = step.name
            if index + 1 < len(STEPS):
                outcome = Outcome.STEP_DONE
                changes = {"step": STEPS[index + 1].name, "step_cursor": 0, "progress_at": now}
            else:
                outcome = Outcome.FINISHED
                changes = {
                    "state": PlanState.VERIFYING,
                    "copied_at": now,
                    "progress_at": now,
                    "seconds_left": 0,
                }
                record_event(
                    organization_id=plan.organization_id,
                    actor=None,
                    action="migration.verifying",
                    target=plan.target_name,
                    data={"plan": plan.pk, "team": plan.team_id, "rows": plan.rows_copied},
                )
            point = f"{step.name} done"
            _refresh_statistics(step)
        else:
            outcome = Outcome.COPIED
            step.copy(context, plan.step_cursor, next_slice.upto)
            changes = {"step_cursor": next_slice.upto, **_progress(plan, next_slice.rows, now)}

        _reach(f"{point} before commit")
        # The lock is held, so this compare-and-set cannot miss; it guards a programming error.
        updated = MigrationPlan.objects.filter(
            pk=plan.pk, state=PlanState.RUNNING, step=plan.step, step_cursor=plan.step_cursor
        ).update(**changes, updated_at=now)
        if updated != 1:
            raise RuntimeError(f"The checkpoint of migration plan {plan.pk} moved under its lock.")
        if outcome is Outcome.COPIED:
            _extend_pause(plan, changes.get("seconds_left"), now)

    _reach(f"{point} after commit")
    if finished_step is not None:
        _reach(f"between steps after {finished_step}")
    return outcome


def _plan_for_slices() -> None:
    """Make PostgreSQL join a slice to the big tables by index lookups, for this transaction.

    A slice is a few thousand rows that each join one row of tables with millions (legacy
    versions, links). Left to itself the planner hashes the whole big table for every chunk,
    which made each chunk read a million rows twice. Without hash and merge joins it probes
    the indexes once per slice row instead; JIT compilation only adds time to such queries.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SET LOCAL jit = off")


def _refresh_statistics(step: Step) -> None:
    """ANALYZE the tables a finished step filled, on PostgreSQL.

    The planner's statistics still describe those tables without the rows just copied, so
    without this it may join a million new links as if there were none, by scanning them
    once per alias: minutes instead of seconds. ANALYZE reads a fixed-size sample.
    """
    if connection.vendor != "postgresql" or not step.analyze:
        return
    tables = ", ".join(connection.ops.quote_name(table) for table in step.analyze)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _progress(plan: MigrationPlan, covered: int, now: datetime) -> dict:
    """Rows copied, the rate (smoothed over chunks) and the time left after one chunk."""
    copied = plan.rows_copied + covered
    elapsed = (now - (plan.progress_at or now)).total_seconds()
    rate = plan.rows_per_second
    if elapsed > 0 and covered:
        chunk_rate = covered / elapsed
        rate = chunk_rate if rate is None else 0.8 * rate + 0.2 * chunk_rate
    left = max(plan.rows_total - copied, 0)
    seconds_left = math.ceil(left / rate) if rate else None
    return {
        "rows_copied": copied,
        "rows_per_second": rate,
        "seconds_left": seconds_left,
        "progress_at": now,
    }


def _extend_pause(plan: MigrationPlan, seconds_left: int | None, now: datetime) -> None:
    """Move the expected end of the pause (shown with every rejected write) past the copy.

    Verification reads about as many rows as the copy wrote, hence the factor of two.
    """
    if seconds_left is None:
        return
    ends_at = now + timedelta(seconds=2 * seconds_left + settings.MIGRATION_PAUSE_MARGIN_SECONDS)
    LegacyRegistry.objects.filter(
        pk=plan.legacy_registry_id, write_pause_ends_at__lt=ends_at
    ).update(write_pause_ends_at=ends_at)
    if plan.target_registry_id is not None:
        Registry.objects.filter(pk=plan.target_registry_id, write_pause_ends_at__lt=ends_at).update(
            write_pause_ends_at=ends_at
        )

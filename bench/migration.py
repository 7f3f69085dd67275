"""Benchmark: migrate a large team's legacy registry, and compare with a raw INSERT ... SELECT.

The team has 10,000 registered models with 100 linked versions each (1,000,000 versions).
Every version carries an alias and a tag (2,000,000 aliases and tags). Every model has
`latest`, a tag and one history event, and the registry has one protected alias.

The bench creates a throwaway PostgreSQL database for it (dropped at the end, also after a
failure), migrates the team the way the scheduler does, and reports:

    rows per second   legacy rows the copy job covered per second of copying
    write pause       from the start of the pause to the completed verification
    ratio             the job's rows per second divided by those of a raw copy: one
                      INSERT ... SELECT per kind of row, in one transaction, into a second
                      registry of the same database, right after the job

Without a reachable PostgreSQL server it runs on a temporary SQLite file, with 1,000
models unless --models says otherwise. Run it from the project folder:

    .venv/bin/python bench/migration.py [--models N] [--versions N] [--sqlite]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Reporter,
    configure_django,
    database_description,
    throwaway_database,
)

TAG_COUNT = 20
say = Reporter("migration")


# Data ------------------------------------------------------------------------------------------


def execute(sql: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def build_team(models: int, versions: int):
    """Create the organization, the team and its legacy registry, with set-based inserts."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.legacy import services as legacy_services
    from apps.orgs import services as org_services
    from apps.orgs.models import OrgRole, TeamRole
    from apps.registry import services as registry_services

    organization = registry_services.create_organization(name="bench-org")
    team = org_services.create_team(organization=organization, name="bench-team")
    users = get_user_model().objects
    roles = [TeamRole.ADMIN] * 2 + [TeamRole.MEMBER] * 12 + [TeamRole.VIEWER] * 6
    for number, role in enumerate(roles):
        user = users.create_user(username=f"bench-{number}", password=None)
        org_services.add_org_member(organization=organization, user=user, role=OrgRole.MEMBER)
        org_services.add_team_member(team=team, user=user, role=role)
    org_services.create_service_account(team=team, name="bench-bot")
    legacy = legacy_services.ensure_legacy_registry(team=team)
    project = registry_services.get_or_create_project(
        team=team, name="bench", actor=users.get(username="bench-0")
    )

    now = timezone.now()
    params = {
        "project": project.pk,
        "legacy": legacy.pk,
        "organization": organization.pk,
        "models": models,
        "versions": versions,
        "now": now,
        "tags": TAG_COUNT,
    }
    steps = [
        ("numbers", "CREATE TABLE bench_numbers (i INTEGER PRIMARY KEY)"),
        (
            "numbers",
            """INSERT INTO bench_numbers (i)
               WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
               SELECT i FROM n""",
        ),
        (
            "artifacts",
            """INSERT INTO registry_artifact (project_id, name, type, created_at)
               SELECT %(project)s, 'model-' || CAST(i AS TEXT), 'model', %(now)s
               FROM bench_numbers WHERE i < %(models)s""",
        ),
        (
            "source versions",
            """INSERT INTO registry_artifactversion
                   (artifact_id, version, digest, metadata, description, created_at)
               SELECT a.id, n.i, 'digest', '{}', '', %(now)s
               FROM registry_artifact a JOIN bench_numbers n ON n.i < %(versions)s
               WHERE a.project_id = %(project)s""",
        ),
        (
            "registered models",
            """INSERT INTO legacy_registeredmodel
                   (legacy_registry_id, name, description, next_index, created_at, updated_at)
               SELECT %(legacy)s, 'model-' || CAST(i AS TEXT),
                      CASE WHEN i %% 10 = 0 THEN 'Model **' || CAST(i AS TEXT) || '**' ELSE ''
                      END,
                      %(versions)s + 2, %(now)s, %(now)s
               FROM bench_numbers WHERE i < %(models)s""",
        ),
        (
            "legacy versions",
            """INSERT INTO legacy_legacyversion
                   (model_id, "index", version_id, description, linked_at)
               SELECT m.id, v.version, v.id,
                      CASE WHEN v.version %% 50 = 0 THEN 'Checked.' ELSE '' END, %(now)s
               FROM legacy_registeredmodel m
               JOIN registry_artifact a ON a.name = m.name AND a.project_id = %(project)s
               JOIN registry_artifactversion v ON v.artifact_id = a.id
               WHERE m.legacy_registry_id = %(legacy)s""",
        ),
        (
            "aliases",
            """INSERT INTO legacy_legacyalias (model_id, version_id, name)
               SELECT v.model_id, v.id, 'a' || CAST(v."index" AS TEXT)
               FROM legacy_legacyversion v
               JOIN legacy_registeredmodel m ON m.id = v.model_id
               WHERE m.legacy_registry_id = %(legacy)s""",
        ),
        (
            "latest aliases",
            """INSERT INTO legacy_legacyalias (model_id, version_id, name)
               SELECT v.model_id, v.id, 'latest'
               FROM legacy_legacyversion v
               JOIN legacy_registeredmodel m ON m.id = v.model_id
               WHERE m.legacy_registry_id = %(legacy)s AND v."index" = %(versions)s - 1""",
        ),
        (
            "tags",
            """INSERT INTO registry_tag (organization_id, name)
               SELECT %(organization)s, 'tag-' || CAST(i AS TEXT)
               FROM bench_numbers WHERE i < %(tags)s""",
        ),
        (
            "version tags",
            """INSERT INTO legacy_legacyversion_tags (legacyversion_id, tag_id)
               SELECT v.id, t.id
               FROM legacy_legacyversion v
               JOIN legacy_registeredmodel m ON m.id = v.model_id
               JOIN registry_tag t ON t.organization_id = %(organization)s
                    AND t.name = 'tag-' || CAST(v."index" %% %(tags)s AS TEXT)
               WHERE m.legacy_registry_id = %(legacy)s""",
        ),
        (
            "model tags",
            """INSERT INTO legacy_registeredmodel_tags (registeredmodel_id, tag_id)
               SELECT m.id, t.id
               FROM legacy_registeredmodel m
               JOIN registry_tag t ON t.organization_id = %(organization)s
                    AND t.name = 'tag-' || CAST(m.id %% %(tags)s AS TEXT)
               WHERE m.legacy_registry_id = %(legacy)s""",
        ),
        (
            "history",
            """INSERT INTO legacy_legacyevent (model_id, action, data, created_at)
               SELECT m.id, 'model.created', '{}', %(now)s
               FROM legacy_registeredmodel m WHERE m.legacy_registry_id = %(legacy)s""",
        ),
        (
            "protected alias",
            """INSERT INTO legacy_legacyprotectedalias (legacy_registry_id, name)
               VALUES (%(legacy)s, 'a0')""",
        ),
        ("cleanup", "DROP TABLE bench_numbers"),
    ]
    for label, sql in steps:
        started = time.monotonic()
        with transaction.atomic():
            rows = execute(sql, params)
        say(f"  {label}: {max(rows, 0):,} rows in {time.monotonic() - started:.1f} s")
    if connection.vendor == "postgresql":
        execute("ANALYZE")
    return team, legacy, organization


# Runs ------------------------------------------------------------------------------------------


def run_migration(team) -> "MigrationPlan":  # noqa: F821
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from apps.migration import services, tasks
    from apps.migration.models import MigrationPlan

    support = get_user_model().objects.create_user(username="bench-support", password=None)
    support.user_permissions.add(Permission.objects.get(codename="support_console"))
    support = get_user_model().objects.get(pk=support.pk)
    plan = services.schedule_migration(
        team=team,
        window_start=timezone.now() + timedelta(days=35),
        actor=support,
    )
    # The copy runs below, in this process, so its time is measured alone.
    tasks.enqueue_copy = lambda plan_id: None
    services.start_migration(plan=plan, actor=support)
    tasks.run_copy(plan.pk)
    return MigrationPlan.objects.get(pk=plan.pk)


RAW_STATEMENTS = [
    """INSERT INTO registry_collection
           (registry_id, name, type, description, next_index, created_at, updated_at)
       SELECT %(registry)s, m.name, 'model', m.description, m.next_index,
              m.created_at, m.updated_at
       FROM legacy_registeredmodel m WHERE m.legacy_registry_id = %(legacy)s""",
    """INSERT INTO registry_collectionlink
           (collection_id, "index", version_id, description, linked_by_id, linked_at)
       SELECT c.id, v."index", v.version_id, v.description, v.linked_by_id, v.linked_at
       FROM legacy_legacyversion v
       JOIN legacy_registeredmodel m ON m.id = v.model_id
       JOIN registry_collection c ON c.registry_id = %(registry)s AND c.name = m.name
       WHERE m.legacy_registry_id = %(legacy)s""",
    """INSERT INTO registry_alias (collection_id, link_id, name, updated_at)
       SELECT l.collection_id, l.id, 'latest', l.linked_at
       FROM registry_collectionlink l
       JOIN registry_collection c ON c.id = l.collection_id
       WHERE c.registry_id = %(registry)s AND l."index" = (
           SELECT MAX(top."index") FROM registry_collectionlink top
           WHERE top.collection_id = l.collection_id)""",
    """INSERT INTO registry_protectedalias (registry_id, name)
       SELECT %(registry)s, p.name FROM legacy_legacyprotectedalias p
       WHERE p.legacy_registry_id = %(legacy)s""",
    """INSERT INTO registry_alias (collection_id, link_id, name, updated_at)
       SELECT c.id, l.id, a.name, %(now)s
       FROM legacy_legacyalias a
       JOIN legacy_registeredmodel m ON m.id = a.model_id
       JOIN legacy_legacyversion v ON v.id = a.version_id
       JOIN registry_collection c ON c.registry_id = %(registry)s AND c.name = m.name
       JOIN registry_collectionlink l ON l.collection_id = c.id AND l."index" = v."index"
       WHERE m.legacy_registry_id = %(legacy)s AND a.name <> 'latest'""",
    """INSERT INTO registry_collection_tags (collection_id, tag_id)
       SELECT c.id, t.tag_id
       FROM legacy_registeredmodel_tags t
       JOIN legacy_registeredmodel m ON m.id = t.registeredmodel_id
       JOIN registry_collection c ON c.registry_id = %(registry)s AND c.name = m.name
       WHERE m.legacy_registry_id = %(legacy)s""",
    """INSERT INTO registry_collectionlink_tags (collectionlink_id, tag_id)
       SELECT l.id, t.tag_id
       FROM legacy_legacyversion_tags t
       JOIN legacy_legacyversion v ON v.id = t.legacyversion_id
       JOIN legacy_registeredmodel m ON m.id = v.model_id
       JOIN registry_collection c ON c.registry_id = %(registry)s AND c.name = m.name
       JOIN registry_collectionlink l ON l.collection_id = c.id AND l."index" = v."index"
       WHERE m.legacy_registry_id = %(legacy)s""",
    """INSERT INTO audit_auditevent
           (organization_id, actor_id, action, registry_id, collection_id, target, data,
            created_at)
       SELECT %(organization)s, e.actor_id, e.action, %(registry)s, c.id, m.name, e.data,
              e.created_at
       FROM legacy_legacyevent e
       JOIN legacy_registeredmodel m ON m.id = e.model_id
       JOIN registry_collection c ON c.registry_id = %(registry)s AND c.name = m.name
       WHERE m.legacy_registry_id = %(legacy)s""",
]


def run_raw_copy(legacy, organization) -> tuple[int, float]:
    """Copy the same rows into a second registry, one INSERT ... SELECT per kind, timed."""
    from django.db import transaction
    from django.utils import timezone

    from apps.registry.models import Registry

    registry = Registry.objects.create(organization=organization, name="raw-copy")
    params = {
        "registry": registry.pk,
        "legacy": legacy.pk,
        "organization": organization.pk,
        "now": timezone.now(),
    }
    started = time.monotonic()
    rows = 0
    with transaction.atomic():
        for sql in RAW_STATEMENTS:
            step_started = time.monotonic()
            rows += execute(sql, params)
            if os.environ.get("BENCH_VERBOSE"):
                say(f"  {time.monotonic() - step_started:.2f} s: {' '.join(sql.split())[:70]}")
    return rows, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", type=int, help="Registered models (default 10,000; 1,000 on SQLite)."
    )
    parser.add_argument(
        "--versions", type=int, default=100, help="Linked versions per model (default 100)."
    )
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even if PostgreSQL runs.")
    arguments = parser.parse_args()
    if arguments.versions > 100_000:
        parser.error("--versions is at most 100,000.")
    if arguments.models is not None and arguments.models > 100_000:
        parser.error("--models is at most 100,000.")

    with throwaway_database("migration", force_sqlite=arguments.sqlite, say=say) as url:
        configure_django(url)
        from django.db import connection

        default_models = 10_000 if connection.vendor == "postgresql" else 1_000
        return run(arguments.models or default_models, arguments.versions)


def run(models: int, versions: int) -> int:
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    database = database_description()
    say(f"Building a team with {models:,} models x {versions} versions on {database}.")
    team, legacy, organization = build_team(models, versions)

    say(f"Migrating in chunks of {settings.MIGRATION_CHUNK_ROWS:,} rows.")
    plan = run_migration(team)
    if plan.state != "completed":
        say(f"The plan ended {plan.state}: {plan.failure}")
        return 1
    copy_seconds = (plan.copied_at - plan.started_at).total_seconds()
    verify_seconds = (plan.completed_at - plan.copied_at).total_seconds()
    pause_seconds = plan.pause_seconds
    job_rate = plan.rows_total / copy_seconds

    raw_rows, raw_seconds = run_raw_copy(legacy, organization)
    raw_rate = raw_rows / raw_seconds
    ratio = job_rate / raw_rate
    pause_rate = plan.rows_total / pause_seconds

    counts = {kind["label"]: kind["target"]["count"] for kind in plan.verification["kinds"]}
    say("Copied and verified: " + ", ".join(f"{label} {n:,}" for label, n in counts.items()))
    print()
    print(f"database               {database}")
    print(f"legacy rows copied     {plan.rows_total:,}")
    print(f"copy                   {copy_seconds:.1f} s, {job_rate:,.0f} rows/s")
    print(f"verification           {verify_seconds:.1f} s")
    print(f"write pause            {pause_seconds:.1f} s (target: at most 60 s)")
    print(f"rows per pause second  {pause_rate:,.0f} (the estimate's rate setting)")
    print(f"raw INSERT ... SELECT  {raw_rows:,} rows, {raw_seconds:.1f} s, {raw_rate:,.0f} rows/s")
    print(f"ratio job / raw        {ratio:.2f} (target: 0.5 or better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

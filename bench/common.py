"""Shared set-up of the page and API benchmarks.

A throwaway database (PostgreSQL when a server accepts connections, else a temporary SQLite
file), Django configured as in production (DEBUG off, the real middleware, the bench URLconf
with its plain views), a large registry built with set-based inserts, and interleaved timing.
"""

import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
TAG_COUNT = 20
BIG_COLLECTION = "collection-00000"
SMALL_COLLECTION = "collection-00001"
CHAMPION = "champion"


class Reporter:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, message: str) -> None:
        print(f"[bench {self.name}] {message}", flush=True)


# The throwaway database ----------------------------------------------------------------------


def _psycopg_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme in ("postgres", "postgresql") else url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def postgres_available(say: Reporter) -> bool:
    import psycopg

    try:
        with psycopg.connect(_psycopg_url(SERVER_URL), connect_timeout=3):
            return True
    except psycopg.OperationalError as error:
        say(f"No PostgreSQL server at {urlsplit(SERVER_URL).netloc} ({str(error).strip()[:80]}).")
        return False


@contextlib.contextmanager
def throwaway_database(name: str, *, force_sqlite: bool, say: Reporter) -> Iterator[str]:
    """Yield the URL of a new, empty database, and drop it afterwards, also after a failure.

    On PostgreSQL the database gets a unique name and is created and dropped as the server's
    user. Without a server, or with `force_sqlite`, it is a SQLite file in a temporary folder.
    """
    import psycopg
    from psycopg import sql

    if not force_sqlite and postgres_available(say):
        database = f"bench_{name}_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(_psycopg_url(SERVER_URL), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        say(f"Created the database {database}.")
        try:
            yield _with_database(SERVER_URL, database)
        finally:
            _close_django_connections()
            with psycopg.connect(_psycopg_url(SERVER_URL), autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
            say(f"Dropped the database {database}.")
        return

    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
        say("Running on SQLite, in a temporary file.")
        try:
            yield f"sqlite:///{folder}/bench.sqlite3"
        finally:
            _close_django_connections()


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def configure_django(database_url: str) -> None:
    """Set up Django with production settings on the given database and the bench URLconf.

    DEBUG is off and every middleware runs. Requests are sent as HTTPS, so the SSL redirect
    stays on. Static files are looked up through the finders because the bench runs no
    collectstatic. The per-key API throttle still counts every request, but against a
    per-second budget that no bench reaches, so it never rejects one and its history in the
    cache stays one second long.
    """
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-for-anything-else")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["WHITENOISE_USE_FINDERS"] = "1"
    os.environ["API_THROTTLE_KEY"] = "1000000/s"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "registry_site.settings"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django
    from django.conf import settings

    # Whitenoise warns that STATIC_ROOT does not exist: the finders serve the files instead.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers")
    django.setup()
    settings.ROOT_URLCONF = "bench.urls"


def database_description() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (temporary file)"


# Data ------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    organization: object
    registry: object
    small_registry: object
    member: object
    big: object
    small: object
    versions: int
    collections: int
    small_versions: int
    other_versions: int


def _execute(statement: str, params: dict) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _json(expression: str) -> str:
    """Turn a text expression into a JSON value for INSERT ... SELECT on either database."""
    from django.db import connection

    return f"CAST({expression} AS jsonb)" if connection.vendor == "postgresql" else expression


def build_dataset(
    say: Reporter,
    *,
    collections: int,
    versions: int,
    small_versions: int,
    other_versions: int = 3,
) -> Dataset:
    """Build organization `bench-org` whose `model` registry contains `collections` collections.

    The people, the team and their grants go through the services, as tests/conftest.py
    makes its personas; the bulk goes in with bulk_create or INSERT ... SELECT.
    `collection-00000` links `versions` versions of one artifact, `collection-00001` the
    first `small_versions` of them, and every other collection the first `other_versions`.
    Each collection has `latest` on its top index and `champion` in its middle. In the big
    collection every 100th version has an alias and every 10th a tag. Every third collection
    has a tag, and every collection and link has the audit event that a service writes.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.orgs import services as org_services
    from apps.orgs.models import OrgRole, TeamRole
    from apps.registry import services
    from apps.registry.access import grant_role
    from apps.registry.models import Artifact, Collection, Registry, Tag
    from apps.registry.roles import Role

    organization = services.create_organization(name="bench-org", display_name="Bench Org")
    team = org_services.create_team(organization=organization, name="bench-team")
    registry = Registry.objects.get(organization=organization, name="model")
    small_registry = Registry.objects.get(organization=organization, name="dataset")
    grant_role(registry, team.group, Role.MEMBER)
    grant_role(small_registry, team.group, Role.MEMBER)
    member = get_user_model().objects.create_user(
        username="bench-member", password=None, email="bench-member@example.com"
    )
    org_services.add_org_member(organization=organization, user=member, role=OrgRole.MEMBER)
    org_services.add_team_member(team=team, user=member, role=TeamRole.MEMBER)
    project = services.get_or_create_project(team=team, name="bench", actor=member)

    now = timezone.now()
    artifact = Artifact.objects.create(project=project, name="bench-model", type="model")
    Tag.objects.bulk_create(
        Tag(organization=organization, name=f"tag-{number}") for number in range(TAG_COUNT)
    )
    # Created in reverse order, so the two measured collections have the highest ids: a
    # look-up by name that walks the primary key, as `.first()` does, meets them last.
    Collection.objects.bulk_create(
        Collection(
            registry=registry,
            name=f"collection-{number:05d}",
            type="model",
            description="A **bench** collection." if number % 10 == 0 else "",
            created_by=member,
        )
        for number in reversed(range(collections))
    )
    Collection.objects.bulk_create(
        Collection(registry=small_registry, name=f"dataset-{number}", type="dataset")
        for number in range(5)
    )
    big = Collection.objects.get(registry=registry, name=BIG_COLLECTION)
    small = Collection.objects.get(registry=registry, name=SMALL_COLLECTION)

    params = {
        "organization": organization.pk,
        "registry": registry.pk,
        "artifact": artifact.pk,
        "member": member.pk,
        "big": big.pk,
        "small": small.pk,
        "versions": versions,
        "small_versions": small_versions,
        "other_versions": other_versions,
        "tags": TAG_COUNT,
        "champion": CHAMPION,
        "now": now,
    }
    created_data = _json('\'{"type": "model"}\'')
    linked_data = _json(
        """'{"index": ' || CAST(l."index" AS TEXT) || ', "source": "bench-team/bench/'
           || 'bench-model:v' || CAST(v.version AS TEXT) || '"}'"""
    )
    steps = [
        ("numbers", "CREATE TABLE bench_numbers (i INTEGER PRIMARY KEY)"),
        (
            "numbers",
            """INSERT INTO bench_numbers (i)
               WITH RECURSIVE n(i) AS (
                   SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %(versions)s - 1)
               SELECT i FROM n""",
        ),
        (
            "source versions",
            """INSERT INTO registry_artifactversion
                   (artifact_id, version, digest, metadata, description, created_by_id,
                    created_at)
               SELECT %(artifact)s, i, 'sha256:' || CAST(i AS TEXT), '{}', '', %(member)s,
                      %(now)s
               FROM bench_numbers""",
        ),
        (
            "links of the big collection",
            """INSERT INTO registry_collectionlink
                   (collection_id, "index", version_id, description, linked_by_id, linked_at)
               SELECT %(big)s, v.version, v.id, '', %(member)s, %(now)s
               FROM registry_artifactversion v WHERE v.artifact_id = %(artifact)s""",
        ),
        (
            "links of the small collection",
            """INSERT INTO registry_collectionlink
                   (collection_id, "index", version_id, description, linked_by_id, linked_at)
               SELECT %(small)s, v.version, v.id, '', %(member)s, %(now)s
               FROM registry_artifactversion v
               WHERE v.artifact_id = %(artifact)s AND v.version < %(small_versions)s""",
        ),
        (
            "links of the other collections",
            """INSERT INTO registry_collectionlink
                   (collection_id, "index", version_id, description, linked_by_id, linked_at)
               SELECT c.id, v.version, v.id, '', %(member)s, %(now)s
               FROM registry_collection c
               JOIN registry_artifactversion v
                    ON v.artifact_id = %(artifact)s AND v.version < %(other_versions)s
               WHERE c.registry_id = %(registry)s AND c.id NOT IN (%(big)s, %(small)s)""",
        ),
        (
            "next indices",
            """UPDATE registry_collection
               SET next_index = CASE WHEN id = %(big)s THEN %(versions)s
                                     WHEN id = %(small)s THEN %(small_versions)s
                                     ELSE %(other_versions)s END
               WHERE registry_id = %(registry)s""",
        ),
        # The link service keeps this count on a live site, but the bulk inserts bypass it.
        (
            "version counts",
            """UPDATE registry_collection
               SET version_count = (SELECT COUNT(*) FROM registry_collectionlink l
                                    WHERE l.collection_id = registry_collection.id)
               WHERE registry_id = %(registry)s""",
        ),
        (
            "latest aliases",
            """INSERT INTO registry_alias (collection_id, link_id, name, updated_at)
               SELECT l.collection_id, l.id, 'latest', %(now)s
               FROM registry_collectionlink l
               JOIN registry_collection c ON c.id = l.collection_id
               WHERE c.registry_id = %(registry)s AND l."index" = c.next_index - 1""",
        ),
        (
            "champion aliases",
            """INSERT INTO registry_alias (collection_id, link_id, name, updated_at)
               SELECT l.collection_id, l.id, %(champion)s, %(now)s
               FROM registry_collectionlink l
               JOIN registry_collection c ON c.id = l.collection_id
               WHERE c.registry_id = %(registry)s AND l."index" = c.next_index / 2""",
        ),
        (
            "aliases on every 100th version",
            """INSERT INTO registry_alias (collection_id, link_id, name, updated_at)
               SELECT l.collection_id, l.id, 'candidate-' || CAST(l."index" AS TEXT), %(now)s
               FROM registry_collectionlink l
               WHERE l.collection_id = %(big)s AND l."index" %% 100 = 1""",
        ),
        (
            "tags on every 10th version",
            """INSERT INTO registry_collectionlink_tags (collectionlink_id, tag_id)
               SELECT l.id, t.id
               FROM registry_collectionlink l
               JOIN registry_tag t ON t.organization_id = %(organization)s
                    AND t.name = 'tag-' || CAST(l."index" %% %(tags)s AS TEXT)
               WHERE l.collection_id = %(big)s AND l."index" %% 10 = 0""",
        ),
        (
            "tags on every third collection",
            """INSERT INTO registry_collection_tags (collection_id, tag_id)
               SELECT c.id, t.id
               FROM registry_collection c
               JOIN registry_tag t ON t.organization_id = %(organization)s
                    AND t.name = 'tag-' || CAST(c.id %% %(tags)s AS TEXT)
               WHERE c.registry_id = %(registry)s AND c.id %% 3 = 0""",
        ),
        (
            "audit events of the collections",
            f"""INSERT INTO audit_auditevent
                   (organization_id, actor_id, action, registry_id, collection_id, target, data,
                    created_at)
               SELECT %(organization)s, %(member)s, 'collection.created', %(registry)s, c.id,
                      c.name, {created_data}, %(now)s
               FROM registry_collection c WHERE c.registry_id = %(registry)s""",
        ),
        (
            "audit events of the links",
            f"""INSERT INTO audit_auditevent
                   (organization_id, actor_id, action, registry_id, collection_id, target, data,
                    created_at)
               SELECT %(organization)s, %(member)s, 'version.linked', %(registry)s, c.id,
                      c.name || ':v' || CAST(l."index" AS TEXT), {linked_data}, %(now)s
               FROM registry_collectionlink l
               JOIN registry_collection c ON c.id = l.collection_id
               JOIN registry_artifactversion v ON v.id = l.version_id
               WHERE c.registry_id = %(registry)s""",
        ),
        ("cleanup", "DROP TABLE bench_numbers"),
    ]
    for label, statement in steps:
        started = time.monotonic()
        with transaction.atomic():
            rows = _execute(statement, params)
        if label not in ("numbers", "cleanup", "next indices", "version counts"):
            say(f"  {label}: {max(rows, 0):,} rows in {time.monotonic() - started:.1f} s")

    if connection.vendor == "postgresql":
        # Autovacuum does this on a live server in time. The bench does it at once, so that
        # the plans and the index-only scans are those of a settled database.
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        say(f"  VACUUM ANALYZE in {time.monotonic() - started:.1f} s")

    return Dataset(
        organization=organization,
        registry=registry,
        small_registry=small_registry,
        member=member,
        big=big,
        small=small,
        versions=versions,
        collections=collections,
        small_versions=small_versions,
        other_versions=other_versions,
    )


# Measuring -----------------------------------------------------------------------------------


@dataclass
class Case:
    """One request to time: `send` makes it and raises unless the response is as expected."""

    label: str
    send: Callable[[], object]


def count_queries(send: Callable[[], object]) -> list[dict]:
    """Send one request and return the SQL queries it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        send()
    return list(captured.captured_queries)


@dataclass
class Timing:
    """Seconds per request of one case: in total, and inside the database driver."""

    total: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)


def measure(cases: list[Case], *, rounds: int, warmup: int = 3) -> dict[str, Timing]:
    """Time `rounds` requests of each case, and the part of each spent running SQL.

    Each round sends every case's request once, in an order rotated by one place per round,
    so that a burst of load from other processes falls on all cases alike and no case
    always runs first or last. The SQL time is what the queries' execute calls took, read
    by a database execute wrapper, which costs about a microsecond per query.
    """
    from django.db import connection

    sql_seconds = [0.0]

    def time_query(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    for _ in range(warmup):
        for case in cases:
            case.send()
    timings = {case.label: Timing() for case in cases}
    with connection.execute_wrapper(time_query):
        for round_number in range(rounds):
            shift = round_number % len(cases)
            for case in cases[shift:] + cases[:shift]:
                sql_seconds[0] = 0.0
                started = time.perf_counter()
                case.send()
                timings[case.label].total.append(time.perf_counter() - started)
                timings[case.label].sql.append(sql_seconds[0])
    return timings


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def explain(queries: list[dict]) -> str:
    """Return the plan of each captured query (EXPLAIN ANALYZE on PostgreSQL)."""
    from django.db import connection

    prefix = "EXPLAIN ANALYZE" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    blocks = []
    with connection.cursor() as cursor:
        for number, query in enumerate(queries, start=1):
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                blocks.append(f"-- {number}: {sql[:200]}\n   (not a SELECT, not explained)")
                continue
            cursor.execute(f"{prefix} {sql}")
            plan = "\n".join("   " + " | ".join(str(cell) for cell in row) for row in cursor)
            blocks.append(f"-- {number} ({query['time']} s): {sql[:600]}\n{plan}")
    return "\n".join(blocks)


def verdict(met: bool) -> str:
    """Word a target's result for the printed table."""
    return "met" if met else "MISSED"

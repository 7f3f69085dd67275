"""Run the test suite again on PostgreSQL, in a throwaway database created for this run.

The server is the one DATABASE_URL names, or else postgres://postgres@127.0.0.1:5432/postgres.
This script creates a database named registry_test_<pid>_<random> there, points
DATABASE_URL at it and runs pytest; pytest-django then creates and drops its own
test_registry_test_... database next to it. Afterwards, also after a failure or an
interrupt, the script drops every database whose name starts with that unique name, and
no other.

Without a reachable server it prints how to enable the pass and exits 0, unless
REQUIRE_SERVICES=1, which makes a missing server a failure. Extra arguments go to pytest;
the exit code is pytest's.

    .venv/bin/python tests/run_postgres.py [PYTEST ARGS...]
"""

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT_SECONDS = 3
# The schemes dj-database-url reads as PostgreSQL.
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}
HOW_TO_ENABLE = (
    "Start PostgreSQL on 127.0.0.1:5432 with a user `postgres` that may create databases, "
    "or set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DBNAME for a server whose user "
    "has CREATEDB."
)


def say(message: str) -> None:
    print(f"[run_postgres] {message}", flush=True)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def connect(url: str) -> psycopg.Connection:
    # psycopg accepts postgres:// and postgresql:// URLs but not dj-database-url's aliases.
    scheme, rest = url.split("://", 1)
    if scheme in POSTGRES_SCHEMES:
        url = f"postgresql://{rest}"
    return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)


def drop_run_databases(server_url: str, run_name: str) -> list[str]:
    """Drop the run's database and pytest-django's test_ copies of it; return their names."""
    escaped = run_name.replace("_", "\\_")
    with connect(server_url) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                [run_name, f"test\\_{escaped}%"],
            )
        ]
        for name in names:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    return names


def main(pytest_args: list[str]) -> int:
    require = os.environ.get("REQUIRE_SERVICES") == "1"
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    if urlsplit(server_url).scheme not in POSTGRES_SCHEMES:
        say(f"DATABASE_URL is not a PostgreSQL URL, so the pass uses {DEFAULT_SERVER_URL}.")
        server_url = DEFAULT_SERVER_URL
    server = urlsplit(server_url)
    where = f"{server.hostname}:{server.port or 5432}"

    try:
        with connect(server_url) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        say(f"No PostgreSQL server answered at {where} ({first_line}).")
        say(HOW_TO_ENABLE)
        if require:
            say("REQUIRE_SERVICES=1 is set, so a missing PostgreSQL fails the run.")
            return 1
        say("Skipping the PostgreSQL pass.")
        return 0

    run_name = f"registry_test_{os.getpid()}_{secrets.token_hex(4)}"
    # SIGTERM (a CI timeout, for example) unwinds through the finally block below like
    # Ctrl-C does, so the databases are dropped either way.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    with connect(server_url) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(run_name)))
    say(f"Created database {run_name} on PostgreSQL {version} at {where}.")

    try:
        environment = dict(os.environ, DATABASE_URL=with_database(server_url, run_name))
        command = [sys.executable, "-m", "pytest", *pytest_args]
        say(f"Running {' '.join(command[1:])} on {run_name}.")
        return subprocess.call(command, cwd=PROJECT_ROOT, env=environment)
    finally:
        dropped = drop_run_databases(server_url, run_name)
        say(f"Dropped {', '.join(dropped) or 'nothing'}.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

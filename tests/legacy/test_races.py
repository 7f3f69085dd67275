"""Concurrent legacy writes on PostgreSQL, each thread with its own database connection.

SQLite serializes every write transaction, so these races only mean something on a server
that runs transactions side by side; the SQLite pass skips them.
"""

import threading

import pytest
from django.db import OperationalError, connections, transaction

from apps.legacy import services
from apps.legacy.models import LegacyAlias, LegacyRegistry, LegacyVersion
from tests.conftest import log_version
from tests.registry.test_races import JOIN_TIMEOUT_SECONDS, run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_concurrent_links_get_consecutive_indices(registered_model, project, member):
    sources = [log_version(project, member) for _ in range(THREADS)]

    rows, errors = run_at_once(
        [
            lambda source=source: services.link_version(
                model=registered_model, version=source, actor=member
            )
            for source in sources
        ]
    )

    assert errors == [None] * THREADS
    assert sorted(row.index for row in rows) == list(range(THREADS))
    stored = LegacyVersion.objects.filter(model=registered_model)
    assert sorted(stored.values_list("index", flat=True)) == list(range(THREADS))
    assert LegacyAlias.objects.get(model=registered_model, name="latest").version.index == 19
    registered_model.refresh_from_db()
    assert registered_model.next_index == THREADS


def test_pause_waits_for_write_in_flight(registered_model, legacy_registry, member):
    """A write past the guard holds its lock, so a pause cannot start until it commits."""
    written = threading.Event()
    release = threading.Event()
    outcome = {}

    def write() -> None:
        try:
            with transaction.atomic():
                services.add_tag(target=registered_model, name="in-flight", actor=member)
                written.set()
                release.wait(timeout=JOIN_TIMEOUT_SECONDS)
        finally:
            connections.close_all()

    def try_to_pause() -> None:
        try:
            with transaction.atomic():
                LegacyRegistry.objects.select_for_update(nowait=True).get(pk=legacy_registry.pk)
        except OperationalError as error:
            outcome["blocked"] = str(error)
        else:
            outcome["blocked"] = None
        finally:
            connections.close_all()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert written.wait(timeout=JOIN_TIMEOUT_SECONDS)

    blocked_attempt = threading.Thread(target=try_to_pause, daemon=True)
    blocked_attempt.start()
    blocked_attempt.join(timeout=JOIN_TIMEOUT_SECONDS)
    blocked = outcome.pop("blocked")
    release.set()
    writer.join(timeout=JOIN_TIMEOUT_SECONDS)
    later_attempt = threading.Thread(target=try_to_pause, daemon=True)
    later_attempt.start()
    later_attempt.join(timeout=JOIN_TIMEOUT_SECONDS)

    assert blocked is not None
    assert "could not obtain lock" in blocked
    assert outcome["blocked"] is None
    assert registered_model.tags.filter(name="in-flight").exists()

"""Concurrent writes on PostgreSQL, each thread with its own database connection.

SQLite serializes every write transaction, so these races only mean something on a server
that runs transactions side by side; the SQLite pass skips them.
"""

import threading

import pytest
from django.db import connections

from apps.audit.models import AuditEvent
from apps.registry import services
from apps.registry.models import Alias, CollectionLink, Tag
from tests.conftest import log_version

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
# A generous bound, because each thread waits only for the short transactions of the others.
JOIN_TIMEOUT_SECONDS = 60


def run_at_once(calls):
    """Run each zero-argument callable in its own thread, released together by a barrier.

    Returns (results, errors), each a list in the order of `calls`; a thread that raised
    leaves None in results and its exception in errors.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def worker(position, call):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_SECONDS)
            results[position] = call()
        except Exception as error:  # the test asserts that errors stays empty
            errors[position] = error
        finally:
            # Each thread opened its own connection; close it so the test database can be
            # flushed and dropped.
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(position, call), daemon=True)
        for position, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT_SECONDS)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {JOIN_TIMEOUT_SECONDS}s: {stuck}"
    return results, errors


def test_concurrent_links_get_consecutive_indices(collection, project, member):
    versions = [log_version(project, member) for _ in range(THREADS)]

    links, errors = run_at_once(
        [
            lambda version=version: services.link_version(
                collection=collection, version=version, actor=member
            )
            for version in versions
        ]
    )

    assert errors == [None] * THREADS
    assert sorted(link.index for link in links) == list(range(THREADS))
    stored = CollectionLink.objects.filter(collection=collection)
    assert sorted(stored.values_list("index", flat=True)) == list(range(THREADS))
    assert sorted(stored.values_list("version_id", flat=True)) == sorted(v.pk for v in versions)
    latest = Alias.objects.get(collection=collection, name="latest")
    assert latest.link.index == THREADS - 1
    assert AuditEvent.objects.filter(action="version.linked").count() == THREADS
    collection.refresh_from_db()
    assert collection.next_index == THREADS
    assert collection.version_count == THREADS


def test_concurrent_links_and_unlinks_keep_count(collection, project, member):
    existing = [
        services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )
        for _ in range(THREADS // 2)
    ]
    new_versions = [log_version(project, member) for _ in range(THREADS // 2)]
    # Each existing link is unlinked by two threads at once, and each new version linked by
    # two, so half of the calls find their work done by the other thread.
    calls = []
    for link, version in zip(existing, new_versions, strict=True):
        for _ in range(2):
            calls.append(lambda link=link: services.unlink_version(link=link, actor=member))
            calls.append(
                lambda version=version: services.link_version(
                    collection=collection, version=version, actor=member
                )
            )

    _, errors = run_at_once(calls)

    assert errors == [None] * len(calls)
    collection.refresh_from_db()
    links = CollectionLink.objects.filter(collection=collection)
    assert sorted(links.values_list("version_id", flat=True)) == sorted(
        version.pk for version in new_versions
    )
    assert collection.version_count == len(new_versions)


def test_concurrent_alias_moves_leave_one_holder(collection, project, member):
    links = [
        services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )
        for _ in range(5)
    ]
    spellings = ["staging", "Staging", "STAGING", "sTaGiNg"]

    _, errors = run_at_once(
        [
            lambda position=position: services.set_alias(
                link=links[position % len(links)],
                name=spellings[position % len(spellings)],
                actor=member,
            )
            for position in range(THREADS)
        ]
    )

    assert errors == [None] * THREADS
    holders = Alias.objects.filter(collection=collection, name__iexact="staging")
    assert holders.count() == 1
    holder = holders.get()
    # The last recorded move names the alias's current link.
    last_move = AuditEvent.objects.filter(action="alias.set").order_by("-pk").first()
    assert last_move.data["index"] == holder.link.index
    assert Alias.objects.get(collection=collection, name="latest").link.index == 4


def test_concurrent_tag_creation_makes_one_row(linked, project, member):
    more = [
        services.link_version(
            collection=linked[0].collection, version=log_version(project, member), actor=member
        )
        for _ in range(THREADS - len(linked))
    ]
    targets = linked + more
    spellings = ["Prod", "PROD", "prod", "pRoD", "PrOd"]

    tags, errors = run_at_once(
        [
            lambda position=position: services.add_tag(
                target=targets[position], name=spellings[position % len(spellings)], actor=member
            )
            for position in range(THREADS)
        ]
    )

    assert errors == [None] * THREADS
    assert Tag.objects.filter(name__iexact="prod").count() == 1
    assert len({tag.pk for tag in tags}) == 1
    for target in targets:
        assert list(target.tags.values_list("name", flat=True)) == [tags[0].name]
    assert AuditEvent.objects.filter(action="tag.added").count() == THREADS

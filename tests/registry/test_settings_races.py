"""A registry keeps an Admin when its Admins change roles at the same moment (PostgreSQL).

Each thread has its own database connection and its own transaction, released together by a
barrier; SQLite serializes all writes, so only the PostgreSQL pass runs these.
"""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from apps.audit.models import AuditEvent
from apps.orgs import services as org_services
from apps.registry import services
from apps.registry.access import admin_count, member_rows
from apps.registry.roles import Role
from tests.conftest import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A generous bound, because each thread waits only for the short transactions of the others.
JOIN_TIMEOUT_SECONDS = 60
ROUNDS = 5


def run_at_once(calls):
    """Run each zero-argument callable in its own thread, released together by a barrier.

    Returns (results, errors) in the order of `calls`.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def worker(position, call):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_SECONDS)
            results[position] = call()
        except Exception as error:  # the test asserts on each error
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


def granted(registry) -> dict[str, Role]:
    return {row.name: row.granted for row in member_rows(registry)}


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_admins_demoting_each_other(secret_registry, registry_admin, member, round_number):
    services.add_member(
        registry=secret_registry, member=member, role=Role.ADMIN, actor=registry_admin
    )

    _, errors = run_at_once(
        [
            lambda: services.change_role(
                registry=secret_registry, member=member, role=Role.MEMBER, actor=registry_admin
            ),
            lambda: services.change_role(
                registry=secret_registry, member=registry_admin, role=Role.MEMBER, actor=member
            ),
        ]
    )

    # The first change to take the registry's lock demotes the other Admin, whose own change
    # then runs without the Admin role.
    failed = [error for error in errors if error is not None]
    assert len(failed) == 1
    assert isinstance(failed[0], PermissionDenied)
    assert "Changing roles in the registry 'secret-models' needs the Admin role" in str(failed[0])
    assert admin_count(secret_registry) == 1
    assert sorted(granted(secret_registry).values()) == [Role.MEMBER, Role.ADMIN]
    assert AuditEvent.objects.filter(action="member.role_changed").count() == 1


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_admins_stepping_down_at_once(secret_registry, registry_admin, member, round_number):
    services.add_member(
        registry=secret_registry, member=member, role=Role.ADMIN, actor=registry_admin
    )

    _, errors = run_at_once(
        [
            lambda: services.change_role(
                registry=secret_registry,
                member=registry_admin,
                role=Role.MEMBER,
                actor=registry_admin,
            ),
            lambda: services.remove_member(registry=secret_registry, member=member, actor=member),
        ]
    )

    failed = [error for error in errors if error is not None]
    assert len(failed) == 1
    assert isinstance(failed[0], ValidationError)
    assert "is the registry's last Admin; make someone else Admin first." in failed[0].messages[0]
    assert admin_count(secret_registry) == 1


def test_two_admins_removing_each_other(secret_registry, registry_admin, member):
    services.add_member(
        registry=secret_registry, member=member, role=Role.ADMIN, actor=registry_admin
    )

    _, errors = run_at_once(
        [
            lambda: services.remove_member(
                registry=secret_registry, member=member, actor=registry_admin
            ),
            lambda: services.remove_member(
                registry=secret_registry, member=registry_admin, actor=member
            ),
        ]
    )

    assert sum(error is not None for error in errors) == 1
    assert admin_count(secret_registry) == 1
    assert list(granted(secret_registry).values()) == [Role.ADMIN]


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_demoted_admin_cannot_demote_third(
    secret_registry, registry_admin, member, org, round_number
):
    """An Admin demoted while their own change waits may not complete that change."""
    third = make_user("tess")
    org_services.add_org_member(organization=org, user=third)
    for user in (member, third):
        services.add_member(
            registry=secret_registry, member=user, role=Role.ADMIN, actor=registry_admin
        )

    _, errors = run_at_once(
        [
            # ada demotes mike while mike demotes tess.
            lambda: services.change_role(
                registry=secret_registry, member=member, role=Role.VIEWER, actor=registry_admin
            ),
            lambda: services.change_role(
                registry=secret_registry, member=third, role=Role.VIEWER, actor=member
            ),
        ]
    )

    roles = granted(secret_registry)
    changes = list(
        AuditEvent.objects.filter(action="member.role_changed")
        .order_by("pk")
        .values_list("data__member", flat=True)
    )
    assert errors[0] is None
    # Either mike's change ran first and both succeeded, or ada's did, and then mike was no
    # Admin any more when his change ran, so it was refused.
    if errors[1] is None:
        assert changes == ["tess", "mike"]
        assert roles == {"ada": Role.ADMIN, "mike": Role.VIEWER, "tess": Role.VIEWER}
    else:
        assert "needs the Admin role" in str(errors[1])
        assert changes == ["mike"]
        assert roles == {"ada": Role.ADMIN, "mike": Role.VIEWER, "tess": Role.ADMIN}

"""Access tokens and signing secrets: encrypted at rest, never in audit rows or logs."""

import logging

from cryptography.fernet import Fernet
from django.db import connection

from apps.audit.models import AuditEvent
from apps.automations import crypto, services
from apps.automations.apps import check_encryption_keys
from apps.automations.models import Execution, ExecutionStatus, WebhookIntegration
from apps.registry import services as registry_services
from tests.automations.conftest import SECRET, TOKEN
from tests.conftest import log_version


def raw_row(integration) -> tuple:
    table = WebhookIntegration._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [integration.pk])  # noqa: S608
        return cursor.fetchone()


def test_database_row_holds_no_plaintext(integration):
    row = raw_row(integration)

    text = " ".join(str(value) for value in row)
    assert TOKEN not in text
    assert SECRET not in text
    assert crypto.decrypt(integration.access_token_encrypted) == TOKEN
    assert crypto.decrypt(integration.signing_secret_encrypted) == SECRET


def test_audit_rows_hold_no_secret(integration, team_admin):
    services.update_integration(
        integration=integration, access_token="tok-rotated-2", actor=team_admin
    )

    events = AuditEvent.objects.filter(action__startswith="integration.")
    assert [event.action for event in events.order_by("pk")] == [
        "integration.created",
        "integration.updated",
    ]
    for event in events:
        assert TOKEN not in str(event.data)
        assert "tok-rotated-2" not in str(event.data)
        assert SECRET not in str(event.data)
    assert events.get(action="integration.updated").data["fields"] == ["access_token"]


def test_logs_hold_no_secret(
    make_automation,
    collection,
    project,
    member,
    receiver,
    caplog,
    django_capture_on_commit_callbacks,
):
    caplog.set_level(logging.DEBUG)
    receiver.replies = [(500, "retry me")]
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    assert "attempt 2: succeeded" in caplog.text
    assert TOKEN not in caplog.text
    assert SECRET not in caplog.text


def test_rotated_key_still_decrypts(integration, settings):
    stored = integration.access_token_encrypted  # encrypted with the key from SECRET_KEY
    new_key = Fernet.generate_key().decode()
    old_key = crypto._derived_key(settings.SECRET_KEY).decode()
    settings.AUTOMATIONS_ENCRYPTION_KEY = [new_key, old_key]

    fresh = crypto.encrypt(TOKEN)

    assert crypto.decrypt(stored) == TOKEN
    settings.AUTOMATIONS_ENCRYPTION_KEY = [new_key]
    assert crypto.decrypt(fresh) == TOKEN


def test_lost_key_fails_delivery_without_request(
    make_automation,
    collection,
    project,
    member,
    receiver,
    settings,
    django_capture_on_commit_callbacks,
):
    make_automation()
    settings.AUTOMATIONS_ENCRYPTION_KEY = [Fernet.generate_key().decode()]

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    execution = Execution.objects.get()
    assert execution.status == ExecutionStatus.FAILED
    assert "cannot be decrypted" in execution.error
    assert execution.attempt_count == 1
    assert receiver.requests == []


def test_malformed_key_reported_by_check(settings):
    settings.AUTOMATIONS_ENCRYPTION_KEY = ["not-a-fernet-key"]

    (error,) = check_encryption_keys(None)

    assert error.id == "automations.E001"
    assert "key 1 is not a Fernet key" in error.msg


def test_no_token_sends_no_authorization(
    model_registry,
    team,
    team_admin,
    member,
    collection,
    project,
    receiver,
    django_capture_on_commit_callbacks,
):
    bare = services.create_integration(team=team, name="bare", url=receiver.url, actor=team_admin)
    services.create_automation(
        registry=model_registry,
        name="bare",
        event_type="version.linked",
        integration=bare,
        actor=member,
    )

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    (request,) = receiver.requests
    assert "Authorization" not in request.headers
    assert "X-Registry-Signature" not in request.headers

"""Deliveries to a real HTTP receiver: signature, headers, body, retries and give-up."""

import base64
import hashlib
import hmac
import socket

import pytest
from django.db import transaction

from apps.automations import services
from apps.automations.models import (
    AttemptOutcome,
    DeliveryAttempt,
    EventType,
    Execution,
    ExecutionStatus,
)
from apps.automations.tasks import attempt_delivery, deliver_execution
from apps.registry import services as registry_services
from tests.automations.conftest import SECRET, TOKEN
from tests.conftest import log_version


def link_new_version(collection, project, actor, **kwargs):
    version = log_version(project, actor, metadata={"auc": 0.97, "framework": "xgboost"})
    return registry_services.link_version(
        collection=collection, version=version, actor=actor, **kwargs
    )


def only_execution() -> Execution:
    (execution,) = Execution.objects.all()
    return execution


def outcomes(execution: Execution) -> list[str]:
    return list(execution.attempts.values_list("outcome", flat=True))


def test_link_sends_signed_webhook(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link = link_new_version(collection, project, member)

    (request,) = receiver.requests
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), request.body, hashlib.sha256).digest()
    ).decode()
    assert request.headers["X-Registry-Signature"] == expected
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Registry-Event"] == "version.linked"
    assert request.headers["X-Registry-Delivery"] == str(only_execution().pk)
    assert request.path == "/hook"
    body = request.json()
    assert body["event"] == "version.linked"
    assert body["author"] == "mike"
    assert body["registry"] == "model"
    assert body["collection"] == "fraud-detector"
    assert body["version"] == f"acme/wandb-registry-model/fraud-detector:v{link.index}"
    assert body["alias"] is None


def test_successful_delivery_recorded(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert execution.status == ExecutionStatus.FINISHED
    assert execution.finished_at is not None
    (attempt,) = execution.attempts.all()
    assert attempt.outcome == AttemptOutcome.SUCCEEDED
    assert attempt.response_code == 200
    assert attempt.response_excerpt == '{"ok": true}'
    assert attempt.error == ""


def test_webhook_waits_for_commit(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        link_new_version(collection, project, member)
        assert receiver.requests == []
        assert only_execution().status == ExecutionStatus.PENDING

    assert len(callbacks) == 1
    assert len(receiver.requests) == 1


def test_rolled_back_link_sends_nothing(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()
    version = log_version(project, member)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        registry_services.link_version(collection=collection, version=version, actor=member)
        raise RuntimeError("the caller fails after the link")

    assert callbacks == []
    assert Execution.objects.count() == 0
    assert receiver.requests == []


def test_retry_after_server_error(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    receiver.replies = [(500, "database is down")]
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert execution.status == ExecutionStatus.FINISHED
    first, second = execution.attempts.all()
    assert first.outcome == AttemptOutcome.RETRYING
    assert first.response_code == 500
    assert first.response_excerpt == "database is down"
    assert first.error == "The endpoint answered 500."
    assert second.outcome == AttemptOutcome.SUCCEEDED
    assert second.response_code == 200


def test_server_errors_give_up_at_limit(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    receiver.default_reply = (503, "unavailable")
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert len(receiver.requests) == 4
    assert execution.status == ExecutionStatus.FAILED
    assert execution.attempt_count == 4
    assert outcomes(execution) == ["retrying", "retrying", "retrying", "failed"]
    assert execution.error == "The endpoint answered 503. Gave up after 4 attempts."


def test_client_error_not_retried(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    receiver.default_reply = (404, "no such hook")
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert len(receiver.requests) == 1
    assert execution.status == ExecutionStatus.FAILED
    assert outcomes(execution) == ["failed"]
    assert execution.attempts.get().response_excerpt == "no such hook"
    assert execution.error == "The endpoint answered 404."


def test_redirect_not_followed(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    receiver.default_reply = (302, "")
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert len(receiver.requests) == 1
    assert execution.status == ExecutionStatus.FAILED
    assert "redirects are not followed" in execution.error
    assert "http://127.0.0.1:1/elsewhere" in execution.error


def test_timeout_retried(
    make_automation,
    collection,
    project,
    member,
    receiver,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.AUTOMATIONS_READ_TIMEOUT = 0.5
    receiver.requests_to_hold = 1  # the reply to the first request comes after the test
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert execution.status == ExecutionStatus.FINISHED
    first, second = execution.attempts.all()
    assert first.outcome == AttemptOutcome.RETRYING
    assert first.response_code is None
    assert first.error == "The request to 127.0.0.1 timed out."
    assert second.response_code == 200


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_retried_then_failed(
    model_registry,
    team,
    team_admin,
    member,
    collection,
    project,
    django_capture_on_commit_callbacks,
):
    closed = services.create_integration(
        team=team, name="closed", url=f"http://127.0.0.1:{unused_port()}/", actor=team_admin
    )
    services.create_automation(
        registry=model_registry,
        name="to-closed-port",
        event_type=EventType.VERSION_LINKED,
        integration=closed,
        actor=member,
    )

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    execution = only_execution()
    assert execution.status == ExecutionStatus.FAILED
    assert outcomes(execution) == ["retrying", "retrying", "retrying", "failed"]
    attempt = execution.attempts.last()
    assert attempt.response_code is None
    assert "The connection to 127.0.0.1 failed: ConnectionRefusedError" in attempt.error
    assert execution.error.endswith("Gave up after 4 attempts.")


def test_finished_execution_not_sent_again(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    make_automation()
    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)
    execution = only_execution()

    deliver_execution.delay(execution.pk)
    deliver_execution.delay(execution.pk)

    assert len(receiver.requests) == 1
    assert DeliveryAttempt.objects.filter(execution=execution).count() == 1


def test_leased_execution_left_to_holder(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    make_automation()
    with django_capture_on_commit_callbacks(execute=False):
        link_new_version(collection, project, member)
    execution = only_execution()
    lease = timezone.now() + timedelta(seconds=60)
    Execution.objects.filter(pk=execution.pk).update(lease_expires_at=lease)

    step = attempt_delivery(execution.pk)

    assert step.busy
    assert 0 < step.delay <= 60
    assert receiver.requests == []
    assert execution.attempts.count() == 0


def test_disabled_automation_sends_nothing(
    make_automation, collection, project, member, receiver, django_capture_on_commit_callbacks
):
    automation = make_automation()
    services.update_automation(automation=automation, is_enabled=False, actor=member)

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    assert Execution.objects.count() == 0
    assert receiver.requests == []


def test_deleted_integration_stops_automation(
    make_automation,
    integration,
    team_admin,
    collection,
    project,
    member,
    receiver,
    django_capture_on_commit_callbacks,
):
    automation = make_automation()
    services.delete_integration(integration=integration, actor=team_admin)
    automation.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        link_new_version(collection, project, member)

    assert automation.integration is None
    assert Execution.objects.count() == 0
    assert receiver.requests == []

"""The SSRF check: non-public target hosts are rejected at save time and at delivery time.

Rejected addresses are never contacted: the check runs before any connection, so these tests
send nothing to the addresses they name.
"""

import socket

import pytest
from django.core.exceptions import ValidationError

from apps.automations import services, targets
from apps.automations.models import Execution, ExecutionStatus
from apps.registry import services as registry_services
from tests.conftest import log_version

UNSAFE_HOSTS = [
    ("127.0.0.1", "loopback"),
    ("127.5.6.7", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("172.31.255.1", "private"),
    ("192.168.1.1", "private"),
    ("[fd12:3456::1]", "private"),
    ("169.254.10.10", "link-local"),
    ("[fe80::1]", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("[fd00:ec2::254]", "cloud metadata"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 (named, never bound)
    ("224.0.0.1", "multicast"),
    ("100.64.0.1", "non-public"),
    ("localhost", "loopback"),
]


@pytest.fixture
def refuse_private(settings):
    """Turn private targets off; list it after the fixtures that save the local receiver."""
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(("host", "kind"), UNSAFE_HOSTS)
def test_unsafe_host_rejected_at_save(team, team_admin, refuse_private, host, kind):
    with pytest.raises(targets.UnsafeTarget) as raised:
        services.create_integration(
            team=team, name="internal", url=f"https://{host}/hook", actor=team_admin
        )

    assert f"is a {kind} address" in raised.value.messages[0]
    assert team.integrations.count() == 0


def test_public_address_accepted_at_save(team, team_admin, refuse_private):
    # Saving resolves the host but sends nothing, so a public literal is safe to name here.
    integration = services.create_integration(
        team=team, name="public", url="https://8.8.8.8/hook", actor=team_admin
    )

    assert integration.url == "https://8.8.8.8/hook"


def test_http_rejected_without_private_targets(team, team_admin, refuse_private):
    with pytest.raises(ValidationError) as raised:
        services.create_integration(
            team=team, name="plain", url="http://8.8.8.8/hook", actor=team_admin
        )

    assert "must start with https://" in raised.value.messages[0]


def test_credentials_in_url_rejected(team, team_admin, settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True

    with pytest.raises(ValidationError) as raised:
        services.create_integration(
            team=team, name="creds", url="https://user:pw@8.8.8.8/", actor=team_admin
        )

    assert "contains a user name or password" in raised.value.messages[0]


def test_update_checks_new_url(integration, team_admin, refuse_private):
    with pytest.raises(targets.UnsafeTarget):
        services.update_integration(
            integration=integration, url="https://192.168.0.10/", actor=team_admin
        )

    integration.refresh_from_db()
    assert integration.url.startswith("http://127.0.0.1:")


def test_metadata_rejected_even_when_allowed(team, team_admin, settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True

    with pytest.raises(targets.UnsafeTarget) as raised:
        services.create_integration(
            team=team, name="metadata", url="http://169.254.169.254/latest/", actor=team_admin
        )

    assert "cloud metadata" in raised.value.messages[0]


def test_private_allowed_by_setting(team, team_admin, settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True

    integration = services.create_integration(
        team=team, name="lan", url="http://10.20.30.40:8080/hook", actor=team_admin
    )

    assert integration.url == "http://10.20.30.40:8080/hook"


@pytest.mark.parametrize(("host", "kind"), UNSAFE_HOSTS)
def test_unsafe_host_rejected_at_delivery(
    make_automation,
    integration,
    refuse_private,
    collection,
    project,
    member,
    receiver,
    settings,
    host,
    kind,
    django_capture_on_commit_callbacks,
):
    # Saved while private targets were allowed, then the operator turned that off.
    from apps.automations.models import WebhookIntegration

    WebhookIntegration.objects.filter(pk=integration.pk).update(url=f"https://{host}/hook")
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    (execution,) = Execution.objects.all()
    assert execution.status == ExecutionStatus.FAILED
    assert f"is a {kind} address" in execution.error
    assert execution.attempts.get().outcome == "failed"
    assert receiver.requests == []


def fake_resolver(answers: dict[str, str]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            address = answers[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


def test_dns_change_caught_at_delivery(
    make_automation,
    integration,
    refuse_private,
    collection,
    project,
    member,
    receiver,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    # The host resolved to a public address when saved and to a private one at delivery.
    from apps.automations.models import WebhookIntegration

    WebhookIntegration.objects.filter(pk=integration.pk).update(url="https://hooks.example.com/ci")
    make_automation()
    monkeypatch.setattr(
        targets.socket, "getaddrinfo", fake_resolver({"hooks.example.com": "10.0.0.5"})
    )

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    (execution,) = Execution.objects.all()
    assert execution.status == ExecutionStatus.FAILED
    assert "The host hooks.example.com (10.0.0.5) is a private address" in execution.error
    assert receiver.requests == []


def test_connection_goes_to_checked_address(
    make_automation,
    integration,
    collection,
    project,
    member,
    receiver,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    # The request reaches the address that the check resolved, while the URL's host name
    # stays in the Host header: no second lookup happens between check and connection.
    from apps.automations.models import WebhookIntegration

    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    port = receiver.server.server_address[1]
    WebhookIntegration.objects.filter(pk=integration.pk).update(
        url=f"http://hooks.internal.test:{port}/pinned"
    )
    monkeypatch.setattr(
        targets.socket, "getaddrinfo", fake_resolver({"hooks.internal.test": "127.0.0.1"})
    )
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    (request,) = receiver.requests
    assert request.path == "/pinned"
    assert request.headers["Host"] == f"hooks.internal.test:{port}"
    assert Execution.objects.get().status == ExecutionStatus.FINISHED


def test_unresolvable_host_retried(
    make_automation,
    integration,
    refuse_private,
    collection,
    project,
    member,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from apps.automations.models import WebhookIntegration

    WebhookIntegration.objects.filter(pk=integration.pk).update(url="https://gone.invalid/")

    def no_answer(host, port, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(targets.socket, "getaddrinfo", no_answer)
    make_automation()

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.link_version(
            collection=collection, version=log_version(project, member), actor=member
        )

    (execution,) = Execution.objects.all()
    assert execution.status == ExecutionStatus.FAILED
    assert list(execution.attempts.values_list("outcome", flat=True)) == [
        "retrying",
        "retrying",
        "retrying",
        "failed",
    ]
    assert "The host gone.invalid could not be resolved" in execution.error

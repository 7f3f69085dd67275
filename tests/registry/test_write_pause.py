"""The write pause: every write service rejects changes, reads go on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import WritePaused
from apps.registry import services
from apps.registry.models import Alias, Registry


def pause(registry, minutes=30):
    Registry.objects.filter(pk=registry.pk).update(
        write_paused_since=timezone.now(),
        write_pause_ends_at=timezone.now() + timedelta(minutes=minutes),
        write_pause_reason="migration of fraud-team",
    )


def test_paused_alias_move_rejected_with_reason(linked, member, model_registry):
    pause(model_registry)
    events_before = AuditEvent.objects.count()

    with pytest.raises(WritePaused) as raised:
        services.set_alias(link=linked[0], name="champion", actor=member)

    assert "paused for writes: migration of fraud-team" in raised.value.message
    assert 30 <= raised.value.retry_after <= 30 * 60
    assert Alias.objects.get(name="champion").link == linked[1]
    assert AuditEvent.objects.count() == events_before


def test_paused_registry_rejects_admin_writes(model_registry, org_admin):
    pause(model_registry)

    with pytest.raises(WritePaused):
        services.add_protected_alias(registry=model_registry, name="prod", actor=org_admin)

    assert not model_registry.protected_aliases.exists()


def test_pause_leaves_other_registries_writable(org, linked, org_admin, model_registry):
    dataset = Registry.objects.get(organization=org, name="dataset")
    pause(dataset)

    services.set_alias(link=linked[0], name="staging", actor=org_admin)

    assert Alias.objects.get(name="staging").link == linked[0]

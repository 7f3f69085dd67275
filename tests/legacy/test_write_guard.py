"""The write guard: a pause rejects every write with 423, a finished migration with 403."""

import pytest
from django.core.exceptions import PermissionDenied

from apps.audit.models import AuditEvent
from apps.core.exceptions import WritePaused
from apps.legacy import services
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyProtectedAlias,
    LegacyVersion,
    RegisteredModel,
)
from apps.registry.models import Registry
from tests.conftest import log_version
from tests.legacy.conftest import migrate, pause

# Each write service, called the way a page or the API would; `ctx` carries the fixtures.
WRITES = {
    "create model": lambda ctx: services.create_registered_model(
        legacy_registry=ctx["legacy_registry"], name="churn", actor=ctx["team_admin"]
    ),
    "link": lambda ctx: services.link_version(
        model=ctx["model"], version=ctx["source"], actor=ctx["team_admin"]
    ),
    "link to path": lambda ctx: services.link_to_path(
        legacy_registry=ctx["legacy_registry"],
        name="fraud-detector",
        version=ctx["source"],
        actor=ctx["team_admin"],
    ),
    "unlink": lambda ctx: services.unlink_version(
        legacy_version=ctx["versions"][0], actor=ctx["team_admin"]
    ),
    "reserve index": lambda ctx: services.reserve_index(
        model=ctx["model"], index=9, actor=ctx["team_admin"]
    ),
    "set alias": lambda ctx: services.set_alias(
        legacy_version=ctx["versions"][0], name="staging", actor=ctx["team_admin"]
    ),
    "remove alias": lambda ctx: services.remove_alias(
        model=ctx["model"], name="champion", actor=ctx["team_admin"]
    ),
    "add tag": lambda ctx: services.add_tag(
        target=ctx["versions"][1], name="fraud", actor=ctx["team_admin"]
    ),
    "remove tag": lambda ctx: services.remove_tag(
        target=ctx["model"], name="card", actor=ctx["team_admin"]
    ),
    "edit description": lambda ctx: services.edit_description(
        target=ctx["model"], text="changed", actor=ctx["team_admin"]
    ),
    "protect alias": lambda ctx: services.add_protected_alias(
        legacy_registry=ctx["legacy_registry"], name="prod", actor=ctx["team_admin"]
    ),
    "unprotect alias": lambda ctx: services.remove_protected_alias(
        legacy_registry=ctx["legacy_registry"], name="gold", actor=ctx["team_admin"]
    ),
    "add registry admin": lambda ctx: services.add_registry_admin(
        legacy_registry=ctx["legacy_registry"], user=ctx["member"], actor=ctx["team_admin"]
    ),
}


@pytest.fixture
def ctx(legacy_registry, registered_model, legacy_versions, project, member, team_admin):
    services.add_tag(target=registered_model, name="card", actor=member)
    services.add_protected_alias(legacy_registry=legacy_registry, name="gold", actor=team_admin)
    return {
        "legacy_registry": legacy_registry,
        "model": registered_model,
        "versions": legacy_versions,
        "source": log_version(project, member),
        "member": member,
        "team_admin": team_admin,
    }


def snapshot():
    """Counts of every kind of legacy row and audit row, to prove nothing was written."""
    return {
        "models": RegisteredModel.objects.count(),
        "versions": LegacyVersion.objects.count(),
        "aliases": sorted(LegacyAlias.objects.values_list("name", "version__index")),
        "protected": LegacyProtectedAlias.objects.count(),
        "events": LegacyEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "next_index": list(RegisteredModel.objects.values_list("next_index", flat=True)),
        "descriptions": list(RegisteredModel.objects.values_list("description", flat=True)),
    }


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_pause_rejects_write_without_rows(ctx, write):
    pause(ctx["legacy_registry"])
    before = snapshot()

    with pytest.raises(WritePaused) as raised:
        WRITES[write](ctx)

    message = raised.value.message
    assert "legacy Model Registry of the team 'fraud-team' is paused for writes" in message
    assert "migration of fraud-team to the new registry" in message
    assert "It is expected to end at" in message
    assert 30 <= raised.value.retry_after <= 30 * 60
    assert snapshot() == before


def test_pause_leaves_reads_and_other_teams(ctx, other_team, stranger):
    pause(ctx["legacy_registry"])
    other = services.ensure_legacy_registry(team=other_team)

    services.create_registered_model(legacy_registry=other, name="ner", actor=stranger)

    assert RegisteredModel.objects.visible_to(ctx["member"]).count() == 1
    assert RegisteredModel.objects.filter(legacy_registry=other).count() == 1


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_read_only_rejects_write_with_403(ctx, org_admin, write):
    migrate(ctx["legacy_registry"], actor=org_admin)
    before = snapshot()

    with pytest.raises(PermissionDenied) as raised:
        WRITES[write](ctx)

    assert "is read-only since its migration" in str(raised.value)
    assert snapshot() == before


def test_read_only_message_names_new_path(ctx, org_admin):
    migrate(ctx["legacy_registry"], actor=org_admin)

    with pytest.raises(PermissionDenied) as raised:
        services.set_alias(legacy_version=ctx["versions"][0], name="staging", actor=ctx["member"])

    assert str(raised.value) == (
        "The legacy Model Registry of the team 'fraud-team' is read-only since its migration: "
        "fraud-team/model-registry/fraud-detector:staging is now "
        "acme/wandb-registry-fraud-team/fraud-detector:staging. Make the change there."
    )


def test_read_only_message_follows_rename(ctx, org_admin):
    target = migrate(ctx["legacy_registry"], actor=org_admin)
    Registry.objects.filter(pk=target.pk).update(name="fraud-models")

    with pytest.raises(PermissionDenied) as raised:
        services.add_tag(target=ctx["versions"][2], name="fraud", actor=ctx["member"])

    assert "is now acme/wandb-registry-fraud-models/fraud-detector:v2" in str(raised.value)


def test_new_name_under_legacy_path_rejected(ctx, org_admin):
    migrate(ctx["legacy_registry"], actor=org_admin)

    with pytest.raises(PermissionDenied) as raised:
        services.link_to_path(
            legacy_registry=ctx["legacy_registry"],
            name="churn",
            version=ctx["source"],
            actor=ctx["member"],
        )

    assert str(raised.value) == (
        "The legacy Model Registry of the team 'fraud-team' is read-only since its migration, "
        "so 'churn' cannot be added under fraud-team/model-registry/churn. Use the registry "
        "acme/wandb-registry-fraud-team instead: acme/wandb-registry-fraud-team/churn."
    )
    assert not RegisteredModel.objects.filter(name="churn").exists()


def test_existing_name_under_legacy_path_names_collection(ctx, org_admin):
    migrate(ctx["legacy_registry"], actor=org_admin)

    with pytest.raises(PermissionDenied) as raised:
        services.link_to_path(
            legacy_registry=ctx["legacy_registry"],
            name="FRAUD-DETECTOR",
            version=ctx["source"],
            actor=ctx["member"],
        )

    assert "is now acme/wandb-registry-fraud-team/fraud-detector." in str(raised.value)

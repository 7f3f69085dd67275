"""Failing, retrying and aborting a plan."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F

from apps.audit.models import AuditEvent
from apps.core.exceptions import WritePaused
from apps.legacy import services as legacy_services
from apps.legacy.models import LegacyRegistry, RegisteredModel
from apps.migration import copy, services
from apps.migration.models import MigrationPlan, PlanState
from apps.migration.tasks import run_copy
from apps.registry import services as registry_services
from apps.registry.models import (
    Alias,
    Collection,
    CollectionLink,
    ProtectedAlias,
    Registry,
    RegistryUserObjectPermission,
)
from tests.migration.conftest import (
    dump_legacy,
    dump_target,
    rolled_back,
    run_plan,
    schedule,
)


@pytest.fixture
def plan(small_legacy, nlp_team, support, settings):
    settings.MIGRATION_CHUNK_ROWS = 2
    return schedule(nlp_team, support)


def start(plan, support) -> None:
    services.start_migration(plan=plan, actor=support)


def copy_chunks(plan, count: int) -> None:
    for _ in range(count):
        assert copy.copy_next_chunk(plan.pk) is not copy.Outcome.STOPPED


def copy_to_verifying(plan) -> None:
    while (outcome := copy.copy_next_chunk(plan.pk)) is not copy.Outcome.FINISHED:
        assert outcome is not copy.Outcome.STOPPED


def assert_no_target(plan_id: int, legacy) -> None:
    plan = MigrationPlan.objects.get(pk=plan_id)
    assert plan.target_registry is None
    assert not Registry.objects.filter(name="nlp-team").exists()
    assert not Collection.objects.filter(registry__name="nlp-team").exists()
    assert not RegisteredModel.objects.filter(legacy_registry=legacy).exclude(migrated_to=None)
    assert not AuditEvent.objects.filter(action="registry.created", target="nlp-team").exists()


# Aborting ------------------------------------------------------------------------------------


def test_abort_mid_copy_removes_partial_target(plan, support, small_legacy, nlp_people):
    legacy_before = dump_legacy(small_legacy)
    start(plan, support)
    copy_chunks(plan, 8)
    plan.refresh_from_db()
    registry_id = plan.target_registry_id
    assert CollectionLink.objects.filter(collection__registry_id=registry_id).exists()

    aborted = services.abort_migration(plan=plan, actor=support)

    assert aborted.state == PlanState.ABORTED
    assert aborted.aborted_at is not None
    assert_no_target(plan.pk, small_legacy)
    assert not CollectionLink.objects.filter(collection__registry_id=registry_id).exists()
    assert not Alias.objects.filter(collection__registry_id=registry_id).exists()
    assert not AuditEvent.objects.filter(registry_id=registry_id).exists()
    assert not RegistryUserObjectPermission.objects.filter(content_object_id=registry_id)
    assert dump_legacy(small_legacy) == legacy_before
    assert copy.copy_next_chunk(plan.pk) is copy.Outcome.STOPPED


def test_abort_reopens_legacy_registry(plan, support, small_legacy, nlp_people):
    start(plan, support)
    copy_chunks(plan, 3)

    services.abort_migration(plan=plan, actor=support)

    legacy = LegacyRegistry.objects.get(pk=small_legacy.pk)
    assert legacy.write_paused_since is None
    assert legacy.write_pause_ends_at is None
    assert legacy.write_pause_reason == ""
    assert legacy.read_only_since is None
    model = legacy.models.get(name="intent-classifier")
    legacy_services.edit_description(target=model, text="Open again.", actor=nlp_people["dave"])
    model.refresh_from_db()
    assert model.description == "Open again."


def test_abort_scheduled_plan(plan, support, small_legacy):
    aborted = services.abort_migration(plan=plan, actor=support)

    assert aborted.state == PlanState.ABORTED
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).write_paused_since is None
    actions = AuditEvent.objects.filter(data__plan=plan.pk).values_list("action", flat=True)
    assert list(actions.order_by("id")) == ["migration.scheduled", "migration.aborted"]


def test_abort_completed_plan_rejected(plan, support):
    run_plan(plan, support)

    with pytest.raises(ValidationError) as raised:
        services.abort_migration(plan=plan, actor=support)

    assert "A completed plan cannot be aborted." in raised.value.messages
    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.COMPLETED


def test_abort_waits_for_target_of_verifying_plan(plan, support, small_legacy):
    start(plan, support)
    copy_to_verifying(plan)

    services.abort_migration(plan=plan, actor=support)

    assert services.verify_migration(plan.pk) is None
    assert_no_target(plan.pk, small_legacy)
    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.ABORTED


def test_only_support_aborts_and_retries(plan, support, nlp_people, org_admin):
    start(plan, support)
    services.fail_migration(plan.pk, reason="Stopped by hand.")

    for person in (org_admin, nlp_people["nadia"]):
        with pytest.raises(PermissionDenied):
            services.abort_migration(plan=plan, actor=person)
        with pytest.raises(PermissionDenied):
            services.retry_migration(plan=plan, actor=person)

    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.FAILED


# Verification failures -----------------------------------------------------------------------


def test_mismatch_fails_with_differences(plan, support, small_legacy, nlp_people):
    start(plan, support)
    copy_to_verifying(plan)
    plan.refresh_from_db()
    # A row lost between the copy and the verification, as a bug or a bad disk would.
    Alias.objects.get(
        collection__registry=plan.target_registry,
        collection__name="intent-classifier",
        name="staging",
    ).delete()

    state = services.verify_migration(plan.pk)

    plan.refresh_from_db()
    assert state == PlanState.FAILED
    assert plan.state == PlanState.FAILED
    assert plan.verification["ok"] is False
    aliases = next(kind for kind in plan.verification["kinds"] if kind["name"] == "aliases")
    assert aliases["match"] is False
    assert aliases["legacy"]["count"] == aliases["target"]["count"] + 1
    assert aliases["missing"] == ["intent-classifier|staging|v0"]
    assert aliases["unexpected"] == []
    assert plan.failure.startswith(
        "Verification found differences. Aliases: 6 in the legacy registry, 5 in the target"
    )
    assert plan.failure.endswith("Missing from the target: intent-classifier|staging|v0.")
    others = [kind for kind in plan.verification["kinds"] if kind["name"] != "aliases"]
    assert all(kind["match"] for kind in others)


def test_wrong_version_count_fails_verification(plan, support, small_legacy, nlp_people):
    start(plan, support)
    copy_to_verifying(plan)
    plan.refresh_from_db()
    # The links are all there, but the count that the pages show is off by one.
    Collection.objects.filter(registry=plan.target_registry, name="intent-classifier").update(
        version_count=F("version_count") - 1
    )

    state = services.verify_migration(plan.pk)

    plan.refresh_from_db()
    assert state == PlanState.FAILED
    collections = next(k for k in plan.verification["kinds"] if k["name"] == "collections")
    assert collections["match"] is False
    assert collections["missing"] == ["intent-classifier|next v10|versions 3"]
    assert collections["unexpected"] == ["intent-classifier|next v10|versions 2"]
    others = [kind for kind in plan.verification["kinds"] if kind["name"] != "collections"]
    assert all(kind["match"] for kind in others)


def test_failed_plan_keeps_pause(plan, support, small_legacy, nlp_people):
    start(plan, support)
    copy_to_verifying(plan)
    plan.refresh_from_db()
    Collection.objects.filter(registry=plan.target_registry, name="empty-model").delete()
    services.verify_migration(plan.pk)

    registry = Registry.objects.get(pk=plan.target_registry_id)
    legacy = LegacyRegistry.objects.get(pk=small_legacy.pk)
    assert registry.write_paused_since is not None
    assert legacy.write_paused_since is not None
    assert legacy.read_only_since is None
    with pytest.raises(WritePaused):
        registry_services.add_protected_alias(
            registry=registry, name="gold", actor=nlp_people["nadia"]
        )
    with pytest.raises(WritePaused):
        legacy_services.add_tag(
            target=legacy.models.get(name="faq-retriever"), name="x", actor=nlp_people["dave"]
        )


def test_retry_after_mismatch_copies_again(plan, support):
    with rolled_back():
        reference = dump_target(run_plan(plan, support).target_registry)
    plan.refresh_from_db()
    assert plan.state == PlanState.SCHEDULED
    start(plan, support)
    copy_to_verifying(plan)
    plan.refresh_from_db()
    ProtectedAlias.objects.filter(registry=plan.target_registry).delete()
    services.verify_migration(plan.pk)

    services.retry_migration(plan=plan, actor=support)
    run_copy(plan.pk)

    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED, plan.failure
    assert plan.verification["ok"] is True
    assert dump_target(plan.target_registry) == reference
    assert Registry.objects.filter(name="nlp-team").count() == 1
    retried = AuditEvent.objects.get(action="migration.retried", data__plan=plan.pk)
    assert retried.data["from_start"] is True


# Failures while copying ----------------------------------------------------------------------


def test_chunk_error_fails_plan_then_retry_resumes(plan, support, monkeypatch):
    start(plan, support)
    links = copy.STEPS_BY_NAME["links"]
    original = links.copy
    calls = []

    def failing_copy(context, after, upto):
        calls.append((after, upto))
        if len(calls) == 2:
            raise RuntimeError("the database connection was lost")
        return original(context, after, upto)

    monkeypatch.setattr(links, "copy", failing_copy)
    run_copy(plan.pk)

    plan.refresh_from_db()
    assert plan.state == PlanState.FAILED
    assert plan.step == "links"
    assert plan.failure == (
        "The copy stopped in the step 'Versions': RuntimeError: the database connection was lost"
    )
    cursor = plan.step_cursor
    assert cursor == calls[0][1]

    services.retry_migration(plan=plan, actor=support)
    run_copy(plan.pk)

    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED, plan.failure
    assert calls[2][0] == cursor
    assert plan.rows_copied == plan.rows_total
    retried = AuditEvent.objects.get(action="migration.retried", data__plan=plan.pk)
    assert retried.data["from_start"] is False


def test_retry_only_failed_plans(plan, support):
    with pytest.raises(ValidationError) as raised:
        services.retry_migration(plan=plan, actor=support)

    assert "Only a failed plan can be retried; this one is scheduled." in raised.value.messages


def test_name_taken_after_scheduling(plan, support, org, org_admin, small_legacy):
    registry_services.create_registry(organization=org, name="NLP-Team", actor=org_admin)
    start(plan, support)

    run_copy(plan.pk)

    plan.refresh_from_db()
    assert plan.state == PlanState.FAILED
    assert "The registry name 'nlp-team' was taken after the plan was scheduled" in plan.failure
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).write_paused_since is not None
    services.abort_migration(plan=plan, actor=support)
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).write_paused_since is None
    assert Registry.objects.filter(name__iexact="nlp-team").count() == 1

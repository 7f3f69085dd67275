"""A whole migration of nlp-team's legacy registry, imported from the demo's MLflow store.

The copy is checked field by field against the legacy rows, and the legacy rows (and their
checksums) are checked to be unchanged by the migration.
"""

from collections import Counter

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.legacy.models import LegacyAlias, LegacyRegistry, LegacyVersion, RegisteredModel
from apps.migration import copy, services, verification
from apps.migration.models import MigrationPlan, PlanState
from apps.migration.tasks import run_copy
from apps.registry.access import role_of
from apps.registry.models import Alias, Collection, CollectionLink, ProtectedAlias, Registry
from apps.registry.roles import Role
from tests.conftest import make_user
from tests.migration.conftest import dump_legacy, dump_target, run_plan, schedule


def migrate(legacy, team, support, settings, chunk_rows: int):
    """Migrate a team; return the plan, the legacy dump and the legacy measures from before."""
    settings.MIGRATION_CHUNK_ROWS = chunk_rows
    legacy_before = dump_legacy(legacy)
    measures_before = verification.measure_legacy(legacy, "restricted")
    plan = run_plan(schedule(team, support), support)
    return plan, legacy_before, measures_before


@pytest.fixture
def migrated(small_legacy, nlp_team, support, settings):
    """The hand-built legacy registry migrated in chunks of 2 rows."""
    return migrate(small_legacy, nlp_team, support, settings, chunk_rows=2)


# Checks shared by the small registry and the demo store ---------------------------------------


def check_report(plan, measures_before) -> None:
    assert plan.state == PlanState.COMPLETED, plan.failure
    assert plan.failure == ""
    report = plan.verification
    assert report["ok"] is True
    assert report["differences"] == []
    kinds = {kind["name"]: kind for kind in report["kinds"]}
    assert set(kinds) == {
        "collections",
        "versions",
        "aliases",
        "protected_aliases",
        "tags",
        "descriptions",
        "history",
        "grants",
    }
    for name, kind in kinds.items():
        assert kind["match"] is True, name
        assert kind["legacy"] == measures_before[name], name
    assert kinds["versions"]["target"]["count"] == LegacyVersion.objects.count()
    assert plan.rows_copied == plan.rows_total
    assert plan.progress_percent == 100


def check_collections(plan, legacy) -> None:
    registry = plan.target_registry
    models = RegisteredModel.objects.filter(legacy_registry=legacy).order_by("name")
    assert models.count() == Collection.objects.filter(registry=registry).count()
    for model in models:
        collection = model.migrated_to
        assert collection is not None, model.name
        assert collection.registry == registry
        assert collection.name == model.name
        assert collection.type == "model"
        assert collection.description == model.description
        assert collection.next_index == model.next_index
        assert collection.version_count == model.versions.count(), model.name
        assert collection.version_count == collection.links.count(), model.name
        assert collection.created_at == model.created_at
        assert collection.updated_at == model.updated_at
        assert sorted(collection.tags.values_list("name", flat=True)) == sorted(
            model.tags.values_list("name", flat=True)
        )


def check_links(plan, legacy) -> None:
    versions = LegacyVersion.objects.filter(model__legacy_registry=legacy).select_related("model")
    links = CollectionLink.objects.filter(collection__registry=plan.target_registry)
    assert links.count() == versions.count()
    for legacy_version in versions:
        link = links.get(collection=legacy_version.model.migrated_to, index=legacy_version.index)
        assert link.version_id == legacy_version.version_id
        assert link.description == legacy_version.description
        assert link.linked_by_id == legacy_version.linked_by_id
        assert link.linked_at == legacy_version.linked_at
        assert sorted(link.tags.values_list("name", flat=True)) == sorted(
            legacy_version.tags.values_list("name", flat=True)
        )
    hand_built = Collection.objects.get(registry=plan.target_registry, name="intent-classifier")
    assert sorted(hand_built.links.values_list("index", flat=True)) == [0, 2, 3]
    assert hand_built.next_index == 10


def check_aliases(plan, legacy) -> None:
    legacy_aliases = LegacyAlias.objects.filter(model__legacy_registry=legacy).exclude(
        name="latest"
    )
    assert legacy_aliases.count() >= 4
    copied = Alias.objects.filter(collection__registry=plan.target_registry).exclude(name="latest")
    assert copied.count() == legacy_aliases.count()
    for legacy_alias in legacy_aliases.select_related("model", "version"):
        alias = copied.get(collection=legacy_alias.model.migrated_to, name=legacy_alias.name)
        assert alias.link.index == legacy_alias.version.index
    for collection in Collection.objects.filter(registry=plan.target_registry):
        top = collection.links.order_by("-index").first()
        latest = Alias.objects.filter(collection=collection, name="latest").first()
        legacy_latest = LegacyAlias.objects.filter(
            model__migrated_to=collection, name="latest"
        ).first()
        if top is None:
            assert latest is None, collection.name
            assert legacy_latest is None, collection.name
        else:
            assert latest.link == top, collection.name
            assert legacy_latest.version.index == top.index, collection.name
    protected = ProtectedAlias.objects.filter(registry=plan.target_registry)
    assert list(protected.values_list("name", flat=True)) == ["production"]


def check_history(plan, legacy) -> None:
    expected = Counter()
    for model in legacy.models.all().prefetch_related("events"):
        for event in model.events.all():
            key = (
                model.migrated_to_id,
                model.name,
                event.action,
                event.actor_id,
                event.created_at,
                str(sorted(event.data.items())),
            )
            expected[key] += 1
    copied = Counter(
        (
            audit.collection_id,
            audit.target,
            audit.action,
            audit.actor_id,
            audit.created_at,
            str(sorted(audit.data.items())),
        )
        for audit in AuditEvent.objects.filter(registry_id=plan.target_registry_id).exclude(
            collection_id=None
        )
    )
    assert sum(expected.values()) > 10
    assert copied == expected


def check_permissions(plan, people, org_admin, member, outsider) -> None:
    registry = plan.target_registry
    assert role_of(people["nadia"], registry) == Role.ADMIN
    assert role_of(people["lara"], registry) == Role.ADMIN
    assert role_of(people["dave"], registry) == Role.MEMBER
    assert role_of(people["vic"], registry) == Role.VIEWER
    assert role_of(people["nlp-bot"], registry) == Role.MEMBER
    assert role_of(org_admin, registry) == Role.ADMIN
    assert role_of(member, registry) is None
    assert role_of(outsider, registry) is None
    assert not Registry.objects.visible_to(member).filter(pk=registry.pk).exists()


def check_finish(plan, legacy) -> None:
    registry = Registry.objects.get(pk=plan.target_registry_id)
    legacy = LegacyRegistry.objects.get(pk=legacy.pk)
    assert registry.write_paused_since is None
    assert registry.write_pause_ends_at is None
    assert legacy.write_paused_since is None
    assert legacy.read_only_since == plan.completed_at
    assert legacy.migrated_to == registry
    assert registry.name == "nlp-team"
    assert registry.visibility == "restricted"
    assert plan.pause_seconds is not None
    assert plan.pause_seconds > 0
    actions = AuditEvent.objects.filter(data__plan=plan.pk).order_by("id")
    assert list(actions.values_list("action", flat=True)) == [
        "migration.scheduled",
        "migration.started",
        "migration.verifying",
        "migration.completed",
    ]


# The demo store ----------------------------------------------------------------------------------


def test_demo_store_migrates_exactly(
    nlp_legacy, nlp_team, nlp_people, support, settings, org_admin, member, outsider
):
    plan, legacy_before, measures_before = migrate(
        nlp_legacy, nlp_team, support, settings, chunk_rows=50
    )

    check_report(plan, measures_before)
    assert dump_legacy(nlp_legacy) == legacy_before
    assert verification.measure_legacy(nlp_legacy, "restricted") == measures_before
    check_collections(plan, nlp_legacy)
    check_links(plan, nlp_legacy)
    check_aliases(plan, nlp_legacy)
    check_history(plan, nlp_legacy)
    check_permissions(plan, nlp_people, org_admin, member, outsider)
    check_finish(plan, nlp_legacy)
    sentiment = Collection.objects.get(registry=plan.target_registry, name="sentiment-bert")
    assert {37, 38, 112, 153}.isdisjoint(sentiment.links.values_list("index", flat=True))
    assert sentiment.next_index == 154
    assert Collection.objects.filter(registry=plan.target_registry).count() == 42


# The hand-built registry, one aspect per test -----------------------------------------------------


def test_plan_completes_with_clean_report(migrated):
    plan, _, measures_before = migrated

    check_report(plan, measures_before)


def test_legacy_rows_unchanged(migrated, small_legacy):
    _, legacy_before, measures_before = migrated

    assert dump_legacy(small_legacy) == legacy_before
    assert verification.measure_legacy(small_legacy, "restricted") == measures_before


def test_collections_match_models(migrated, small_legacy):
    check_collections(migrated[0], small_legacy)


def test_links_keep_indices_and_gaps(migrated, small_legacy):
    check_links(migrated[0], small_legacy)


def test_aliases_point_at_same_indices(migrated, small_legacy):
    check_aliases(migrated[0], small_legacy)


def test_history_copied_with_collection(migrated, small_legacy):
    check_history(migrated[0], small_legacy)


def test_permissions_mapped(migrated, nlp_people, org_admin, member, outsider):
    check_permissions(migrated[0], nlp_people, org_admin, member, outsider)


def test_pause_lifted_and_legacy_read_only(migrated, small_legacy):
    check_finish(migrated[0], small_legacy)


def test_rerunning_finished_job_adds_nothing(migrated):
    plan, _, _ = migrated
    before = dump_target(plan.target_registry)

    assert run_copy(plan.pk) == PlanState.COMPLETED
    assert copy.copy_next_chunk(plan.pk) is copy.Outcome.STOPPED
    assert services.verify_migration(plan.pk) is None

    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED
    assert dump_target(plan.target_registry) == before


def test_every_statement_twice_adds_nothing(migrated):
    """Each copy statement, run again over all rows, finds every row already there.

    History is left out: its rows have no unique key, and only the checkpoint keeps a slice
    from being copied twice (see the crash and concurrency tests).
    """
    plan, _, _ = migrated
    before = dump_target(plan.target_registry)
    context = copy.Context.of(MigrationPlan.objects.get(pk=plan.pk))

    for step in copy.STEPS:
        if step.name == "history":
            continue
        step.copy(context, 0, 10**12)

    assert dump_target(plan.target_registry) == before


def test_new_link_after_migration_continues_indices(migrated, nlp_people):
    from apps.registry import services as registry_services

    plan, _, _ = migrated
    collection = Collection.objects.get(registry=plan.target_registry, name="intent-classifier")
    source = collection.links.order_by("index").first().version

    other = registry_services.create_artifact_version(
        project=source.artifact.project,
        artifact_name="intent-classifier",
        type="model",
        actor=nlp_people["dave"],
    )
    link = registry_services.link_version(
        collection=collection, version=other, actor=nlp_people["dave"]
    )

    assert link.index == 10
    assert Alias.objects.get(collection=collection, name="latest").link == link


def test_other_teams_untouched(small_legacy, nlp_team, support, org):
    from apps.legacy import services as legacy_services
    from apps.orgs import services as org_services

    vision = org_services.create_team(organization=org, name="vision-team")
    legacy_services.ensure_legacy_registry(team=vision)
    model_registry = Registry.objects.get(organization=org, name="model")
    plan = schedule(nlp_team, support)

    services.start_migration(plan=plan, actor=support)

    assert LegacyRegistry.objects.get(team=vision).write_paused_since is None
    assert Registry.objects.get(pk=model_registry.pk).write_paused_since is None
    assert LegacyRegistry.objects.get(team=nlp_team).write_paused_since is not None


def test_pause_set_when_started(small_legacy, nlp_team, support):
    plan = schedule(nlp_team, support)
    started = timezone.now()

    services.start_migration(plan=plan, actor=support)

    legacy = LegacyRegistry.objects.get(pk=small_legacy.pk)
    plan.refresh_from_db()
    assert plan.state == PlanState.RUNNING
    assert legacy.write_paused_since == plan.started_at
    assert legacy.write_paused_since >= started
    assert legacy.write_pause_ends_at > legacy.write_paused_since
    assert "being migrated to the registry 'nlp-team'" in legacy.write_pause_reason


def test_target_created_paused(small_legacy, nlp_team, support):
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)

    assert copy.copy_next_chunk(plan.pk) is copy.Outcome.COPIED

    plan.refresh_from_db()
    registry = plan.target_registry
    assert registry.write_paused_since == plan.started_at
    assert "being migrated" in registry.write_pause_reason
    assert role_of(make_user("someone"), registry) is None


def test_empty_legacy_registry_migrates(nlp_team, nlp_people, support):
    from apps.legacy import services as legacy_services

    legacy = legacy_services.ensure_legacy_registry(team=nlp_team)

    plan = run_plan(schedule(nlp_team, support), support)

    assert plan.state == PlanState.COMPLETED, plan.failure
    assert plan.verification["ok"] is True
    counts = {kind["name"]: kind["target"]["count"] for kind in plan.verification["kinds"]}
    assert counts["collections"] == 0
    assert counts["versions"] == 0
    assert counts["grants"] > 0
    assert not Collection.objects.filter(registry=plan.target_registry).exists()
    assert LegacyRegistry.objects.get(pk=legacy.pk).read_only_since is not None
    assert role_of(nlp_people["dave"], plan.target_registry) == Role.MEMBER

"""Teams with legacy registries to migrate, on top of the suite's personas.

`nlp-team` of `acme` with:
    nadia       team admin
    dave        team member
    lara        team member and admin of the legacy registry
    vic         team viewer
    nlp-bot     the team's service account
    sue         support staff, in no team
Its legacy registry comes in two sizes: `small_legacy` is built by hand (3 registered models,
every kind of row), `nlp_legacy` is the demo's MLflow store imported by the legacy importer
plus the same hand-made rows.
"""

import json
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.legacy import services as legacy_services
from apps.legacy.importer import LegacyImporter
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyProtectedAlias,
    LegacyRegistry,
    LegacyVersion,
    RegisteredModel,
)
from apps.migration import services
from apps.migration.models import MigrationPlan
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import services as registry_services
from apps.registry.mlflow import read_store
from apps.registry.models import (
    Alias,
    Collection,
    CollectionLink,
    ProtectedAlias,
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
)
from tests.conftest import make_user

NLP_STORE = Path(settings.BASE_DIR) / "demo" / "mlflow-nlp-team" / "mlruns"


@pytest.fixture(autouse=True)
def _copy_inline(settings):
    """Run the copy in the test's thread, so it reads the test's uncommitted rows."""
    settings.MIGRATION_EAGER_THREAD = False


@pytest.fixture
def support(db):
    user = make_user("sue")
    user.user_permissions.add(Permission.objects.get(codename="support_console"))
    return user


@pytest.fixture
def nlp_team(org):
    return org_services.create_team(organization=org, name="nlp-team")


def _person(org, team, username: str, role: str):
    user = make_user(username)
    org_services.add_org_member(organization=org, user=user, role=OrgRole.MEMBER)
    org_services.add_team_member(team=team, user=user, role=role)
    return user


@pytest.fixture
def nlp_people(org, nlp_team) -> dict:
    people = {
        "nadia": _person(org, nlp_team, "nadia", TeamRole.ADMIN),
        "dave": _person(org, nlp_team, "dave", TeamRole.MEMBER),
        "lara": _person(org, nlp_team, "lara", TeamRole.MEMBER),
        "vic": _person(org, nlp_team, "vic", TeamRole.VIEWER),
    }
    account = org_services.create_service_account(team=nlp_team, name="nlp-bot")
    people["nlp-bot"] = account.user
    return people


def _enrich(legacy: LegacyRegistry, people: dict) -> None:
    """Add the rows an MLflow store does not give: protected aliases, tags, an extra admin."""
    admin = people["nadia"]
    legacy_services.add_registry_admin(legacy_registry=legacy, user=people["lara"], actor=admin)
    legacy_services.add_protected_alias(legacy_registry=legacy, name="production", actor=admin)
    models = list(legacy.models.order_by("id"))
    for number, model in enumerate(models[:5]):
        legacy_services.add_tag(target=model, name=f"nlp-{number % 2}", actor=admin)
        version = model.versions.order_by("-index").first()
        if version is not None:
            legacy_services.add_tag(target=version, name="reviewed", actor=admin)
            legacy_services.set_alias(legacy_version=version, name="production", actor=admin)


def _hand_built(legacy: LegacyRegistry, people: dict, project) -> None:
    admin = people["nadia"]
    specs = [
        ("intent-classifier", "Routes **intents**.", 4, [1]),
        ("faq-retriever", "", 3, []),
        ("empty-model", "Nothing linked yet.", 0, []),
    ]
    for name, description, count, unlink in specs:
        model = legacy_services.create_registered_model(
            legacy_registry=legacy, name=name, description=description, actor=admin
        )
        versions = []
        for number in range(count):
            source = registry_services.create_artifact_version(
                project=project,
                artifact_name=name,
                type="model",
                metadata={"number": number},
                actor=admin,
            )
            versions.append(
                legacy_services.link_version(
                    model=model,
                    version=source,
                    description=f"Version {number} of {name}." if number % 2 else "",
                    actor=admin,
                )
            )
        for index in unlink:
            legacy_services.unlink_version(legacy_version=versions[index], actor=admin)
        if versions:
            legacy_services.set_alias(legacy_version=versions[0], name="staging", actor=admin)
    legacy_services.reserve_index(
        model=legacy.models.get(name="intent-classifier"), index=9, actor=admin
    )


@pytest.fixture
def small_legacy(nlp_team, nlp_people) -> LegacyRegistry:
    legacy = legacy_services.ensure_legacy_registry(team=nlp_team)
    project = registry_services.get_or_create_project(
        team=nlp_team, name="nlp", actor=nlp_people["nadia"]
    )
    _hand_built(legacy, nlp_people, project)
    _enrich(legacy, nlp_people)
    return legacy


@pytest.fixture
def nlp_legacy(nlp_team, nlp_people) -> LegacyRegistry:
    legacy = legacy_services.ensure_legacy_registry(team=nlp_team)
    report = LegacyImporter(
        read_store(NLP_STORE), legacy_registry=legacy, actor=nlp_people["nadia"]
    ).run()
    assert report.links_created > 400
    project = registry_services.get_or_create_project(
        team=nlp_team, name="nlp", actor=nlp_people["nadia"]
    )
    _hand_built(legacy, nlp_people, project)
    _enrich(legacy, nlp_people)
    return legacy


def soon(days: int = 35):
    return timezone.now() + timedelta(days=days)


def schedule(team, support, **options) -> MigrationPlan:
    options.setdefault("window_start", soon())
    return services.schedule_migration(team=team, actor=support, **options)


@contextmanager
def rolled_back():
    """Run the block in a transaction that is rolled back, keeping the database as it was."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def run_plan(plan: MigrationPlan, support) -> MigrationPlan:
    """Start a plan now and run its copy and verification in this thread."""
    from apps.migration.tasks import run_copy

    services.start_migration(plan=plan, actor=support)
    run_copy(plan.pk)
    plan.refresh_from_db()
    return plan


# Canonical dumps -----------------------------------------------------------------------------


def _text(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def dump_target(registry: Registry) -> dict:
    """Everything under a registry, by natural keys only (ids differ between runs)."""
    collections = Collection.objects.filter(registry=registry)
    links = CollectionLink.objects.filter(collection__registry=registry)
    return {
        "registry": [
            registry.name,
            registry.visibility,
            registry.accepted_types,
            registry.accepts_all_types,
            registry.description,
        ],
        "protected": sorted(
            ProtectedAlias.objects.filter(registry=registry).values_list("name", flat=True)
        ),
        "collections": sorted(
            (
                c.name,
                c.type,
                c.description,
                c.next_index,
                c.version_count,
                str(c.created_at),
                str(c.updated_at),
            )
            for c in collections
        ),
        "collection_tags": sorted(
            collections.filter(tags__isnull=False).values_list("name", "tags__name")
        ),
        "links": sorted(
            (
                link.collection.name,
                link.index,
                link.version_id,
                link.description,
                link.linked_by_id,
                str(link.linked_at),
            )
            for link in links.select_related("collection")
        ),
        "link_tags": sorted(
            links.filter(tags__isnull=False).values_list("collection__name", "index", "tags__name")
        ),
        "aliases": sorted(
            Alias.objects.filter(collection__registry=registry).values_list(
                "collection__name", "name", "link__index"
            )
        ),
        "history": sorted(
            (e.target, e.action, str(e.created_at), e.actor_id, _text(e.data))
            for e in AuditEvent.objects.filter(registry_id=registry.pk).exclude(collection_id=None)
        ),
        "registry_events": sorted(
            AuditEvent.objects.filter(registry_id=registry.pk, collection_id=None).values_list(
                "action", flat=True
            )
        ),
        "user_grants": sorted(
            RegistryUserObjectPermission.objects.filter(content_object=registry).values_list(
                "user__username", "permission__codename"
            )
        ),
        "group_grants": sorted(
            RegistryGroupObjectPermission.objects.filter(content_object=registry).values_list(
                "group__name", "permission__codename"
            )
        ),
        "migrated_to": sorted(
            RegisteredModel.objects.filter(migrated_to__registry=registry).values_list(
                "name", "migrated_to__name"
            )
        ),
    }


def dump_legacy(legacy: LegacyRegistry) -> dict:
    """Every legacy row of a registry, field by field, except the migrated_to pointers."""
    models = RegisteredModel.objects.filter(legacy_registry=legacy)
    versions = LegacyVersion.objects.filter(model__legacy_registry=legacy)
    return {
        "models": sorted(
            models.values_list(
                "id", "name", "description", "next_index", "created_at", "updated_at"
            )
        ),
        "model_tags": sorted(models.filter(tags__isnull=False).values_list("id", "tags__name")),
        "versions": sorted(
            versions.values_list(
                "id", "model_id", "index", "version_id", "description", "linked_by_id", "linked_at"
            )
        ),
        "version_tags": sorted(versions.filter(tags__isnull=False).values_list("id", "tags__name")),
        "aliases": sorted(
            LegacyAlias.objects.filter(model__legacy_registry=legacy).values_list(
                "id", "model_id", "version_id", "name"
            )
        ),
        "protected": sorted(
            LegacyProtectedAlias.objects.filter(legacy_registry=legacy).values_list("id", "name")
        ),
        "events": sorted(
            (e.id, e.model_id, e.actor_id, e.action, _text(e.data), str(e.created_at))
            for e in LegacyEvent.objects.filter(model__legacy_registry=legacy)
        ),
        "admins": sorted(legacy.admins.values_list("username", flat=True)),
    }

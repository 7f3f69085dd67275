"""Path resolution: legacy paths name legacy versions before the migration, links after it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.legacy.models import LegacyRegistry, LegacyVersion, RegisteredModel
from apps.legacy.resolve import resolve_any_path
from apps.registry import services as registry_services
from apps.registry.access import revoke_all
from apps.registry.models import Collection, CollectionLink, Registry
from apps.registry.paths import PathError
from apps.registry.resolve import PathNotFound
from tests.legacy.conftest import migrate

CHAMPION = "fraud-team/model-registry/fraud-detector:champion"


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("fraud-team/model-registry/fraud-detector:champion", 1),
        ("fraud-team/model-registry/fraud-detector:CHAMPION", 1),
        ("FRAUD-TEAM/model-registry/Fraud-Detector:v0", 0),
        ("fraud-team/model-registry/fraud-detector:latest", 2),
        ("fraud-team/model-registry/fraud-detector", 2),
    ],
)
def test_legacy_path_before_migration(legacy_versions, member, path, index):
    resolution = resolve_any_path(member, path)

    assert isinstance(resolution.target, LegacyVersion)
    assert resolution.target.index == index
    assert resolution.is_legacy
    assert resolution.deprecation is None
    assert resolution.path.startswith("fraud-team/model-registry/fraud-detector")


def test_legacy_path_keeps_requested_version(legacy_versions, member):
    resolution = resolve_any_path(member, CHAMPION)

    assert resolution.path == CHAMPION


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "fraud-team/model-registry/churn:v0",
            "The registered model 'churn' was not found in the legacy Model Registry of the "
            "team 'fraud-team'.",
        ),
        (
            "fraud-team/model-registry/fraud-detector:v7",
            "The version 'v7' was not found in the registered model 'fraud-detector'.",
        ),
        (
            "fraud-team/model-registry/fraud-detector:staging",
            "The version 'staging' was not found in the registered model 'fraud-detector'.",
        ),
        (
            "nobody-team/model-registry/fraud-detector",
            "The team 'nobody-team' has no legacy Model Registry that you can see.",
        ),
    ],
)
def test_unknown_part_is_named(legacy_versions, member, path, message):
    with pytest.raises(PathNotFound) as raised:
        resolve_any_path(member, path)

    assert str(raised.value) == message


@pytest.mark.parametrize("who", ["stranger", "org_admin", "viewer", "outsider"])
def test_outside_team_reads_like_missing(request, legacy_versions, who):
    user = request.getfixturevalue(who)

    with pytest.raises(PathNotFound) as raised:
        resolve_any_path(user, CHAMPION)

    assert (
        str(raised.value) == "The team 'fraud-team' has no legacy Model Registry that you can see."
    )


def test_support_resolves_legacy_path(legacy_versions, support):
    resolution = resolve_any_path(support, CHAMPION)

    assert resolution.target == legacy_versions[1]


def test_team_viewer_resolves_legacy_path(legacy_versions, team_viewer):
    assert resolve_any_path(team_viewer, CHAMPION).target == legacy_versions[1]


def test_unparsable_path_raises_path_error(member):
    with pytest.raises(PathError):
        resolve_any_path(member, "fraud-team/model-registry/a:b:c")


def test_registry_path_has_no_deprecation(linked, member):
    resolution = resolve_any_path(member, "acme/wandb-registry-model/fraud-detector:champion")

    assert resolution.target == linked[1]
    assert not resolution.is_legacy
    assert resolution.path == "acme/wandb-registry-model/fraud-detector:champion"
    assert resolution.deprecation is None


@pytest.mark.parametrize(
    ("version", "index"),
    [("champion", 1), ("v0", 0), ("latest", 2), (None, 2)],
)
def test_migrated_path_resolves_to_link(legacy_versions, member, org_admin, version, index):
    migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)
    path = "fraud-team/model-registry/fraud-detector" + (f":{version}" if version else "")

    resolution = resolve_any_path(member, path)

    link = resolution.target
    assert isinstance(link, CollectionLink)
    assert link.index == index
    assert link.collection.registry.name == "fraud-team"
    assert link.version == legacy_versions[index].version
    expected = f"acme/wandb-registry-fraud-team/fraud-detector:{version or 'latest'}"
    assert resolution.path == expected
    assert resolution.deprecation == (
        f"The legacy path {path if version else path + ':latest'} is deprecated: its "
        f"registered model was migrated, so use {expected} instead."
    )


def test_migrated_path_follows_renames(legacy_versions, member, org_admin):
    target = migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)
    registry_services.update_registry(registry=target, name="fraud-models", actor=org_admin)
    Collection.objects.filter(registry=target).update(name="card-fraud")

    resolution = resolve_any_path(member, CHAMPION)

    assert resolution.target.index == 1
    assert resolution.path == "acme/wandb-registry-fraud-models/card-fraud:champion"
    assert "use acme/wandb-registry-fraud-models/card-fraud:champion instead" in (
        resolution.deprecation
    )


def test_migrated_path_works_after_hiding(legacy_versions, member, org_admin):
    long_ago = timezone.now() - timedelta(days=60)
    legacy_registry = legacy_versions[0].model.legacy_registry
    migrate(legacy_registry, actor=org_admin, read_only_since=long_ago)
    assert legacy_registry.state() == "hidden"

    resolution = resolve_any_path(member, CHAMPION)

    assert resolution.target.collection.registry.name == "fraud-team"
    assert resolution.target.index == 1


def test_migrated_to_unseen_registry_is_not_found(legacy_versions, member, team, org_admin):
    target = migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)
    revoke_all(target, team.group)

    with pytest.raises(PathNotFound) as raised:
        resolve_any_path(member, CHAMPION)

    assert "was migrated to a registry that you cannot see" in str(raised.value)


def test_copy_in_progress_still_names_legacy_version(legacy_versions, member, org_admin):
    """While the copy runs, migrated_to may be set, but the legacy registry is not read-only."""
    legacy_registry = legacy_versions[0].model.legacy_registry
    migrate(legacy_registry, actor=org_admin)
    LegacyRegistry.objects.filter(pk=legacy_registry.pk).update(
        read_only_since=None, write_paused_since=timezone.now()
    )

    resolution = resolve_any_path(member, CHAMPION)

    assert resolution.target == legacy_versions[1]
    assert resolution.deprecation is None


def test_new_name_after_migration_is_not_found(legacy_versions, member, org_admin):
    migrate(legacy_versions[0].model.legacy_registry, actor=org_admin)

    with pytest.raises(PathNotFound):
        resolve_any_path(member, "fraud-team/model-registry/churn")

    assert RegisteredModel.objects.count() == 1
    assert Registry.objects.filter(name="fraud-team").exists()

"""Legacy paths `TEAM/model-registry/NAME:VERSION` before and after the team's migration."""

import pytest

from apps.legacy.models import LegacyVersion
from tests.sdk.conftest import migrate_nlp_team

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_old]

LEGACY = "nlp-team/model-registry/sentiment"
MIGRATED = "acme/wandb-registry-nlp-team/sentiment"
SDK_WARNING = (
    "This model registry has been migrated and will be discontinued. Your request was "
    "redirected to the corresponding artifact 'sentiment' in the new registry. Please update "
    "your paths to point to the migrated registry directly, 'wandb-registry-nlp-team/sentiment'."
)


def legacy_steps(link_target: str) -> list[dict]:
    return [
        {"action": "fetch", "path": f"{LEGACY}:production", "download": True},
        {"action": "fetch", "path": f"{LEGACY}:v0"},
        {"action": "link", "source": "nlp-team/nlp/sentiment:v0", "target": link_target},
    ]


def test_legacy_path_before_migration(sdk, world):
    outcome = sdk.run(
        "steps", world.keys["nadia"], steps=legacy_steps("nlp-team/model-registry/sentiment-rc")
    )
    production, first, linked = outcome.result

    assert production["qualified_name"] == f"{LEGACY}:production"
    assert production["entity"] == "nlp-team"
    assert production["project"] == "model-registry"
    assert production["version"] == "v1"
    assert production["aliases"] == ["latest", "production"]
    assert production["metadata"] == {"f1": 0.8}
    assert production["download"]["files"] == world.sha256_of("sentiment v1")
    assert production["download"]["verify"] == "ok"
    assert first["version"] == "v0"
    assert first["source_name"] == "sentiment:v0"

    assert linked["qualified_name"] == "nlp-team/model-registry/sentiment-rc:v0"
    assert LegacyVersion.objects.filter(
        model__name="sentiment-rc", version=world.versions["sentiment v0"]
    ).exists()
    assert not any("migrated" in line for line in outcome.warnings)


def test_legacy_path_after_migration(sdk, world):
    registry = migrate_nlp_team(world)
    assert registry.name == "nlp-team"

    outcome = sdk.run(
        "steps", world.keys["nadia"], steps=legacy_steps("nlp-team/model-registry/sentiment-rc")
    )
    production, first, linked = outcome.result

    assert production["qualified_name"] == f"{MIGRATED}:production"
    assert production["entity"] == "acme"
    assert production["project"] == "wandb-registry-nlp-team"
    assert production["version"] == "v1"
    assert production["aliases"] == ["latest", "production"]
    assert production["source_name"] == "sentiment:v1"
    assert production["download"]["files"] == world.sha256_of("sentiment v1")
    assert production["download"]["verify"] == "ok"
    assert first["qualified_name"] == f"{MIGRATED}:v0"
    assert any(SDK_WARNING in line for line in outcome.warnings), outcome.stderr

    # A new name under the legacy path is rejected, with the new path in the message.
    assert "acme/wandb-registry-nlp-team/sentiment-rc" in linked["error"], linked
    assert not LegacyVersion.objects.filter(model__name="sentiment-rc").exists()

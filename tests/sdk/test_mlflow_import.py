"""The SDK downloads the files of a version that the MLflow import brought in."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from apps.orgs.models import Team
from apps.registry import services
from apps.registry.mlflow import read_store
from apps.registry.mlflow_import import RegistryImporter

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_old]

SAMPLE = Path(settings.BASE_DIR) / "demo" / "mlflow-sample" / "mlruns"
# fraud-detector v2, the champion, is an MLflow 3 logged model with its files in artifacts/.
CHAMPION_FILES = (
    SAMPLE / "357347381044710756" / "models" / "m-3ae8c33132f84b80911a999b747b6cbc" / "artifacts"
)


def test_imported_champion_downloads(sdk, world):
    olivia = world.users["olivia"]
    registry = services.create_registry(
        organization=world.registries["model"].organization,
        name="mlflow",
        visibility="organization",
        accepted_types=["model"],
        actor=olivia,
    )
    team = Team.objects.get(name="fraud-team")
    report = RegistryImporter(read_store(SAMPLE), registry=registry, team=team, actor=olivia).run()
    assert report.files_stored == 6

    outcome = sdk.run(
        "steps",
        world.keys["mike"],
        steps=[
            {
                "action": "fetch",
                "path": "acme/wandb-registry-mlflow/fraud-detector:champion",
                "download": True,
            }
        ],
    )
    (champion,) = outcome.result

    assert champion["version"] == "v2"
    assert champion["download"]["files"] == {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in CHAMPION_FILES.iterdir()
    }
    assert champion["download"]["verify"] == "ok"

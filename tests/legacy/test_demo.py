"""manage.py load_demo: nlp-team's legacy registry contains the nlp-team MLflow store."""

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from apps.legacy.models import LegacyRegistry, LegacyVersion, RegisteredModel


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def legacy_rows() -> dict[str, list]:
    return {
        "registries": sorted(LegacyRegistry.objects.values_list("pk", "team__name")),
        "models": sorted(RegisteredModel.objects.values_list("pk", "name", "next_index")),
        "versions": sorted(LegacyVersion.objects.values_list("pk", "model__name", "index")),
    }


# One test loads the demo twice, because each load imports the store's 401 versions.
@override_settings(DEBUG=True)
def test_demo_legacy_registries(db):
    output = load_demo()
    first = legacy_rows()

    again = load_demo()

    assert legacy_rows() == first
    assert "into nlp-team/model-registry: 39 registered models created" in output
    assert "0 registered models created, 0 versions linked now, 401 linked before" in again
    assert "File contents: 320 stored, 0 skipped (stored before), 0 not stored." in output
    assert "File contents: 0 stored, 320 skipped (stored before), 0 not stored." in again

    users = get_user_model().objects
    dave, alice = users.get(username="dave"), users.get(username="alice")
    nlp = LegacyRegistry.objects.get(team__name="nlp-team")
    fraud = LegacyRegistry.objects.get(team__name="fraud-team")
    assert list(LegacyRegistry.objects.visible_to(dave)) == [nlp]
    assert list(LegacyRegistry.objects.visible_to(alice)) == [fraud]
    assert RegisteredModel.objects.visible_to(dave).count() == 39
    assert not RegisteredModel.objects.filter(legacy_registry=fraud).exists()
    assert LegacyVersion.objects.visible_to(dave).count() == 401
    bert = RegisteredModel.objects.get(legacy_registry=nlp, name="sentiment-bert")
    champion = bert.aliases.get(name="champion").version
    assert champion.index == 151
    assert champion.version.artifact.project.team.name == "nlp-team"

    # dave, an nlp-team admin, downloads the champion's files through the REST API.
    client = Client()
    client.force_login(dave)
    source = champion.version
    # v151 comes from an MLflow 3 logged model (models:/m-...), with its files in artifacts/.
    store = Path(settings.BASE_DIR) / "demo" / "mlflow-nlp-team" / "mlruns"
    (files_folder,) = store.glob(f"*/models/{source.metadata['mlflow_model_id']}/artifacts")
    assert source.files.exists()
    for entry in source.files.all():
        response = client.get(f"/api/v1/artifact-versions/{source.pk}/files/{entry.pk}/content/")

        assert response.status_code == 200, entry.path
        assert b"".join(response.streaming_content) == (files_folder / entry.path).read_bytes()

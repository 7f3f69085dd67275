"""manage.py import_mlflow --legacy against the two MLflow file stores under demo/.

Each store comes with expected.json, MLflow's own reading of it; the legacy rows are compared
with it field by field. Deleted versions are found by scanning the store's meta.yaml files,
independently of the importer's reader.
"""

import hashlib
import json
import re
import shutil
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.core.validators import FORBIDDEN_NAME_CHARACTERS
from apps.legacy.models import LegacyAlias, LegacyEvent, LegacyVersion, RegisteredModel
from apps.registry import mlflow_import
from apps.registry.models import ArtifactVersion, ManifestEntry
from tests.legacy.conftest import migrate, pause
from tests.registry.conftest import signed_in

DEMO = Path(settings.BASE_DIR) / "demo"
SAMPLE = DEMO / "mlflow-sample" / "mlruns"
NLP = DEMO / "mlflow-nlp-team" / "mlruns"
TAGS_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)
RUN_FILES = Path("357347381044710756") / "2aa66bc67a1c49768bc27831957a2187" / "artifacts" / "model"
LOGGED_MODEL_FILES = (
    Path("357347381044710756") / "models" / "m-3ae8c33132f84b80911a999b747b6cbc" / "artifacts"
)
# The folder in the sample store of each imported version's files, by model and number.
SAMPLE_FILES = {
    ("churn-model", 1): RUN_FILES,
    ("fraud-detector", 1): RUN_FILES,
    ("fraud-detector", 2): LOGGED_MODEL_FILES,
}


def expected_models(store: Path) -> list[dict]:
    data = json.loads((store.parent / "expected.json").read_text(encoding="utf-8"))
    return data["registered_models"]


def deleted_numbers(store: Path) -> dict[str, list[int]]:
    """Version numbers that MLflow soft-deleted, per model name, read from the files."""
    deleted: dict[str, list[int]] = {}
    for meta_path in (store / "models").glob("*/version-*/meta.yaml"):
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        if meta["current_stage"] == "Deleted_Internal":
            deleted.setdefault(meta["name"], []).append(meta["version"])
    return deleted


def accepted(name: str) -> bool:
    return not any(character in FORBIDDEN_NAME_CHARACTERS for character in name)


def import_legacy(path: Path, *args: str) -> str:
    out = StringIO()
    call_command(
        "import_mlflow",
        str(path),
        "--org",
        "acme",
        "--team",
        "fraud-team",
        "--legacy",
        *args,
        stdout=out,
    )
    return out.getvalue()


def milliseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def check_against_expected(store: Path) -> None:
    """Assert that every accepted model of the store is in the legacy registry as MLflow has it."""
    deleted = deleted_numbers(store)
    models = {m.name: m for m in RegisteredModel.objects.all()}
    expected = [m for m in expected_models(store) if accepted(m["name"])]
    assert sorted(models) == sorted(m["name"] for m in expected)

    for spec in expected:
        model = models[spec["name"]]
        if spec["description"]:
            assert model.description.startswith(spec["description"])
        match = TAGS_BLOCK.search(model.description)
        assert (json.loads(match.group(1)) if match else {}) == spec["tags"]
        assert milliseconds(model.created_at) == spec["creation_timestamp"]

        rows = {
            row.index: row
            for row in LegacyVersion.objects.filter(model=model).select_related("version")
        }
        numbers = [v["version"] for v in spec["versions"]]
        assert sorted(rows) == numbers, spec["name"]
        highest = max(numbers + deleted.get(spec["name"], []), default=-1)
        assert model.next_index == highest + 1, spec["name"]

        aliases = {
            a.name: a.version.index
            for a in LegacyAlias.objects.filter(model=model).select_related("version")
        }
        expected_aliases = {name: int(number) for name, number in spec["aliases"].items()}
        if numbers:
            expected_aliases["latest"] = max(numbers)
        assert aliases == expected_aliases, spec["name"]

        for version in spec["versions"]:
            row = rows[version["version"]]
            metadata = row.version.metadata
            assert row.description == (version["description"] or "")
            assert metadata["mlflow_model"] == spec["name"]
            assert metadata["mlflow_version"] == version["version"]
            assert metadata["mlflow_stage"] == version["current_stage"]
            assert metadata["mlflow_source"] == version["source"]
            assert metadata["mlflow_run_id"] == version["run_id"]
            assert metadata["mlflow_tags"] == version["tags"]
            assert row.version.artifact.type == "model"
            assert milliseconds(row.linked_at) == version["creation_timestamp"]


def test_nlp_store_matches_expected(legacy_registry, team_admin):
    output = import_legacy(NLP)

    check_against_expected(NLP)
    assert RegisteredModel.objects.count() == 39
    assert LegacyVersion.objects.count() == 405 - len(
        [v for m in expected_models(NLP) if not accepted(m["name"]) for v in m["versions"]]
    )
    assert "registered model 'spam-filter#2'" in output
    assert "prompt 'support-reply-prompt': MLflow prompts are not models." in output
    assert "Created 39 registered models in fraud-team/model-registry" in output

    # The store's one import doubles as the source of the gap and history checks.
    bert = RegisteredModel.objects.get(name="sentiment-bert")
    indices = set(bert.versions.values_list("index", flat=True))
    assert {37, 38, 112, 153}.isdisjoint(indices)
    assert bert.next_index == 154
    linked = LegacyEvent.objects.filter(model=bert, action="version.linked")
    assert linked.count() == 149
    assert linked.first().actor == team_admin
    reserved = LegacyEvent.objects.get(model=bert, action="index.reserved")
    assert reserved.data == {"index": 153, "next_index": 154}


def test_sample_store_matches_expected(legacy_registry, team_admin):
    output = import_legacy(SAMPLE)

    check_against_expected(SAMPLE)
    detector = RegisteredModel.objects.get(name="fraud-detector")
    assert detector.next_index == 5
    assert "prompt 'summarize-prompt'" in output


def test_reimport_creates_nothing(legacy_registry, team_admin):
    import_legacy(SAMPLE)
    counts = (
        RegisteredModel.objects.count(),
        LegacyVersion.objects.count(),
        ArtifactVersion.objects.count(),
        LegacyEvent.objects.count(),
    )

    output = import_legacy(SAMPLE)

    assert "Created 0 registered models" in output
    assert "Already imported, unchanged (3): Sentiment-BERT, churn-model, fraud-detector" in output
    assert counts == (
        RegisteredModel.objects.count(),
        LegacyVersion.objects.count(),
        ArtifactVersion.objects.count(),
        LegacyEvent.objects.count(),
    )


def test_registry_import_shares_sources(legacy_registry, team_admin, org_admin):
    call_command(
        "import_mlflow", str(SAMPLE), "--org", "acme", "--team", "fraud-team", stdout=StringIO()
    )
    sources = ArtifactVersion.objects.count()

    output = import_legacy(SAMPLE)

    assert ArtifactVersion.objects.count() == sources
    row = LegacyVersion.objects.get(model__name="fraud-detector", index=2)
    assert row.version.links.get().index == 2
    assert "File contents: 0 stored, 6 skipped (stored before), 0 not stored." in output


def test_dry_run_writes_nothing(legacy_registry, team_admin, artifact_storage_root):
    output = import_legacy(SAMPLE, "--dry-run")

    assert "Dry run: nothing was written." in output
    assert "Would create 3 registered models" in output
    assert "File contents: 6 to store, 0 to skip (stored before), 0 not stored." in output
    assert not RegisteredModel.objects.exists()
    assert not ArtifactVersion.objects.exists()
    assert not artifact_storage_root.exists()


def test_import_needs_team_writer(legacy_registry, team_viewer):
    with pytest.raises(CommandError) as raised:
        import_legacy(SAMPLE, "--actor", team_viewer.username)

    assert "tess cannot import" in str(raised.value)
    assert not RegisteredModel.objects.exists()


def test_import_without_team_admin_asks_actor(legacy_registry, member):
    with pytest.raises(CommandError) as raised:
        import_legacy(SAMPLE)

    assert "has no active admin to act as; pass --actor" in str(raised.value)


def test_import_stops_at_pause(legacy_registry, team_admin):
    pause(legacy_registry)

    with pytest.raises(CommandError) as raised:
        import_legacy(SAMPLE)

    assert "paused for writes" in str(raised.value)
    assert not RegisteredModel.objects.exists()


def test_import_after_migration_rejected(legacy_registry, team_admin, org_admin):
    migrate(legacy_registry, actor=org_admin)

    with pytest.raises(CommandError) as raised:
        import_legacy(SAMPLE)

    assert "is read-only since its migration" in str(raised.value)
    assert not RegisteredModel.objects.exists()


def test_linked_at_is_utc(legacy_registry, team_admin):
    import_legacy(SAMPLE)

    row = LegacyVersion.objects.get(model__name="churn-model", index=1)
    assert row.linked_at.tzinfo is not None
    assert row.linked_at.astimezone(UTC) == datetime.fromtimestamp(1796413800603 / 1000, tz=UTC)


# File contents ------------------------------------------------------------------------------


def test_imported_files_download_through_api(legacy_registry, team_admin, artifact_storage_root):
    output = import_legacy(SAMPLE)

    assert "File contents: 6 stored, 0 skipped (stored before), 0 not stored." in output
    client = signed_in(team_admin)
    rows = LegacyVersion.objects.select_related("model", "version").filter(
        version__files__isnull=False
    )
    imported = {(row.model.name, row.index): row.version for row in rows.distinct()}
    assert sorted(imported) == sorted(SAMPLE_FILES)
    for key, version in imported.items():
        for entry in version.files.all():
            response = client.get(
                f"/api/v1/artifact-versions/{version.pk}/files/{entry.pk}/content/"
            )

            assert response.status_code == 200, (key, entry.path)
            content = b"".join(response.streaming_content)
            assert content == (SAMPLE / SAMPLE_FILES[key] / entry.path).read_bytes()
            assert hashlib.sha256(content).hexdigest() == entry.sha256


def test_reimport_stores_nothing_twice(legacy_registry, team_admin, artifact_storage_root):
    import_legacy(SAMPLE)
    blobs = sorted(path for path in artifact_storage_root.rglob("*") if path.is_file())
    checksums = sorted(ManifestEntry.objects.values_list("pk", "md5"))

    output = import_legacy(SAMPLE)

    assert "File contents: 0 stored, 6 skipped (stored before), 0 not stored." in output
    assert sorted(path for path in artifact_storage_root.rglob("*") if path.is_file()) == blobs
    assert sorted(ManifestEntry.objects.values_list("pk", "md5")) == checksums


def test_no_files_then_import_fills_in(legacy_registry, team_admin, artifact_storage_root):
    first = import_legacy(SAMPLE, "--no-files")

    assert "File contents: not read and not stored (--no-files)" in first
    assert ManifestEntry.objects.filter(md5="").count() == 6
    assert not artifact_storage_root.exists()

    second = import_legacy(SAMPLE)

    assert "File contents: 6 stored, 0 skipped (stored before), 0 not stored." in second
    assert not ManifestEntry.objects.filter(md5="").exists()


def test_file_changed_while_read_rolls_back_model(
    legacy_registry, team_admin, artifact_storage_root, tmp_path, monkeypatch
):
    store = tmp_path / "mlruns"
    shutil.copytree(SAMPLE, store)
    weights = store / RUN_FILES / "weights.txt"
    real_list_files = mlflow_import.list_files
    changed = []

    def list_then_change(folder: Path, *, within: Path):
        # churn-model v1 is the first version listed from the run's folder.
        entries = real_list_files(folder, within=within)
        if not changed and folder.resolve() == weights.parent.resolve():
            changed.append(folder)
            weights.write_bytes(b"retrained weights\n")
        return entries

    monkeypatch.setattr(mlflow_import, "list_files", list_then_change)

    output = import_legacy(store)

    assert (
        f"registered model 'churn-model': The file '{weights}' of version 1 changed while the "
        f"import read it (its size or sha256 differ from those read a moment before), so the "
        f"model was not imported; run the import again once nothing writes to the store."
    ) in output
    assert not RegisteredModel.objects.filter(name="churn-model").exists()
    assert not ArtifactVersion.objects.filter(metadata__mlflow_model="churn-model").exists()
    assert RegisteredModel.objects.filter(name="fraud-detector").exists()

    again = import_legacy(store)

    assert "Created 1 registered models" in again
    row = LegacyVersion.objects.get(model__name="churn-model", index=1)
    assert not row.version.files.filter(md5="").exists()

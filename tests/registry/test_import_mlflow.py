"""manage.py import_mlflow against the two MLflow file stores under demo/.

Each store comes with expected.json, MLflow's own reading of it, which the imported rows are
compared with field by field.
"""

import hashlib
import json
import re
import shutil
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole
from apps.registry import services
from apps.registry.models import (
    Alias,
    ArtifactVersion,
    Collection,
    CollectionLink,
    ManifestEntry,
    Registry,
    Run,
)

DEMO = Path(settings.BASE_DIR) / "demo"
SAMPLE = DEMO / "mlflow-sample" / "mlruns"
NLP = DEMO / "mlflow-nlp-team" / "mlruns"
TAGS_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def expected_models(store: Path) -> list[dict]:
    return json.loads((store.parent / "expected.json").read_text(encoding="utf-8"))[
        "registered_models"
    ]


def import_store(path, *args: str, team: str = "fraud-team") -> str:
    out = StringIO()
    call_command("import_mlflow", str(path), "--org", "acme", "--team", team, *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Collection,
            CollectionLink,
            Alias,
            ArtifactVersion,
            ManifestEntry,
            Run,
            AuditEvent,
        )
    }


def links_of(collection: Collection) -> dict[int, CollectionLink]:
    links = collection.links.select_related("version__produced_by").prefetch_related(
        "aliases", "version__files"
    )
    return {link.index: link for link in links}


def tags_in_description(description: str) -> dict[str, str]:
    match = TAGS_BLOCK.search(description)
    return json.loads(match.group(1)) if match else {}


def milliseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def assert_matches_expected(expected: dict, collection: Collection) -> None:
    """Compare one collection with MLflow's reading of its registered model."""
    assert collection.type == "model"
    assert collection.description.startswith(expected["description"] or "")
    assert tags_in_description(collection.description) == expected["tags"]

    links = links_of(collection)
    assert sorted(links) == [v["version"] for v in expected["versions"]]
    aliases = {
        alias.name: str(alias.link.index)
        for alias in collection.aliases.select_related("link").exclude(name="latest")
    }
    assert aliases == expected["aliases"]

    for version in expected["versions"]:
        link = links[version["version"]]
        metadata = link.version.metadata
        assert metadata["mlflow_model"] == expected["name"]
        assert metadata["mlflow_version"] == version["version"]
        assert metadata["mlflow_stage"] == version["current_stage"]
        assert metadata["mlflow_status"] == version["status"]
        assert metadata["mlflow_source"] == version["source"]
        assert metadata["mlflow_run_id"] == version["run_id"]
        assert metadata["mlflow_run_link"] == version["run_link"]
        assert metadata["mlflow_model_id"] == version["model_id"]
        assert metadata["mlflow_tags"] == version["tags"]
        assert metadata["mlflow_creation_timestamp"] == version["creation_timestamp"]
        assert metadata["mlflow_last_updated_timestamp"] == version["last_updated_timestamp"]
        assert milliseconds(link.version.created_at) == version["creation_timestamp"]
        assert link.description == (version["description"] or "")
        assert link.version.description == (version["description"] or "")
        link_aliases = sorted(a.name for a in link.aliases.all() if a.name != "latest")
        assert link_aliases == version["aliases"]


def copy_store(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "mlruns"
    shutil.copytree(source, target)
    return target


# The small sample -------------------------------------------------------------------------


def test_sample_matches_expected_json(org, team, org_admin, model_registry):
    import_store(SAMPLE)

    expected = expected_models(SAMPLE)
    collections = Collection.objects.filter(registry=model_registry)
    assert sorted(c.name for c in collections) == sorted(m["name"] for m in expected)
    for model in expected:
        assert_matches_expected(model, collections.get(name=model["name"]))


def test_sample_keeps_timestamps_and_tags_in_description(org, team, org_admin, model_registry):
    import_store(SAMPLE)

    fraud = Collection.objects.get(registry=model_registry, name="fraud-detector")
    assert fraud.description.startswith("Card-fraud classifier (binary).\n\n")
    created = datetime.fromtimestamp(1796413800531 / 1000, tz=UTC)
    assert f"created {created:%Y-%m-%d %H:%M:%S} UTC" in fraud.description
    assert tags_in_description(fraud.description) == {
        "governance/reviewed": "yes",
        "task": "classification",
        "team": "ml-team",
    }
    placeholder = Collection.objects.get(registry=model_registry, name="Sentiment-BERT")
    assert "```json" not in placeholder.description


def test_sample_links_the_producing_run_and_its_files(org, team, org_admin, model_registry):
    import_store(SAMPLE)

    links = links_of(Collection.objects.get(registry=model_registry, name="fraud-detector"))
    run_folder = SAMPLE / "357347381044710756" / "2aa66bc67a1c49768bc27831957a2187"
    baseline = links[1].version
    assert baseline.produced_by.run_id == "2aa66bc67a1c49768bc27831957a2187"
    assert baseline.produced_by.name == "baseline"
    assert baseline.produced_by.project.name == "mlflow-registry"
    files = {f.path: (f.size, f.sha256) for f in baseline.files.all()}
    assert files == {
        name: (
            (run_folder / "artifacts" / "model" / name).stat().st_size,
            hashlib.sha256((run_folder / "artifacts" / "model" / name).read_bytes()).hexdigest(),
        )
        for name in ("MLmodel", "weights.txt")
    }

    # v2 comes from an MLflow 3 logged model (models:/m-...) that the run `tuned` logged.
    tuned = links[2].version
    assert tuned.produced_by.run_id == "00c146f65dbe4d95915e00f32b980cc6"
    assert sorted(f.path for f in tuned.files.all()) == ["MLmodel", "weights.txt"]

    external = links[3].version
    assert external.produced_by is None
    assert external.files.count() == 0


def test_sample_keeps_the_deleted_version_as_a_gap(org, team, org_admin, model_registry):
    import_store(SAMPLE)

    fraud = Collection.objects.get(registry=model_registry, name="fraud-detector")
    assert sorted(links_of(fraud)) == [1, 2, 3]
    assert fraud.next_index == 5
    latest = Alias.objects.get(collection=fraud, name="latest")
    assert latest.link.index == 3
    champion = Alias.objects.get(collection=fraud, name="champion")
    assert champion.link.index == 2


def test_sample_report_lists_created_and_skipped(org, team, org_admin):
    output = import_store(SAMPLE)

    assert "3 registered models with 4 versions (and 1 deleted version left out)" in output
    assert "Created 3 collections and 4 links in acme/model" in output
    assert "fraud-detector: 3 versions (v1-v3), aliases challenger, champion" in output
    assert "Sentiment-BERT: 0 versions" in output
    assert "prompt 'summarize-prompt': MLflow prompts are not models." in output
    assert "acting as olivia" in output


def test_sample_skips_the_prompt(org, team, org_admin, model_registry):
    import_store(SAMPLE)

    assert not Collection.objects.filter(name__icontains="prompt").exists()
    assert not ArtifactVersion.objects.filter(metadata__mlflow_model="summarize-prompt").exists()


def test_second_run_imports_nothing(org, team, org_admin):
    import_store(SAMPLE)
    before = row_counts()

    output = import_store(SAMPLE)

    assert row_counts() == before
    assert "Created 0 collections and 0 links" in output
    assert "Imported before and unchanged (3): Sentiment-BERT, churn-model, fraud-detector" in (
        output
    )


def test_dry_run_writes_nothing(org, team, org_admin):
    before = row_counts()

    output = import_store(SAMPLE, "--dry-run")

    assert row_counts() == before
    assert "Dry run: nothing was written." in output
    assert "Would create 3 collections and 4 links" in output
    assert "record 2 producing runs and 6 files" in output


def test_acts_as_the_given_actor(org, team, org_admin, member, model_registry):
    import_store(SAMPLE, "--actor", member.username)

    link = CollectionLink.objects.get(collection__name="fraud-detector", index=2)
    assert link.linked_by == member
    assert link.version.created_by == member


def test_actor_without_write_access_is_rejected(org, team, org_admin, viewer):
    with pytest.raises(CommandError, match="vera cannot import"):
        import_store(SAMPLE, "--actor", viewer.username)
    assert Collection.objects.count() == 0


def test_without_an_org_admin_asks_for_actor(org, team):
    with pytest.raises(CommandError, match="pass --actor USERNAME"):
        import_store(SAMPLE)


def test_registry_that_rejects_models_stops(org, team, org_admin):
    with pytest.raises(CommandError, match="does not accept the type 'model'"):
        import_store(SAMPLE, "--registry", "dataset")


def test_protected_alias_needs_an_admin_actor(org, team, org_admin, member, model_registry):
    services.add_protected_alias(registry=model_registry, name="champion", actor=org_admin)

    output = import_store(SAMPLE, "--actor", member.username)

    assert "registered model 'fraud-detector': Moving an alias (protected alias champion)" in (
        output
    )
    assert not Collection.objects.filter(name="fraud-detector").exists()
    assert Collection.objects.filter(name="churn-model").exists()


def test_write_pause_stops_the_import(org, team, org_admin, model_registry):
    Registry.objects.filter(pk=model_registry.pk).update(
        write_paused_since=timezone.now(), write_pause_reason="migration of fraud-team"
    )

    with pytest.raises(CommandError, match="paused for writes: migration of fraud-team"):
        import_store(SAMPLE)

    assert Collection.objects.count() == 0


def test_dry_run_during_write_pause_reads(org, team, org_admin, model_registry):
    Registry.objects.filter(pk=model_registry.pk).update(write_paused_since=timezone.now())

    output = import_store(SAMPLE, "--dry-run")

    assert "Would create 3 collections and 4 links" in output
    assert Collection.objects.count() == 0


# Broken and changed stores ----------------------------------------------------------------


def test_missing_folder_names_the_path(org, team, org_admin, tmp_path):
    missing = tmp_path / "no-such-mlruns"

    with pytest.raises(CommandError) as raised:
        import_store(missing)

    assert str(missing) in str(raised.value)
    assert "no such folder" in str(raised.value)


def test_store_without_models_folder_names_the_path(org, team, org_admin, tmp_path):
    (tmp_path / "mlruns").mkdir()

    with pytest.raises(CommandError) as raised:
        import_store(tmp_path / "mlruns")

    assert str(tmp_path / "mlruns" / "models") in str(raised.value)


def test_broken_meta_yaml_names_the_file(org, team, org_admin, tmp_path):
    store = copy_store(SAMPLE, tmp_path)
    broken = store / "models" / "fraud-detector" / "version-2" / "meta.yaml"
    broken.write_text("name: fraud-detector\nversion: [2\n", encoding="utf-8")

    with pytest.raises(CommandError) as raised:
        import_store(store)

    assert str(broken) in str(raised.value)
    assert "invalid YAML" in str(raised.value)
    # The whole store is read before the first write, so nothing was imported.
    assert Collection.objects.count() == 0


def test_meta_yaml_without_version_names_the_file(org, team, org_admin, tmp_path):
    store = copy_store(SAMPLE, tmp_path)
    meta = store / "models" / "churn-model" / "version-1" / "meta.yaml"
    meta.write_text("name: churn-model\nsource: s3://bucket/x\n", encoding="utf-8")

    with pytest.raises(CommandError) as raised:
        import_store(store)

    assert str(meta) in str(raised.value)
    assert "'version'" in str(raised.value)


def test_symlink_out_of_the_store_is_not_read(org, team, org_admin, tmp_path):
    store = copy_store(SAMPLE, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of the store", encoding="utf-8")
    run = store / "357347381044710756" / "2aa66bc67a1c49768bc27831957a2187"
    (run / "artifacts" / "model" / "secret.txt").symlink_to(secret)

    import_store(store)

    baseline = CollectionLink.objects.get(collection__name="fraud-detector", index=1).version
    assert sorted(f.path for f in baseline.files.all()) == ["MLmodel", "weights.txt"]


def test_rejected_and_dangling_aliases_are_skipped(org, team, org_admin, tmp_path):
    store = copy_store(SAMPLE, tmp_path)
    aliases = store / "models" / "fraud-detector" / "aliases"
    (aliases / "v9").write_text("1", encoding="utf-8")
    (aliases / "doomed").write_text("4", encoding="utf-8")

    output = import_store(store)

    assert "alias 'fraud-detector@v9': The alias 'v9' is reserved" in output
    assert "alias 'fraud-detector@doomed': it points at version 4" in output
    names = set(
        Alias.objects.filter(collection__name="fraud-detector").values_list("name", flat=True)
    )
    assert names == {"champion", "challenger", "latest"}


def test_new_versions_are_linked_on_the_next_run(org, team, org_admin, tmp_path):
    store = copy_store(SAMPLE, tmp_path)
    import_store(store)
    model = store / "models" / "fraud-detector"
    shutil.copytree(model / "version-3", model / "version-5")
    meta = model / "version-5" / "meta.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("version: 3", "version: 5"), encoding="utf-8"
    )
    (model / "aliases" / "champion").write_text("5", encoding="utf-8")

    output = import_store(store)

    assert "Existing collections with new versions (1):" in output
    assert "fraud-detector: 1 version (v5), aliases champion" in output
    fraud = Collection.objects.get(name="fraud-detector")
    assert sorted(links_of(fraud)) == [1, 2, 3, 5]
    assert Alias.objects.get(collection=fraud, name="champion").link.index == 5
    assert Alias.objects.get(collection=fraud, name="latest").link.index == 5


def test_unlinked_index_is_not_reused(org, team, org_admin, tmp_path):
    import_store(SAMPLE)
    fraud = Collection.objects.get(name="fraud-detector")
    services.unlink_version(link=fraud.links.get(index=1), actor=org_admin)

    output = import_store(SAMPLE)

    assert "version 'fraud-detector v1': the index v1 was used before and is never reused" in (
        output
    )
    assert sorted(links_of(fraud)) == [2, 3]


def test_collection_differing_in_case_is_reported(org, team, org_admin, model_registry):
    services.create_collection(
        registry=model_registry, name="Fraud-Detector", type="model", actor=org_admin
    )

    output = import_store(SAMPLE)

    assert (
        "registered model 'fraud-detector': the registry already has a collection "
        "'Fraud-Detector'" in output
    )
    assert Collection.objects.get(name="Fraud-Detector").links.count() == 0
    assert Collection.objects.filter(name="churn-model").exists()


def test_second_registry_links_the_same_source_versions(org, team, org_admin, model_registry):
    custom = services.create_registry(
        organization=org, name="fraud", accepted_types=["model"], actor=org_admin
    )
    import_store(SAMPLE)
    sources = ArtifactVersion.objects.count()

    import_store(SAMPLE, "--registry", custom.name)

    assert ArtifactVersion.objects.count() == sources
    first = CollectionLink.objects.get(
        collection__registry=model_registry, index=2, collection__name="fraud-detector"
    )
    second = CollectionLink.objects.get(
        collection__registry=custom, index=2, collection__name="fraud-detector"
    )
    assert first.version_id == second.version_id


# The nlp-team store -----------------------------------------------------------------------


ACCEPTED_NAMES = [
    "Q&A retriever (beta)",
    "lang-id@fasttext",
    "intent+slot-joint-bert",
    "children's-content-filter",
    "Summarizer v2",
    "clasificación-es",
    "ja-tokenizer-日本語",
    "emoji-sentiment-🙂",
    "intent-detector.v3",
    "toxicity_classifier",
    "toxicity-classifier",
]


@pytest.fixture
def nlp_team(org, org_admin):
    return org_services.create_team(organization=org, name="nlp-team")


class NlpStoreImportTests(TestCase):
    """The nlp-team store, imported once for the whole class because that takes seconds.

    Django's TestCase keeps the import in a transaction around the class and rolls each
    test back to it, so no test changes the data that the next one reads.
    """

    @classmethod
    def setUpTestData(cls):
        organization = services.create_organization(name="acme")
        org_services.create_team(organization=organization, name="nlp-team")
        admin = get_user_model().objects.create_user(username="nlp-admin")
        org_services.add_org_member(organization=organization, user=admin, role=OrgRole.ADMIN)
        cls.registry = Registry.objects.get(organization=organization, name="model")
        cls.output = import_store(NLP, team="nlp-team")

    def collections(self) -> dict[str, Collection]:
        return {c.name: c for c in Collection.objects.filter(registry=self.registry)}

    def test_matches_expected_json(self):
        expected = [m for m in expected_models(NLP) if m["name"] != "spam-filter#2"]
        collections = self.collections()

        assert sorted(collections) == sorted(m["name"] for m in expected)
        for model in expected:
            assert_matches_expected(model, collections[model["name"]])
        assert CollectionLink.objects.count() == 401

    def test_accepts_names_a_stricter_registry_rejects(self):
        collections = self.collections()

        for name in ACCEPTED_NAMES:
            assert name in collections, name
        long_name = next(name for name in collections if len(name) == 120)
        assert long_name.startswith("customer-support-ticket-routing-")

    def test_reports_rejected_name_and_prompt(self):
        assert "Skipped (2):" in self.output
        assert "prompt 'support-reply-prompt': MLflow prompts are not models." in self.output
        assert (
            "registered model 'spam-filter#2': The collection name 'spam-filter#2' contains '#'"
            in self.output
        )
        assert not Collection.objects.filter(name__icontains="spam-filter").exists()
        assert not Collection.objects.filter(name="support-reply-prompt").exists()

    def test_deleted_versions_leave_gaps(self):
        sentiment = Collection.objects.get(registry=self.registry, name="sentiment-bert")
        indices = set(links_of(sentiment))

        assert len(indices) == 149
        assert not indices & {0, 37, 38, 112, 153}
        assert max(indices) == 152
        assert Alias.objects.get(collection=sentiment, name="latest").link.index == 152
        # MLflow gave the number 153 before deleting it, so no later link may take it.
        assert sentiment.next_index == 154

    def test_model_with_only_a_deleted_version(self):
        speech = Collection.objects.get(registry=self.registry, name="speech-to-intent")

        assert speech.links.count() == 0
        assert speech.next_index == 2
        assert not speech.aliases.exists()

    def test_runs_and_files(self):
        collections = self.collections()
        headline = links_of(collections["headline-generator-gpt2"])
        translation = links_of(collections["translation-en-de-marian"])[1].version
        legacy_source = links_of(collections["sentiment-bert"])[1].version

        # A deleted run is still the producing run. Runs of another server are not here.
        assert headline[1].version.metadata["mlflow_run_status"] == "deleted"
        assert headline[1].version.produced_by.run_id == "9180215406204636b481d956aa6d01a9"
        assert translation.produced_by is None
        assert translation.metadata["mlflow_run_link"].startswith("https://mlflow.gpu-cluster")
        assert legacy_source.metadata["mlflow_source"].startswith("file:///srv/mlflow/")
        assert [f.path for f in legacy_source.files.all()] == ["MLmodel"]
        assert Run.objects.count() == 320

    def test_second_run_creates_nothing(self):
        before = row_counts()

        output = import_store(NLP, team="nlp-team")

        assert row_counts() == before
        assert "Created 0 collections and 0 links" in output
        assert "Imported before and unchanged (39):" in output


def test_nlp_dry_run_writes_nothing(nlp_team):
    before = row_counts()

    output = import_store(NLP, "--dry-run", team="nlp-team")

    assert row_counts() == before
    assert "40 registered models with 405 versions (and 9 deleted versions left out)" in output
    assert "Would create 39 collections and 401 links" in output
    assert "sentiment-bert: 149 versions (v1-v36, v39-v111, v113-v152)" in output

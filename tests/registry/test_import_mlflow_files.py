"""manage.py import_mlflow stores the contents of the files that the MLflow store contains.

The sample store's files sit in one run's folder (churn-model v1 and fraud-detector v1 both
come from it) and in one logged model's folder (fraud-detector v2). fraud-detector v3 has
an s3:// source, so it has no files here.
"""

import hashlib
import os
import shutil
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from apps.registry import mlflow_import
from apps.registry.models import ArtifactVersion, Collection, CollectionLink, ManifestEntry
from tests.registry.conftest import signed_in

SAMPLE = Path(settings.BASE_DIR) / "demo" / "mlflow-sample" / "mlruns"
EXPERIMENT = "357347381044710756"
RUN_FILES = Path(EXPERIMENT) / "2aa66bc67a1c49768bc27831957a2187" / "artifacts" / "model"
LOGGED_MODEL_FILES = (
    Path(EXPERIMENT) / "models" / "m-3ae8c33132f84b80911a999b747b6cbc" / "artifacts"
)
# The folder in the store of each imported fraud-detector version's files.
FILES_OF = {1: RUN_FILES, 2: LOGGED_MODEL_FILES}
VERSIONS_URL = "/orgs/acme/registries/model/collections/fraud-detector/versions/"


def import_store(path: Path, *args: str) -> str:
    out = StringIO()
    call_command(
        "import_mlflow", str(path), "--org", "acme", "--team", "fraud-team", *args, stdout=out
    )
    return out.getvalue()


def copy_store(tmp_path: Path) -> Path:
    target = tmp_path / "mlruns"
    shutil.copytree(SAMPLE, target)
    return target


def stored_blobs(root: Path) -> dict[str, int]:
    """Every file in the storage folder, by name, with its modification time in nanoseconds."""
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file()
    }


def fraud_link(index: int) -> CollectionLink:
    return CollectionLink.objects.select_related("version").get(
        collection__name="fraud-detector", index=index
    )


def change_after_first_listing(monkeypatch, folder: Path, change) -> None:
    """Run `change` right after the import first lists `folder`, before it stores the files.

    churn-model v1 is the first version whose files are listed from the run's folder.
    """
    listed = []
    real_list_files = mlflow_import.list_files

    def list_then_change(path: Path, *, within: Path):
        entries = real_list_files(path, within=within)
        if not listed and path.resolve() == folder.resolve():
            listed.append(path)
            change()
        return entries

    monkeypatch.setattr(mlflow_import, "list_files", list_then_change)


# Stored and downloadable --------------------------------------------------------------------


def test_version_page_downloads_imported_files(org, team, org_admin, member, artifact_storage_root):
    import_store(SAMPLE)
    client = signed_in(member)

    for index, folder in FILES_OF.items():
        link = fraud_link(index)
        page = client.get(f"{VERSIONS_URL}v{index}/").content.decode()
        assert '<span class="muted">not uploaded</span>' not in page
        for entry in link.version.files.all():
            url = f"{VERSIONS_URL}v{index}/files/{entry.pk}/"
            assert f'href="{url}" download>Download' in page

            response = client.get(url)

            assert response.status_code == 200, entry.path
            assert (
                b"".join(response.streaming_content) == (SAMPLE / folder / entry.path).read_bytes()
            )


def test_api_downloads_imported_files(org, team, org_admin, member, artifact_storage_root):
    import_store(SAMPLE)
    client = signed_in(member)

    for index, folder in FILES_OF.items():
        version = fraud_link(index).version
        paths = sorted(entry.path for entry in version.files.all())
        assert paths == ["MLmodel", "weights.txt"]
        for entry in version.files.all():
            response = client.get(
                f"/api/v1/artifact-versions/{version.pk}/files/{entry.pk}/content/"
            )

            assert response.status_code == 200, entry.path
            content = b"".join(response.streaming_content)
            assert content == (SAMPLE / folder / entry.path).read_bytes()
            assert response["X-Checksum-Sha256"] == hashlib.sha256(content).hexdigest()


def test_report_counts_stored_files(org, team, org_admin, artifact_storage_root):
    output = import_store(SAMPLE)

    assert "File contents: 6 stored, 0 skipped (stored before), 0 not stored." in output
    assert "Files not stored" not in output
    assert not ManifestEntry.objects.filter(md5="").exists()
    # churn-model v1 and fraud-detector v1 list the same two files, and the storage keeps
    # each content once.
    contents = set(ManifestEntry.objects.values_list("sha256", flat=True))
    assert len(contents) == 4
    assert sorted(stored_blobs(artifact_storage_root)) == sorted(
        f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}" for sha256 in contents
    )


def test_second_import_stores_nothing_twice(org, team, org_admin, artifact_storage_root):
    import_store(SAMPLE)
    earlier = 1_000_000_000 * 1_000_000_000
    for path in artifact_storage_root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(earlier, earlier))
    blobs = stored_blobs(artifact_storage_root)
    checksums = sorted(ManifestEntry.objects.values_list("pk", "md5"))

    output = import_store(SAMPLE)

    assert "File contents: 0 stored, 6 skipped (stored before), 0 not stored." in output
    assert stored_blobs(artifact_storage_root) == blobs
    assert sorted(ManifestEntry.objects.values_list("pk", "md5")) == checksums


def test_dry_run_stores_nothing(org, team, org_admin, artifact_storage_root):
    output = import_store(SAMPLE, "--dry-run")

    assert "File contents: 6 to store, 0 to skip (stored before), 0 not stored." in output
    assert stored_blobs(artifact_storage_root) == {}
    assert not ManifestEntry.objects.exists()


def test_dry_run_counts_contents_still_missing(org, team, org_admin, artifact_storage_root):
    import_store(SAMPLE, "--no-files")

    output = import_store(SAMPLE, "--dry-run")

    assert "File contents: 6 to store, 0 to skip (stored before), 0 not stored." in output
    assert stored_blobs(artifact_storage_root) == {}
    assert ManifestEntry.objects.filter(md5="").count() == 6


# --no-files, and contents filled in later ---------------------------------------------------


def test_no_files_records_manifests_only(org, team, org_admin, artifact_storage_root):
    output = import_store(SAMPLE, "--no-files")

    assert "File contents: not read and not stored (--no-files)" in output
    assert "Created 3 collections and 4 links" in output
    assert ManifestEntry.objects.count() == 6
    assert ManifestEntry.objects.filter(md5="").count() == 6
    assert stored_blobs(artifact_storage_root) == {}


def test_later_import_stores_missing_contents(org, team, org_admin, member, artifact_storage_root):
    import_store(SAMPLE, "--no-files")
    rows = sorted(ManifestEntry.objects.values_list("pk", "version_id", "path", "sha256"))

    output = import_store(SAMPLE)

    assert "Created 0 collections and 0 links" in output
    assert "File contents: 6 stored, 0 skipped (stored before), 0 not stored." in output
    assert sorted(ManifestEntry.objects.values_list("pk", "version_id", "path", "sha256")) == rows
    entry = fraud_link(1).version.files.get(path="weights.txt")
    response = signed_in(member).get(f"{VERSIONS_URL}v1/files/{entry.pk}/")
    assert b"".join(response.streaming_content) == (SAMPLE / RUN_FILES / "weights.txt").read_bytes()


def test_later_import_reports_changed_file(org, team, org_admin, artifact_storage_root, tmp_path):
    store = copy_store(tmp_path)
    import_store(store, "--no-files")
    weights = store / RUN_FILES / "weights.txt"
    listed_sha256 = hashlib.sha256(weights.read_bytes()).hexdigest()
    weights.write_bytes(b"retrained weights\n")

    output = import_store(store)

    assert "File contents: 4 stored, 0 skipped (stored before), 2 not stored." in output
    assert "Files not stored (2):" in output
    for label in ("churn-model v1", "fraud-detector v1"):
        assert (
            f"  {label}: The file '{weights}' differs from the version's manifest (16 bytes, "
            f"sha256 {listed_sha256}), so its content is not stored; restore that file and "
            f"run the import again, or upload it through the API." in output
        )
    unstored = ManifestEntry.objects.filter(md5="")
    assert sorted(unstored.values_list("path", flat=True)) == ["weights.txt", "weights.txt"]


def test_later_import_reports_missing_file(org, team, org_admin, artifact_storage_root, tmp_path):
    store = copy_store(tmp_path)
    import_store(store, "--no-files")
    (store / LOGGED_MODEL_FILES / "MLmodel").unlink()

    output = import_store(store)

    assert "File contents: 5 stored, 0 skipped (stored before), 1 not stored." in output
    assert (
        "  fraud-detector v2: The store has no file 'MLmodel' for this version any more, so "
        "its content is not stored; put the file back and run the import again, or upload it "
        "through the API." in output
    )


# Size limit ---------------------------------------------------------------------------------


def test_file_over_size_limit_is_reported(
    org, team, org_admin, member, artifact_storage_root, settings
):
    settings.ARTIFACT_FILE_MAX_BYTES = 20  # MLmodel has 48 bytes, weights.txt 16

    output = import_store(SAMPLE)

    assert "Created 3 collections and 4 links" in output
    assert "File contents: 3 stored, 0 skipped (stored before), 3 not stored." in output
    for label in ("churn-model v1", "fraud-detector v1", "fraud-detector v2"):
        assert (
            f"  {label}: The file 'MLmodel' has 48 bytes; the limit is 20 bytes "
            f"(ARTIFACT_FILE_MAX_BYTES). Its content is not stored; raise the limit and run the "
            f"import again to store it." in output
        )
    page = signed_in(member).get(f"{VERSIONS_URL}v1/").content.decode()
    assert '<span class="muted">not uploaded</span>' in page
    assert fraud_link(1).version.files.get(path="weights.txt").md5 != ""

    settings.ARTIFACT_FILE_MAX_BYTES = 1024
    again = import_store(SAMPLE)

    assert "File contents: 3 stored, 3 skipped (stored before), 0 not stored." in again
    assert not ManifestEntry.objects.filter(md5="").exists()


# Files that change while the import reads them -----------------------------------------------


def test_file_changed_while_read_rolls_back_model(
    org, team, org_admin, member, artifact_storage_root, tmp_path, monkeypatch
):
    store = copy_store(tmp_path)
    weights = store / RUN_FILES / "weights.txt"
    change_after_first_listing(
        monkeypatch, store / RUN_FILES, lambda: weights.write_bytes(b"retrained weights\n")
    )

    output = import_store(store)

    assert (
        f"registered model 'churn-model': The file '{weights}' of version 1 changed while the "
        f"import read it (its size or sha256 differ from those read a moment before), so the "
        f"model was not imported; run the import again once nothing writes to the store."
    ) in output
    assert not Collection.objects.filter(name="churn-model").exists()
    assert not ArtifactVersion.objects.filter(metadata__mlflow_model="churn-model").exists()
    assert "File contents: 4 stored, 0 skipped (stored before), 0 not stored." in output
    # fraud-detector v1 lists the same folder after the change, so it has the new content.
    entry = fraud_link(1).version.files.get(path="weights.txt")
    response = signed_in(member).get(f"{VERSIONS_URL}v1/files/{entry.pk}/")
    assert b"".join(response.streaming_content) == b"retrained weights\n"

    again = import_store(store)

    assert "Created 1 collection and 1 link" in again
    churn = CollectionLink.objects.get(collection__name="churn-model", index=1).version
    assert churn.files.get(path="weights.txt").sha256 == entry.sha256
    assert not churn.files.filter(md5="").exists()


def test_file_gone_while_read_rolls_back_model(
    org, team, org_admin, artifact_storage_root, tmp_path, monkeypatch
):
    store = copy_store(tmp_path)
    weights = store / RUN_FILES / "weights.txt"
    change_after_first_listing(monkeypatch, store / RUN_FILES, weights.unlink)

    output = import_store(store)

    assert (
        f"registered model 'churn-model': The file '{weights}' of version 1 changed while the "
        f"import read it (it is gone), so the model was not imported" in output
    )
    assert not Collection.objects.filter(name="churn-model").exists()
    assert sorted(f.path for f in fraud_link(1).version.files.all()) == ["MLmodel"]


# Symlinks out of the store ------------------------------------------------------------------


def test_symlink_out_of_store_is_not_stored(org, team, org_admin, artifact_storage_root, tmp_path):
    store = copy_store(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not part of the store\n")
    (store / RUN_FILES / "secret.txt").symlink_to(secret)

    output = import_store(store)

    assert "File contents: 6 stored" in output
    assert not ManifestEntry.objects.filter(path="secret.txt").exists()
    secret_sha256 = hashlib.sha256(secret.read_bytes()).hexdigest()
    assert not any(secret_sha256 in name for name in stored_blobs(artifact_storage_root))


def test_symlink_swapped_in_is_not_read(
    org, team, org_admin, artifact_storage_root, tmp_path, monkeypatch
):
    store = copy_store(tmp_path)
    weights = store / RUN_FILES / "weights.txt"
    # The same bytes outside the store: reading them would pass the size and sha256 check.
    outside = tmp_path / "outside-weights.txt"
    outside.write_bytes(weights.read_bytes())

    def swap_in_symlink() -> None:
        weights.unlink()
        weights.symlink_to(outside)

    change_after_first_listing(monkeypatch, store / RUN_FILES, swap_in_symlink)

    output = import_store(store)

    assert (
        f"registered model 'churn-model': The file '{weights}' of version 1 changed while the "
        f"import read it (its path now leads outside the store), so the model was not "
        f"imported" in output
    )
    assert not Collection.objects.filter(name="churn-model").exists()


def test_bad_file_name_skips_model_in_both_runs(
    org, team, org_admin, artifact_storage_root, tmp_path
):
    store = copy_store(tmp_path)
    (store / RUN_FILES / "notes\u202etxt.exe").write_bytes(b"renamed to mislead")

    preview = import_store(store, "--dry-run")
    applied = import_store(store)

    for output in (preview, applied):
        assert "churn-model" in output.split("Skipped (")[1]
        assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in output
    assert not Collection.objects.filter(name="churn-model").exists()

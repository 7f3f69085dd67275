"""Read an MLflow file-store model registry, and apply our name rules to what it contains.

The reader knows the layout that MLflow 3.x (checked against mlflow-skinny 3.18) writes:

    PATH/models/<model>/meta.yaml               registered model: name, description, timestamps
    PATH/models/<model>/tags/<key>              one file per tag; a '/' in a key makes folders
    PATH/models/<model>/aliases/<alias>         the version number the alias points at
    PATH/models/<model>/version-<N>/meta.yaml   model version: stage, source, run id, ...
    PATH/models/<model>/version-<N>/tags/<key>
    PATH/<experiment>/<run_id>/meta.yaml        run; its files are under artifacts/
    PATH/<experiment>/models/<model_id>/        MLflow 3 logged model; files under artifacts/
    PATH/.trash/<experiment>/...                experiments that were deleted, with their runs

It reads the store the way MLflow's own FileStore does. Aliases come from the aliases/
folder, because the `aliases:` mapping in meta.yaml is only a snapshot. Prompts are
registered models tagged `mlflow.prompt.is_prompt = true`. A version whose stage is
`Deleted_Internal` was deleted but keeps its number. `read_store` returns plain data, so the
registry importer (apps/registry/mlflow_import.py) and any other writer share one reading of
a store and one set of rules for what to skip.
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from django.core.exceptions import ValidationError

from apps.core.validators import validate_alias, validate_file_path, validate_name
from apps.registry.services import FileEntry

PROMPT_TAG = "mlflow.prompt.is_prompt"
DELETED_STAGE = "Deleted_Internal"
VERSION_FOLDER = re.compile(r"^version-(\d+)$")
HASH_CHUNK_BYTES = 1024 * 1024

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MlflowStoreError(Exception):
    """The store cannot be read: a folder or file is missing, or a file is broken."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


# What a store contains ----------------------------------------------------------------------


@dataclass(frozen=True)
class MlflowRun:
    run_id: str
    name: str
    lifecycle_stage: str  # "active" or "deleted"
    artifact_uri: str
    folder: Path


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow 3 logged model (`models:/m-...`), with its files under artifacts/."""

    model_id: str
    name: str
    source_run_id: str | None
    artifact_location: str
    folder: Path


@dataclass
class ModelVersion:
    version: int
    description: str | None
    current_stage: str
    status: str | None
    source: str
    storage_location: str | None
    run_id: str | None
    run_link: str | None
    model_id: str | None
    user_id: str | None
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    tags: dict[str, str]
    folder: Path
    aliases: list[str] = field(default_factory=list)


@dataclass
class RegisteredModel:
    name: str
    description: str | None
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    tags: dict[str, str]
    # Alias name -> version number, as the aliases/ folder stores them. An alias may point
    # at a version that no longer exists; importers report those.
    aliases: dict[str, int]
    # Visible versions only, in number order. Deleted ones are in deleted_versions.
    versions: list[ModelVersion]
    deleted_versions: list[int]
    folder: Path

    @property
    def is_prompt(self) -> bool:
        return self.tags.get(PROMPT_TAG, "").strip().lower() == "true"

    @property
    def highest_number(self) -> int | None:
        """The highest version number ever given, deleted versions included."""
        numbers = [v.version for v in self.versions] + self.deleted_versions
        return max(numbers, default=None)


@dataclass
class MlflowStore:
    root: Path
    models: list[RegisteredModel]  # prompts excluded, sorted by name
    prompts: list[RegisteredModel]
    # Runs and logged models that some version refers to and that the store contains.
    runs: dict[str, MlflowRun]
    logged_models: dict[str, LoggedModel]

    @property
    def version_count(self) -> int:
        return sum(len(model.versions) for model in self.models)

    @property
    def deleted_version_count(self) -> int:
        return sum(len(model.deleted_versions) for model in self.models)

    def run_of(self, version: ModelVersion) -> MlflowRun | None:
        """Return the run that produced the version, if the store contains it (even deleted)."""
        if version.run_id and version.run_id in self.runs:
            return self.runs[version.run_id]
        logged = self.logged_models.get(version.model_id or "")
        if logged is not None and logged.source_run_id in self.runs:
            return self.runs[logged.source_run_id]
        return None

    def files_folder(self, version: ModelVersion) -> Path | None:
        """Return the folder (or single file) of the store that contains the version's files.

        `runs:/<run_id>/<path>` and `models:/<model_id>` name them directly. A `file://`
        source under a run's recorded artifact_uri is mapped to that run's folder here, so a
        store moved from another machine still finds its files. Other sources (s3://, gs://,
        a path outside the store) have no files here, and the result is None.
        """
        source = version.source
        candidate: Path | None = None
        if source.startswith("runs:/"):
            run_id, _, sub_path = source.removeprefix("runs:/").partition("/")
            run = self.runs.get(run_id)
            if run is not None:
                candidate = run.folder / "artifacts" / sub_path
        elif source.startswith("models:/"):
            logged = self.logged_models.get(source.removeprefix("models:/").strip("/"))
            if logged is not None:
                candidate = logged.folder / "artifacts"
        else:
            run = self.runs.get(version.run_id or "")
            prefix = run.artifact_uri.rstrip("/") + "/" if run and run.artifact_uri else None
            if run is not None and prefix and (source + "/").startswith(prefix):
                candidate = run.folder / "artifacts" / source[len(prefix) :]
        if candidate is None or not candidate.exists():
            return None
        # A sub-path with '..' or a symlink could lead out of the store, and files out there
        # are not part of it.
        if not candidate.resolve().is_relative_to(self.root.resolve()):
            return None
        return candidate


# Reading ------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        raise MlflowStoreError(path, "the file is missing.") from None
    except UnicodeDecodeError as error:
        raise MlflowStoreError(path, f"the file is not UTF-8 text ({error}).") from None
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise MlflowStoreError(path, f"invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise MlflowStoreError(path, "invalid YAML: expected a mapping of keys to values.")
    return data


def _text(meta: dict[str, Any], key: str, path: Path, *, required: bool = False) -> str | None:
    value = meta.get(key)
    if value is None:
        if required:
            raise MlflowStoreError(path, f"the required key '{key}' is missing or empty.")
        return None
    if not isinstance(value, str):
        raise MlflowStoreError(path, f"'{key}' is {value!r}; expected text.")
    return value


def _number(meta: dict[str, Any], key: str, path: Path, *, required: bool = False) -> int | None:
    value = meta.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MlflowStoreError(path, f"'{key}' is {value!r}; expected a whole number.")
    return value


def _read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise MlflowStoreError(path, f"the file is not UTF-8 text ({error}).") from None


def _read_tags(folder: Path) -> dict[str, str]:
    """Read tags stored one file per key, where a key with '/' is a path of folders."""
    tags_folder = folder / "tags"
    if not tags_folder.is_dir():
        return {}
    tags = {}
    for directory, _, files in os.walk(tags_folder):
        for filename in files:
            path = Path(directory) / filename
            tags[path.relative_to(tags_folder).as_posix()] = _read_text_file(path)
    return dict(sorted(tags.items()))


def _read_aliases(folder: Path) -> dict[str, int]:
    aliases_folder = folder / "aliases"
    if not aliases_folder.is_dir():
        return {}
    aliases = {}
    for path in sorted(aliases_folder.iterdir()):
        content = _read_text_file(path).strip()
        if not content.isdigit():
            raise MlflowStoreError(
                path, f"the alias file contains {content!r}; expected a version number."
            )
        aliases[path.name] = int(content)
    return aliases


def _read_version(folder: Path) -> ModelVersion:
    meta_path = folder / "meta.yaml"
    meta = _read_yaml(meta_path)
    return ModelVersion(
        version=_number(meta, "version", meta_path, required=True),
        description=_text(meta, "description", meta_path),
        current_stage=_text(meta, "current_stage", meta_path) or "None",
        status=_text(meta, "status", meta_path),
        source=_text(meta, "source", meta_path) or "",
        storage_location=_text(meta, "storage_location", meta_path),
        run_id=_text(meta, "run_id", meta_path) or None,
        run_link=_text(meta, "run_link", meta_path) or None,
        model_id=_text(meta, "model_id", meta_path) or None,
        user_id=_text(meta, "user_id", meta_path) or None,
        creation_timestamp=_number(meta, "creation_timestamp", meta_path),
        last_updated_timestamp=_number(meta, "last_updated_timestamp", meta_path),
        tags=_read_tags(folder),
        folder=folder,
    )


def _read_model(folder: Path) -> RegisteredModel:
    meta_path = folder / "meta.yaml"
    meta = _read_yaml(meta_path)
    versions: list[ModelVersion] = []
    deleted: list[int] = []
    for child in folder.iterdir():
        if not (child.is_dir() and VERSION_FOLDER.match(child.name)):
            continue
        version = _read_version(child)
        if version.current_stage == DELETED_STAGE:
            deleted.append(version.version)
        else:
            versions.append(version)
    versions.sort(key=lambda v: v.version)

    model = RegisteredModel(
        name=_text(meta, "name", meta_path, required=True),
        description=_text(meta, "description", meta_path),
        creation_timestamp=_number(meta, "creation_timestamp", meta_path),
        last_updated_timestamp=_number(meta, "last_updated_timestamp", meta_path),
        tags=_read_tags(folder),
        aliases=_read_aliases(folder),
        versions=versions,
        deleted_versions=sorted(deleted),
        folder=folder,
    )
    for version in versions:
        version.aliases = sorted(a for a, n in model.aliases.items() if n == version.version)
    return model


def _index_tracking_folders(root: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Map every run id and logged-model id in the store to its folder, without parsing."""
    runs: dict[str, Path] = {}
    logged_models: dict[str, Path] = {}
    experiment_parents = [root, root / ".trash"]
    for parent in experiment_parents:
        if not parent.is_dir():
            continue
        for experiment in parent.iterdir():
            if not experiment.is_dir() or experiment.name in {"models", ".trash"}:
                continue
            for child in experiment.iterdir():
                if child.name == "models" and child.is_dir():
                    for logged in child.iterdir():
                        logged_models.setdefault(logged.name, logged)
                elif (child / "meta.yaml").is_file():
                    runs.setdefault(child.name, child)
    return runs, logged_models


def _read_run(folder: Path, root: Path) -> MlflowRun:
    meta_path = folder / "meta.yaml"
    meta = _read_yaml(meta_path)
    in_trash = folder.parent.parent == root / ".trash"
    stage = _text(meta, "lifecycle_stage", meta_path) or "active"
    return MlflowRun(
        run_id=_text(meta, "run_id", meta_path) or folder.name,
        name=_text(meta, "run_name", meta_path) or "",
        lifecycle_stage="deleted" if in_trash else stage,
        artifact_uri=_text(meta, "artifact_uri", meta_path) or "",
        folder=folder,
    )


def _read_logged_model(folder: Path) -> LoggedModel:
    meta_path = folder / "meta.yaml"
    meta = _read_yaml(meta_path)
    return LoggedModel(
        model_id=_text(meta, "model_id", meta_path) or folder.name,
        name=_text(meta, "name", meta_path) or "",
        source_run_id=_text(meta, "source_run_id", meta_path),
        artifact_location=_text(meta, "artifact_location", meta_path) or "",
        folder=folder,
    )


def read_store(path: str | os.PathLike) -> MlflowStore:
    """Read every registered model and version, and the runs and logged models they name.

    Raises MlflowStoreError, naming the file, for a missing folder or a broken file, so a
    caller can stop before it writes anything.
    """
    root = Path(path)
    if not root.is_dir():
        raise MlflowStoreError(root, "no such folder; give the MLflow tracking folder (mlruns).")
    models_folder = root / "models"
    if not models_folder.is_dir():
        raise MlflowStoreError(
            models_folder, "no such folder, so this is not an MLflow file store with a registry."
        )

    models: list[RegisteredModel] = []
    prompts: list[RegisteredModel] = []
    for folder in sorted(models_folder.iterdir()):
        if not folder.is_dir():
            continue
        model = _read_model(folder)
        (prompts if model.is_prompt else models).append(model)
    models.sort(key=lambda m: m.name)
    prompts.sort(key=lambda m: m.name)

    run_folders, logged_folders = _index_tracking_folders(root)
    logged_models: dict[str, LoggedModel] = {}
    runs: dict[str, MlflowRun] = {}
    for model in models:
        for version in model.versions:
            source_id = None
            if version.source.startswith("models:/"):
                source_id = version.source.removeprefix("models:/").strip("/")
            for model_id in {version.model_id, source_id}:
                folder = logged_folders.get(model_id or "")
                if folder is not None and model_id not in logged_models:
                    logged_models[model_id] = _read_logged_model(folder)
    referenced_runs = {v.run_id for m in models for v in m.versions if v.run_id}
    referenced_runs |= {lm.source_run_id for lm in logged_models.values() if lm.source_run_id}
    for run_id in sorted(referenced_runs):
        folder = run_folders.get(run_id)
        if folder is not None:
            runs[run_id] = _read_run(folder, root)

    return MlflowStore(
        root=root, models=models, prompts=prompts, runs=runs, logged_models=logged_models
    )


def _resolve_within(path: Path, boundary: Path) -> Path | None:
    """Return the real path of `path`, or None when it leads outside `boundary` (resolved)."""
    resolved = path.resolve()
    return resolved if resolved.is_relative_to(boundary) else None


def list_files(folder: Path, *, within: Path) -> list[FileEntry]:
    """Compute the manifest of a folder (or of one file): relative path, size and sha256.

    Files that resolve to a place outside `within` (a symlink out of the store) are left
    out, so a store cannot make the import read other files of the machine. Raises
    ValidationError, naming the file, for a relative path that validate_file_path rejects
    (a name with a backslash, a control or format character, or a leading '~').
    """
    boundary = within.resolve()
    paths = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    entries = []
    for path in paths:
        if _resolve_within(path, boundary) is None:
            continue
        relative = path.name if path == folder else path.relative_to(folder).as_posix()
        try:
            validate_file_path(relative)
        except ValidationError as error:
            raise ValidationError(
                f"The MLflow file {path} cannot be listed in a manifest: {error.messages[0]} "
                f"Rename the file in the store, then import again."
            ) from None
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
        entries.append(
            FileEntry(path=relative, size=path.stat().st_size, sha256=digest.hexdigest())
        )
    return entries


def listed_file_path(folder: Path, relative: str) -> Path:
    """Return where the file that list_files(folder) lists as `relative` sits in the store."""
    return folder if folder.is_file() else folder / relative


class OutsideStore(OSError):
    """A listed file's path that now resolves to a place outside the store."""


def open_listed_file(folder: Path, relative: str, *, within: Path) -> BinaryIO:
    """Open a file that list_files(folder, within=within) listed, to read its content.

    The path is resolved again as list_files resolves it, and the resolved path is opened.
    Raises OutsideStore when a symlink or '..' now leads out of `within`, so nothing
    outside the store is read, and FileNotFoundError when the file is gone.
    """
    path = listed_file_path(folder, relative)
    resolved = _resolve_within(path, within.resolve())
    if resolved is None:
        raise OutsideStore(f"{path} resolves to a place outside the store {within}")
    return resolved.open("rb")


# Our rules applied to a store ---------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """Something of the store that an import leaves out, and why."""

    kind: str  # "registered model", "prompt", "version" or "alias"
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.name}': {self.reason}"


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def check_models(models: list[RegisteredModel]) -> tuple[list[RegisteredModel], list[Skipped]]:
    """Split models into those whose names our rules accept and the rejected ones.

    Names are kept exactly as MLflow has them. Two names that differ only in case cannot
    both be collections, so the second one in name order is rejected.
    """
    accepted: list[RegisteredModel] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for model in models:
        try:
            validate_name(model.name, kind="collection name")
        except ValidationError as error:
            skipped.append(Skipped("registered model", model.name, _message(error)))
            continue
        other = seen.get(model.name.lower())
        if other is not None:
            skipped.append(
                Skipped(
                    "registered model",
                    model.name,
                    f"the name differs from '{other}' only in case, and collection names are "
                    f"compared without regard to case.",
                )
            )
            continue
        seen[model.name.lower()] = model.name
        accepted.append(model)
    return accepted, skipped


def check_aliases(model: RegisteredModel) -> tuple[dict[str, int], list[Skipped]]:
    """The model's aliases that our rules accept and that point at a visible version."""
    numbers = {v.version for v in model.versions}
    accepted: dict[str, int] = {}
    skipped: list[Skipped] = []
    for alias, number in sorted(model.aliases.items()):
        label = f"{model.name}@{alias}"
        try:
            validate_alias(alias)
        except ValidationError as error:
            skipped.append(Skipped("alias", label, _message(error)))
            continue
        if number not in numbers:
            skipped.append(
                Skipped("alias", label, f"it points at version {number}, which is gone.")
            )
            continue
        if any(alias.lower() == name.lower() for name in accepted):
            skipped.append(
                Skipped("alias", label, "another alias of the model differs from it only in case.")
            )
            continue
        accepted[alias] = number
    return accepted, skipped


def timestamp(milliseconds: int | None) -> datetime | None:
    """Convert MLflow's milliseconds since the epoch to an aware UTC datetime."""
    if milliseconds is None:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def version_metadata(
    model: RegisteredModel, version: ModelVersion, run: MlflowRun | None
) -> dict[str, Any]:
    """What MLflow knew about the version, under `mlflow_` keys of the version's metadata."""
    return {
        "mlflow_model": model.name,
        "mlflow_version": version.version,
        "mlflow_stage": version.current_stage,
        "mlflow_status": version.status,
        "mlflow_source": version.source,
        "mlflow_storage_location": version.storage_location,
        "mlflow_run_id": version.run_id,
        "mlflow_run_link": version.run_link,
        "mlflow_run_status": run.lifecycle_stage if run else None,
        "mlflow_model_id": version.model_id,
        "mlflow_user_id": version.user_id,
        "mlflow_creation_timestamp": version.creation_timestamp,
        "mlflow_last_updated_timestamp": version.last_updated_timestamp,
        "mlflow_tags": version.tags,
    }

"""Store the contents of the files that an MLflow store contains, for the MLflow import.

apps/registry/mlflow_import.py logs each version with the manifest that list_files computed
from the store. FileContents then reads each listed file again through open_listed_file,
which resolves the path as list_files does, and stores it with store_content, which checks
the content against the manifest entry. So the import stores only contents that a file
inside the store had when list_files read it.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError

from apps.registry.files import FileTooLarge, check_size_limit, is_uploaded, store_content
from apps.registry.mlflow import (
    MlflowStore,
    ModelVersion,
    OutsideStore,
    list_files,
    listed_file_path,
    open_listed_file,
)
from apps.registry.models import ArtifactVersion, ManifestEntry
from apps.registry.services import FileEntry

logger = logging.getLogger(__name__)


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


@dataclass(frozen=True)
class FileNotStored:
    """A file in a version's manifest whose content the import did not store, and why."""

    version: str  # such as "fraud-detector v1"
    reason: str  # names the file and what to do

    def __str__(self) -> str:
        return f"{self.version}: {self.reason}"


class FileContents:
    """Store the file contents of one registered model's versions, and count the outcome.

    With `write` off it only counts what storing would do, for a dry run. The importer adds
    the counts to its report once the model's transaction has committed.
    """

    def __init__(self, store: MlflowStore, *, label: str, write: bool) -> None:
        self.store = store
        self.label = label  # the registered model's name
        self.write = write
        self.stored = 0
        self.stored_before = 0
        self.not_stored: list[FileNotStored] = []

    def store_new(
        self, version: ModelVersion, folder: Path, entries: Sequence[ManifestEntry | FileEntry]
    ) -> None:
        """Store the files of a version that this import logs, which list_files just listed.

        `entries` are the version's manifest rows, or in a dry run the listed FileEntry
        items. A file that changed or disappeared since it was listed raises
        ValidationError, which rolls the whole model back. Otherwise the version's manifest
        would list a content that the store no longer has, and no later run could store it.
        The next run lists the file again and imports it with its new content.
        """
        for entry in entries:
            if not self._within_limit(version, entry):
                continue
            if self.write:
                problem = self._store(folder, entry)
                if problem is not None:
                    path = listed_file_path(folder, entry.path)
                    raise ValidationError(
                        f"The file '{path}' of version {version.version} changed while the "
                        f"import read it ({problem}), so the model was not imported; run the "
                        f"import again once nothing writes to the store."
                    )
            self.stored += 1

    def store_missing(self, version: ModelVersion, entries: list[ManifestEntry]) -> None:
        """Store the contents that a version logged by an earlier import still lacks.

        The earlier run may have had --no-files, a lower size limit or no content storage
        at all. Files are matched with the store's current listing by path, size and
        sha256. The version exists already, so a file that cannot be stored is noted in the
        report and the version stays as it is.
        """
        missing = [entry for entry in entries if not is_uploaded(entry)]
        self.stored_before += len(entries) - len(missing)
        if not missing:
            return
        folder = self.store.files_folder(version)
        listed = {}
        if folder is not None:
            listed = {f.path: f for f in list_files(folder, within=self.store.root)}
        for entry in missing:
            if not self._within_limit(version, entry):
                continue
            current = listed.get(entry.path)
            if folder is None or current is None:
                self._note(
                    version,
                    f"The store has no file '{entry.path}' for this version any more, so its "
                    f"content is not stored; put the file back and run the import again, or "
                    f"upload it through the API.",
                )
                continue
            path = listed_file_path(folder, entry.path)
            if (current.size, current.sha256) != (entry.size, entry.sha256):
                self._note(
                    version,
                    f"The file '{path}' differs from the version's manifest ({entry.size} "
                    f"bytes, sha256 {entry.sha256}), so its content is not stored; restore "
                    f"that file and run the import again, or upload it through the API.",
                )
                continue
            if self.write:
                problem = self._store(folder, entry)
                if problem is not None:
                    self._note(
                        version,
                        f"The file '{path}' changed while the import read it ({problem}), so "
                        f"its content is not stored; run the import again once nothing writes "
                        f"to the store.",
                    )
                    continue
            self.stored += 1

    def _within_limit(self, version: ModelVersion, entry: ManifestEntry | FileEntry) -> bool:
        try:
            check_size_limit(entry.size, entry.path)
        except FileTooLarge as error:
            self._note(
                version,
                f"{_message(error)} Its content is not stored; raise the limit and run the "
                f"import again to store it.",
            )
            return False
        return True

    def _store(self, folder: Path, entry: ManifestEntry) -> str | None:
        """Store one listed file's content; return why it cannot be, or None once stored."""
        try:
            stream = open_listed_file(folder, entry.path, within=self.store.root)
        except OutsideStore:
            return "its path now leads outside the store"
        except FileNotFoundError:
            return "it is gone"
        except OSError as error:
            return f"it cannot be read: {error.strerror or error}"
        with stream:
            try:
                store_content(entry=entry, stream=stream)
            except ValidationError:
                # store_content compared the content with the manifest entry, which contains
                # the size and sha256 that list_files read from the same file before.
                return "its size or sha256 differ from those read a moment before"
        return None

    def _note(self, version: ModelVersion, reason: str) -> None:
        note = FileNotStored(f"{self.label} v{version.version}", reason)
        self.not_stored.append(note)
        logger.warning(
            "MLflow import did not store a file: store=%s model=%r version=%d dry_run=%s reason=%s",
            self.store.root,
            self.label,
            version.version,
            not self.write,
            reason,
        )


def entries_of(sources: list[ArtifactVersion]) -> dict[int, list[ManifestEntry]]:
    """Return the manifest entries of the source versions, by source version id, in one query."""
    entries: dict[int, list[ManifestEntry]] = {source.pk: [] for source in sources}
    if sources:
        for entry in ManifestEntry.objects.filter(version__in=[s.pk for s in sources]):
            entries[entry.version_id].append(entry)
    return entries

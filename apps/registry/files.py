"""Artifact file contents: storage, upload checks, downloads and signed download URLs.

Contents live in the "artifacts" storage (settings.STORAGES), named by their sha256, so a
file logged by many versions is stored once. An upload streams through a temporary file
while its size, sha256 and md5 are computed. It is stored only when size and sha256 agree
with the manifest entry, so a wrong size or digest leaves nothing behind. A manifest entry's
md5 is blank until its content has been uploaded and checked, and only then can it be
downloaded, so knowing a digest is not enough to read a file that someone else uploaded.

Who may download: members of the team whose project logged the version, and anyone holding
at least the Viewer role on a registry the version is linked into. A Restricted Viewer sees
the version and its manifest but cannot download.
"""

import base64
import hashlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.models import Q
from django.utils import timezone

from apps.orgs.models import TeamRole
from apps.registry.models import ArtifactVersion, CollectionLink, ManifestEntry, Registry

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
SIGNING_SALT = "apps.registry.files.download"


class FileTooLarge(ValidationError):
    """An upload larger than settings.ARTIFACT_FILE_MAX_BYTES (HTTP 413)."""


def artifact_storage() -> Storage:
    return storages["artifacts"]


def blob_name(sha256: str) -> str:
    """Return the storage name of a content; two levels of folders keep directories small."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def is_uploaded(entry: ManifestEntry) -> bool:
    return entry.md5 != ""


# Access -------------------------------------------------------------------------------------


def downloadable_versions(user):
    """Return the artifact versions whose files the user may download (see the module doc)."""
    if not getattr(user, "is_authenticated", False):
        return ArtifactVersion.objects.none()
    linked = CollectionLink.objects.filter(
        collection__registry__in=Registry.objects.downloadable_by(user).values("pk")
    ).values("version_id")
    return ArtifactVersion.objects.filter(
        Q(artifact__project__team__memberships__user=user) | Q(pk__in=linked)
    ).distinct()


def uploadable_versions(user):
    """Return the artifact versions whose files the user may upload, as a team admin or member."""
    if not getattr(user, "is_authenticated", False):
        return ArtifactVersion.objects.none()
    return ArtifactVersion.objects.filter(
        artifact__project__team__memberships__user=user,
        artifact__project__team__memberships__role__in=[TeamRole.ADMIN, TeamRole.MEMBER],
    ).distinct()


def require_download(user, version: ArtifactVersion) -> None:
    if not downloadable_versions(user).filter(pk=version.pk).exists():
        raise PermissionDenied(
            f"Downloading the files of {version.source_path} needs the Viewer role on a "
            f"registry it is linked into, or membership of its team; ask a registry admin."
        )


def require_upload(user, version: ArtifactVersion) -> None:
    if not uploadable_versions(user).filter(pk=version.pk).exists():
        raise PermissionDenied(
            f"Uploading the files of {version.source_path} needs the admin or member role in "
            f"the team '{version.artifact.project.team.name}'."
        )


# Upload -------------------------------------------------------------------------------------


def check_size_limit(size: int, path: str) -> None:
    limit = settings.ARTIFACT_FILE_MAX_BYTES
    if size > limit:
        raise FileTooLarge(
            f"The file '{path}' has {size} bytes; the limit is {limit} bytes "
            f"(ARTIFACT_FILE_MAX_BYTES).",
            code="file_too_large",
        )


def store_file(*, entry: ManifestEntry, stream, actor) -> ManifestEntry:
    """Check that `actor` may upload the entry's file, then store it with store_content."""
    require_upload(actor, entry.version)
    return store_content(entry=entry, stream=stream)


def store_content(*, entry: ManifestEntry, stream) -> ManifestEntry:
    """Read a file's content from `stream`, check it against the entry and store it.

    Raises ValidationError when the size or sha256 differ from the manifest, and
    FileTooLarge past the size limit. Nothing is stored in either case. The md5 of the
    checked content is then recorded on the entry, which marks it as uploaded.

    It checks no permission: callers check that the actor may write the version's files.
    store_file does for uploads, and the MLflow import checks that its actor may write to
    the team's projects before it logs the versions whose files it stores.
    """
    check_size_limit(entry.size, entry.path)

    sha256 = hashlib.sha256()
    md5 = hashlib.md5()  # noqa: S324 - a checksum the W&B manifest format needs, not security
    received = 0
    with tempfile.TemporaryFile() as spool:
        while True:
            chunk = stream.read(CHUNK_SIZE)
            if not chunk:
                break
            received += len(chunk)
            if received > entry.size:
                raise ValidationError(
                    f"The upload of '{entry.path}' is longer than the {entry.size} bytes the "
                    f"manifest lists; send exactly that file.",
                    code="size_mismatch",
                )
            sha256.update(chunk)
            md5.update(chunk)
            spool.write(chunk)
        if received != entry.size:
            raise ValidationError(
                f"The upload of '{entry.path}' has {received} bytes, but the manifest lists "
                f"{entry.size}; send the whole file.",
                code="size_mismatch",
            )
        if sha256.hexdigest() != entry.sha256:
            raise ValidationError(
                f"The upload of '{entry.path}' has the sha256 {sha256.hexdigest()}, but the "
                f"manifest lists {entry.sha256}; send the file the manifest describes.",
                code="digest_mismatch",
            )
        md5_base64 = base64.b64encode(md5.digest()).decode()
        spool.seek(0)
        _save_blob(entry.sha256, spool)

    if entry.md5 != md5_base64:
        ManifestEntry.objects.filter(pk=entry.pk).update(md5=md5_base64)
        entry.md5 = md5_base64
    logger.info(
        "Stored file %s (%d bytes) of artifact version %s", entry.pk, received, entry.version_id
    )
    return entry


def _save_blob(sha256: str, content) -> None:
    storage = artifact_storage()
    name = blob_name(sha256)
    if storage.exists(name):
        return
    saved = storage.save(name, File(content, name=name))
    if saved != name:
        # Another upload of the same content won the race, so the storage picked a new name
        # for this copy. The contents are identical: keep the first and drop this one.
        storage.delete(saved)


# Download -----------------------------------------------------------------------------------


def open_file(entry: ManifestEntry):
    """Open an uploaded file's content for reading; raise FileNotFoundError when missing."""
    if not is_uploaded(entry):
        raise FileNotFoundError(entry.path)
    return artifact_storage().open(blob_name(entry.sha256), "rb")


@dataclass(frozen=True)
class SignedDownload:
    token: str
    expires_at: datetime


def sign_download(entry: ManifestEntry, user) -> SignedDownload:
    """Sign a token that lets anyone holding it download one file until it expires.

    It names the file and the user it was made for, and no credential: the download checks
    again that this user may still download the version, so a revoked role also stops the
    URLs handed out before.
    """
    require_download(user, entry.version)
    token = signing.dumps(
        {"file": entry.pk, "sha256": entry.sha256, "user": user.pk}, salt=SIGNING_SALT
    )
    lifetime = timedelta(seconds=settings.ARTIFACT_SIGNED_URL_SECONDS)
    return SignedDownload(token=token, expires_at=timezone.now() + lifetime)


class InvalidSignedUrl(PermissionDenied):
    """A signed download token that was altered, has expired, or names a file that is gone."""


def read_signed_download(token: str) -> ManifestEntry:
    """Return the manifest entry a valid, unexpired token names, after checking access again."""
    try:
        claims = signing.loads(
            token, salt=SIGNING_SALT, max_age=settings.ARTIFACT_SIGNED_URL_SECONDS
        )
    except signing.SignatureExpired:
        raise InvalidSignedUrl(
            "This download link has expired; request a new one from the API."
        ) from None
    except signing.BadSignature:
        raise InvalidSignedUrl(
            "This download link is invalid (it was changed or cut short); request a new one."
        ) from None

    entry = (
        ManifestEntry.objects.select_related("version__artifact__project__team")
        .filter(pk=claims.get("file"), sha256=claims.get("sha256"))
        .first()
    )
    user_model = ArtifactVersion._meta.get_field("created_by").related_model
    user = user_model.objects.filter(pk=claims.get("user"), is_active=True).first()
    if entry is None or user is None:
        raise InvalidSignedUrl("This download link no longer points at a file; request a new one.")
    require_download(user, entry.version)
    return entry

"""The manifest and file URLs that the SDK downloads from without an Authorization header.

Files are served by the REST API's signed download URLs (apps.registry.files). A version's
manifest is not a stored file: it is written from the manifest entries in the SDK's format,

    {"version": 1, "storagePolicy": "wandb-storage-policy-v1",
     "storagePolicyConfig": {"storageLayout": "V2"},
     "contents": {"PATH": {"digest": "<base64 md5>", "size": N}, ...}}

and served from a signed URL of its own, made here the same way: the token names the
version and the user, expires after ARTIFACT_SIGNED_URL_SECONDS, and the download checks
again that the user may still see the version. Anyone who can see a version may read its
manifest, Restricted Viewers included. Only the files need the download permission.
"""

import hashlib
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from apps.registry import files
from apps.registry.files import InvalidSignedUrl
from apps.registry.models import ArtifactVersion, ManifestEntry

MANIFEST_SALT = "apps.graphql_api.downloads.manifest"
STORAGE_POLICY = "wandb-storage-policy-v1"
# The layout current SDKs write. It only shapes the fallback URL the SDK builds when a
# signed URL fails, which this server does not serve, so downloads never depend on it.
STORAGE_LAYOUT = "V2"
MANIFEST_DIGEST_HEADER = "wandb-artifact-manifest-v1\n"


def manifest_entries(version: ArtifactVersion) -> list[ManifestEntry]:
    """Return every file of a version, ordered by path, read once per version instance.

    Uses the prefetched `files` when the caller prefetched them.
    """
    cached = version.__dict__.get("_manifest_entries")
    if cached is None:
        cached = list(version.files.all())
        version.__dict__["_manifest_entries"] = cached
    return cached


def manifest_json(version: ArtifactVersion) -> dict:
    """Build the version's manifest in the SDK's format (version 1).

    A file whose content has not been uploaded yet is listed with an empty digest; asking
    for its download URL fails with a message that says so.
    """
    return {
        "version": 1,
        "storagePolicy": STORAGE_POLICY,
        "storagePolicyConfig": {"storageLayout": STORAGE_LAYOUT},
        "contents": {
            entry.path: {"digest": entry.md5, "size": entry.size}
            for entry in manifest_entries(version)
        },
    }


def manifest_digest(version: ArtifactVersion) -> str:
    """Compute the manifest's hex md5 digest the way the SDK does for the same contents."""
    hasher = hashlib.md5(MANIFEST_DIGEST_HEADER.encode())  # noqa: S324 - the SDK's checksum
    for entry in sorted(manifest_entries(version), key=lambda item: item.path):
        hasher.update(f"{entry.path}:{entry.md5}\n".encode())
    return hasher.hexdigest()


# Signed URLs --------------------------------------------------------------------------------


def manifest_url(request, version: ArtifactVersion, user) -> str:
    token = signing.dumps({"version": version.pk, "user": user.pk}, salt=MANIFEST_SALT)
    return request.build_absolute_uri(reverse("graphql_api:manifest", args=[token]))


def read_manifest_token(token: str) -> ArtifactVersion:
    """Return the version a valid, unexpired token names, after checking access again."""
    try:
        claims = signing.loads(
            token, salt=MANIFEST_SALT, max_age=settings.ARTIFACT_SIGNED_URL_SECONDS
        )
    except signing.SignatureExpired:
        raise InvalidSignedUrl(
            "This manifest link has expired; fetch the artifact again for a new one."
        ) from None
    except signing.BadSignature:
        raise InvalidSignedUrl(
            "This manifest link is invalid (it was changed or cut short); fetch the artifact "
            "again for a new one."
        ) from None

    user = get_user_model().objects.filter(pk=claims.get("user"), is_active=True).first()
    version = None
    if user is not None:
        version = (
            ArtifactVersion.objects.visible_to(user)
            .filter(pk=claims.get("version"))
            .prefetch_related("files")
            .first()
        )
    if version is None:
        raise InvalidSignedUrl("This manifest link no longer points at a version you can see.")
    return version


def file_url(request, entry: ManifestEntry, user) -> str:
    """Return a signed download URL of one uploaded file.

    Raises PermissionDenied without the download permission.
    """
    signed = files.sign_download(entry, user)
    return request.build_absolute_uri(reverse("api:signed-download", args=[signed.token]))


def manifest_bytes(version: ArtifactVersion) -> bytes:
    return json.dumps(manifest_json(version), sort_keys=True).encode()

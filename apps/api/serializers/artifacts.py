"""Projects, artifacts and artifact versions of a team, with their file manifests."""

import re

from django.conf import settings
from rest_framework import serializers

from apps.api.serializers.collections import ManifestFileSerializer
from apps.api.serializers.common import name_field
from apps.api.serializers.registries import validate_type_name
from apps.core.validators import FILE_PATH_MAX, validate_file_path, validate_name
from apps.registry.models import Artifact, ArtifactVersion, Project
from apps.registry.services import MAX_METADATA_KEYS

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def validate_project_name(value: str) -> str:
    return validate_name(value, kind="project name")


class ProjectSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = Project
        fields = ["id", "team", "name", "created_at"]
        read_only_fields = fields


class ProjectCreateSerializer(serializers.Serializer):
    name = name_field(validate_project_name, max_length=128)


class ArtifactSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.name", read_only=True)
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Artifact
        fields = ["id", "project", "name", "type", "version_count", "created_at"]
        read_only_fields = fields


class ArtifactVersionSerializer(serializers.ModelSerializer):
    """A source version as its team logged it; `version` is the artifact's own vN."""

    team = serializers.CharField(source="artifact.project.team.name", read_only=True)
    project = serializers.CharField(source="artifact.project.name", read_only=True)
    artifact = serializers.CharField(source="artifact.name", read_only=True)
    type = serializers.CharField(source="artifact.type", read_only=True)
    path = serializers.CharField(source="source_path", read_only=True)
    version = serializers.SerializerMethodField()
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )
    produced_by = serializers.CharField(
        source="produced_by.run_id", read_only=True, allow_null=True
    )
    files = ManifestFileSerializer(many=True, read_only=True)

    class Meta:
        model = ArtifactVersion
        fields = [
            "id",
            "team",
            "project",
            "artifact",
            "type",
            "version",
            "path",
            "digest",
            "metadata",
            "description",
            "produced_by",
            "created_by",
            "created_at",
            "files",
        ]
        read_only_fields = fields

    def get_version(self, version: ArtifactVersion) -> str:
        return f"v{version.version}"


class FilePathField(serializers.CharField):
    """A manifest path, checked by validate_file_path alone.

    DRF's own checks for U+0000 and surrogates reject them without naming the value, so they are
    left out here. validate_file_path rejects both with a message that names the path.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=FILE_PATH_MAX, trim_whitespace=False, **kwargs)
        self.validators = [validate_file_path]


class ManifestEntryInputSerializer(serializers.Serializer):
    path = FilePathField(
        help_text=(
            "A relative POSIX path inside the version, such as model/weights.bin: no leading "
            "'/' or '~', no '.', '..' or empty segment, no backslash, control or format "
            "characters."
        ),
    )
    size = serializers.IntegerField(min_value=0, help_text="Size in bytes.")
    sha256 = serializers.CharField(
        min_length=64, max_length=64, help_text="Lower-case hex sha256 of the content."
    )

    def validate_size(self, value: int) -> int:
        limit = settings.ARTIFACT_FILE_MAX_BYTES
        if value > limit:
            raise serializers.ValidationError(
                f"The file has {value} bytes; the limit is {limit} bytes."
            )
        return value

    def validate_sha256(self, value: str) -> str:
        if not SHA256_PATTERN.match(value):
            raise serializers.ValidationError(
                "The sha256 must be 64 lower-case hexadecimal characters."
            )
        return value


class ArtifactVersionCreateSerializer(serializers.Serializer):
    """A new version of the artifact named in the URL."""

    type = name_field(validate_type_name, max_length=64)
    metadata = serializers.DictField(
        required=False,
        default=dict,
        help_text=f"A JSON object of at most {MAX_METADATA_KEYS} top-level keys.",
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000
    )
    files = ManifestEntryInputSerializer(many=True, required=False, default=list)
    run_id = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The id of the run that produced the version; the run is created if new.",
    )

    def validate_metadata(self, value: dict) -> dict:
        if len(value) > MAX_METADATA_KEYS:
            raise serializers.ValidationError(
                f"The metadata has {len(value)} top-level keys; the limit is {MAX_METADATA_KEYS}."
            )
        if _has_unstorable_text(value):
            # PostgreSQL's JSON type rejects U+0000 and unpaired surrogates.
            raise serializers.ValidationError(
                "The metadata contains U+0000 or an unpaired surrogate (U+D800 to U+DFFF), "
                "which cannot be stored; remove it."
            )
        return value


def _has_unstorable_text(value) -> bool:
    if isinstance(value, str):
        return any(character == "\x00" or "\ud800" <= character <= "\udfff" for character in value)
    if isinstance(value, dict):
        return any(
            _has_unstorable_text(key) or _has_unstorable_text(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_unstorable_text(item) for item in value)
    return False


class SignedUrlSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Downloads the file with no Authorization header.")
    expires_at = serializers.DateTimeField()

"""The response of the resolve endpoint: a registry version or a legacy Model Registry version.

`kind` tells the two apart. A legacy path of a migrated registered model resolves to the
registry version it became, so its response has the kind `registry` and a `deprecation` that
names the registry path to use instead.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers.collections import LinkSerializer, SourceVersionSerializer
from apps.legacy.models import LegacyVersion
from apps.registry.paths import format_legacy_path

REGISTRY_KIND = "registry"
LEGACY_KIND = "legacy"


class DeprecationSerializer(serializers.Serializer):
    """The deprecation notice of a legacy path: its message and the path to use instead."""

    message = serializers.CharField(source="deprecation")
    successor_path = serializers.CharField(
        source="path",
        help_text=(
            "The registry path to write in code instead, with the version part as requested."
        ),
    )
    deprecated_since = serializers.DateTimeField(
        allow_null=True, help_text="When the migration of the legacy registry completed."
    )


def _deprecation(context: dict) -> dict | None:
    resolution = context.get("resolution")
    if resolution is None or not resolution.deprecation:
        return None
    return DeprecationSerializer(resolution).data


class ResolvedSerializer(LinkSerializer):
    """A version of a registry; `path` is its canonical form, with stored names and vN."""

    kind = serializers.SerializerMethodField(
        help_text="`registry`: the path names a version of a registry."
    )
    requested_path = serializers.SerializerMethodField()
    organization = serializers.CharField(source="collection.registry.organization.name")
    registry = serializers.CharField(source="collection.registry.name")
    collection = serializers.CharField(source="collection.name")
    deprecation = serializers.SerializerMethodField(
        help_text="Set when a legacy path was resolved to the version it was migrated to."
    )

    class Meta(LinkSerializer.Meta):
        fields = [
            "kind",
            "path",
            "requested_path",
            "organization",
            "registry",
            "collection",
            *LinkSerializer.Meta.fields[:2],
            *LinkSerializer.Meta.fields[3:],
            "deprecation",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": [REGISTRY_KIND]})
    def get_kind(self, link) -> str:
        return REGISTRY_KIND

    def get_requested_path(self, link) -> str:
        return self.context["requested_path"]

    @extend_schema_field(DeprecationSerializer(allow_null=True))
    def get_deprecation(self, link) -> dict | None:
        return _deprecation(self.context)


class ResolvedLegacySerializer(serializers.ModelSerializer):
    """A version of a team's legacy Model Registry, before the team's migration."""

    kind = serializers.SerializerMethodField(
        help_text="`legacy`: the path names a version of a team's legacy Model Registry."
    )
    path = serializers.SerializerMethodField(
        help_text="The canonical legacy path, TEAM/model-registry/NAME:vN, with stored names."
    )
    requested_path = serializers.SerializerMethodField()
    organization = serializers.CharField(source="model.legacy_registry.team.organization.name")
    team = serializers.CharField(source="model.legacy_registry.team.name")
    registered_model = serializers.CharField(source="model.name")
    version = serializers.SerializerMethodField(help_text="The version, as vN.")
    aliases = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    source = SourceVersionSerializer(source="version", read_only=True)
    linked_by = serializers.CharField(source="linked_by.username", read_only=True, allow_null=True)
    deprecation = serializers.SerializerMethodField(
        help_text="Always null: a legacy path is deprecated only once its model is migrated."
    )

    class Meta:
        model = LegacyVersion
        fields = [
            "kind",
            "path",
            "requested_path",
            "organization",
            "team",
            "registered_model",
            "index",
            "version",
            "aliases",
            "tags",
            "description",
            "source",
            "linked_by",
            "linked_at",
            "deprecation",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": [LEGACY_KIND]})
    def get_kind(self, legacy_version) -> str:
        return LEGACY_KIND

    def get_path(self, legacy_version: LegacyVersion) -> str:
        model = legacy_version.model
        return format_legacy_path(
            model.legacy_registry.team.name, model.name, f"v{legacy_version.index}"
        )

    def get_requested_path(self, legacy_version) -> str:
        return self.context["requested_path"]

    def get_version(self, legacy_version: LegacyVersion) -> str:
        return f"v{legacy_version.index}"

    @extend_schema_field(DeprecationSerializer(allow_null=True))
    def get_deprecation(self, legacy_version) -> dict | None:
        return None

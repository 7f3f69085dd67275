"""Collections, their linked versions (links), aliases and history."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers.common import MAX_ID, AliasListField, TagListField, name_field
from apps.core.validators import validate_alias, validate_name
from apps.registry.models import Collection, CollectionLink
from apps.registry.paths import format_path


def validate_collection_name(value: str) -> str:
    return validate_name(value, kind="collection name")


def _registry_path(collection: Collection, version: str | None = None) -> str:
    registry = collection.registry
    return format_path(registry.organization.name, registry.name, collection.name, version)


class AliasSerializer(serializers.Serializer):
    name = serializers.CharField()
    index = serializers.IntegerField(source="link.index")


class CollectionSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="registry.organization.name", read_only=True)
    registry = serializers.CharField(source="registry.name", read_only=True)
    path = serializers.SerializerMethodField(help_text="The full path of the collection.")
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    aliases = AliasSerializer(many=True, read_only=True)
    version_count = serializers.IntegerField(read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Collection
        fields = [
            "id",
            "organization",
            "registry",
            "name",
            "path",
            "type",
            "description",
            "tags",
            "aliases",
            "version_count",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_path(self, collection: Collection) -> str:
        return _registry_path(collection)


class CollectionCreateSerializer(serializers.Serializer):
    name = name_field(validate_collection_name, max_length=128)
    type = name_field(
        lambda value: validate_name(value, kind="artifact type", max_length=64), max_length=64
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000
    )
    tags = TagListField(required=False, default=list)


class DescribeSerializer(serializers.Serializer):
    """The editable part of a collection or a linked version: description and tags."""

    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    tags = TagListField(
        required=False, help_text="The full new list: missing tags are removed, new ones added."
    )


class SourceVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    path = serializers.CharField(source="source_path")
    type = serializers.CharField()
    digest = serializers.CharField()
    created_at = serializers.DateTimeField()


class LinkSerializer(serializers.ModelSerializer):
    """A version linked into a collection: its index vN, aliases, tags and source."""

    version = serializers.SerializerMethodField(help_text="The link's version, as vN.")
    path = serializers.SerializerMethodField(help_text="The full path of this version.")
    aliases = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    linked_by = serializers.CharField(source="linked_by.username", read_only=True, allow_null=True)
    source = SourceVersionSerializer(source="version", read_only=True)

    class Meta:
        model = CollectionLink
        fields = [
            "index",
            "version",
            "path",
            "aliases",
            "tags",
            "description",
            "source",
            "linked_by",
            "linked_at",
        ]
        read_only_fields = fields

    def get_version(self, link: CollectionLink) -> str:
        return f"v{link.index}"

    def get_path(self, link: CollectionLink) -> str:
        return _registry_path(link.collection, f"v{link.index}")


class ManifestFileSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    md5 = serializers.CharField(help_text="Base64 md5 of the content; blank until uploaded.")
    uploaded = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField())
    def get_uploaded(self, entry) -> bool:
        return entry.md5 != ""


class LinkDetailSerializer(LinkSerializer):
    metadata = serializers.JSONField(source="version.metadata", read_only=True)
    files = ManifestFileSerializer(source="version.files", many=True, read_only=True)

    class Meta(LinkSerializer.Meta):
        fields = [*LinkSerializer.Meta.fields, "metadata", "files"]
        read_only_fields = fields


class LinkCreateSerializer(serializers.Serializer):
    """Link an existing source version, named by its id or by its source path."""

    version_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    source_path = serializers.CharField(
        required=False,
        max_length=600,
        help_text="TEAM/PROJECT/ARTIFACT:vN or TEAM/PROJECT/ARTIFACT:latest.",
    )
    aliases = AliasListField(required=False, default=list)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000
    )

    def validate(self, attrs):
        if ("version_id" in attrs) == ("source_path" in attrs):
            raise serializers.ValidationError("Give exactly one of 'version_id' and 'source_path'.")
        return attrs


class AliasSetSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, help_text="The index N of the version vN."
    )


class AliasNameSerializer(serializers.Serializer):
    name = name_field(validate_alias, max_length=128)

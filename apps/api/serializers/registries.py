"""Registries, their members, protected aliases and activity."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers.common import name_field
from apps.audit.models import AuditEvent
from apps.core.validators import validate_alias, validate_name, validate_registry_name
from apps.registry.models import Registry, Visibility
from apps.registry.roles import ROLE_CHOICES

ROLE_SLUGS = [slug for slug, _label in ROLE_CHOICES]


def validate_type_name(value: str) -> str:
    return validate_name(value, kind="artifact type", max_length=64)


def type_list_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=name_field(validate_type_name, max_length=64), max_length=100, **kwargs
    )


class RegistrySerializer(serializers.ModelSerializer):
    """A registry as every reader sees it; `role` is the caller's effective role."""

    organization = serializers.CharField(source="organization.name", read_only=True)
    path_name = serializers.CharField(
        read_only=True, help_text="The registry's part of an artifact path."
    )
    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    protected_aliases = serializers.SerializerMethodField()
    collection_count = serializers.IntegerField(read_only=True)
    starred = serializers.BooleanField(read_only=True)
    role = serializers.SerializerMethodField(
        help_text="The caller's effective role: the highest of every grant that reaches them."
    )

    class Meta:
        model = Registry
        fields = [
            "id",
            "organization",
            "name",
            "path_name",
            "description",
            "visibility",
            "is_core",
            "accepts_all_types",
            "accepted_types",
            "owner",
            "protected_aliases",
            "collection_count",
            "starred",
            "role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_protected_aliases(self, registry: Registry) -> list[str]:
        return [alias.name for alias in registry.protected_aliases.all()]

    @extend_schema_field(serializers.ChoiceField(choices=ROLE_SLUGS, allow_null=True))
    def get_role(self, registry: Registry) -> str | None:
        role = self.context.get("roles", {}).get(registry.pk)
        return role.slug if role else None


class RegistryCreateSerializer(serializers.Serializer):
    name = name_field(validate_registry_name, max_length=113)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000
    )
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, default=Visibility.RESTRICTED
    )
    accepted_types = type_list_field(
        required=False,
        allow_null=True,
        default=None,
        min_length=1,
        help_text="The artifact types the registry accepts; null or absent means all types.",
    )


class RegistryUpdateSerializer(serializers.Serializer):
    """The fields an Admin may change; ids, core status, owner and roles are not among them."""

    name = name_field(validate_registry_name, max_length=113, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    accepted_types = type_list_field(
        required=False, help_text="The new full list; a type once accepted cannot be removed."
    )
    accepts_all_types = serializers.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    confirm_visibility = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Must be true to switch to Organization visibility, which widens access.",
    )


class MemberSourceSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLE_SLUGS)
    source = serializers.CharField(
        help_text="'direct', 'team NAME', 'organization' or 'org admin'."
    )


class MemberSerializer(serializers.Serializer):
    """A user, service account or team granted a role, with the effective role beside it."""

    kind = serializers.ChoiceField(choices=["user", "service_account", "team"])
    name = serializers.CharField()
    granted_role = serializers.ChoiceField(choices=ROLE_SLUGS)
    effective_role = serializers.ChoiceField(choices=ROLE_SLUGS)
    effective_source = serializers.CharField()
    sources = MemberSourceSerializer(many=True)
    is_owner = serializers.BooleanField()


class MemberAddSerializer(serializers.Serializer):
    """Exactly one of user, service_account and team, with an optional role."""

    user = serializers.CharField(required=False, max_length=150)
    service_account = serializers.CharField(required=False, max_length=150)
    team = serializers.CharField(required=False, max_length=128)
    role = serializers.ChoiceField(
        choices=ROLE_SLUGS,
        required=False,
        help_text="Default: restricted_viewer for users and teams, member for service accounts.",
    )

    def validate(self, attrs):
        given = [key for key in ("user", "service_account", "team") if attrs.get(key)]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Give exactly one of 'user', 'service_account' and 'team'."
            )
        return attrs


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLE_SLUGS)


class OwnerSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=150, help_text="The username of a member.")


class ProtectedAliasSerializer(serializers.Serializer):
    name = name_field(validate_alias, max_length=128)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "action", "actor", "target", "data", "created_at"]
        read_only_fields = fields

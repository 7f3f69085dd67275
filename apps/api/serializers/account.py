"""The caller's own account: who they are, where they belong, and their API keys."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.orgs.models import ApiKey, OrgRole, TeamRole


class OrganizationMembershipSerializer(serializers.Serializer):
    name = serializers.CharField(source="organization.name")
    display_name = serializers.CharField(source="organization.display_name")
    role = serializers.ChoiceField(choices=OrgRole.choices)


class TeamMembershipSerializer(serializers.Serializer):
    organization = serializers.CharField(source="team.organization.name")
    name = serializers.CharField(source="team.name")
    role = serializers.ChoiceField(choices=TeamRole.choices)


class MeSerializer(serializers.ModelSerializer):
    is_service_account = serializers.SerializerMethodField()
    organizations = OrganizationMembershipSerializer(
        source="org_memberships", many=True, read_only=True
    )
    teams = TeamMembershipSerializer(source="team_memberships", many=True, read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_service_account", "organizations", "teams"]
        read_only_fields = fields

    def get_is_service_account(self, user) -> bool:
        return hasattr(user, "service_account")


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never its secret, which only the response that creates it shows."""

    prefix = serializers.CharField(
        source="shown_start",
        read_only=True,
        help_text=(
            "The start of the key, such as 'reg-AbCd1234', to tell keys apart. Keys created "
            "before it was stored show only 'reg'."
        ),
    )

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The full key. It is shown only in this response."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100, help_text="Where the key is used, such as 'CI' or 'laptop'."
    )

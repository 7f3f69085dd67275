"""Registries: list, create, read, update, delete; members, owner, protected aliases, stars."""

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.api import examples
from apps.api.base import (
    ApiViewSet,
    annotated_registries,
    clean_name,
    organization_of,
    registry_of,
    roles_for,
)
from apps.api.filters import RegistryFilter
from apps.api.serializers.registries import (
    AuditEventSerializer,
    MemberAddSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    OwnerSerializer,
    ProtectedAliasSerializer,
    RegistryCreateSerializer,
    RegistrySerializer,
    RegistryUpdateSerializer,
)
from apps.audit.models import AuditEvent
from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Organization, Team
from apps.registry import services
from apps.registry.access import MemberRow, member_rows
from apps.registry.models import ProtectedAlias, Registry
from apps.registry.permissions import can_administer
from apps.registry.roles import Role

CONFIRM_PARAMETER = OpenApiParameter(
    "confirm",
    str,
    OpenApiParameter.QUERY,
    required=True,
    description="The exact name of the object, to confirm the deletion.",
)


def _registry_response(request, registry: Registry, code: int = status.HTTP_200_OK) -> Response:
    fresh = annotated_registries(Registry.objects.filter(pk=registry.pk), request.user).get()
    context = {"request": request, "roles": roles_for(request.user, [fresh])}
    return Response(RegistrySerializer(fresh, context=context).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary="List registries",
        description=(
            "The registries of the organization that the caller can see, with the caller's "
            "effective role on each. Hidden registries are left out of the list and counts."
        ),
        examples=[examples.REGISTRY_RESPONSE],
    ),
)
class RegistryViewSet(ApiViewSet):
    serializer_class = RegistrySerializer
    filterset_class = RegistryFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    lookup_url_kwarg = "registry"

    def get_queryset(self):
        if self.is_schema_request:
            return Registry.objects.none()
        organization = organization_of(self.request.user, self.kwargs["org"])
        visible = Registry.objects.visible_to(self.request.user).filter(organization=organization)
        return annotated_registries(visible, self.request.user)

    def list(self, request, org: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {"request": request, "roles": roles_for(request.user, page)}
        return self.get_paginated_response(
            RegistrySerializer(page, many=True, context=context).data
        )

    @extend_schema(
        summary="Create a custom registry",
        description=(
            "Org admins and org members may create registries; org viewers may not. The "
            "creator becomes the registry's Admin and its owner."
        ),
        request=RegistryCreateSerializer,
        responses={201: RegistrySerializer},
        examples=[examples.REGISTRY_CREATE, examples.REGISTRY_RESPONSE],
    )
    def create(self, request, org: str):
        organization = organization_of(request.user, org)
        serializer = RegistryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        registry = services.create_registry(
            organization=organization, actor=request.user, **serializer.validated_data
        )
        return _registry_response(request, registry, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Read a registry",
        description=(
            "The name in the URL may be written in any case; the answer has the stored one."
        ),
        examples=[examples.REGISTRY_RESPONSE],
    )
    def retrieve(self, request, org: str, registry: str):
        return _registry_response(request, registry_of(request.user, org, registry))

    @extend_schema(
        summary="Update a registry",
        description=(
            "Admins change the name, description, accepted types (which can only grow) and "
            "visibility. Switching to Organization visibility needs `confirm_visibility: true`. "
            "Other fields of the registry (id, core status, owner, roles) are ignored here."
        ),
        request=RegistryUpdateSerializer,
        responses={200: RegistrySerializer},
        examples=[examples.REGISTRY_UPDATE, examples.REGISTRY_RESPONSE],
    )
    def partial_update(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        serializer = RegistryUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        visibility = data.pop("visibility", None)
        confirmed = data.pop("confirm_visibility", False)

        with transaction.atomic():
            if data:
                services.update_registry(registry=target, actor=request.user, **data)
            if visibility is not None:
                services.set_visibility(
                    registry=target, visibility=visibility, confirmed=confirmed, actor=request.user
                )
        return _registry_response(request, target)

    @extend_schema(
        summary="Delete a registry",
        description=(
            "Admins delete a custom registry with its collections and grants; the source "
            "artifact versions stay. Core registries cannot be deleted."
        ),
        parameters=[CONFIRM_PARAMETER],
        responses={204: None},
    )
    def destroy(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        services.delete_registry(
            registry=target,
            confirm_name=request.query_params.get("confirm", ""),
            actor=request.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegistryStarViewSet(ApiViewSet):
    """Star or unstar a registry for the caller; starred registries are listed first."""

    pagination_class = None
    filter_backends = []

    @extend_schema(summary="Star a registry", request=None, responses={204: None})
    def update(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        services.star_registry(registry=target, user=request.user, starred=True)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Unstar a registry", responses={204: None})
    def destroy(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        services.star_registry(registry=target, user=request.user, starred=False)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegistryOwnerViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Choose the registry's owner",
        description="Admins label a member as owner. Being the owner grants no access.",
        request=OwnerSerializer,
        responses={200: RegistrySerializer},
        examples=[examples.OWNER_SET],
    )
    def update(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        serializer = OwnerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        user = _org_user(target.organization, serializer.validated_data["user"], "user")
        services.make_owner(registry=target, user=user, actor=request.user)
        return _registry_response(request, target)


# Members ------------------------------------------------------------------------------------


def _member_data(row: MemberRow) -> dict:
    effective = row.effective or row.granted
    return {
        "kind": row.kind.replace(" ", "_"),
        "name": row.name,
        "granted_role": row.granted.slug,
        "effective_role": effective.slug,
        "effective_source": row.effective_source,
        "sources": [{"role": source.role.slug, "source": source.source} for source in row.sources],
        "is_owner": row.is_owner,
    }


def _org_user(organization: Organization, username: str, field: str, *, service_account=None):
    """Return a user of the organization by username; any other is reported as unknown."""
    users = get_user_model().objects.filter(
        org_memberships__organization=organization, username=username
    )
    if service_account is True:
        users = users.filter(service_account__isnull=False)
    elif service_account is False:
        users = users.filter(service_account__isnull=True)
    user = users.first() if clean_name(username) else None
    if user is None:
        kind = "service account" if service_account else "user"
        raise ValidationError(
            {field: f"No {kind} named '{username}' belongs to the organization '{organization}'."}
        )
    return user


def _org_team(organization: Organization, name: str, field: str) -> Team:
    team = None
    if clean_name(name):
        team = Team.objects.filter(
            equals_ignoring_case("name", name), organization=organization
        ).first()
    if team is None:
        raise ValidationError(
            {field: f"No team named '{name}' belongs to the organization '{organization}'."}
        )
    return team


def _member_row(registry: Registry, kind: str, name: str) -> MemberRow:
    for row in member_rows(registry):
        row_kind = "team" if row.kind == "team" else "user"
        if row_kind == kind and row.name.lower() == name.lower():
            return row
    raise NotFound(f"The {kind} '{name}' is not a member of the registry '{registry.name}'.")


class RegistryMemberViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="List a registry's members",
        description=(
            "Every user, service account and team granted a role, with the granted role and "
            "the effective one beside it (the highest of every way the member holds a role)."
        ),
        responses={200: MemberSerializer(many=True)},
        examples=[examples.MEMBER_LIST],
    )
    def list(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        return Response([_member_data(row) for row in member_rows(target)])

    @extend_schema(
        summary="Add a member",
        description=(
            "Admins add a user, a service account or a team of the organization. The role "
            "defaults to restricted_viewer for users and teams and to member for service "
            "accounts, which cannot hold less."
        ),
        request=MemberAddSerializer,
        responses={201: MemberSerializer},
        examples=[examples.MEMBER_ADD, examples.MEMBER_RESPONSE],
    )
    def create(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = Role.from_slug(data["role"]) if data.get("role") else None

        if data.get("team"):
            member = _org_team(target.organization, data["team"], "team")
            kind, name = "team", member.name
        elif data.get("service_account"):
            member = _org_user(
                target.organization,
                data["service_account"],
                "service_account",
                service_account=True,
            )
            kind, name = "user", member.username
        else:
            member = _org_user(target.organization, data["user"], "user", service_account=False)
            kind, name = "user", member.username
        services.add_member(registry=target, member=member, role=role, actor=request.user)
        return Response(
            _member_data(_member_row(target, kind, name)), status=status.HTTP_201_CREATED
        )


class _MemberDetailViewSet(ApiViewSet):
    """A user (or service account) member, or a team member, addressed by name."""

    kind = "user"
    pagination_class = None
    filter_backends = []
    lookup_url_kwarg = "member"

    def _find(self, request, org, registry, member):
        target = registry_of(request.user, org, registry)
        row = _member_row(target, self.kind, member)
        return target, row

    def retrieve(self, request, org: str, registry: str, member: str):
        _target, row = self._find(request, org, registry, member)
        return Response(_member_data(row))

    def partial_update(self, request, org: str, registry: str, member: str):
        target, row = self._find(request, org, registry, member)
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        role = Role.from_slug(serializer.validated_data["role"])
        services.change_role(registry=target, member=row.principal, role=role, actor=request.user)
        return Response(_member_data(_member_row(target, self.kind, row.name)))

    def destroy(self, request, org: str, registry: str, member: str):
        target, row = self._find(request, org, registry, member)
        services.remove_member(registry=target, member=row.principal, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


_MEMBER_DOCS = {
    "retrieve": "Read one member: granted and effective role with its sources.",
    "partial_update": (
        "Admins change the granted role. The last Admin cannot be demoted, and service "
        "accounts cannot go below Member."
    ),
    "destroy": (
        "Admins remove a member; anyone may remove themselves. The last Admin cannot leave."
    ),
}


def _member_schema(kind_label: str):
    return extend_schema_view(
        retrieve=extend_schema(
            summary=f"Read a {kind_label} member",
            description=_MEMBER_DOCS["retrieve"],
            responses={200: MemberSerializer},
            examples=[examples.MEMBER_RESPONSE],
        ),
        partial_update=extend_schema(
            summary=f"Change a {kind_label} member's role",
            description=_MEMBER_DOCS["partial_update"],
            request=MemberRoleSerializer,
            responses={200: MemberSerializer},
            examples=[examples.MEMBER_ROLE, examples.MEMBER_RESPONSE],
        ),
        destroy=extend_schema(
            summary=f"Remove a {kind_label} member",
            description=_MEMBER_DOCS["destroy"],
            responses={204: None},
        ),
    )


@_member_schema("user")
class UserMemberViewSet(_MemberDetailViewSet):
    kind = "user"


@_member_schema("team")
class TeamMemberViewSet(_MemberDetailViewSet):
    kind = "team"


# Protected aliases --------------------------------------------------------------------------


class ProtectedAliasViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []
    lookup_url_kwarg = "alias"

    @extend_schema(
        summary="List protected aliases",
        description="Alias names that only Admins may put on or take off versions.",
        responses={200: ProtectedAliasSerializer(many=True)},
        examples=[examples.PROTECTED_ALIAS_LIST],
    )
    def list(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        names = ProtectedAlias.objects.filter(registry=target).values_list("name", flat=True)
        return Response([{"name": name} for name in names])

    @extend_schema(
        summary="Protect an alias",
        description="Admins add an alias name to the registry's protected list.",
        request=ProtectedAliasSerializer,
        responses={201: ProtectedAliasSerializer},
        examples=[examples.PROTECTED_ALIAS],
    )
    def create(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        serializer = ProtectedAliasSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        protected = services.add_protected_alias(
            registry=target, name=serializer.validated_data["name"], actor=request.user
        )
        return Response({"name": protected.name}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Unprotect an alias",
        description="Admins remove an alias name from the protected list.",
        responses={204: None},
    )
    def destroy(self, request, org: str, registry: str, alias: str):
        target = registry_of(request.user, org, registry)
        protected = clean_name(alias) and ProtectedAlias.objects.filter(
            equals_ignoring_case("name", alias), registry=target
        )
        if not protected or not protected.exists():
            raise NotFound(f"The alias '{alias}' is not protected in '{target.name}'.")
        services.remove_protected_alias(registry=target, name=alias, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Activity -----------------------------------------------------------------------------------


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor__username", help_text="A username.")
    action = django_filters.CharFilter(
        field_name="action", help_text="An action such as version.linked or member.added."
    )

    class Meta:
        model = AuditEvent
        fields = []


class RegistryActivityViewSet(ApiViewSet):
    filterset_class = AuditEventFilter
    filter_backends = [DjangoFilterBackend]
    serializer_class = AuditEventSerializer

    def get_queryset(self):
        if self.is_schema_request:
            return AuditEvent.objects.none()
        target = registry_of(self.request.user, self.kwargs["org"], self.kwargs["registry"])
        if not can_administer(self.request.user, target):
            raise PermissionDenied(
                f"Reading the activity of the registry '{target.name}' needs the Admin role; "
                f"ask one of its admins for it."
            )
        return AuditEvent.objects.filter(registry_id=target.pk).select_related("actor")

    @extend_schema(
        summary="List a registry's activity",
        description="Admins read every audited change of the registry, newest first.",
        examples=[examples.ACTIVITY_RESPONSE],
    )
    def list(self, request, org: str, registry: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)

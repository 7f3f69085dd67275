"""The base viewset of every endpoint, and lookups that go through the permission gate."""

from django.db.models import Count, Exists, OuterRef, Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated

from apps.api.authentication import ApiKeyAuthentication
from apps.api.pagination import CursorPagination
from apps.api.serializers.common import MAX_ID
from apps.api.throttling import AnonymousRateThrottle, ApiKeyRateThrottle
from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Organization, Team
from apps.registry.models import (
    Alias,
    Collection,
    CollectionLink,
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
    Star,
)
from apps.registry.roles import Role, role_from_codenames


class SortFilter(filters.OrderingFilter):
    """`ordering=FIELD` or `-FIELD`, always followed by the primary key as a tie-break."""

    ordering_param = "ordering"

    def remove_invalid_fields(self, queryset, fields, view, request):
        """Reject an unknown field with 400, where DRF would drop it and sort by the default."""
        valid = [
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        ]
        for term in fields:
            if term.lstrip("-") not in valid:
                raise exceptions.ValidationError(
                    {
                        self.ordering_param: [
                            f"Cannot sort by {term!r}; use one of {', '.join(valid)}, with a "
                            f"leading '-' for descending order."
                        ]
                    }
                )
        return list(fields)

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or ())
        if not ordering:
            return None
        descending = ordering[0].startswith("-")
        ordering = [field for field in ordering if field.lstrip("-") not in ("id", "pk")]
        ordering.append("-id" if descending else "id")
        return ordering


class ApiViewSet(viewsets.GenericViewSet):
    """Pins authentication, permissions, throttling, pagination and filtering for all views.

    Every queryset a subclass returns must start from a `visible_to(user)` gate.
    """

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiKeyRateThrottle, AnonymousRateThrottle]
    pagination_class = CursorPagination
    filter_backends = [DjangoFilterBackend, SortFilter]
    lookup_value_regex = "[^/]+"

    def initial(self, request, *args, **kwargs) -> None:
        """DRF's request set-up, with throttles counted before the permission check.

        DRF checks permissions first, so a request without credentials would get 401
        before any throttle counted it. Here anonymous requests, and requests with a
        wrong key, use up their address's budget too, which also slows down key guessing.
        """
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = self.determine_version(
            request, *args, **kwargs
        )
        try:
            self.perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise
        self.check_throttles(request)
        self.check_permissions(request)

    @property
    def is_schema_request(self) -> bool:
        return getattr(self, "swagger_fake_view", False)


def clean_name(value: str) -> str | None:
    """Return a name from a URL, or None when control characters keep it from naming anything."""
    if not value or any(ord(character) < 32 or ord(character) == 127 for character in value):
        return None
    return value


def clean_id(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= MAX_ID else None


def organization_of(user, name: str) -> Organization:
    """Return an organization the user belongs to, and raise NotFound for any other."""
    organization = None
    if clean_name(name):
        organization = Organization.objects.filter(
            equals_ignoring_case("name", name), memberships__user=user
        ).first()
    if organization is None:
        raise NotFound(f"The organization '{name}' was not found.")
    return organization


def registry_of(user, organization: str, name: str) -> Registry:
    """Return a registry visible to the user. A hidden one raises NotFound like a missing one."""
    registry = None
    if clean_name(organization) and clean_name(name):
        registry = (
            Registry.objects.visible_to(user)
            .select_related("organization")
            .filter(
                equals_ignoring_case("organization__name", organization),
                equals_ignoring_case("name", name),
            )
            .first()
        )
    if registry is None:
        raise NotFound(f"The registry '{name}' was not found in the organization '{organization}'.")
    return registry


def collection_of(user, organization: str, registry: str, name: str) -> Collection:
    collection = None
    if clean_name(organization) and clean_name(registry) and clean_name(name):
        collection = (
            Collection.objects.visible_to(user)
            .select_related("registry__organization")
            .filter(
                equals_ignoring_case("registry__organization__name", organization),
                equals_ignoring_case("registry__name", registry),
                equals_ignoring_case("name", name),
            )
            .first()
        )
    if collection is None:
        raise NotFound(
            f"The collection '{name}' was not found in the registry '{registry}' of "
            f"'{organization}'."
        )
    return collection


def link_of(collection: Collection, index) -> CollectionLink:
    number = clean_id(index)
    link = None
    if number is not None:
        link = (
            CollectionLink.objects.filter(collection=collection, index=number)
            .select_related("version__artifact__project__team", "linked_by")
            .prefetch_related("aliases", "tags", "version__files")
            .first()
        )
    if link is None:
        raise NotFound(f"The version v{index} was not found in the collection '{collection}'.")
    link.collection = collection
    return link


def team_of(user, organization: str, name: str) -> Team:
    """Return a team of the organization that the user is in, and raise NotFound for any other."""
    team = None
    if clean_name(organization) and clean_name(name):
        team = (
            Team.objects.select_related("organization")
            .filter(
                equals_ignoring_case("organization__name", organization),
                equals_ignoring_case("name", name),
                memberships__user=user,
            )
            .first()
        )
    if team is None:
        raise NotFound(f"The team '{name}' was not found in the organization '{organization}'.")
    return team


def annotated_registries(queryset, user):
    """Registries with their collection count, the caller's star and protected aliases."""
    return (
        queryset.select_related("organization", "owner")
        .annotate(
            collection_count=Count("collections", distinct=True),
            starred=Exists(Star.objects.filter(user=user, registry=OuterRef("pk"))),
        )
        .prefetch_related("protected_aliases")
    )


def annotated_collections(queryset):
    """Add the related rows that responses show. version_count is a column of the row."""
    return queryset.select_related("registry__organization", "created_by").prefetch_related(
        "tags", Prefetch("aliases", queryset=Alias.objects.select_related("link"))
    )


def roles_for(user, registries) -> dict[int, Role]:
    """Map each registry to the user's effective role on it, in two queries for any number."""
    ids = [registry.pk for registry in registries]
    if not ids:
        return {}
    codenames: dict[int, set[str]] = {}
    direct = RegistryUserObjectPermission.objects.filter(
        user=user, content_object_id__in=ids
    ).values_list("content_object_id", "permission__codename")
    through_groups = RegistryGroupObjectPermission.objects.filter(
        group__user=user, content_object_id__in=ids
    ).values_list("content_object_id", "permission__codename")
    for registry_id, codename in [*direct, *through_groups]:
        codenames.setdefault(registry_id, set()).add(codename)
    roles = {}
    for registry_id, granted in codenames.items():
        role = role_from_codenames(granted)
        if role is not None:
            roles[registry_id] = role
    return roles

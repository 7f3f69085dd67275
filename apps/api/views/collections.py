"""Collections, their linked versions, aliases and history."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.api import examples
from apps.api.base import (
    ApiViewSet,
    annotated_collections,
    clean_name,
    collection_of,
    link_of,
    registry_of,
)
from apps.api.filters import CollectionFilter, LinkFilter
from apps.api.serializers.collections import (
    AliasSerializer,
    AliasSetSerializer,
    CollectionCreateSerializer,
    CollectionSerializer,
    DescribeSerializer,
    LinkCreateSerializer,
    LinkDetailSerializer,
    LinkSerializer,
)
from apps.api.serializers.registries import AuditEventSerializer
from apps.api.views.registries import CONFIRM_PARAMETER
from apps.audit.models import AuditEvent
from apps.core.lookups import equals_ignoring_case
from apps.registry import services
from apps.registry.models import Alias, ArtifactVersion, Collection, CollectionLink
from apps.registry.paths import PathError, parse_source_path

INDEX_PARAMETER = OpenApiParameter(
    "index", int, OpenApiParameter.PATH, description="The index N of the version vN."
)
# Actions that make up a collection's history: links, unlinks and alias moves.
HISTORY_ACTIONS = ["version.linked", "version.unlinked", "alias.set", "alias.removed"]


def _collection_response(request, collection: Collection, code=status.HTTP_200_OK) -> Response:
    fresh = annotated_collections(Collection.objects.filter(pk=collection.pk)).get()
    return Response(CollectionSerializer(fresh, context={"request": request}).data, status=code)


def _describe(target, data: dict, actor) -> None:
    """Apply a description and a full new tag list through the services, in one transaction."""
    with transaction.atomic():
        if "description" in data and data["description"] != target.description:
            services.edit_description(target=target, text=data["description"], actor=actor)
        if "tags" in data:
            requested = {name.lower(): name for name in data["tags"]}
            current = {tag.name.lower(): tag.name for tag in target.tags.all()}
            for key, name in current.items():
                if key not in requested:
                    services.remove_tag(target=target, name=name, actor=actor)
            for key, name in requested.items():
                if key not in current:
                    services.add_tag(target=target, name=name, actor=actor)


@extend_schema_view(
    list=extend_schema(
        summary="List collections",
        description=(
            "The collections of a registry, filtered by type, tag, alias, text and time, "
            "sorted by `ordering` with the id as tie-break."
        ),
        examples=[examples.COLLECTION_RESPONSE],
    ),
)
class CollectionViewSet(ApiViewSet):
    serializer_class = CollectionSerializer
    filterset_class = CollectionFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    lookup_url_kwarg = "collection"

    def get_queryset(self):
        if self.is_schema_request:
            return Collection.objects.none()
        registry = registry_of(self.request.user, self.kwargs["org"], self.kwargs["registry"])
        return annotated_collections(Collection.objects.visible_to(self.request.user)).filter(
            registry=registry
        )

    def list(self, request, org: str, registry: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            CollectionSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        summary="Create a collection",
        description=(
            "Members and Admins create a collection of one artifact type, which must be "
            "among the registry's accepted types."
        ),
        request=CollectionCreateSerializer,
        responses={201: CollectionSerializer},
        examples=[examples.COLLECTION_CREATE, examples.COLLECTION_RESPONSE],
    )
    def create(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        serializer = CollectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        collection = services.create_collection(
            registry=target, actor=request.user, **serializer.validated_data
        )
        return _collection_response(request, collection, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Read a collection",
        description=(
            "The name in the URL may be written in any case; the answer has the stored one."
        ),
        examples=[examples.COLLECTION_RESPONSE],
    )
    def retrieve(self, request, org: str, registry: str, collection: str):
        return _collection_response(request, collection_of(request.user, org, registry, collection))

    @extend_schema(
        summary="Update a collection",
        description=(
            "Members and Admins change the description and the tags (the full new list). "
            "Name, type, ids and authors cannot be changed here and are ignored."
        ),
        request=DescribeSerializer,
        responses={200: CollectionSerializer},
        examples=[examples.DESCRIBE, examples.COLLECTION_RESPONSE],
    )
    def partial_update(self, request, org: str, registry: str, collection: str):
        target = collection_of(request.user, org, registry, collection)
        serializer = DescribeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)

        _describe(target, serializer.validated_data, request.user)
        return _collection_response(request, target)

    @extend_schema(
        summary="Delete a collection",
        description=(
            "Members and Admins delete a collection and its links; the source versions stay. "
            "Deleting one that holds a protected alias needs the Admin role."
        ),
        parameters=[CONFIRM_PARAMETER],
        responses={204: None},
    )
    def destroy(self, request, org: str, registry: str, collection: str):
        target = collection_of(request.user, org, registry, collection)
        services.delete_collection(
            collection=target,
            confirm_name=request.query_params.get("confirm", ""),
            actor=request.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionHistoryViewSet(ApiViewSet):
    serializer_class = AuditEventSerializer
    filter_backends = []

    def get_queryset(self):
        if self.is_schema_request:
            return AuditEvent.objects.none()
        collection = collection_of(
            self.request.user,
            self.kwargs["org"],
            self.kwargs["registry"],
            self.kwargs["collection"],
        )
        return AuditEvent.objects.filter(
            collection_id=collection.pk, action__in=HISTORY_ACTIONS
        ).select_related("actor")

    @extend_schema(
        summary="List a collection's history",
        description="Links, unlinks and alias moves, with who and when, newest first.",
        examples=[examples.HISTORY_RESPONSE],
    )
    def list(self, request, org: str, registry: str, collection: str):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


# Linked versions ----------------------------------------------------------------------------


def _source_version(user, collection: Collection, data: dict) -> ArtifactVersion:
    """The source version a link request names, among those the user can see."""
    visible = ArtifactVersion.objects.visible_to(user).select_related("artifact__project__team")
    if "version_id" in data:
        version = visible.filter(pk=data["version_id"]).first()
        if version is None:
            raise ValidationError(
                {"version_id": f"No artifact version {data['version_id']} was found."}
            )
        return version

    try:
        path = parse_source_path(data["source_path"])
    except PathError as error:
        raise ValidationError({"source_path": str(error)}) from None
    candidates = visible.filter(
        equals_ignoring_case("artifact__project__team__name", path.team),
        equals_ignoring_case("artifact__project__name", path.project),
        equals_ignoring_case("artifact__name", path.artifact),
        artifact__project__team__organization_id=collection.registry.organization_id,
    )
    if path.number is not None:
        version = candidates.filter(version=path.number).first()
    else:
        version = candidates.order_by("-version").first()
    if version is None:
        raise ValidationError(
            {"source_path": f"No artifact version was found at '{data['source_path']}'."}
        )
    return version


@extend_schema_view(
    list=extend_schema(
        summary="List a collection's versions",
        description=(
            "Linked versions with their index, aliases, tags and source, filtered by alias, "
            "tag, text and link time."
        ),
        examples=[examples.LINK_RESPONSE],
    ),
)
class LinkViewSet(ApiViewSet):
    serializer_class = LinkSerializer
    filterset_class = LinkFilter
    ordering_fields = ["index", "linked_at"]
    lookup_url_kwarg = "index"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if self.is_schema_request:
            return CollectionLink.objects.none()
        self.collection = collection_of(
            self.request.user,
            self.kwargs["org"],
            self.kwargs["registry"],
            self.kwargs["collection"],
        )
        return (
            CollectionLink.objects.visible_to(self.request.user)
            .filter(collection=self.collection)
            .select_related("version__artifact__project__team", "linked_by")
            .prefetch_related("aliases", "tags")
        )

    def list(self, request, org: str, registry: str, collection: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        for link in page:
            link.collection = self.collection
        return self.get_paginated_response(LinkSerializer(page, many=True).data)

    @extend_schema(
        summary="Link a version",
        description=(
            "Members and Admins link an existing artifact version, named by `version_id` or "
            "`source_path`, and may set aliases on it. The link gets the collection's next "
            "index; linking a version that is already linked only adds the aliases."
        ),
        request=LinkCreateSerializer,
        responses={201: LinkDetailSerializer},
        examples=[examples.LINK_CREATE, examples.LINK_DETAIL_RESPONSE],
    )
    def create(self, request, org: str, registry: str, collection: str):
        target = collection_of(request.user, org, registry, collection)
        serializer = LinkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = _source_version(request.user, target, data)

        link = services.link_version(
            collection=target,
            version=version,
            aliases=data["aliases"],
            description=data["description"],
            actor=request.user,
        )
        return Response(
            LinkDetailSerializer(link_of(target, link.index)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Read a linked version",
        description="The link with its source version's metadata and file manifest.",
        parameters=[INDEX_PARAMETER],
        responses={200: LinkDetailSerializer},
        examples=[examples.LINK_DETAIL_RESPONSE],
    )
    def retrieve(self, request, org: str, registry: str, collection: str, index: str):
        target = collection_of(request.user, org, registry, collection)
        return Response(LinkDetailSerializer(link_of(target, index)).data)

    @extend_schema(
        summary="Update a linked version",
        description=(
            "Members and Admins change the link's description and tags (the full new list). "
            "The index, source and author cannot be changed and are ignored."
        ),
        parameters=[INDEX_PARAMETER],
        request=DescribeSerializer,
        responses={200: LinkDetailSerializer},
        examples=[examples.DESCRIBE, examples.LINK_DETAIL_RESPONSE],
    )
    def partial_update(self, request, org: str, registry: str, collection: str, index: str):
        target = collection_of(request.user, org, registry, collection)
        link = link_of(target, index)
        serializer = DescribeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)

        _describe(link, serializer.validated_data, request.user)
        return Response(LinkDetailSerializer(link_of(target, index)).data)

    @extend_schema(
        summary="Unlink a version",
        description=(
            "Members and Admins remove the link; its index is never handed out again. "
            "Unlinking a version that carries a protected alias needs the Admin role."
        ),
        parameters=[INDEX_PARAMETER],
        responses={204: None},
    )
    def destroy(self, request, org: str, registry: str, collection: str, index: str):
        target = collection_of(request.user, org, registry, collection)
        services.unlink_version(link=link_of(target, index), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Aliases ------------------------------------------------------------------------------------


class AliasViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []
    lookup_url_kwarg = "alias"

    @extend_schema(
        summary="List a collection's aliases",
        description="Every alias with the index it points at, `latest` included.",
        responses={200: AliasSerializer(many=True)},
        examples=[examples.ALIAS_LIST],
    )
    def list(self, request, org: str, registry: str, collection: str):
        target = collection_of(request.user, org, registry, collection)
        aliases = Alias.objects.filter(collection=target).select_related("link")
        return Response(AliasSerializer(aliases, many=True).data)

    @extend_schema(
        summary="Set an alias",
        description=(
            "Members and Admins point an alias at the version with the given index, moving it "
            "from the version that held it. Protected aliases need the Admin role; `latest` "
            "and vN names are kept by the registry itself."
        ),
        request=AliasSetSerializer,
        responses={200: AliasSerializer},
        examples=[examples.ALIAS_SET, examples.ALIAS_RESPONSE],
    )
    def update(self, request, org: str, registry: str, collection: str, alias: str):
        target = collection_of(request.user, org, registry, collection)
        serializer = AliasSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        index = serializer.validated_data["index"]
        link = CollectionLink.objects.filter(collection=target, index=index).first()
        if link is None:
            raise ValidationError(
                {"index": f"The collection '{target.name}' has no version v{index}."}
            )

        result = services.set_alias(link=link, name=alias, actor=request.user)
        return Response({"name": result.name, "index": index})

    @extend_schema(
        summary="Remove an alias",
        description="Members and Admins remove an alias; protected aliases need the Admin role.",
        responses={204: None},
    )
    def destroy(self, request, org: str, registry: str, collection: str, alias: str):
        target = collection_of(request.user, org, registry, collection)
        exists = clean_name(alias) and Alias.objects.filter(
            equals_ignoring_case("name", alias), collection=target
        )
        if not exists or not exists.exists():
            raise NotFound(f"The collection '{target.name}' has no alias '{alias}'.")
        services.remove_alias(collection=target, name=alias, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Resolve a full or short artifact path to the version it names."""

from django.db.models import prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.api import examples
from apps.api.base import ApiViewSet
from apps.api.serializers.collections import LinkSerializer
from apps.registry.paths import PathError, parse_path
from apps.registry.resolve import resolve_registry_path


class ResolvedSerializer(LinkSerializer):
    """The version a path names; `path` is its canonical form, with stored names and vN."""

    requested_path = serializers.SerializerMethodField()
    organization = serializers.CharField(source="collection.registry.organization.name")
    registry = serializers.CharField(source="collection.registry.name")
    collection = serializers.CharField(source="collection.name")

    class Meta(LinkSerializer.Meta):
        fields = [
            "path",
            "requested_path",
            "organization",
            "registry",
            "collection",
            *LinkSerializer.Meta.fields[:2],
            *LinkSerializer.Meta.fields[3:],
        ]
        read_only_fields = fields

    def get_requested_path(self, link) -> str:
        return self.context["requested_path"]


class ResolveViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Resolve an artifact path",
        description=(
            "Accepts ORG/wandb-registry-REGISTRY/COLLECTION:VERSION, or the short form "
            "without ORG when the caller belongs to one organization. VERSION is vN or an "
            "alias; without it the path means latest. Any part the caller cannot see is "
            "reported as not found."
        ),
        parameters=[
            OpenApiParameter(
                "path",
                str,
                OpenApiParameter.QUERY,
                required=True,
                description="The path to resolve.",
                examples=[examples.RESOLVE_PATH_EXAMPLE],
            )
        ],
        responses={200: ResolvedSerializer},
        examples=[examples.RESOLVE_RESPONSE],
    )
    def retrieve(self, request):
        text = request.query_params.get("path", "")
        try:
            path = parse_path(text)
        except PathError as error:
            raise ValidationError({"path": str(error)}) from None
        if path.is_legacy:
            raise NotFound(
                f"'{text}' is a legacy Model Registry path; the API does not resolve legacy "
                f"paths yet. Use the registry path of the migrated collection instead."
            )

        link = resolve_registry_path(request.user, path)
        prefetch_related_objects([link], "aliases", "tags")
        context = {"requested_path": text}
        return Response(ResolvedSerializer(link, context=context).data)

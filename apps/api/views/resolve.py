"""Resolve a full, short or legacy artifact path to the version it names."""

from urllib.parse import urlencode

from django.db.models import prefetch_related_objects
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.api import examples
from apps.api.base import ApiViewSet
from apps.api.serializers.resolve import (
    LEGACY_KIND,
    REGISTRY_KIND,
    ResolvedLegacySerializer,
    ResolvedSerializer,
)
from apps.legacy.models import LegacyVersion
from apps.legacy.resolve import Resolution, resolve_any_path
from apps.registry.paths import PathError

RESOLVED = PolymorphicProxySerializer(
    component_name="Resolution",
    serializers={REGISTRY_KIND: ResolvedSerializer, LEGACY_KIND: ResolvedLegacySerializer},
    resource_type_field_name="kind",
)
DEPRECATION_HEADERS = [
    OpenApiParameter(
        "Deprecation",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description=(
            "Sent only when a legacy path was resolved to the registry version it was "
            "migrated to: `@` and the Unix time at which the migration completed, as in "
            "`@1793611800` (RFC 9745)."
        ),
    ),
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description=(
            'Sent with Deprecation: `<URL>; rel="successor-version"`, where URL resolves '
            "the registry path to use instead of the legacy path."
        ),
    ),
]


class ResolveViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Resolve an artifact path",
        description=(
            "Accepts ORG/wandb-registry-REGISTRY/COLLECTION:VERSION, or the short form "
            "without ORG when the caller belongs to one organization, and the legacy "
            "TEAM/model-registry/NAME:VERSION. VERSION is vN or an alias; without it the path "
            "means latest. Any part the caller cannot see is reported as not found, and a "
            "legacy path is visible only to the members of its team.\n\n"
            "`kind` tells what the path names. `registry`: a version of a registry. `legacy`: "
            "a version of a team's legacy Model Registry that is not migrated yet. Once the "
            "team's migration has completed, a legacy path resolves to the registry version "
            "its registered model became: the answer has the kind `registry`, a `deprecation` "
            "that names the registry path to use instead, and the headers `Deprecation` and "
            '`Link: <...>; rel="successor-version"`.'
        ),
        parameters=[
            OpenApiParameter(
                "path",
                str,
                OpenApiParameter.QUERY,
                required=True,
                description="The path to resolve.",
                examples=[examples.RESOLVE_PATH_EXAMPLE, examples.RESOLVE_LEGACY_PATH_EXAMPLE],
            ),
            *DEPRECATION_HEADERS,
        ],
        responses={200: RESOLVED},
        examples=[
            examples.RESOLVE_RESPONSE,
            examples.RESOLVE_LEGACY_RESPONSE,
            examples.RESOLVE_MIGRATED_RESPONSE,
        ],
    )
    def retrieve(self, request):
        text = request.query_params.get("path", "")
        try:
            resolution = resolve_any_path(request.user, text)
        except PathError as error:
            raise ValidationError({"path": str(error)}) from None

        context = {"requested_path": text, "resolution": resolution}
        if isinstance(resolution.target, LegacyVersion):
            legacy_version = resolution.target
            prefetch_related_objects([legacy_version], "aliases", "tags")
            return Response(ResolvedLegacySerializer(legacy_version, context=context).data)

        link = resolution.target
        prefetch_related_objects([link], "aliases", "tags")
        response = Response(ResolvedSerializer(link, context=context).data)
        if resolution.deprecation:
            _add_deprecation_headers(response, request, resolution)
        return response


def _add_deprecation_headers(response: Response, request, resolution: Resolution) -> None:
    if resolution.deprecated_since is not None:
        response["Deprecation"] = f"@{int(resolution.deprecated_since.timestamp())}"
    successor = f"{reverse('api:resolve')}?{urlencode({'path': resolution.path})}"
    response["Link"] = f'<{request.build_absolute_uri(successor)}>; rel="successor-version"'

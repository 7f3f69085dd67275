"""The caller's account and API keys."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.api import examples
from apps.api.base import ApiViewSet, clean_id
from apps.api.serializers.account import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MeSerializer,
)
from apps.orgs import services as org_services
from apps.orgs.models import ApiKey

KEY_ID_PARAMETER = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The id of the API key."
)


class MeViewSet(ApiViewSet):
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Read the caller's account",
        description="Who the key or session belongs to, with organizations and teams.",
        responses={200: MeSerializer},
        examples=[examples.ME_RESPONSE],
    )
    def retrieve(self, request):
        user = (
            get_user_model()
            .objects.prefetch_related(
                "org_memberships__organization", "team_memberships__team__organization"
            )
            .get(pk=request.user.pk)
        )
        return Response(MeSerializer(user).data)


class ApiKeyViewSet(ApiViewSet):
    serializer_class = ApiKeySerializer
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if self.is_schema_request:
            return ApiKey.objects.none()
        return ApiKey.objects.filter(user=self.request.user)

    def _key(self, pk) -> ApiKey:
        number = clean_id(pk)
        key = self.get_queryset().filter(pk=number).first() if number is not None else None
        if key is None:
            raise NotFound(f"You have no API key with the id {pk}.")
        return key

    @extend_schema(
        summary="List the caller's API keys",
        description="Active and revoked keys with their last use; never the secret itself.",
        examples=[examples.API_KEY_RESPONSE],
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeySerializer(page, many=True).data)

    @extend_schema(
        summary="Create an API key",
        description=(
            "Creates a key for the caller. The response shows the full key once; store it, "
            "because only its hash is kept."
        ),
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
        examples=[examples.API_KEY_CREATE, examples.API_KEY_CREATED],
    )
    def create(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        try:
            key, full_key = org_services.create_api_key(
                user=request.user, name=serializer.validated_data["name"]
            )
        except DjangoValidationError as error:
            # Every rule of create_api_key is about the name.
            raise ValidationError({"name": error.messages}) from None
        key.key = full_key
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Read an API key",
        parameters=[KEY_ID_PARAMETER],
        examples=[examples.API_KEY_RESPONSE],
    )
    def retrieve(self, request, pk: str):
        return Response(ApiKeySerializer(self._key(pk)).data)

    @extend_schema(
        summary="Revoke an API key",
        description="The key stops working at once; it stays listed with its revocation time.",
        parameters=[KEY_ID_PARAMETER],
        responses={204: None},
    )
    def destroy(self, request, pk: str):
        org_services.revoke_api_key(key=self._key(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

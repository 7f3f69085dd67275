"""REST endpoints of integrations, automations and their executions.

    /api/v1/orgs/ORG/teams/TEAM/integrations/[ID/[test/]]
    /api/v1/orgs/ORG/registries/REGISTRY/automations/[ID/[test/]]
    /api/v1/orgs/ORG/registries/REGISTRY/executions/[ID/]

Reads start from the same `visible_to(user)` querysets as the pages and writes call the same
services, so the permission rules are the pages' rules. Access tokens and signing secrets
are write-only: a response shows whether one is set, never what it is.
"""

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.api.base import ApiViewSet, clean_id, registry_of, team_of
from apps.automations import services
from apps.automations.delivery import SendResult
from apps.automations.models import (
    Automation,
    DeliveryAttempt,
    EventType,
    Execution,
    ExecutionStatus,
    WebhookIntegration,
)
from apps.automations.payloads import DEFAULT_TEMPLATE, TemplateError
from apps.registry.models import Collection, Registry

# Serializers --------------------------------------------------------------------------------


class IntegrationSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", read_only=True)
    has_access_token = serializers.BooleanField(read_only=True)
    has_signing_secret = serializers.BooleanField(read_only=True)
    automation_count = serializers.IntegerField(read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = WebhookIntegration
        fields = [
            "id",
            "team",
            "name",
            "url",
            "has_access_token",
            "has_signing_secret",
            "automation_count",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class IntegrationWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, trim_whitespace=False)
    url = serializers.CharField(max_length=2000, help_text="An https:// URL on a public host.")
    access_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Sent as a Bearer token. Stored encrypted, never returned. On update, "
        "leave it out to keep it and send an empty string to remove it.",
    )
    signing_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Key of the X-Registry-Signature header (base64 HMAC-SHA256 of the body). "
        "Stored encrypted, never returned. On update, leave it out to keep it and send an "
        "empty string to remove it.",
    )


class IntegrationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.CharField(source="team.name")
    name = serializers.CharField()


class AutomationSerializer(serializers.ModelSerializer):
    registry = serializers.CharField(source="registry.name", read_only=True)
    collection = serializers.CharField(
        source="collection.name",
        read_only=True,
        allow_null=True,
        help_text="The collection the automation watches; null for every collection.",
    )
    integration = IntegrationRefSerializer(read_only=True, allow_null=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Automation
        fields = [
            "id",
            "registry",
            "collection",
            "name",
            "description",
            "event_type",
            "alias_pattern",
            "integration",
            "payload_template",
            "is_enabled",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AutomationWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    event_type = serializers.ChoiceField(choices=EventType.choices)
    collection = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The name of one collection of the registry; null or absent for all of "
        "them, present and future.",
    )
    alias_pattern = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=False,
        help_text="For alias.added: a Python regular expression searched for in the alias.",
    )
    integration = serializers.IntegerField(
        help_text="The id of an integration of a team you are an admin or member of."
    )
    payload_template = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="JSON with {{ variable }} placeholders; the default lists the variables.",
    )
    is_enabled = serializers.BooleanField(required=False)


class SendResultSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    response_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(help_text="The first KB of the response body.")
    error = serializers.CharField()


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = [
            "number",
            "outcome",
            "started_at",
            "duration_ms",
            "response_code",
            "response_excerpt",
            "error",
        ]
        read_only_fields = fields


class ExecutionSerializer(serializers.ModelSerializer):
    automation = serializers.IntegerField(source="automation_id", read_only=True)
    automation_name = serializers.CharField(source="automation.name", read_only=True)
    event_id = serializers.IntegerField(read_only=True)
    target = serializers.CharField(source="event.target", read_only=True)
    author = serializers.CharField(source="event.actor.username", read_only=True, allow_null=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Execution
        fields = [
            "id",
            "automation",
            "automation_name",
            "event_type",
            "event_id",
            "target",
            "author",
            "status",
            "body",
            "attempt_count",
            "next_attempt_at",
            "error",
            "created_at",
            "finished_at",
            "attempts",
        ]
        read_only_fields = fields


def _test_response(result: SendResult) -> Response:
    data = {
        "succeeded": result.succeeded,
        "response_code": result.response_code,
        "duration_ms": result.duration_ms,
        "response_excerpt": result.response_excerpt,
        "error": result.error,
    }
    return Response(SendResultSerializer(data).data)


# Integrations -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List a team's webhook integrations",
        description="Members of the team see its integrations; secrets are never returned.",
    ),
    retrieve=extend_schema(summary="Read a webhook integration"),
)
class IntegrationViewSet(ApiViewSet):
    serializer_class = IntegrationSerializer
    ordering_fields = ["name", "created_at"]
    lookup_url_kwarg = "integration"

    def get_queryset(self):
        if self.is_schema_request:
            return WebhookIntegration.objects.none()
        team = team_of(self.request.user, self.kwargs["org"], self.kwargs["team"])
        return (
            WebhookIntegration.objects.visible_to(self.request.user)
            .filter(team=team)
            .select_related("team", "created_by")
            .annotate(automation_count=Count("automations"))
        )

    def get_object(self) -> WebhookIntegration:
        pk = clean_id(self.kwargs["integration"])
        integration = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if integration is None:
            raise NotFound(f"The integration {self.kwargs['integration']} was not found.")
        return integration

    def _response(self, integration: WebhookIntegration, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=integration.pk)
        return Response(IntegrationSerializer(fresh).data, status=code)

    def list(self, request, org: str, team: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(IntegrationSerializer(page, many=True).data)

    def retrieve(self, request, org: str, team: str, integration: str):
        return Response(IntegrationSerializer(self.get_object()).data)

    @extend_schema(
        summary="Add a webhook integration",
        description="Team admins add integrations. The URL's host must resolve to public "
        "addresses unless the operator allows private targets.",
        request=IntegrationWriteSerializer,
        responses={201: IntegrationSerializer},
    )
    def create(self, request, org: str, team: str):
        target = team_of(request.user, org, team)
        services.require_team_admin(request.user, target, "Adding integrations")
        serializer = IntegrationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        integration = services.create_integration(
            team=target, actor=request.user, **serializer.validated_data
        )
        return self._response(integration, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook integration",
        description="Team admins change the name, URL, token and secret.",
        request=IntegrationWriteSerializer,
        responses={200: IntegrationSerializer},
    )
    def partial_update(self, request, org: str, team: str, integration: str):
        target = self.get_object()
        services.require_team_admin(request.user, target.team, "Changing integrations")
        serializer = IntegrationWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)

        services.update_integration(
            integration=target, actor=request.user, **serializer.validated_data
        )
        return self._response(target)

    @extend_schema(
        summary="Delete a webhook integration",
        description="Team admins delete integrations; automations using it stop sending.",
        responses={204: None},
    )
    def destroy(self, request, org: str, team: str, integration: str):
        services.delete_integration(integration=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test payload to an integration",
        description="Team admins send the default payload with sample values, once, and "
        "get the endpoint's answer.",
        request=None,
        responses={200: SendResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, org: str, team: str, integration: str):
        result = services.test_integration(integration=self.get_object(), actor=request.user)
        return _test_response(result)


# Automations --------------------------------------------------------------------------------


def _collection_named(user, registry: Registry, name: str | None) -> Collection | None:
    if name is None:
        return None
    collection = (
        Collection.objects.visible_to(user).filter(registry=registry, name__iexact=name).first()
    )
    if collection is None:
        raise serializers.ValidationError(
            {"collection": [f"The registry '{registry.name}' has no collection '{name}'."]}
        )
    return collection


def _integration_with_id(user, pk: int) -> WebhookIntegration:
    integration = WebhookIntegration.objects.visible_to(user).filter(pk=pk).first()
    if integration is None:
        raise serializers.ValidationError(
            {"integration": [f"The integration {pk} was not found among your teams'."]}
        )
    return integration


def _service_arguments(user, registry: Registry, data: dict) -> dict:
    """Turn the write serializer's names and ids into the objects the services take."""
    arguments = dict(data)
    if "collection" in arguments:
        arguments["collection"] = _collection_named(user, registry, arguments["collection"])
    if "integration" in arguments:
        arguments["integration"] = _integration_with_id(user, arguments["integration"])
    return arguments


def _template_error_on_field(error: TemplateError) -> serializers.ValidationError:
    return serializers.ValidationError({"payload_template": error.messages})


@extend_schema_view(
    list=extend_schema(
        summary="List a registry's automations",
        description="Everyone who can see the registry sees its automations.",
    ),
    retrieve=extend_schema(summary="Read an automation"),
)
class AutomationViewSet(ApiViewSet):
    serializer_class = AutomationSerializer
    ordering_fields = ["name", "created_at"]
    lookup_url_kwarg = "automation"

    def get_queryset(self):
        if self.is_schema_request:
            return Automation.objects.none()
        registry = registry_of(self.request.user, self.kwargs["org"], self.kwargs["registry"])
        return (
            Automation.objects.visible_to(self.request.user)
            .filter(registry=registry)
            .select_related("registry", "collection", "integration__team", "created_by")
        )

    def get_object(self) -> Automation:
        pk = clean_id(self.kwargs["automation"])
        automation = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if automation is None:
            raise NotFound(f"The automation {self.kwargs['automation']} was not found.")
        return automation

    def _response(self, automation: Automation, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=automation.pk)
        return Response(AutomationSerializer(fresh).data, status=code)

    def list(self, request, org: str, registry: str):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AutomationSerializer(page, many=True).data)

    def retrieve(self, request, org: str, registry: str, automation: str):
        return Response(AutomationSerializer(self.get_object()).data)

    @extend_schema(
        summary="Create an automation",
        description="Members and Admins of the registry create automations that send to an "
        "integration of one of their teams. A payload template that does not render to JSON "
        "is rejected with the line and column of the error.",
        request=AutomationWriteSerializer,
        responses={201: AutomationSerializer},
    )
    def create(self, request, org: str, registry: str):
        target = registry_of(request.user, org, registry)
        services.require_member(request.user, target, "Creating an automation")
        serializer = AutomationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = _service_arguments(request.user, target, serializer.validated_data)
        arguments.pop("is_enabled", None)
        arguments.setdefault("payload_template", DEFAULT_TEMPLATE)

        try:
            automation = services.create_automation(
                registry=target, actor=request.user, **arguments
            )
        except TemplateError as error:
            raise _template_error_on_field(error) from None
        return self._response(automation, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an automation",
        description="Members and Admins change any field, or disable it with is_enabled.",
        request=AutomationWriteSerializer,
        responses={200: AutomationSerializer},
    )
    def partial_update(self, request, org: str, registry: str, automation: str):
        target = self.get_object()
        services.require_member(request.user, target.registry, "Changing an automation")
        serializer = AutomationWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        arguments = _service_arguments(request.user, target.registry, serializer.validated_data)

        try:
            services.update_automation(automation=target, actor=request.user, **arguments)
        except TemplateError as error:
            raise _template_error_on_field(error) from None
        return self._response(target)

    @extend_schema(
        summary="Delete an automation",
        description="Members and Admins delete an automation with its execution history.",
        responses={204: None},
    )
    def destroy(self, request, org: str, registry: str, automation: str):
        services.delete_automation(automation=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test payload for an automation",
        description="Members and Admins send the automation's payload, rendered with sample "
        "values, once, and get the endpoint's answer. Nothing is recorded in the history.",
        request=None,
        responses={200: SendResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, org: str, registry: str, automation: str):
        result = services.test_automation(automation=self.get_object(), actor=request.user)
        return _test_response(result)


# Executions ---------------------------------------------------------------------------------


class ExecutionFilterSerializer(serializers.Serializer):
    automation = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=ExecutionStatus.choices, required=False)


@extend_schema_view(
    list=extend_schema(
        summary="List the executions of a registry's automations",
        description="Newest first, each with every delivery attempt. Filter with "
        "`automation=ID` and `status=pending|finished|failed`.",
        parameters=[ExecutionFilterSerializer],
    ),
    retrieve=extend_schema(summary="Read an execution with its attempts"),
)
class ExecutionViewSet(ApiViewSet):
    serializer_class = ExecutionSerializer
    lookup_url_kwarg = "execution"

    def get_queryset(self):
        if self.is_schema_request:
            return Execution.objects.none()
        registry = registry_of(self.request.user, self.kwargs["org"], self.kwargs["registry"])
        return (
            Execution.objects.visible_to(self.request.user)
            .filter(automation__registry=registry)
            .select_related("automation", "event__actor")
            .prefetch_related(
                Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number"))
            )
        )

    def list(self, request, org: str, registry: str):
        filters = ExecutionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        if "automation" in filters.validated_data:
            queryset = queryset.filter(automation_id=filters.validated_data["automation"])
        if "status" in filters.validated_data:
            queryset = queryset.filter(status=filters.validated_data["status"])

        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ExecutionSerializer(page, many=True).data)

    def retrieve(self, request, org: str, registry: str, execution: str):
        pk = clean_id(execution)
        found = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFound(f"The execution {execution} was not found.")
        return Response(ExecutionSerializer(found).data)

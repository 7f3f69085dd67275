"""POST /graphql, and the signed manifest downloads that its responses link to."""

import logging

from ariadne import graphql_sync
from django.http import HttpResponse
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.api.base import ApiViewSet
from apps.api.throttling import AnonymousRateThrottle
from apps.graphql_api import downloads, limits
from apps.graphql_api.authentication import BasicApiKeyAuthentication
from apps.graphql_api.errors import format_error
from apps.graphql_api.schema import schema

logger = logging.getLogger(__name__)


class _ClientErrorLog(logging.LoggerAdapter):
    """Log the errors of a GraphQL response at INFO, without a traceback.

    ariadne logs every error of a response at ERROR, but most are the client's (a missing
    path, a denied write). errors.format_error logs the server's own errors with their
    traceback.
    """

    def error(self, msg, *args, **kwargs) -> None:
        kwargs.pop("exc_info", None)
        self.info(msg, *args, **kwargs)


execution_log = _ClientErrorLog(logger, {})


def graphql_errors(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class GraphQLViewSet(ApiViewSet):
    """Executes one GraphQL operation per request, authenticated by an API key.

    The API's key throttle applies, so the GraphQL endpoint and the REST API share each
    key's budget. Errors before execution (a missing or bad key: 401; throttled: 429) keep
    their HTTP status, with a GraphQL `errors` body.
    """

    authentication_classes = [BasicApiKeyAuthentication]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    pagination_class = None
    filter_backends: list = []
    # Not a REST endpoint: kept out of the OpenAPI description.
    schema = None

    def execute(self, request):
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return Response(
                graphql_errors(
                    'Send one operation as a JSON object: {"query": "...", "variables": {...}}.',
                    "BAD_REQUEST",
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        # The SDK sends "operationName": "" with documents of a single operation; an empty
        # name means "the only operation", never an operation named "".
        payload = {**data, "operationName": data.get("operationName") or None}
        success, result = graphql_sync(
            schema,
            payload,
            context_value={"request": request, "user": request.user},
            error_formatter=format_error,
            validation_rules=limits.validation_rules,
            debug=False,
            logger=execution_log,
        )
        return Response(result, status=status.HTTP_200_OK if success else 400)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        error = response.data.get("error") if isinstance(response.data, dict) else None
        if error is not None:
            response.data = graphql_errors(error["message"], error["code"].upper())
        return response


class ManifestViewSet(ApiViewSet):
    """The target of signed manifest URLs: no Authorization header is read or needed."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list[type[BaseThrottle]] = [AnonymousRateThrottle]
    pagination_class = None
    filter_backends: list = []
    schema = None

    def retrieve(self, request, token: str):
        version = downloads.read_manifest_token(token)
        return HttpResponse(downloads.manifest_bytes(version), content_type="application/json")

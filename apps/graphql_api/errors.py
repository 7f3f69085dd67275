"""GraphQL error messages for the exceptions that services and lookups raise.

Services raise Django's ValidationError and PermissionDenied and the write pause's
WritePaused; each becomes a GraphQL error with the service's own message and a `code`
extension. Any other exception is logged and reported with a message that reveals nothing.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from graphql import GraphQLError

from apps.core.exceptions import WritePaused

logger = logging.getLogger(__name__)


def format_error(error: GraphQLError, debug: bool = False) -> dict:
    formatted = dict(error.formatted)
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if original is None or isinstance(original, GraphQLError):
        return formatted

    extensions: dict = {}
    if isinstance(original, WritePaused):
        message = original.message
        extensions = {"code": "WRITE_PAUSED", "retryAfter": original.retry_after}
    elif isinstance(original, ValidationError):
        message = " ".join(original.messages)
        extensions = {"code": "BAD_USER_INPUT"}
    elif isinstance(original, PermissionDenied):
        message = str(original) or "You do not have permission to do this."
        extensions = {"code": "FORBIDDEN"}
    elif isinstance(original, Http404):
        message = str(original) or "Not found."
        extensions = {"code": "NOT_FOUND"}
    else:
        logger.error(
            "GraphQL resolver failed at %s", ".".join(map(str, error.path or [])), exc_info=original
        )
        message = "Internal server error; the server logged the details."
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
    formatted["message"] = message
    formatted["extensions"] = extensions
    return formatted

"""One error body for every failure of the API.

    {"error": {"code": "not_found", "message": "...", "field": null}}

`code` is stable and machine-readable, `message` states what failed and what to do, and
`field` names the request field it applies to (null when none does). Services raise
Django's ValidationError and PermissionDenied; they become 400 and 403 here, and a write
pause becomes 423 with Retry-After.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.exceptions import WritePaused
from apps.core.request_size import body_limit_message, log_too_large
from apps.registry.files import FileTooLarge

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field}}


def _first_detail(detail, field: str | None = None) -> tuple[str, str, str | None]:
    """Return the first (code, message, field) of a DRF error detail, which may be nested."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                # DRF reports the errors of a list of objects by position.
                return _first_detail(value, f"{field}[{key}]")
            name = None if key in ("non_field_errors", "detail") else key
            if field and name:
                name = f"{field}.{name}"
            return _first_detail(value, name or field)
    if isinstance(detail, list):
        for position, value in enumerate(detail):
            if isinstance(value, dict | list) and field is not None:
                return _first_detail(value, f"{field}[{position}]")
            return _first_detail(value, field)
        return "invalid", "The request is invalid.", field
    code = getattr(detail, "code", None) or "invalid"
    return str(code), str(detail), field


def _from_django_validation(error: DjangoValidationError) -> tuple[str, str, str | None]:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            first = errors[0]
            return first.code or "invalid", first.messages[0], None if field == "__all__" else field
    first = error.error_list[0] if hasattr(error, "error_list") else error
    return first.code or "invalid", first.messages[0], None


def handle_exception(exc, context) -> Response | None:
    """DRF's EXCEPTION_HANDLER: turn any exception of a view into the one error body."""
    headers: dict[str, str] = {}
    if isinstance(exc, WritePaused):
        set_rollback()
        headers["Retry-After"] = str(exc.retry_after)
        return Response(
            error_body("write_paused", exc.message), status=status.HTTP_423_LOCKED, headers=headers
        )
    if isinstance(exc, FileTooLarge):
        set_rollback()
        return Response(
            error_body("file_too_large", exc.messages[0]),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, RequestDataTooBig):
        request = context["request"]
        log_too_large(request)
        return Response(
            error_body("request_too_large", body_limit_message(request)),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        code, message, field = _from_django_validation(exc)
        return Response(error_body(code, message, field), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        set_rollback()
        message = str(exc) or "You do not have permission to do this."
        return Response(error_body("permission_denied", message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Http404):
        set_rollback()
        message = str(exc) or "Not found."
        return Response(error_body("not_found", message), status=status.HTTP_404_NOT_FOUND)
    if not isinstance(exc, exceptions.APIException):
        set_rollback()
        request = context.get("request")
        logger.exception(
            "Unhandled error in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
        )
        return Response(
            error_body("server_error", "The server failed to handle the request; try again later."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    set_rollback()
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        header = getattr(exc, "auth_header", None)
        if header:
            headers["WWW-Authenticate"] = header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        message = f"Too many requests; try again in {headers['Retry-After']} seconds."
        return Response(error_body("throttled", message), status=exc.status_code, headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        code, message, field = _first_detail(exc.detail)
    else:
        code, message, field = _first_detail(exc.detail)
        code = exc.default_code if code == "invalid" else code
    return Response(error_body(code, message, field), status=exc.status_code, headers=headers)


@csrf_exempt
def not_found_view(request, *args, **kwargs) -> JsonResponse:
    """Return the JSON 404 for an address under /api/v1/ that matches no endpoint.

    It is exempt from the CSRF check, which would otherwise reject a cookie-less DELETE to a
    wrong address with Django's HTML 403 page. It changes nothing, so there is nothing to forge.
    """
    message = f"No API endpoint matches '{request.path}'; see /api/v1/docs/."
    if not request.path.endswith("/"):
        match = resolve(f"{request.path}/")
        if match.func is not not_found_view:
            message = f"No API endpoint matches '{request.path}'; did you mean '{request.path}/'?"
    return JsonResponse(error_body("not_found", message), status=404)

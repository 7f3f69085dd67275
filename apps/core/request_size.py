"""The 413 response to a request body over DATA_UPLOAD_MAX_MEMORY_SIZE.

Django raises RequestDataTooBig when code reads such a body, and returns a bare 400 page for
it. CsrfViewMiddleware reads the form of every POST before the view runs, so
RequestBodyLimitMiddleware reads it first, where it can still return 413.
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def body_limit_message(request: HttpRequest) -> str:
    """Describe the limit in bytes and MiB, and what to do about it."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    sent = request.META.get("CONTENT_LENGTH") or "more than the limit of"
    return (
        f"The request body has {sent} bytes; the limit is {limit} bytes "
        f"({limit / 1024 / 1024:.1f} MiB). Send a smaller request, or ask the site's "
        f"operator to raise REQUEST_BODY_MAX_BYTES."
    )


def log_too_large(request: HttpRequest) -> None:
    logger.warning(
        "Request body over the limit: %s %s content_length=%s limit=%s",
        request.method,
        request.path,
        request.META.get("CONTENT_LENGTH"),
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    )


def too_large_response(request: HttpRequest) -> HttpResponse:
    log_too_large(request)
    message = body_limit_message(request)
    if request.path.startswith("/api/"):
        body = {"error": {"code": "request_too_large", "message": message, "field": None}}
        return JsonResponse(body, status=413)
    return render(request, "413.html", {"message": message}, status=413)


class RequestBodyLimitMiddleware:
    """Return 413 for a form post over the limit. List it before CsrfViewMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # CsrfViewMiddleware reads request.POST of the same requests: POSTs to views that
        # are not exempt. Exempt views (the API, uploads) read or stream the body themselves.
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        try:
            request.POST  # noqa: B018 - reading the form is the check
        except RequestDataTooBig:
            return too_large_response(request)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large_response(request)
        return None

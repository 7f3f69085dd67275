"""The response to a sign-in that django-axes has locked, with Retry-After."""

import math

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def locked_out_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """Render the lockout page, or JSON for XMLHttpRequest, as axes does, plus Retry-After.

    axes's own response has no Retry-After. The header gives the whole cool-off, counted
    by axes from the last failed attempt.
    NOTE: a request made later in the lock gets the whole cool-off too, so the header can
    overstate the wait, but it never understates it.
    """
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
    }
    cool_off = get_cool_off(request)
    if cool_off:
        context["cooloff_timedelta"] = cool_off

    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        body = {
            "failure_limit": context["failure_limit"],
            "username": context["username"],
            "cooloff_seconds": int(cool_off.total_seconds()) if cool_off else None,
        }
        response: HttpResponse = JsonResponse(body, status=status)
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=status)
    if cool_off:
        response["Retry-After"] = str(max(1, math.ceil(cool_off.total_seconds())))
    return response

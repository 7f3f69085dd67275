"""Responses of the registry pages: full pages or htmx partials, and the outcome of an edit.

An htmx request gets only the partial it swaps in, followed by partials swapped out of band
(the status region, a history). A request without JavaScript gets the full page, or a
redirect after a POST that worked.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from apps.core.exceptions import WritePaused

STATUS_PARTIAL = "registry/partials/status.html"


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render the partial for an htmx request and the full page otherwise.

    A history restore (the back button after htmx pushed a URL, with the page no longer in
    htmx's cache) needs the full page although it comes with HX-Request.
    """
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, partial, context, status=status)
    else:
        response = render(request, template, context, status=status)
    # The same URL returns a partial or a page, so caches must key on the header.
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class Outcome:
    """The result of an edit as an HTTP status: 200 done, 422 invalid input, 423 write pause."""

    status: int
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def attempt(form, call: Callable[[dict], object]) -> Outcome:
    """Run one service call with the form's cleaned data; record a rejection on the form."""
    if not form.is_valid():
        return Outcome(422)
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return Outcome(422)
    except WritePaused as error:
        form.add_error(None, error.message)
        return Outcome(423, retry_after=error.retry_after)
    return Outcome(200)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def failure(form, section: str, row: int | None = None) -> dict:
    """Template context that shows a rejected form's messages and input in its section.

    `row` is the version index of a row of the collection page whose form was rejected.
    `failed_form` carries every submitted value, for forms with more than one input.
    """
    errors = [message for field_errors in form.errors.values() for message in field_errors]
    value = form.data.get("name", form.data.get("text", ""))
    return {
        "failed_section": section,
        "failed_row": row,
        "failed_errors": errors,
        "failed_value": value,
        "failed_form": form,
    }


def render_fragments(
    request: HttpRequest, partial: str, out_of_band: Iterable[str], context: dict, status: int
) -> HttpResponse:
    """Render the swap target's partial followed by partials that htmx swaps out of band."""
    html = render_to_string(partial, context, request)
    oob_context = {**context, "oob": True}
    html += "".join(render_to_string(name, oob_context, request) for name in out_of_band)
    return HttpResponse(html, status=status)


def finish(response: HttpResponse, outcome: Outcome) -> HttpResponse:
    if outcome.retry_after is not None:
        response["Retry-After"] = str(outcome.retry_after)
    return response


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to another page: HX-Redirect for htmx, a plain redirect otherwise."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)

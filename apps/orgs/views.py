"""The person's own API keys as a page: list, create (the key shown once) and revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from apps.orgs import selectors, services
from apps.orgs.forms import ApiKeyCreateForm
from apps.orgs.models import ApiKey


def _own_keys(user):
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-pk")


@login_required
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest) -> HttpResponse:
    """List the person's keys; a POST creates one and shows the full key in this response only."""
    form = ApiKeyCreateForm(request.POST or None)
    created, created_key = None, None

    if request.method == "POST" and form.is_valid():
        try:
            created, created_key = services.create_api_key(
                user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            form.add_error("name", error)
        else:
            form = ApiKeyCreateForm()

    context = {
        "keys": list(_own_keys(request.user)),
        "form": form,
        "created_key": created_key,
        "created": created,
        "organization": selectors.sole_organization(request.user),
    }
    response = render(request, "orgs/api_keys.html", context)
    # The full key is in this response: no cache may keep it.
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm on GET; revoke on POST. Another person's key is not found."""
    key = get_object_or_404(_own_keys(request.user), pk=pk)

    if request.method == "POST":
        services.revoke_api_key(key=key, actor=request.user)
        messages.success(
            request,
            f"The API key “{key.name}” ({key.shown_start}…) is revoked and no longer works.",
        )
        return redirect("orgs:api_key_list")

    context = {"key": key, "organization": selectors.sole_organization(request.user)}
    return render(request, "orgs/api_key_revoke.html", context)

"""Automation pages of a registry (list, history) and integration pages of a team.

Reads start from `visible_to(user)` querysets, so a registry, team, automation or integration
the user may not see gets a 404 response. Writes call apps.automations.services, which checks the
permission: PermissionDenied reaches the site's 403 handler, ValidationError and
WritePaused are shown next to the form. An htmx request gets only the partial it swaps in;
the full pages include the same partials.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.automations import services
from apps.automations.forms import (
    AutomationForm,
    HistoryFilterForm,
    IntegrationEditForm,
    IntegrationForm,
    variables_help,
)
from apps.automations.models import (
    Automation,
    DeliveryAttempt,
    Execution,
    WebhookIntegration,
)
from apps.automations.payloads import TemplateError
from apps.core.exceptions import WritePaused
from apps.orgs.models import Team
from apps.registry import pages
from apps.registry.models import Registry
from apps.registry.pagination import keyset_page
from apps.registry.permissions import can_change

STATUS_PARTIAL = "registry/partials/status.html"
AUTOMATION_LIST_PARTIAL = "automations/partials/automation_list.html"
EXECUTION_LIST_PARTIAL = "automations/partials/execution_list.html"
INTEGRATION_LIST_PARTIAL = "automations/partials/integration_list.html"
TEST_RESULT_PARTIAL = "automations/partials/test_result.html"
HISTORY_PAGE_SIZE = 25


@dataclass(frozen=True)
class Outcome:
    """The result of a form submission: 200 done, 422 invalid input, 423 write pause."""

    status: int
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def _attempt(form, call: Callable[[dict], object], template_field: str | None = None) -> Outcome:
    """Run one service call with the form's data; put a rejection's message on the form."""
    if not form.is_valid():
        return Outcome(422)
    try:
        call(form.cleaned_data)
    except TemplateError as error:
        form.add_error(template_field, error.messages)
        return Outcome(422)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return Outcome(422)
    except WritePaused as error:
        form.add_error(None, error.message)
        return Outcome(423, retry_after=error.retry_after)
    return Outcome(200)


def _render_form_page(
    request: HttpRequest, template: str, context: dict, outcome: Outcome
) -> HttpResponse:
    # Without JavaScript a rejected form is a page to correct, so it comes with 200; a write
    # pause keeps its 423 and Retry-After.
    status = 423 if outcome.status == 423 else 200
    response = render(request, template, context, status=status)
    if outcome.retry_after is not None:
        response["Retry-After"] = str(outcome.retry_after)
    return response


def _render_swap(request: HttpRequest, partial: str, context: dict) -> HttpResponse:
    """Render the swap target's partial, then the status region out of band."""
    html = render_to_string(partial, context, request)
    html += render_to_string(STATUS_PARTIAL, {**context, "oob": True}, request)
    return HttpResponse(html)


def _render_page(request: HttpRequest, template: str, partial: str, context: dict):
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, partial, context)
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Automations of a registry ------------------------------------------------------------------


def automations_url(registry: Registry) -> str:
    return reverse(
        "automations:automation_list",
        kwargs={"org": registry.organization.name, "registry": registry.name},
    )


def _get_automation(user, registry: Registry, pk: int) -> Automation:
    queryset = Automation.objects.visible_to(user).select_related(
        "registry__organization", "collection", "integration__team"
    )
    return get_object_or_404(queryset, registry=registry, pk=pk)


def _automations_context(user, registry: Registry, **extra) -> dict:
    automations = (
        Automation.objects.visible_to(user)
        .filter(registry=registry)
        .select_related("collection", "integration__team", "created_by")
        .order_by("name", "pk")
    )
    member = can_change(user, registry)
    context = {
        "registry": registry,
        "organization": registry.organization,
        "automations": automations,
        "can_change": member,
        "tab": "automations",
        "variables": variables_help(),
    }
    if member and "form" not in extra:
        context["form"] = AutomationForm(user=user, registry=registry)
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def automation_list(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = pages.get_registry(request.user, org, registry)
    if request.method == "GET":
        return render(
            request,
            "automations/automation_list.html",
            _automations_context(request.user, registry_obj),
        )

    services.require_member(request.user, registry_obj, "Creating an automation")
    form = AutomationForm(request.POST, user=request.user, registry=registry_obj)

    outcome = _attempt(
        form,
        lambda data: services.create_automation(
            registry=registry_obj,
            name=data["name"],
            description=data["description"],
            event_type=data["event_type"],
            collection=data["collection"],
            alias_pattern=data["alias_pattern"],
            integration=data["integration"],
            payload_template=data["payload_template"],
            actor=request.user,
        ),
        template_field="payload_template",
    )

    if outcome.ok:
        messages.success(request, f"Created the automation “{form.cleaned_data['name']}”.")
        return redirect(automations_url(registry_obj))
    context = _automations_context(request.user, registry_obj, form=form)
    return _render_form_page(request, "automations/automation_list.html", context, outcome)


def _respond_to_automation_change(
    request: HttpRequest, registry: Registry, outcome_error: str | None, success: str
) -> HttpResponse:
    if outcome_error is None:
        messages.success(request, success)
    else:
        messages.error(request, outcome_error)
    if not request.htmx:
        return redirect(automations_url(registry))
    context = _automations_context(request.user, registry)
    return _render_swap(request, AUTOMATION_LIST_PARTIAL, context)


def _change_error(call: Callable[[], object]) -> str | None:
    """Run a service call; return the message of a rejection, None when it worked."""
    try:
        call()
    except ValidationError as error:
        return " ".join(error.messages)
    except WritePaused as error:
        return error.message
    return None


@login_required
@require_POST
def delete_automation(request: HttpRequest, org: str, registry: str, pk: int) -> HttpResponse:
    registry_obj = pages.get_registry(request.user, org, registry)
    automation = _get_automation(request.user, registry_obj, pk)

    error = _change_error(
        lambda: services.delete_automation(automation=automation, actor=request.user)
    )

    return _respond_to_automation_change(
        request, registry_obj, error, f"Deleted the automation “{automation.name}”."
    )


@login_required
@require_POST
def toggle_automation(request: HttpRequest, org: str, registry: str, pk: int) -> HttpResponse:
    registry_obj = pages.get_registry(request.user, org, registry)
    automation = _get_automation(request.user, registry_obj, pk)
    enable = not automation.is_enabled

    error = _change_error(
        lambda: services.update_automation(
            automation=automation, is_enabled=enable, actor=request.user
        )
    )

    state = "Enabled" if enable else "Disabled"
    return _respond_to_automation_change(
        request, registry_obj, error, f"{state} the automation “{automation.name}”."
    )


@login_required
@require_POST
def test_automation(request: HttpRequest, org: str, registry: str, pk: int) -> HttpResponse:
    registry_obj = pages.get_registry(request.user, org, registry)
    automation = _get_automation(request.user, registry_obj, pk)

    try:
        result = services.test_automation(automation=automation, actor=request.user)
        error = None
    except ValidationError as rejection:
        result, error = None, " ".join(rejection.messages)

    context = {"result": result, "error": error, "tested": automation.name}
    if request.htmx:
        return render(request, TEST_RESULT_PARTIAL, context)
    page = _automations_context(request.user, registry_obj, test=context)
    return render(request, "automations/automation_list.html", page)


# History ------------------------------------------------------------------------------------


@login_required
@require_GET
def execution_history(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = pages.get_registry(request.user, org, registry)
    automations = list(
        Automation.objects.visible_to(request.user).filter(registry=registry_obj).order_by("name")
    )
    form = HistoryFilterForm(request.GET, automations=automations)

    executions = (
        Execution.objects.visible_to(request.user)
        .filter(automation__registry=registry_obj)
        .select_related("automation", "event__actor")
        .prefetch_related(Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number")))
    )
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("automation"):
        executions = executions.filter(automation_id=filters["automation"])
    if filters.get("status"):
        executions = executions.filter(status=filters["status"])
    after, before = form.keys()
    page = keyset_page(
        executions,
        fields=("id",),
        descending=True,
        size=HISTORY_PAGE_SIZE,
        after=after,
        before=before,
    )

    base_url = reverse(
        "automations:execution_history",
        kwargs={"org": registry_obj.organization.name, "registry": registry_obj.name},
    )
    kept_filters = {key: filters[key] for key in ("automation", "status") if filters.get(key)}
    next_url = previous_url = None
    if page.next_key is not None:
        next_url = pages.with_query(base_url, {**kept_filters, "after": page.next_key[0]})
    if page.previous_key is not None:
        previous_url = pages.with_query(base_url, {**kept_filters, "before": page.previous_key[0]})
    context = {
        "registry": registry_obj,
        "organization": registry_obj.organization,
        "tab": "history",
        "form": form,
        "executions": page.items,
        "history_url": base_url,
        "next_url": next_url,
        "previous_url": previous_url,
    }
    return _render_page(
        request, "automations/execution_history.html", EXECUTION_LIST_PARTIAL, context
    )


# Integrations of a team ---------------------------------------------------------------------


def integrations_url(team: Team) -> str:
    return reverse(
        "automations:integration_list",
        kwargs={"org": team.organization.name, "team": team.name},
    )


def _get_team(user, org: str, name: str) -> Team:
    """Return a team the user belongs to; any other team is a 404, like a missing one."""
    queryset = Team.objects.filter(memberships__user=user).select_related("organization")
    return get_object_or_404(queryset, organization__name__iexact=org, name__iexact=name)


def _get_integration(user, team: Team, pk: int) -> WebhookIntegration:
    queryset = WebhookIntegration.objects.visible_to(user).select_related("team__organization")
    return get_object_or_404(queryset, team=team, pk=pk)


def _integrations_context(user, team: Team, **extra) -> dict:
    is_admin = services.is_team_admin(user, team)
    integrations = (
        WebhookIntegration.objects.visible_to(user)
        .filter(team=team)
        .annotate(automation_count=Count("automations"))
        .order_by("name")
    )
    context = {
        "team": team,
        "organization": team.organization,
        "integrations": integrations,
        "is_admin": is_admin,
    }
    if is_admin and "form" not in extra:
        context["form"] = IntegrationForm()
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def integration_list(request: HttpRequest, org: str, team: str) -> HttpResponse:
    team_obj = _get_team(request.user, org, team)
    if request.method == "GET":
        context = _integrations_context(request.user, team_obj)
        return render(request, "automations/integration_list.html", context)

    services.require_team_admin(request.user, team_obj, "Adding integrations")
    form = IntegrationForm(request.POST)

    outcome = _attempt(
        form,
        lambda data: services.create_integration(
            team=team_obj,
            name=data["name"],
            url=data["url"],
            access_token=data["access_token"],
            signing_secret=data["signing_secret"],
            actor=request.user,
        ),
    )

    if outcome.ok:
        messages.success(request, f"Added the integration “{form.cleaned_data['name']}”.")
        return redirect(integrations_url(team_obj))
    context = _integrations_context(request.user, team_obj, form=form)
    return _render_form_page(request, "automations/integration_list.html", context, outcome)


@login_required
@require_http_methods(["GET", "POST"])
def edit_integration(request: HttpRequest, org: str, team: str, pk: int) -> HttpResponse:
    team_obj = _get_team(request.user, org, team)
    integration = _get_integration(request.user, team_obj, pk)
    services.require_team_admin(request.user, team_obj, "Changing integrations")

    if request.method == "GET":
        form = IntegrationEditForm(initial={"name": integration.name, "url": integration.url})
        context = {"team": team_obj, "organization": team_obj.organization, "form": form}
        context["integration"] = integration
        return render(request, "automations/integration_edit.html", context)

    form = IntegrationEditForm(request.POST)
    outcome = _attempt(
        form,
        lambda data: services.update_integration(
            integration=integration,
            name=data["name"],
            url=data["url"],
            actor=request.user,
            **form.secret_changes(),
        ),
    )

    if outcome.ok:
        messages.success(request, f"Saved the integration “{form.cleaned_data['name']}”.")
        return redirect(integrations_url(team_obj))
    integration.refresh_from_db()
    context = {
        "team": team_obj,
        "organization": team_obj.organization,
        "form": form,
        "integration": integration,
    }
    return _render_form_page(request, "automations/integration_edit.html", context, outcome)


@login_required
@require_POST
def delete_integration(request: HttpRequest, org: str, team: str, pk: int) -> HttpResponse:
    team_obj = _get_team(request.user, org, team)
    integration = _get_integration(request.user, team_obj, pk)

    services.delete_integration(integration=integration, actor=request.user)

    messages.success(request, f"Deleted the integration “{integration.name}”.")
    if not request.htmx:
        return redirect(integrations_url(team_obj))
    context = _integrations_context(request.user, team_obj)
    return _render_swap(request, INTEGRATION_LIST_PARTIAL, context)


@login_required
@require_POST
def test_integration(request: HttpRequest, org: str, team: str, pk: int) -> HttpResponse:
    team_obj = _get_team(request.user, org, team)
    integration = _get_integration(request.user, team_obj, pk)

    result = services.test_integration(integration=integration, actor=request.user)

    context = {"result": result, "error": None, "tested": integration.name}
    if request.htmx:
        return render(request, TEST_RESULT_PARTIAL, context)
    page = _integrations_context(request.user, team_obj, test=context)
    return render(request, "automations/integration_list.html", page)

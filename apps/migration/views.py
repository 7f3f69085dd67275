"""The migration console under /support/migrations/: list, schedule, watch, act.

Every page returns 404 to anyone without the support permission, so the console does not
exist for them. The plan page polls its progress partial every 2 seconds with htmx while the
job works, and reloads itself once the state changes so the report and the buttons follow.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from apps.audit.models import AuditEvent
from apps.migration import copy, grants, services
from apps.migration.forms import MoveForm, ScheduleForm
from apps.migration.models import ACTIVE_STATES, MigrationPlan, PlanState
from apps.orgs.support import is_support
from apps.orgs.timezones import (
    format_input_value,
    format_local,
    get_zone,
    time_zone_name_for,
    zone_for,
)
from apps.registry.models import Registry
from apps.registry.paths import LEGACY_PROJECT, registry_prefix

PLAN_PAGE_SIZE = 100


def _require_support(request: HttpRequest) -> None:
    if not is_support(request.user):
        raise Http404("No such page.")


def _plan(request: HttpRequest, pk: int) -> MigrationPlan:
    return get_object_or_404(
        MigrationPlan.objects.visible_to(request.user).select_related(
            "team", "organization", "target_registry", "created_by"
        ),
        pk=pk,
    )


def _errors(error: ValidationError | PermissionDenied) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [str(error)]


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_support(request)

    plans = (
        MigrationPlan.objects.visible_to(request.user)
        .select_related("team", "organization")
        .order_by("-window_start", "-id")[:PLAN_PAGE_SIZE]
    )
    return render(request, "migration/plan_list.html", {"plans": plans})


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    _require_support(request)

    initial = {"time_zone": time_zone_name_for(request.user)}
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.schedule_migration(
                team=data["team"],
                window_start=form.window_start_utc,
                target_name=data["target_name"].strip() or None,
                target_visibility=data["target_visibility"],
                override_reason=data["override_reason"],
                time_zone=data["time_zone"],
                actor=request.user,
            )
        except (ValidationError, PermissionDenied) as error:
            for message in _errors(error):
                form.add_error(None, message)
        else:
            messages.success(request, f"The migration of {plan.team.name} is scheduled.")
            return redirect("migration:plan_detail", pk=plan.pk)

    return render(request, "migration/plan_form.html", {"form": form}, status=_status(form))


def _status(form) -> int:
    return 422 if form.is_bound and form.errors else 200


@dataclass
class WindowText:
    in_plan_zone: str
    in_utc: str


def _window_text(plan: MigrationPlan) -> WindowText:
    return WindowText(
        in_plan_zone=format_local(plan.window_start, get_zone(plan.time_zone)),
        in_utc=format_local(plan.window_start, get_zone("UTC")),
    )


def _name_conflict(plan: MigrationPlan) -> bool:
    """True when a registry took the target name after the plan was scheduled."""
    if plan.state != PlanState.SCHEDULED:
        return False
    return Registry.objects.filter(
        organization=plan.organization_id, name__iexact=plan.target_name
    ).exists()


def duration_text(seconds: float | None) -> str:
    """Format a duration for people: "45 seconds", "3 minutes 20 seconds", "2 hours 5 minutes"."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for amount, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    if hours:
        parts = parts[:2]
    return " ".join(parts) or "0 seconds"


def _progress_context(plan: MigrationPlan) -> dict:
    return {
        "plan": plan,
        "step_label": copy.step_label(plan.step),
        "rate": f"{plan.rows_per_second:,.0f}" if plan.rows_per_second else "",
        "time_left": duration_text(plan.seconds_left) if plan.seconds_left else "",
        "estimated_pause": duration_text(plan.estimated_pause_seconds),
        "pause_length": duration_text(plan.pause_seconds),
    }


def _target_url(plan: MigrationPlan) -> str:
    registry = plan.target_registry
    if registry is None or plan.state != PlanState.COMPLETED:
        return ""
    return reverse(
        "registry:registry_detail",
        kwargs={"org": plan.organization.name, "registry": registry.name},
    )


def _checked_at(report: dict | None) -> datetime | None:
    if not report or "checked_at" not in report:
        return None
    return datetime.fromisoformat(report["checked_at"])


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    plan = _plan(request, pk)

    legacy_registry = plan.legacy_registry
    mapping = grants.mapping(legacy_registry, plan.target_visibility)
    history = (
        AuditEvent.objects.filter(
            organization=plan.organization_id, action__startswith="migration.", data__plan=plan.pk
        )
        .select_related("actor")
        .order_by("-id")[:50]
    )
    target_name = plan.target_registry.name if plan.target_registry else plan.target_name
    checked_at = _checked_at(plan.verification)
    context = {
        **_progress_context(plan),
        "window": _window_text(plan),
        "legacy_path": f"{plan.team.name}/{LEGACY_PROJECT}/NAME",
        "target_path": f"{plan.organization.name}/{registry_prefix()}{target_name}/NAME",
        "target_name": target_name,
        "target_url": _target_url(plan),
        "mapping": mapping,
        "history": history,
        "name_conflict": _name_conflict(plan),
        "report": plan.verification or None,
        "report_checked_at": (
            format_local(checked_at, zone_for(request.user)) if checked_at else ""
        ),
        "can_abort": plan.state in ACTIVE_STATES,
    }
    return render(request, "migration/plan_detail.html", context)


@login_required
def plan_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Render the progress partial for htmx polling; other requests go to the plan page."""
    _require_support(request)
    plan = _plan(request, pk)

    if not request.htmx:
        return redirect("migration:plan_detail", pk=plan.pk)
    if request.GET.get("state") != plan.state:
        # The report, the failure and the buttons depend on the state: reload the whole page.
        return HttpResponseClientRefresh()
    return render(request, "migration/partials/progress.html", _progress_context(plan))


@login_required
@require_http_methods(["GET", "POST"])
def plan_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    plan = _plan(request, pk)

    zone = plan.time_zone
    initial = {
        "time_zone": zone,
        "window_start": format_input_value(plan.window_start, get_zone(zone)),
        "override_reason": plan.override_reason,
    }
    form = MoveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.move_window(
                plan=plan,
                window_start=form.window_start_utc,
                override_reason=form.cleaned_data["override_reason"],
                time_zone=form.cleaned_data["time_zone"],
                actor=request.user,
            )
        except (ValidationError, PermissionDenied) as error:
            for message in _errors(error):
                form.add_error(None, message)
        else:
            messages.success(request, "The window was moved.")
            return redirect("migration:plan_detail", pk=plan.pk)

    context = {"plan": plan, "form": form, "window": _window_text(plan)}
    return render(request, "migration/plan_move.html", context, status=_status(form))


@dataclass(frozen=True)
class Action:
    title: str
    button: str
    consequences: str
    done: str


ACTIONS = {
    "start": Action(
        "Start now",
        "Start the migration now",
        "Both the legacy registry and the new registry stop accepting writes until the copy "
        "is verified. People who were told about a later window will see writes rejected.",
        "The migration started.",
    ),
    "resume": Action(
        "Resume the job",
        "Queue the job again",
        "The job continues from its last checkpoint. Use this when the progress has not "
        "moved for minutes, for example after a worker restart.",
        "The job was queued again.",
    ),
    "retry": Action(
        "Retry",
        "Retry the migration",
        "A copy that stopped part-way continues from its last checkpoint. A copy that failed "
        "verification is removed and made again from the start. Writes stay paused meanwhile.",
        "The migration is running again.",
    ),
    "abort": Action(
        "Abort",
        "Abort the migration",
        "The new registry and everything copied into it are deleted, the write pause ends, "
        "and the legacy registry accepts writes again. Nothing in the legacy registry is "
        "lost. The plan cannot be resumed afterwards; schedule a new one.",
        "The migration was aborted.",
    ),
}


def _act(plan: MigrationPlan, action: str, user) -> None:
    if action == "start":
        if not services.start_migration(plan=plan, actor=user):
            raise ValidationError("The plan is no longer scheduled; it was started already.")
    elif action == "resume":
        services.resume_migration(plan=plan, actor=user)
    elif action == "retry":
        services.retry_migration(plan=plan, actor=user)
    elif action == "abort":
        services.abort_migration(plan=plan, actor=user)


@login_required
@require_http_methods(["GET", "POST"])
def plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm (GET) and carry out (POST) one of start, resume, retry and abort."""
    _require_support(request)
    plan = _plan(request, pk)
    if action not in ACTIONS:
        raise Http404("No such action.")

    error = None
    if request.method == "POST":
        try:
            _act(plan, action, request.user)
        except (ValidationError, PermissionDenied) as rejected:
            error = " ".join(_errors(rejected))
        else:
            messages.success(request, ACTIONS[action].done)
            return redirect("migration:plan_detail", pk=plan.pk)

    context = {
        "plan": plan,
        "action": action,
        "text": ACTIONS[action],
        "error": error,
        "window": _window_text(plan),
        "now": timezone.now(),
    }
    return render(request, "migration/plan_confirm.html", context, status=409 if error else 200)

"""Dismissing a banner, the support console for notices, and the time zone setting.

The console returns 404 to anyone without the support permission, so it does not exist for
them.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apps.notices import services
from apps.notices.forms import DismissForm, NoticeForm, PreviewForm
from apps.notices.models import Notice
from apps.notices.selectors import Preview, preview_notice
from apps.orgs import services as org_services
from apps.orgs.forms import TimeZoneForm
from apps.orgs.support import is_support
from apps.orgs.timezones import (
    DEFAULT_TIME_ZONE,
    format_local,
    get_zone,
    time_zone_name_for,
    time_zone_settings_of,
)

CONSOLE_PAGE_SIZE = 50


def _safe_next(request: HttpRequest, candidate: str) -> str:
    """`candidate` when it is a URL on this site, else the home page."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("registry:home")


# Banners --------------------------------------------------------------------------------------


@login_required
@require_POST
def dismiss_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss a banner: htmx swaps it out in place, a plain form post goes back to the page."""
    notice = get_object_or_404(Notice.objects.visible_to(request.user), pk=pk)

    form = DismissForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("The revision of the notice is not a number.")

    try:
        services.dismiss_notice(
            notice=notice, user=request.user, revision=form.cleaned_data["revision"]
        )
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages))

    if request.htmx:
        # An empty response swaps the banner out of the page.
        return HttpResponse("")
    return redirect(_safe_next(request, form.cleaned_data["next"]))


# Support console ------------------------------------------------------------------------------


def _require_support(request: HttpRequest) -> None:
    if not is_support(request.user):
        raise Http404("No such page.")


def _console_notice(request: HttpRequest, pk: int) -> Notice:
    return get_object_or_404(Notice.objects.manageable_by(request.user), pk=pk)


def notice_list(request: HttpRequest) -> HttpResponse:
    _require_support(request)

    notices = Notice.objects.manageable_by(request.user).select_related(
        "organization", "team", "registry"
    )
    page = Paginator(notices, CONSOLE_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(notice, notice.status(now)) for notice in page.object_list]
    return render(request, "notices/support/notice_list.html", {"page": page, "rows": rows})


@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest) -> HttpResponse:
    _require_support(request)

    now = timezone.now()
    form = NoticeForm(
        request.POST or None, now=now, initial={"time_zone": time_zone_name_for(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        notice = services.create_notice(values=form.cleaned_data["values"], actor=request.user)
        messages.success(request, f"Notice {notice.pk} saved.")
        return redirect("notices:support_list")

    return render(request, "notices/support/notice_form.html", {"form": form, "notice": None})


@require_http_methods(["GET", "POST"])
def notice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    notice = _console_notice(request, pk)

    now = timezone.now()
    initial = NoticeForm.initial_for(notice, time_zone=time_zone_name_for(request.user))
    form = NoticeForm(request.POST or None, now=now, initial=initial)
    if request.method == "POST" and form.is_valid():
        notice = services.update_notice(
            notice=notice, values=form.cleaned_data["values"], actor=request.user
        )
        messages.success(request, f"Notice {notice.pk} saved (revision {notice.revision}).")
        return redirect("notices:support_list")

    return render(request, "notices/support/notice_form.html", {"form": form, "notice": notice})


@require_POST
def notice_end(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    notice = _console_notice(request, pk)

    services.end_notice(notice=notice, actor=request.user)

    messages.success(request, f"Notice {notice.pk} ended.")
    return redirect("notices:support_list")


def notice_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Render the notice as a chosen person would see it, in their zone, now or later."""
    _require_support(request)
    notice = _console_notice(request, pk)

    preview = None
    form = PreviewForm(
        request.GET if "person" in request.GET else None,
        initial={"time_zone": time_zone_name_for(request.user)},
    )
    if form.is_bound and form.is_valid():
        person = (
            get_user_model()
            .objects.filter(username__iexact=form.cleaned_data["person"].strip())
            .first()
        )
        if person is None:
            form.add_error("person", f"No user is named '{form.cleaned_data['person']}'.")
        else:
            preview = preview_notice(notice, person=person, at=form.cleaned_data["moment"])

    context = {"notice": notice, "form": form, "preview": preview}
    if preview is not None:
        zone = get_zone(preview.time_zone)
        context["preview_banners"] = [preview.banner]
        context["moment_local"] = format_local(preview.at, zone)
        context["verdict"] = _preview_verdict(preview, zone)
    return render(request, "notices/support/notice_preview.html", context)


def _preview_verdict(preview: Preview, zone) -> str:
    notice = preview.banner.notice
    name = preview.person.get_username()
    if not preview.in_audience:
        return f"no: {name} is not in the audience “{notice.get_audience_display()}”"
    if preview.dismissed:
        return f"no: {name} dismissed this revision"
    if not preview.active:
        window = f"from {format_local(notice.starts_at, zone)}"
        if notice.ends_at is not None:
            window += f" until {format_local(notice.ends_at, zone)}"
        return f"no: it shows {window}"
    return "yes"


# Profile --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request: HttpRequest) -> HttpResponse:
    """Show and save the person's own settings: the zone they read and enter times in."""
    own, organization_default = time_zone_settings_of(request.user)
    fallback = organization_default or DEFAULT_TIME_ZONE
    form = TimeZoneForm(request.POST or None, fallback=fallback, initial={"time_zone": own})

    if request.method == "POST" and form.is_valid():
        try:
            org_services.set_time_zone(user=request.user, time_zone=form.cleaned_data["time_zone"])
        except ValidationError as error:
            form.add_error("time_zone", error)
        else:
            zone_name = time_zone_name_for(request.user)
            messages.success(request, f"Times are now shown in {zone_name}.")
            return redirect("notices:profile")

    effective = time_zone_name_for(request.user)
    context = {
        "form": form,
        "effective_zone": effective,
        "now_local": format_local(timezone.now(), get_zone(effective)),
    }
    return render(request, "notices/profile.html", context)

"""Creating registries, their settings page, members and roles, activity, and stars.

The settings and activity pages are for the registry's Admins. A person who can see the
registry but is no Admin gets 403 with the role it needs. A person who cannot see it gets
the same 404 as for a missing registry. Each section of the settings page is one
partial that its form swaps in place with htmx; every change goes through one service
function, which checks the permission again and records an audit event.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import OrgMembership, OrgRole, Team
from apps.registry import pages, services, settings_pages
from apps.registry.forms import (
    AcceptedTypesForm,
    ActivityFilterForm,
    AliasForm,
    ConfirmNameForm,
    MemberAddForm,
    MemberForm,
    MemberRoleForm,
    RegistryCreateForm,
    RegistryDetailsForm,
    StarForm,
    VisibilityForm,
)
from apps.registry.models import Registry, Visibility
from apps.registry.responses import (
    STATUS_PARTIAL,
    Outcome,
    attempt,
    failure,
    finish,
    redirect_to,
    render_fragments,
    render_page,
    safe_next,
)
from apps.registry.roles import Role

SETTINGS_TEMPLATE = "registry/registry_settings.html"
DETAILS_PARTIAL = "registry/partials/settings_details.html"
TYPES_PARTIAL = "registry/partials/settings_types.html"
VISIBILITY_PARTIAL = "registry/partials/settings_visibility.html"
PROTECTED_PARTIAL = "registry/partials/settings_protected_aliases.html"
MEMBERS_PARTIAL = "registry/partials/settings_members.html"
CANDIDATES_PARTIAL = "registry/partials/member_candidates.html"
DELETE_PARTIAL = "registry/partials/settings_delete.html"
ACTIVITY_PARTIAL = "registry/partials/activity_list.html"
STAR_PARTIAL = "registry/partials/star_button.html"
REGISTRY_PAGE = "registry:registry_detail"
SETTINGS_PAGE = "registry:registry_settings"


def post_only(*, redirect_get_to: str) -> Callable:
    """Accept POST only, and respond to GET and HEAD with a redirect to the form's page.

    After a form is rejected without JavaScript, the browser's address is the form's POST
    target, so reloading it would otherwise show a blank 405 page. The page redirected to
    runs its own access check, so the redirect reveals nothing about the registry.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, org: str, registry: str) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return redirect(redirect_get_to, org=org, registry=registry)
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, org, registry)

        return wrapped

    return decorator


# Creating a registry ------------------------------------------------------------------------


def _creator_membership(user, org: str) -> OrgMembership:
    """Return the user's membership of the organization, if it lets them create registries.

    An organization the user is not in raises Http404, like one that does not exist.
    """
    membership = get_object_or_404(
        OrgMembership.objects.select_related("organization").filter(
            equals_ignoring_case("organization__name", org), user=user
        )
    )
    if membership.role not in (OrgRole.ADMIN, OrgRole.MEMBER):
        raise PermissionDenied(
            f"Creating a registry in '{membership.organization.name}' needs the "
            f"organization's member or admin role; org viewers cannot create registries."
        )
    return membership


@login_required
@require_http_methods(["GET", "POST"])
def create_registry(request: HttpRequest, org: str) -> HttpResponse:
    organization = _creator_membership(request.user, org).organization

    form = RegistryCreateForm(request.POST if request.method == "POST" else None)

    if request.method == "POST":
        created: list[Registry] = []
        outcome = attempt(
            form,
            lambda data: created.append(
                services.create_registry(
                    organization=organization,
                    name=data["name"],
                    description=data["description"],
                    visibility=data["visibility"],
                    accepted_types=data["type_list"],
                    actor=request.user,
                )
            ),
        )
        if outcome.ok:
            messages.success(
                request, f"Created the registry “{created[0].name}”. You are its Admin."
            )
            return redirect_to(request, pages.registry_url(created[0]))
    else:
        outcome = Outcome(200)

    context = {"organization": organization, "form": form}
    status = 200 if outcome.status == 422 and not request.htmx else outcome.status
    response = render(request, "registry/registry_create.html", context, status=status)
    return finish(response, outcome)


# Stars and leaving --------------------------------------------------------------------------


@login_required
@post_only(redirect_get_to=REGISTRY_PAGE)
def star_registry(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Star or unstar a registry: the button swaps in place, or the page reloads."""
    registry_obj = pages.get_registry_with_access(request.user, org, registry)

    form = StarForm(request.POST)
    starred = form.is_valid() and form.cleaned_data["starred"]

    services.star_registry(registry=registry_obj, user=request.user, starred=starred)

    registry_obj.is_starred = starred
    if request.htmx:
        return render(request, STAR_PARTIAL, {"registry": registry_obj, "next": ""})
    return redirect_to(request, safe_next(request, default=pages.registry_url(registry_obj)))


@login_required
@post_only(redirect_get_to=REGISTRY_PAGE)
def leave_registry(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Remove the signed-in person's own grant; the last Admin cannot leave."""
    registry_obj = pages.get_registry_with_access(request.user, org, registry)

    form = MemberForm({"kind": settings_pages.USER, "name": request.user.get_username()})

    outcome = attempt(
        form,
        lambda data: services.remove_member(
            registry=registry_obj, member=request.user, actor=request.user
        ),
    )

    if outcome.ok:
        messages.success(request, f"You left the registry “{registry_obj.name}”.")
        return redirect_to(request, _url_after_change(request, registry_obj))
    for error in form.non_field_errors():
        messages.error(request, error)
    if request.htmx:
        response = render(request, STATUS_PARTIAL, {}, status=outcome.status)
    else:
        response = redirect_to(request, pages.registry_url(registry_obj))
    return finish(response, outcome)


def _url_after_change(request: HttpRequest, registry: Registry) -> str:
    """Return where to go after a change that may have cost the user their access.

    The settings page while they are still an Admin, the registry page while they can
    still see it, and the registry home otherwise.
    """
    fresh = pages.registry_access_queryset(request.user).filter(pk=registry.pk).first()
    if fresh is None:
        return pages.home_url()
    if pages.with_access(fresh).user_can_administer:
        return pages.registry_page_url(fresh, "registry_settings")
    return pages.registry_url(fresh)


# Members page -------------------------------------------------------------------------------


@login_required
@require_GET
def registry_members(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Show the settings and members, read-only, to everyone who can see the registry."""
    registry_obj = settings_pages.get_settings_registry(request.user, org, registry)

    context = settings_pages.settings_context(registry_obj)
    return render(request, "registry/registry_members.html", context)


# The settings page --------------------------------------------------------------------------


def _settings_registry(request: HttpRequest, org: str, registry: str, action: str) -> Registry:
    """Fetch the registry for its settings page or one of its forms: 404 hidden, 403 no Admin."""
    registry_obj = settings_pages.get_settings_registry(request.user, org, registry)
    pages.require_role(registry_obj, Role.ADMIN, action)
    return registry_obj


@login_required
@require_GET
def registry_settings(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Opening the settings")

    context = settings_pages.settings_context(registry_obj)
    return render(request, SETTINGS_TEMPLATE, context)


def _respond_to_settings_edit(
    request: HttpRequest,
    registry: Registry,
    form,
    outcome: Outcome,
    *,
    partial: str,
    section: str,
    success: str,
    extra: dict | None = None,
) -> HttpResponse:
    """Respond to a settings form: its section again (htmx), or a redirect or the whole page.

    After a change that took the user's Admin role away, the settings page is no longer
    theirs, so they are sent to the registry page (or the home page) instead.
    """
    if outcome.ok:
        messages.success(request, success)
        next_url = _url_after_change(request, registry)
        settings_url = pages.registry_page_url(registry, "registry_settings")
        if not request.htmx or next_url != settings_url:
            return redirect_to(request, next_url)

    registry = settings_pages.get_settings_registry(
        request.user, registry.organization.name, registry.name
    )
    context = settings_pages.settings_context(registry)
    if not outcome.ok:
        context.update(failure(form, section))
    context.update(extra or {})

    if request.htmx:
        response = render_fragments(request, partial, [STATUS_PARTIAL], context, outcome.status)
    else:
        status = 200 if outcome.status == 422 else outcome.status
        response = render(request, SETTINGS_TEMPLATE, context, status=status)
    return finish(response, outcome)


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def edit_registry_details(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Editing the registry")
    old_name = registry_obj.name

    form = RegistryDetailsForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.update_registry(
            registry=registry_obj,
            # Core registries cannot be renamed, and their form has no name to post.
            name=data["name"] if "name" in form.data else None,
            description=data["description"],
            actor=request.user,
        ),
    )

    if outcome.ok and registry_obj.name != old_name:
        # Every address of the registry changed with its name, so the page reloads.
        messages.success(request, f"Renamed the registry to “{registry_obj.name}”.")
        return redirect_to(request, pages.registry_page_url(registry_obj, "registry_settings"))
    if not outcome.ok:
        registry_obj.name = old_name
    return _respond_to_settings_edit(
        request,
        registry_obj,
        form,
        outcome,
        partial=DETAILS_PARTIAL,
        section="settings-details",
        success="Saved the name and description.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def edit_accepted_types(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Editing the accepted types")

    form = AcceptedTypesForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.update_registry(
            registry=registry_obj,
            accepted_types=None
            if data["accept_all"]
            else [*registry_obj.accepted_types, *data["new_types"]],
            accepts_all_types=True if data["accept_all"] else None,
            actor=request.user,
        ),
    )

    return _respond_to_settings_edit(
        request,
        registry_obj,
        form,
        outcome,
        partial=TYPES_PARTIAL,
        section="settings-types",
        success="Saved the accepted types.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def change_visibility(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Switch the visibility; widening it to the organization first requires a confirmation."""
    registry_obj = _settings_registry(request, org, registry, "Changing the visibility")

    form = VisibilityForm(request.POST)

    widening = (
        form.is_valid()
        and form.cleaned_data["visibility"] == Visibility.ORGANIZATION
        and registry_obj.visibility == Visibility.RESTRICTED
        and not registry_obj.is_core
    )
    if widening and not form.cleaned_data["confirmed"]:
        return _confirm_widening(request, registry_obj)

    outcome = attempt(
        form,
        lambda data: services.set_visibility(
            registry=registry_obj,
            visibility=data["visibility"],
            confirmed=data["confirmed"],
            actor=request.user,
        ),
    )

    return _respond_to_settings_edit(
        request,
        registry_obj,
        form,
        outcome,
        partial=VISIBILITY_PARTIAL,
        section="settings-visibility",
        success=f"The registry now has {registry_obj.get_visibility_display()} visibility.",
    )


def _confirm_widening(request: HttpRequest, registry: Registry) -> HttpResponse:
    """Show how many people would gain access, with a button that confirms the switch.

    Nothing changes yet, so the response is 200 and no event is recorded.
    """
    context = settings_pages.settings_context(registry)
    context["confirm_new_viewers"] = services.count_new_viewers(registry)
    if request.htmx:
        return render_fragments(request, VISIBILITY_PARTIAL, [STATUS_PARTIAL], context, 200)
    return render(request, SETTINGS_TEMPLATE, context)


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def add_protected_alias(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Protecting an alias")

    form = AliasForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.add_protected_alias(
            registry=registry_obj, name=data["name"], actor=request.user
        ),
    )

    return _respond_to_settings_edit(
        request,
        registry_obj,
        form,
        outcome,
        partial=PROTECTED_PARTIAL,
        section="settings-protected",
        success=f"The alias “{form.cleaned_data.get('name', '')}” is now protected.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def remove_protected_alias(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Unprotecting an alias")

    form = AliasForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.remove_protected_alias(
            registry=registry_obj, name=data["name"], actor=request.user
        ),
    )

    return _respond_to_settings_edit(
        request,
        registry_obj,
        form,
        outcome,
        partial=PROTECTED_PARTIAL,
        section="settings-protected",
        success=f"The alias “{form.cleaned_data.get('name', '')}” is no longer protected.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def delete_registry(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Deleting the registry")

    form = ConfirmNameForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.delete_registry(
            registry=registry_obj, confirm_name=data["confirm_name"], actor=request.user
        ),
    )

    if outcome.ok:
        messages.success(
            request,
            f"Deleted the registry “{registry_obj.name}”. The source artifact versions stay "
            f"in their projects.",
        )
        return redirect_to(request, pages.home_url())
    return _respond_to_settings_edit(
        request,
        registry_obj,
        form,
        outcome,
        partial=DELETE_PARTIAL,
        section="settings-delete",
        success="",
    )


# Members and roles --------------------------------------------------------------------------


def _member_edit(
    request: HttpRequest,
    registry: Registry,
    form,
    call: Callable[[dict, object], object],
    success: Callable[[dict, object], str],
) -> HttpResponse:
    """Run a member change named by the form's kind and name, and answer in the members list.

    `call` gets the form's data and the user or team, and `success` builds the message from
    the same two and what `call` returned.
    """
    messages_after: list[str] = []

    def change(data: dict) -> None:
        member = settings_pages.find_member(registry, data["kind"], data["name"])
        messages_after.append(success(data, call(data, member)))

    outcome = attempt(form, change)

    return _respond_to_settings_edit(
        request,
        registry,
        form,
        outcome,
        partial=MEMBERS_PARTIAL,
        section="settings-members",
        success=messages_after[0] if messages_after else "",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def add_member(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Adding members")

    form = MemberAddForm(request.POST)

    return _member_edit(
        request,
        registry_obj,
        form,
        lambda data, member: services.add_member(
            registry=registry_obj, member=member, role=data["role"], actor=request.user
        ),
        success=lambda data, role: f"Added {data['name']} with the {role.label} role.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def change_member_role(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Changing roles")

    form = MemberRoleForm(request.POST)

    return _member_edit(
        request,
        registry_obj,
        form,
        lambda data, member: services.change_role(
            registry=registry_obj, member=member, role=data["role"], actor=request.user
        ),
        success=lambda data, _: f"{data['name']} now has the {data['role'].label} role.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def remove_member(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Removing members")

    form = MemberForm(request.POST)

    return _member_edit(
        request,
        registry_obj,
        form,
        lambda data, member: services.remove_member(
            registry=registry_obj, member=member, actor=request.user
        ),
        success=lambda data, _: f"Removed {data['name']} from the registry.",
    )


@login_required
@post_only(redirect_get_to=SETTINGS_PAGE)
def make_owner(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = _settings_registry(request, org, registry, "Choosing the owner")

    form = MemberForm(request.POST)

    return _member_edit(
        request,
        registry_obj,
        form,
        lambda data, member: services.make_owner(
            registry=registry_obj, user=_person(member), actor=request.user
        ),
        success=lambda data, _: f"{data['name']} is now the registry's owner.",
    )


def _person(member):
    if isinstance(member, Team):
        raise ValidationError(
            f"The team {member.name} cannot be the owner, because the owner is one person "
            f"accountable for the registry. Choose a user."
        )
    return member


@login_required
@require_GET
def member_candidates(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """List users and teams of the organization to add, for the add form's autocomplete."""
    registry_obj = _settings_registry(request, org, registry, "Adding members")

    text = request.GET.get("name", "")[:150]

    context = {
        "registry": registry_obj,
        "organization": registry_obj.organization,
        "candidates": settings_pages.member_candidates(registry_obj, text),
        "query": text,
    }
    return render(request, CANDIDATES_PARTIAL, context)


# Activity -----------------------------------------------------------------------------------


@login_required
@require_GET
def registry_activity(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = pages.get_registry_with_access(request.user, org, registry)
    pages.require_role(registry_obj, Role.ADMIN, "Reading the activity")

    filters = ActivityFilterForm(request.GET).values()

    context = settings_pages.activity_context(registry_obj, **filters)
    return render_page(request, "registry/registry_activity.html", ACTIVITY_PARTIAL, context)

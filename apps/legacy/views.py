"""Pages of a team's legacy Model Registry, their in-place edits, and the `/path/` resolver.

Every view reads through the legacy gate (the `pages.get_*` lookups), so a legacy registry
the user may not see returns 404 exactly like a missing one. Every edit calls one service
function, which checks the permission and the write guard: PermissionDenied reaches the
site's 403 handler, ValidationError (422) and WritePaused (423) are shown next to the form.

After the migration the pages of a migrated registered model redirect (301) to the pages of
the collection it became. Once the retention window ended, the team's members are sent on
to the new registry with a one-time message. Support staff keep reading the legacy pages.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponsePermanentRedirect,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from apps.core.exceptions import WritePaused
from apps.legacy import pages, services
from apps.legacy.forms import (
    ConfirmForm,
    CreateModelForm,
    DescriptionForm,
    LinkVersionForm,
    ModelFilterForm,
    NameForm,
    VersionPageForm,
)
from apps.legacy.models import LegacyRegistry, LegacyVersion, RegisteredModel
from apps.legacy.resolve import resolve_any_path
from apps.registry.models import ArtifactVersion
from apps.registry.paths import PathError, format_legacy_path
from apps.registry.resolve import PathNotFound

STATUS_PARTIAL = "registry/partials/status.html"
MODEL_LIST_PARTIAL = "legacy/partials/model_list.html"
VERSIONS_PARTIAL = "legacy/partials/model_versions.html"
HISTORY_PARTIAL = "legacy/partials/model_history.html"


# The site-wide path resolver ------------------------------------------------------------------


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "404.html", {"message": message}, status=404)


@login_required
@require_GET
def open_path(request: HttpRequest, raw: str) -> HttpResponse:
    """Redirect any artifact path, legacy paths included, to the page of its version.

    A registry path and a legacy path of a registry that is not migrated redirect with 302.
    A legacy path of a migrated model redirects with 301 to the new version page, because
    the legacy path will never name anything else again.
    """
    # A trailing slash is never part of a path: names cannot contain '/'.
    text = raw[:-1] if raw.endswith("/") else raw

    try:
        resolution = resolve_any_path(request.user, text)
    except PathError as error:
        return _not_found(request, str(error))
    except PathNotFound as error:
        return _not_found(request, str(error))

    if isinstance(resolution.target, LegacyVersion):
        return redirect(pages.version_url(resolution.target))
    if resolution.deprecation:
        messages.warning(request, resolution.deprecation)
        return HttpResponsePermanentRedirect(pages.new_version_url(resolution.target))
    return redirect(pages.new_version_url(resolution.target))


# Reading --------------------------------------------------------------------------------------


def _render_page(
    request: HttpRequest, template: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render the partial for an htmx request and the full page otherwise."""
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, partial, context, status=status)
    else:
        response = render(request, template, context, status=status)
    # The same URL returns a partial or a page, so caches must key on the header.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _moved_message(request: HttpRequest, old: str, new: str) -> None:
    messages.info(
        request,
        f"{old} was migrated to the new registry and is now {new}. Update your links and "
        f"code to the new path.",
    )


def _redirect_hidden(
    request: HttpRequest,
    legacy_registry: LegacyRegistry,
    name: str | None = None,
    index: int | None = None,
) -> HttpResponse:
    """Send a team member from a hidden legacy page to its migrated counterpart."""
    team = legacy_registry.team.name
    model = None
    if name is not None:
        model = RegisteredModel.objects.filter(
            legacy_registry=legacy_registry, name__iexact=name
        ).first()
    if model is not None:
        model.legacy_registry = legacy_registry
        # Only team members who are not support staff get here: support staff read hidden
        # legacy registries like any other.
        moved = _moved_response(request, model, index, support=False)
        if moved is not None:
            return moved

    registry = pages.migrated_registry(request.user, legacy_registry)
    if registry is None:
        raise Http404("No legacy Model Registry matches this address.")
    messages.info(
        request,
        f"The legacy Model Registry of the team '{team}' moved to "
        f"{registry.organization.name}/{registry.path_name} and is no longer shown since "
        f"{legacy_registry.hidden_at():%Y-%m-%d} (UTC). Its registered models are here now.",
    )
    return redirect(pages.new_registry_url(registry))


def _moved_response(
    request: HttpRequest, model: RegisteredModel, index: int | None = None, *, support: bool
) -> HttpResponse | None:
    """A 301 to the new page of a migrated model or version, or None to show the legacy one.

    Support staff (`support`) read the legacy pages themselves, and so does anyone who cannot
    see the collection the model became.
    """
    if support:
        return None
    team = model.legacy_registry.team.name
    if index is not None:
        link = pages.migrated_link(request.user, model, index)
        if link is not None:
            _moved_message(
                request,
                format_legacy_path(team, model.name, f"v{index}"),
                pages.new_path_of(link.collection, f"v{index}"),
            )
            return HttpResponsePermanentRedirect(pages.new_version_url(link))
    collection = pages.migrated_collection(request.user, model)
    if collection is None:
        return None
    _moved_message(request, format_legacy_path(team, model.name), pages.new_path_of(collection))
    return HttpResponsePermanentRedirect(pages.new_collection_url(collection))


def post_only(view: Callable) -> Callable:
    """Accept POST only, and respond to GET and HEAD with a redirect to the form's page.

    After a form is rejected without JavaScript, the browser's address is the form's POST
    target, so reloading it would otherwise show a blank 405 page. The page redirected to
    runs its own access check.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if "index" in kwargs:
                return redirect("legacy:version_detail", **kwargs)
            if "name" in kwargs:
                return redirect("legacy:model_detail", **kwargs)
            return redirect("legacy:model_list", **kwargs)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, **kwargs)

    return wrapper


def legacy_page(view: Callable) -> Callable:
    """Redirect requests for a hidden legacy registry's pages to where it moved."""

    @wraps(view)
    def wrapper(request: HttpRequest, org: str, team: str, **kwargs) -> HttpResponse:
        try:
            return view(request, org=org, team=team, **kwargs)
        except pages.LegacyRegistryHidden as hidden:
            return _redirect_hidden(
                request, hidden.legacy_registry, kwargs.get("name"), kwargs.get("index")
            )

    return wrapper


@login_required
@require_GET
@legacy_page
def model_list(request: HttpRequest, org: str, team: str) -> HttpResponse:
    legacy_registry = pages.get_legacy_registry(request.user, org, team)

    form = ModelFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}

    context = pages.model_list_context(request.user, legacy_registry, filters)
    context["filter_form"] = form
    context["create_form"] = CreateModelForm()
    return _render_page(request, "legacy/model_list.html", MODEL_LIST_PARTIAL, context)


@login_required
@require_GET
@legacy_page
def model_detail(request: HttpRequest, org: str, team: str, name: str) -> HttpResponse:
    model = pages.get_model(request.user, org, team, name)

    moved = _moved_response(request, model, support=model.legacy_registry.viewer.is_support)
    if moved is not None:
        return moved

    after, before = VersionPageForm(request.GET).keys()
    context = pages.model_context(request.user, model, after=after, before=before)
    return _render_page(request, "legacy/model_detail.html", VERSIONS_PARTIAL, context)


@login_required
@require_GET
@legacy_page
def version_detail(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    legacy_version = pages.get_version(request.user, org, team, name, index)
    model = legacy_version.model

    moved = _moved_response(request, model, index, support=model.legacy_registry.viewer.is_support)
    if moved is not None:
        return moved

    context = pages.version_context(legacy_version)
    return render(request, "legacy/version_detail.html", context)


# Editing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The result of an edit: 200 done, 422 invalid input, 423 write pause."""

    status: int
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def _attempt(form, call: Callable[[dict], object]) -> Outcome:
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


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _failure(form, section: str) -> dict:
    """Template context that shows a rejected form's messages and input in its section."""
    errors = [message for field_errors in form.errors.values() for message in field_errors]
    value = form.data.get("name", form.data.get("text", form.data.get("aliases", "")))
    return {"failed_section": section, "failed_errors": errors, "failed_value": value}


def _render_fragments(
    request: HttpRequest, partial: str, out_of_band: Iterable[str], context: dict, status: int
) -> HttpResponse:
    """Render the swap target's partial followed by partials that htmx swaps out of band."""
    html = render_to_string(partial, context, request)
    oob_context = {**context, "oob": True}
    html += "".join(render_to_string(name, oob_context, request) for name in out_of_band)
    return HttpResponse(html, status=status)


def _finish(response: HttpResponse, outcome: Outcome) -> HttpResponse:
    if outcome.retry_after is not None:
        response["Retry-After"] = str(outcome.retry_after)
    return response


def _respond(
    request: HttpRequest,
    *,
    outcome: Outcome,
    form,
    section: str,
    success: str,
    page_url: str,
    template: str,
    partial: str,
    out_of_band: Iterable[str],
    context: Callable[[], dict],
) -> HttpResponse:
    """Redirect after a plain POST that worked; otherwise render the page or its partial."""
    if outcome.ok:
        messages.success(request, success)
        if not request.htmx:
            return redirect(_safe_next(request, default=page_url))

    data = context()
    if not outcome.ok:
        data.update(_failure(form, section))

    if request.htmx:
        response = _render_fragments(request, partial, out_of_band, data, status=outcome.status)
    else:
        # Without JavaScript a rejected edit shows the page again with the message.
        status = 200 if outcome.status == 422 else outcome.status
        response = render(request, template, data, status=status)
    return _finish(response, outcome)


def _respond_on_model(
    request: HttpRequest, model: RegisteredModel, form, outcome: Outcome, **kwargs
) -> HttpResponse:
    """Respond to an edit made on the model page (its description, tags or version rows)."""
    page_url = pages.model_url(model)
    next_url = _safe_next(request, default=page_url)
    after, before = VersionPageForm(QueryDict(urlsplit(next_url).query)).keys()

    def context() -> dict:
        fresh = pages.get_model(request.user, *_names(model))
        return pages.model_context(request.user, fresh, after=after, before=before)

    return _respond(
        request,
        outcome=outcome,
        form=form,
        page_url=page_url,
        template="legacy/model_detail.html",
        out_of_band=[HISTORY_PARTIAL, STATUS_PARTIAL],
        context=context,
        **kwargs,
    )


def _respond_on_version(
    request: HttpRequest, legacy_version: LegacyVersion, form, outcome: Outcome, **kwargs
) -> HttpResponse:
    """Respond to an edit made on the version page, or on its row of the model page."""
    model = legacy_version.model
    if request.POST.get("page") == "model":
        kwargs.update(partial=VERSIONS_PARTIAL, section=f"row-{legacy_version.index}")
        return _respond_on_model(request, model, form, outcome, **kwargs)

    def context() -> dict:
        fresh = pages.get_version(request.user, *_names(model), legacy_version.index)
        return pages.version_context(fresh)

    return _respond(
        request,
        outcome=outcome,
        form=form,
        page_url=pages.version_url(legacy_version),
        template="legacy/version_detail.html",
        out_of_band=[STATUS_PARTIAL],
        context=context,
        **kwargs,
    )


def _names(model: RegisteredModel) -> tuple[str, str, str]:
    """Return the organization, team and model names in the URLs of a model's pages."""
    team = model.legacy_registry.team
    return team.organization.name, team.name, model.name


def _target(request: HttpRequest, org: str, team: str, name: str, index: int | None = None):
    """The legacy registry, the model and (with `index`) the version an edit is about."""
    if index is None:
        model = pages.get_model(request.user, org, team, name)
        return model.legacy_registry, model, None
    legacy_version = pages.get_version(request.user, org, team, name, index)
    model = legacy_version.model
    return model.legacy_registry, model, legacy_version


@login_required
@post_only
@legacy_page
def create_model(request: HttpRequest, org: str, team: str) -> HttpResponse:
    legacy_registry = pages.get_legacy_registry(request.user, org, team)

    form = CreateModelForm(request.POST)

    created: list[RegisteredModel] = []
    outcome = _attempt(
        form,
        lambda data: created.append(
            services.create_registered_model(
                legacy_registry=legacy_registry,
                name=data["name"],
                description=data["description"],
                actor=request.user,
            )
        ),
    )

    if outcome.ok:
        model = created[0]
        model.legacy_registry = legacy_registry
        messages.success(request, f"Created the registered model “{model.name}”.")
        if request.htmx:
            return HttpResponseClientRedirect(pages.model_url(model))
        return redirect(pages.model_url(model))
    context = pages.model_list_context(request.user, legacy_registry, {})
    context.update(
        {"filter_form": ModelFilterForm(), "create_form": form, **_failure(form, "create-model")}
    )
    if request.htmx:
        partial = "legacy/partials/create_model.html"
        response = render(request, partial, context, status=outcome.status)
    else:
        status = 200 if outcome.status == 422 else outcome.status
        response = render(request, "legacy/model_list.html", context, status=status)
    return _finish(response, outcome)


def _protected_alias_edit(request: HttpRequest, org: str, team: str, *, add: bool):
    legacy_registry = pages.get_legacy_registry(request.user, org, team)

    form = NameForm(request.POST)

    service = services.add_protected_alias if add else services.remove_protected_alias
    outcome = _attempt(
        form,
        lambda data: service(
            legacy_registry=legacy_registry, name=data["name"], actor=request.user
        ),
    )

    name = form.cleaned_data.get("name", "")
    return _respond(
        request,
        outcome=outcome,
        form=form,
        section="protected-aliases",
        success=f"Protected the alias “{name}”." if add else f"Unprotected the alias “{name}”.",
        page_url=pages.registry_url(legacy_registry),
        template="legacy/model_list.html",
        partial="legacy/partials/protected_aliases.html",
        out_of_band=[STATUS_PARTIAL],
        # Read the registry again: its list of protected aliases came with the first lookup.
        context=lambda: {
            **pages.model_list_context(
                request.user, pages.get_legacy_registry(request.user, org, team), {}
            ),
            "filter_form": ModelFilterForm(),
            "create_form": CreateModelForm(),
        },
    )


@login_required
@post_only
@legacy_page
def add_protected_alias(request: HttpRequest, org: str, team: str) -> HttpResponse:
    return _protected_alias_edit(request, org, team, add=True)


@login_required
@post_only
@legacy_page
def remove_protected_alias(request: HttpRequest, org: str, team: str) -> HttpResponse:
    return _protected_alias_edit(request, org, team, add=False)


@login_required
@post_only
@legacy_page
def edit_model_description(request: HttpRequest, org: str, team: str, name: str) -> HttpResponse:
    _, model, _ = _target(request, org, team, name)

    form = DescriptionForm(request.POST)

    outcome = _attempt(
        form,
        lambda data: services.edit_description(target=model, text=data["text"], actor=request.user),
    )

    return _respond_on_model(
        request,
        model,
        form,
        outcome,
        partial="legacy/partials/model_description.html",
        section="model-description",
        success="Saved the description.",
    )


def _model_tag_edit(request: HttpRequest, org: str, team: str, name: str, *, add: bool):
    _, model, _ = _target(request, org, team, name)

    form = NameForm(request.POST)

    service = services.add_tag if add else services.remove_tag
    outcome = _attempt(
        form, lambda data: service(target=model, name=data["name"], actor=request.user)
    )

    tag = form.cleaned_data.get("name", "")
    return _respond_on_model(
        request,
        model,
        form,
        outcome,
        partial="legacy/partials/model_tags.html",
        section="model-tags",
        success=f"Added the tag “{tag}”." if add else f"Removed the tag “{tag}”.",
    )


@login_required
@post_only
@legacy_page
def add_model_tag(request: HttpRequest, org: str, team: str, name: str) -> HttpResponse:
    return _model_tag_edit(request, org, team, name, add=True)


@login_required
@post_only
@legacy_page
def remove_model_tag(request: HttpRequest, org: str, team: str, name: str) -> HttpResponse:
    return _model_tag_edit(request, org, team, name, add=False)


@login_required
@post_only
@legacy_page
def link_version(request: HttpRequest, org: str, team: str, name: str) -> HttpResponse:
    _, model, _ = _target(request, org, team, name)

    form = LinkVersionForm(request.POST)

    def call(data: dict) -> None:
        # The source version is read through the gate too, so a version the user may not
        # see is reported like one that does not exist.
        if data["source_path"] is not None:
            source = pages.find_source_version(request.user, model, data["source_path"])
            if source is None:
                raise ValidationError(
                    f"No version was found at the source path '{form.source_path_text()}'; "
                    "check the team, project, artifact and version number."
                )
        else:
            source = (
                ArtifactVersion.objects.visible_to(request.user)
                .select_related("artifact__project")
                .filter(pk=data["version"])
                .first()
            )
            if source is None:
                raise ValidationError(f"No source version with the id {data['version']} was found.")
        services.link_version(
            model=model, version=source, aliases=form.alias_names(), actor=request.user
        )

    outcome = _attempt(form, call)

    return _respond_on_model(
        request,
        model,
        form,
        outcome,
        partial=VERSIONS_PARTIAL,
        section="link-version",
        success="Linked the version.",
    )


@login_required
@post_only
@legacy_page
def unlink_version(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    _, model, legacy_version = _target(request, org, team, name, index)

    form = ConfirmForm(request.POST)

    outcome = _attempt(
        form,
        lambda data: services.unlink_version(legacy_version=legacy_version, actor=request.user),
    )

    if outcome.ok and request.POST.get("page") != "model":
        messages.success(request, f"Unlinked v{index}; its index is not used again.")
        if request.htmx:
            return HttpResponseClientRedirect(pages.model_url(model))
        return redirect(pages.model_url(model))
    return _respond_on_model(
        request,
        model,
        form,
        outcome,
        partial=VERSIONS_PARTIAL,
        section=f"row-{index}",
        success=f"Unlinked v{index}; its index is not used again.",
    )


def _version_alias_edit(
    request: HttpRequest, org: str, team: str, name: str, index: int, *, add: bool
) -> HttpResponse:
    _, model, legacy_version = _target(request, org, team, name, index)

    form = NameForm(request.POST)

    if add:
        outcome = _attempt(
            form,
            lambda data: services.set_alias(
                legacy_version=legacy_version, name=data["name"], actor=request.user
            ),
        )
    else:
        outcome = _attempt(
            form,
            lambda data: services.remove_alias(model=model, name=data["name"], actor=request.user),
        )

    alias = form.cleaned_data.get("name", "")
    return _respond_on_version(
        request,
        legacy_version,
        form,
        outcome,
        partial="legacy/partials/version_aliases.html",
        section="version-aliases",
        success=f"The alias “{alias}” now points at v{index}."
        if add
        else f"Removed the alias “{alias}”.",
    )


@login_required
@post_only
@legacy_page
def set_version_alias(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    return _version_alias_edit(request, org, team, name, index, add=True)


@login_required
@post_only
@legacy_page
def remove_version_alias(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    return _version_alias_edit(request, org, team, name, index, add=False)


def _version_tag_edit(
    request: HttpRequest, org: str, team: str, name: str, index: int, *, add: bool
) -> HttpResponse:
    _, _, legacy_version = _target(request, org, team, name, index)

    form = NameForm(request.POST)

    service = services.add_tag if add else services.remove_tag
    outcome = _attempt(
        form, lambda data: service(target=legacy_version, name=data["name"], actor=request.user)
    )

    tag = form.cleaned_data.get("name", "")
    return _respond_on_version(
        request,
        legacy_version,
        form,
        outcome,
        partial="legacy/partials/version_tags.html",
        section="version-tags",
        success=f"Added the tag “{tag}” to v{index}."
        if add
        else f"Removed the tag “{tag}” from v{index}.",
    )


@login_required
@post_only
@legacy_page
def add_version_tag(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    return _version_tag_edit(request, org, team, name, index, add=True)


@login_required
@post_only
@legacy_page
def remove_version_tag(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    return _version_tag_edit(request, org, team, name, index, add=False)


@login_required
@post_only
@legacy_page
def edit_version_description(
    request: HttpRequest, org: str, team: str, name: str, index: int
) -> HttpResponse:
    _, _, legacy_version = _target(request, org, team, name, index)

    form = DescriptionForm(request.POST)

    outcome = _attempt(
        form,
        lambda data: services.edit_description(
            target=legacy_version, text=data["text"], actor=request.user
        ),
    )

    return _respond_on_version(
        request,
        legacy_version,
        form,
        outcome,
        partial="legacy/partials/version_description.html",
        section="version-description",
        success=f"Saved the description of v{index}.",
    )

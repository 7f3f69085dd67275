"""Registry pages, the path resolver, file downloads, and the edits of collections and links.

The edits are in-place changes of aliases, tags and descriptions, creating and deleting
collections, and unlinking versions. Settings, members and activity are in settings_views.

Every view reads through a `visible_to(user)` queryset (the `pages.get_*` lookups), so an
object the user may not see gets the same 404 response as a missing one. Every edit calls one
service function, which checks the permission: PermissionDenied reaches the 403 handler
below, ValidationError and WritePaused are shown next to the form.

An htmx request gets only the partial it swaps in; the same partials make up the full pages,
which every request without JavaScript gets instead (a plain POST ends in a redirect).
"""

from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from apps.registry import files, pages, services
from apps.registry.forms import (
    AliasForm,
    CollectionCreateForm,
    CollectionFilterForm,
    ConfirmNameForm,
    DescriptionForm,
    RemoveAliasForm,
    SearchForm,
    TagForm,
    VersionPageForm,
)
from apps.registry.models import Collection, CollectionLink
from apps.registry.paths import PathError, parse_path, registry_prefix
from apps.registry.resolve import PathNotFound, resolve_registry_path
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

LEGACY_PATH_MESSAGE = (
    "Legacy paths (TEAM/model-registry/NAME:VERSION) are not available. Use the registry "
    "path instead: ORG/{prefix}REGISTRY/COLLECTION:VERSION."
)

HISTORY_PARTIAL = "registry/partials/collection_history.html"
VERSIONS_PARTIAL = "registry/partials/collection_versions.html"


# Reading ------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""

    context = pages.home_context(request.user, query)
    context["search_form"] = form
    if not form.is_valid():
        context["search_error"] = _search_error(form)
    return render_page(
        request, "registry/home.html", "registry/partials/search_results.html", context
    )


def _search_error(form: SearchForm) -> str:
    """Say why the search text was rejected, naming the length limit when it is the cause."""
    limit = form.fields["q"].max_length
    length = len(form.data.get("q", ""))
    if limit is not None and length > limit:
        return (
            f"The search text has {length} characters, more than the limit of {limit}; "
            "shorten it and search again."
        )
    return f"The search text is invalid: {' '.join(form.errors.get('q', []))}"


@login_required
@require_GET
def registry_detail(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = pages.get_registry_with_access(request.user, org, registry)

    form = CollectionFilterForm(request.GET)

    context = pages.registry_context(request.user, registry_obj, form.filters())
    context["filter_form"] = form
    return render_page(
        request,
        "registry/registry_detail.html",
        "registry/partials/collection_list.html",
        context,
    )


@login_required
@require_GET
def collection_detail(
    request: HttpRequest, org: str, registry: str, collection: str
) -> HttpResponse:
    collection_obj = pages.get_collection(request.user, org, registry, collection)

    after, before = VersionPageForm(request.GET).keys()

    context = pages.collection_context(
        request.user,
        collection_obj,
        can_change=collection_obj.user_can_change,
        after=after,
        before=before,
    )
    return render_page(request, "registry/collection_detail.html", VERSIONS_PARTIAL, context)


@login_required
@require_GET
def version_detail(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)

    context = pages.version_context(request.user, link, can_change=link.user_can_change)
    return render(request, "registry/version_detail.html", context)


@login_required
@require_GET
def download_version_file(
    request: HttpRequest, org: str, registry: str, collection: str, index: int, file_id: int
) -> HttpResponse:
    """Send one file of a linked version, to those who may download it (Viewer and above)."""
    link = pages.get_link(request.user, org, registry, collection, index)
    entry = get_object_or_404(link.version.files, pk=file_id)

    files.require_download(request.user, link.version)
    try:
        content = files.open_file(entry)
    except FileNotFoundError:
        return _not_found(
            request,
            f"The file '{entry.path}' of v{index} has not been uploaded yet, so there is "
            f"nothing to download.",
        )

    filename = entry.path.rsplit("/", 1)[-1]
    return FileResponse(content, as_attachment=True, filename=filename)


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "404.html", {"message": message}, status=404)


@login_required
@require_GET
def resolve_path(request: HttpRequest, raw: str) -> HttpResponse:
    """Redirect a full or short artifact path to its version page."""
    # A trailing slash is never part of a path: names cannot contain '/'.
    text = raw[:-1] if raw.endswith("/") else raw
    try:
        path = parse_path(text)
    except PathError as error:
        return _not_found(request, str(error))

    if path.is_legacy:
        return _not_found(request, LEGACY_PATH_MESSAGE.format(prefix=registry_prefix()))

    try:
        link = resolve_registry_path(request.user, path)
    except PathNotFound as error:
        return _not_found(request, str(error))

    return redirect(pages.version_url(pages.with_names(request.user, link)))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 403 handler: the reason as a page, or in the status region for htmx."""
    message = str(exception) or "You do not have permission to do this."
    if getattr(request, "htmx", False):
        response = render(request, STATUS_PARTIAL, {"error": message}, status=403)
        return reswap(retarget(response, "#status"), "outerHTML")
    return render(request, "403.html", {"message": message}, status=403)


# Editing ------------------------------------------------------------------------------------


def _respond_to_collection_edit(
    request: HttpRequest,
    collection: Collection,
    form,
    outcome: Outcome,
    *,
    partial: str,
    section: str,
    success: str,
    row: int | None = None,
) -> HttpResponse:
    """Redirect after a plain POST that worked; otherwise re-render with the outcome."""
    next_url = safe_next(request, default=pages.collection_url(collection))
    if outcome.ok:
        messages.success(request, success)
        if not request.htmx:
            return redirect(next_url)

    # Re-read the collection for the counts and the description as they are now.
    collection = pages.collection_queryset(request.user).get(pk=collection.pk)
    after, before = VersionPageForm(QueryDict(urlsplit(next_url).query)).keys()
    context = pages.collection_context(
        request.user,
        collection,
        can_change=collection.user_can_change,
        after=after,
        before=before,
    )
    if not outcome.ok:
        context.update(failure(form, section, row))

    if request.htmx:
        response = render_fragments(
            request, partial, [HISTORY_PARTIAL, STATUS_PARTIAL], context, status=outcome.status
        )
    else:
        # Without JavaScript a rejected edit shows the page again with the message.
        status = 200 if outcome.status == 422 else outcome.status
        response = render(request, "registry/collection_detail.html", context, status=status)
    return finish(response, outcome)


def _respond_to_version_edit(
    request: HttpRequest,
    link: CollectionLink,
    form,
    outcome: Outcome,
    *,
    partial: str,
    section: str,
    success: str,
) -> HttpResponse:
    """Like _respond_to_collection_edit, for the version page or a collection page row."""
    if request.POST.get("page") == "collection":
        return _respond_to_collection_edit(
            request,
            link.collection,
            form,
            outcome,
            partial=VERSIONS_PARTIAL,
            section="row",
            success=success,
            row=link.index,
        )

    if outcome.ok:
        messages.success(request, success)
        if not request.htmx:
            return redirect(pages.version_url(link))

    # Re-read the link for its aliases, tags and description as they are now.
    link = pages.link_queryset(request.user).get(pk=link.pk)
    context = pages.version_context(request.user, link, can_change=link.user_can_change)
    if not outcome.ok:
        context.update(failure(form, section))

    if request.htmx:
        response = render_fragments(
            request, partial, [STATUS_PARTIAL], context, status=outcome.status
        )
    else:
        status = 200 if outcome.status == 422 else outcome.status
        response = render(request, "registry/version_detail.html", context, status=status)
    return finish(response, outcome)


@login_required
@require_POST
def edit_collection_description(
    request: HttpRequest, org: str, registry: str, collection: str
) -> HttpResponse:
    collection_obj = pages.get_collection(request.user, org, registry, collection)

    form = DescriptionForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.edit_description(
            target=collection_obj, text=data["text"], actor=request.user
        ),
    )

    return _respond_to_collection_edit(
        request,
        collection_obj,
        form,
        outcome,
        partial="registry/partials/collection_description.html",
        section="collection-description",
        success="Saved the description.",
    )


@login_required
@require_POST
def add_collection_tag(
    request: HttpRequest, org: str, registry: str, collection: str
) -> HttpResponse:
    collection_obj = pages.get_collection(request.user, org, registry, collection)

    form = TagForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.add_tag(target=collection_obj, name=data["name"], actor=request.user),
    )

    return _respond_to_collection_edit(
        request,
        collection_obj,
        form,
        outcome,
        partial="registry/partials/collection_tags.html",
        section="collection-tags",
        success=f"Added the tag “{form.cleaned_data.get('name', '')}”.",
    )


@login_required
@require_POST
def remove_collection_tag(
    request: HttpRequest, org: str, registry: str, collection: str
) -> HttpResponse:
    collection_obj = pages.get_collection(request.user, org, registry, collection)

    form = TagForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.remove_tag(
            target=collection_obj, name=data["name"], actor=request.user
        ),
    )

    return _respond_to_collection_edit(
        request,
        collection_obj,
        form,
        outcome,
        partial="registry/partials/collection_tags.html",
        section="collection-tags",
        success=f"Removed the tag “{form.cleaned_data.get('name', '')}”.",
    )


@login_required
@require_POST
def set_version_alias(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)

    form = AliasForm(request.POST)

    outcome = attempt(
        form, lambda data: services.set_alias(link=link, name=data["name"], actor=request.user)
    )

    return _respond_to_version_edit(
        request,
        link,
        form,
        outcome,
        partial="registry/partials/version_aliases.html",
        section="version-aliases",
        success=f"The alias “{form.cleaned_data.get('name', '')}” now points at v{index}.",
    )


@login_required
@require_POST
def remove_version_alias(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)

    form = RemoveAliasForm(request.POST, link=link)

    outcome = attempt(
        form,
        lambda data: services.remove_alias(
            collection=link.collection, name=data["name"], actor=request.user
        ),
    )

    return _respond_to_version_edit(
        request,
        link,
        form,
        outcome,
        partial="registry/partials/version_aliases.html",
        section="version-aliases",
        success=f"Removed the alias “{form.cleaned_data.get('name', '')}” from v{index}.",
    )


@login_required
@require_POST
def add_version_tag(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)

    form = TagForm(request.POST)

    outcome = attempt(
        form, lambda data: services.add_tag(target=link, name=data["name"], actor=request.user)
    )

    return _respond_to_version_edit(
        request,
        link,
        form,
        outcome,
        partial="registry/partials/version_tags.html",
        section="version-tags",
        success=f"Added the tag “{form.cleaned_data.get('name', '')}” to v{index}.",
    )


@login_required
@require_POST
def remove_version_tag(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)

    form = TagForm(request.POST)

    outcome = attempt(
        form, lambda data: services.remove_tag(target=link, name=data["name"], actor=request.user)
    )

    return _respond_to_version_edit(
        request,
        link,
        form,
        outcome,
        partial="registry/partials/version_tags.html",
        section="version-tags",
        success=f"Removed the tag “{form.cleaned_data.get('name', '')}” from v{index}.",
    )


@login_required
@require_POST
def edit_version_description(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)

    form = DescriptionForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.edit_description(target=link, text=data["text"], actor=request.user),
    )

    return _respond_to_version_edit(
        request,
        link,
        form,
        outcome,
        partial="registry/partials/version_description.html",
        section="version-description",
        success=f"Saved the description of v{index}.",
    )


# Creating and deleting collections, unlinking versions --------------------------------------


@login_required
@require_POST
def create_collection(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    registry_obj = pages.get_registry_with_access(request.user, org, registry)
    pages.require_role(registry_obj, Role.MEMBER, "Creating a collection")

    form = CollectionCreateForm(request.POST)

    created: list[Collection] = []
    outcome = attempt(
        form,
        lambda data: created.append(
            services.create_collection(
                registry=registry_obj,
                name=data["name"],
                type=data["type"],
                description=data["description"],
                actor=request.user,
            )
        ),
    )

    if outcome.ok:
        messages.success(request, f"Created the collection “{created[0].name}”.")
        return redirect_to(request, pages.collection_url(created[0]))
    context = pages.registry_context(request.user, registry_obj, {})
    context["filter_form"] = CollectionFilterForm()
    context.update(failure(form, "collection-create"))
    if request.htmx:
        response = render_fragments(
            request,
            "registry/partials/collection_create.html",
            [STATUS_PARTIAL],
            context,
            status=outcome.status,
        )
    else:
        status = 200 if outcome.status == 422 else outcome.status
        response = render(request, "registry/registry_detail.html", context, status=status)
    return finish(response, outcome)


@login_required
@require_POST
def delete_collection(
    request: HttpRequest, org: str, registry: str, collection: str
) -> HttpResponse:
    collection_obj = pages.get_collection(request.user, org, registry, collection)
    if not collection_obj.user_can_change:
        raise pages.denied(collection_obj.registry, Role.MEMBER, "Deleting a collection")

    form = ConfirmNameForm(request.POST)

    outcome = attempt(
        form,
        lambda data: services.delete_collection(
            collection=collection_obj, confirm_name=data["confirm_name"], actor=request.user
        ),
    )

    if outcome.ok:
        messages.success(
            request,
            f"Deleted the collection “{collection_obj.name}”. Its source versions stay in "
            f"their projects.",
        )
        return redirect_to(request, pages.registry_url(collection_obj.registry))
    return _respond_to_collection_edit(
        request,
        collection_obj,
        form,
        outcome,
        partial="registry/partials/collection_delete.html",
        section="collection-delete",
        success="",
    )


@login_required
@require_POST
def unlink_version(
    request: HttpRequest, org: str, registry: str, collection: str, index: int
) -> HttpResponse:
    link = pages.get_link(request.user, org, registry, collection, index)
    if not link.user_can_change:
        raise pages.denied(link.collection.registry, Role.MEMBER, "Unlinking a version")

    form = forms.Form(request.POST)

    outcome = attempt(form, lambda data: services.unlink_version(link=link, actor=request.user))

    if outcome.ok:
        messages.success(
            request,
            f"Unlinked v{index} from “{link.collection.name}”. The source version stays in "
            f"its project, and v{index} will not be used again.",
        )
        return redirect_to(request, pages.collection_url(link.collection))
    return _respond_to_version_edit(
        request,
        link,
        form,
        outcome,
        partial="registry/partials/version_unlink.html",
        section="version-unlink",
        success="",
    )

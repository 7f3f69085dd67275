"""Context of each legacy Model Registry page, read through the legacy gate.

Every page keeps to a fixed number of SQL queries whatever the number of rows. One lookup
query reads the page's object with its registered model, legacy registry, team and
organization through joins, and the user's standing on that registry (team role, registry
admin, support staff) through subqueries. Counts, tags and aliases come as correlated
subqueries on the rows themselves, and lists through keyset pagination.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Case, Count, Exists, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.http import Http404
from django.urls import reverse

from apps.core.lookups import equals_ignoring_case
from apps.legacy.forms import SORT_FIELDS
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyProtectedAlias,
    LegacyRegistry,
    LegacyState,
    LegacyVersion,
    RegisteredModel,
)
from apps.legacy.permissions import role_can_manage_protected, role_can_write
from apps.orgs.models import TeamMembership
from apps.orgs.support import is_support_expression
from apps.registry.models import ArtifactVersion, Collection, CollectionLink, Registry
from apps.registry.pages import json_names, sorted_names
from apps.registry.pagination import Key, keyset_page
from apps.registry.paths import SourcePath, format_legacy_path, format_path

HISTORY_SIZE = 25
# Source versions offered in the "link a version" menu: the team's newest unlinked ones.
LINK_CANDIDATES = 50

ModelTag = RegisteredModel.tags.through
VersionTag = LegacyVersion.tags.through
RegistryAdmin = LegacyRegistry.admins.through


def page_size() -> int:
    return settings.REGISTRY_PAGE_SIZE


class LegacyRegistryHidden(Exception):
    """The team's legacy registry is hidden from its members since the retention window ended."""

    def __init__(self, legacy_registry: LegacyRegistry) -> None:
        super().__init__(f"The legacy registry {legacy_registry.pk} is hidden.")
        self.legacy_registry = legacy_registry


# URLs -----------------------------------------------------------------------------------------


def registry_url(legacy_registry: LegacyRegistry) -> str:
    team = legacy_registry.team
    return reverse("legacy:model_list", kwargs={"org": team.organization.name, "team": team.name})


def model_url(model: RegisteredModel) -> str:
    team = model.legacy_registry.team
    return reverse(
        "legacy:model_detail",
        kwargs={"org": team.organization.name, "team": team.name, "name": model.name},
    )


def version_url(legacy_version: LegacyVersion) -> str:
    model = legacy_version.model
    team = model.legacy_registry.team
    return reverse(
        "legacy:version_detail",
        kwargs={
            "org": team.organization.name,
            "team": team.name,
            "name": model.name,
            "index": legacy_version.index,
        },
    )


def new_registry_url(registry: Registry) -> str:
    return reverse(
        "registry:registry_detail",
        kwargs={"org": registry.organization.name, "registry": registry.name},
    )


def new_collection_url(collection: Collection) -> str:
    registry = collection.registry
    return reverse(
        "registry:collection_detail",
        kwargs={
            "org": registry.organization.name,
            "registry": registry.name,
            "collection": collection.name,
        },
    )


def new_version_url(link: CollectionLink) -> str:
    collection = link.collection
    registry = collection.registry
    return reverse(
        "registry:version_detail",
        kwargs={
            "org": registry.organization.name,
            "registry": registry.name,
            "collection": collection.name,
            "index": link.index,
        },
    )


def with_query(url: str, params: dict) -> str:
    present = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{url}?{urlencode(present)}" if present else url


# Lookups: a hidden object raises the same Http404 as a missing one ---------------------------

REGISTRY_NOT_FOUND = "No legacy Model Registry matches this address."


@dataclass(frozen=True)
class Viewer:
    """The signed-in user's standing on a legacy registry, read by the page's lookup query."""

    team_role: str | None
    is_registry_admin: bool
    is_support: bool
    # Whether the user may see the registry that the legacy registry was migrated to.
    sees_new_registry: bool


def _related(path: str) -> tuple[str, str]:
    """Return the joins of the legacy registry at `path` that every page shows."""
    return (f"{path}team__organization", f"{path}migrated_to__organization")


def _named(org: str, team: str, path: str = "") -> tuple[Exact, Exact]:
    """Return the filters of the legacy registry at `path` by organization and team name."""
    return (
        equals_ignoring_case(f"{path}team__organization__name", org),
        equals_ignoring_case(f"{path}team__name", team),
    )


def _viewer_annotations(user, path: str = "") -> dict:
    """Build the subqueries of Viewer on the legacy registry at `path` ("" on its own rows)."""
    registry = path.removesuffix("__") or "pk"
    role = TeamMembership.objects.filter(team=OuterRef(f"{path}team"), user=user)
    admin = RegistryAdmin.objects.filter(legacyregistry=OuterRef(registry), user=user)
    new_registry = Registry.objects.visible_to(user).filter(pk=OuterRef(f"{path}migrated_to"))
    return {
        "viewer_team_role": Subquery(role.values("role")[:1]),
        "viewer_is_registry_admin": Exists(admin),
        "viewer_is_support": is_support_expression(user),
        "viewer_sees_new_registry": Exists(new_registry),
    }


def _set_viewer(legacy_registry: LegacyRegistry, row) -> None:
    """Keep the Viewer annotations of a lookup row on its legacy registry."""
    legacy_registry.viewer = Viewer(
        team_role=row.viewer_team_role,
        is_registry_admin=row.viewer_is_registry_admin,
        is_support=row.viewer_is_support,
        sees_new_registry=row.viewer_sees_new_registry,
    )


def _require_signed_in(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Http404(REGISTRY_NOT_FOUND)


def _raise_not_found(
    user,
    org: str,
    team: str,
    now: datetime | None,
    *,
    name: str | None = None,
    index: int | None = None,
) -> NoReturn:
    """Raise the error of a lookup that found nothing: Http404, or LegacyRegistryHidden.

    A lookup reads its object and the legacy registry in one query, so a miss does not say
    which part was missing. Reading the legacy registry again distinguishes a hidden registry
    (its team's members are redirected to where it moved) from a missing one. Under a visible legacy
    registry, a miss of the model `name` or of its version `index` gets its own message.
    """
    visible = LegacyRegistry.objects.visible_to(user, now).filter(pk=OuterRef("pk"))
    legacy_registry = (
        LegacyRegistry.objects.of_members(user)
        .select_related(*_related(""))
        .filter(*_named(org, team))
        .annotate(visible=Exists(visible))
        .first()
    )
    if legacy_registry is None:
        raise Http404(REGISTRY_NOT_FOUND)
    if not legacy_registry.visible:
        if legacy_registry.state(now) == LegacyState.HIDDEN:
            raise LegacyRegistryHidden(legacy_registry)
        raise Http404(REGISTRY_NOT_FOUND)
    if name is None:
        raise Http404(REGISTRY_NOT_FOUND)
    models = RegisteredModel.objects.filter(
        equals_ignoring_case("name", name), legacy_registry=legacy_registry
    )
    if index is None or not models.exists():
        raise Http404("No registered model matches this address.")
    raise Http404("No version matches this address.")


def get_legacy_registry(user, org: str, team: str, now: datetime | None = None) -> LegacyRegistry:
    """Return the team's legacy registry, or raise Http404 (LegacyRegistryHidden once hidden).

    LegacyRegistryHidden is raised only to the team's members, who knew the registry, so a
    view can send them on to the registry it was migrated to. Everybody else gets Http404.
    """
    _require_signed_in(user)
    found = (
        LegacyRegistry.objects.visible_to(user, now)
        .select_related(*_related(""))
        .filter(*_named(org, team))
        .annotate(
            **_viewer_annotations(user),
            protected_alias_list=json_names(
                LegacyProtectedAlias.objects, "legacy_registry", "name"
            ),
        )
        .first()
    )
    if found is None:
        _raise_not_found(user, org, team, now)
    _set_viewer(found, found)
    found.protected_alias_names = sorted_names(found.protected_alias_list)
    return found


def get_model(user, org: str, team: str, name: str, now: datetime | None = None) -> RegisteredModel:
    """Return the registered model with its legacy registry, or raise like get_legacy_registry.

    The model, its legacy registry and the Viewer come in one query.
    """
    _require_signed_in(user)
    model = (
        RegisteredModel.objects.visible_to(user, now)
        .select_related(*_related("legacy_registry__"))
        .filter(*_named(org, team, "legacy_registry__"), equals_ignoring_case("name", name))
        .annotate(
            **_viewer_annotations(user, "legacy_registry__"),
            version_count=_version_count(),
            tag_list=json_names(ModelTag.objects, "registeredmodel", "tag__name"),
        )
        .first()
    )
    if model is None:
        _raise_not_found(user, org, team, now, name=name)
    _set_viewer(model.legacy_registry, model)
    model.tag_names = sorted_names(model.tag_list)
    return model


def get_version(
    user, org: str, team: str, name: str, index: int, now: datetime | None = None
) -> LegacyVersion:
    """Return the version with its model and legacy registry, or raise like get_model."""
    _require_signed_in(user)
    legacy_version = _with_labels(
        LegacyVersion.objects.visible_to(user, now)
        .select_related(
            *_related("model__legacy_registry__"),
            "version__artifact__project__team",
            "version__created_by",
            "linked_by",
        )
        .filter(
            *_named(org, team, "model__legacy_registry__"),
            equals_ignoring_case("model__name", name),
        )
        .filter(index=index)
        .annotate(**_viewer_annotations(user, "model__legacy_registry__"))
    ).first()
    if legacy_version is None:
        _raise_not_found(user, org, team, now, name=name, index=index)
    _set_viewer(legacy_version.model.legacy_registry, legacy_version)
    _tidy_labels([legacy_version])
    return legacy_version


def _version_count() -> Coalesce:
    counted = (
        LegacyVersion.objects.filter(model=OuterRef("pk"))
        .order_by()
        .values("model")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted), 0)


def _with_labels(versions: QuerySet) -> QuerySet:
    return versions.annotate(
        alias_list=json_names(LegacyAlias.objects, "version", "name"),
        tag_list=json_names(VersionTag.objects, "legacyversion", "tag__name"),
    )


def _tidy_labels(versions) -> None:
    """Sort the aggregated names, which arrive in no particular order (or None for none)."""
    for legacy_version in versions:
        legacy_version.alias_names = sorted_names(legacy_version.alias_list)
        legacy_version.tag_names = sorted_names(legacy_version.tag_list)


# Where a migrated page now lives ---------------------------------------------------------------


def migrated_collection(user, model: RegisteredModel) -> Collection | None:
    """Return the collection a migrated model became if the user may see it, else None.

    Only a finished migration counts: while the copy runs, `migrated_to` may already be set
    but the legacy registry is not read-only yet.
    """
    if model.legacy_registry.read_only_since is None or model.migrated_to_id is None:
        return None
    return (
        Collection.objects.visible_to(user)
        .select_related("registry__organization")
        .filter(pk=model.migrated_to_id)
        .first()
    )


def migrated_link(user, model: RegisteredModel, index: int) -> CollectionLink | None:
    collection = migrated_collection(user, model)
    if collection is None:
        return None
    link = CollectionLink.objects.filter(collection=collection, index=index).first()
    if link is not None:
        link.collection = collection
    return link


def migrated_registry(user, legacy_registry: LegacyRegistry) -> Registry | None:
    if legacy_registry.migrated_to_id is None:
        return None
    return (
        Registry.objects.visible_to(user)
        .select_related("organization")
        .filter(pk=legacy_registry.migrated_to_id)
        .first()
    )


# Shared by every page ---------------------------------------------------------------------------


def _registry_context(legacy_registry: LegacyRegistry, now: datetime | None) -> dict:
    """Context shared by every page, from a legacy registry that a lookup gave its Viewer."""
    viewer: Viewer = legacy_registry.viewer
    state = legacy_registry.state(now)
    writable = state in (LegacyState.ACTIVE, LegacyState.WRITE_PAUSED)
    can_manage_protected = role_can_manage_protected(
        viewer.team_role, is_registry_admin=viewer.is_registry_admin
    )
    new_registry = None
    if not writable and viewer.sees_new_registry:
        new_registry = legacy_registry.migrated_to
    return {
        "legacy_registry": legacy_registry,
        "team": legacy_registry.team,
        "organization": legacy_registry.team.organization,
        "state": state,
        "read_only": not writable,
        "hidden_at": legacy_registry.hidden_at(),
        "support_view": viewer.is_support and not writable,
        "can_write": writable and role_can_write(viewer.team_role),
        "can_manage_protected": writable and can_manage_protected,
        "new_registry": new_registry,
    }


# Model list ------------------------------------------------------------------------------------


def _cursor_params(prefix: str, key: Key) -> dict:
    value, row_id = key
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return {prefix: text, f"{prefix}_id": row_id}


def model_list_context(
    user, legacy_registry: LegacyRegistry, filters: dict, now: datetime | None = None
) -> dict:
    """Build the legacy registry page: one page of its registered models under the filters."""
    sort = filters.get("sort") or "name"
    fields, descending = SORT_FIELDS[sort]

    models: QuerySet = RegisteredModel.objects.visible_to(user).filter(
        legacy_registry=legacy_registry
    )
    if filters.get("q"):
        models = models.filter(name__icontains=filters["q"])
    if filters.get("tag"):
        models = models.filter(
            Exists(
                ModelTag.objects.filter(
                    registeredmodel=OuterRef("pk"), tag__name__iexact=filters["tag"]
                )
            )
        )
    models = models.annotate(
        version_count=_version_count(),
        tag_list=json_names(ModelTag.objects, "registeredmodel", "tag__name"),
    )

    page = keyset_page(
        models,
        fields=fields,
        descending=descending,
        size=page_size(),
        after=filters.get("after_key"),
        before=filters.get("before_key"),
    )
    for model in page.items:
        model.legacy_registry = legacy_registry
        model.tag_names = sorted_names(model.tag_list)

    base_url = registry_url(legacy_registry)
    kept = {"q": filters.get("q"), "tag": filters.get("tag")}
    kept["sort"] = sort if sort != "name" else None
    context = _registry_context(legacy_registry, now)
    context.update(
        {
            "page": page,
            "sort": sort,
            "current_url": base_url,
            "next_url": with_query(base_url, {**kept, **_cursor_params("after", page.next_key)})
            if page.next_key
            else None,
            "previous_url": with_query(
                base_url, {**kept, **_cursor_params("before", page.previous_key)}
            )
            if page.previous_key
            else None,
            "protected_aliases": legacy_registry.protected_alias_names,
            "legacy_prefix": format_legacy_path(legacy_registry.team.name, ""),
        }
    )
    return context


# Model page ------------------------------------------------------------------------------------


def history(model: RegisteredModel) -> list[LegacyEvent]:
    return list(
        LegacyEvent.objects.filter(model=model)
        .select_related("actor")
        .order_by("-id")[:HISTORY_SIZE]
    )


def link_candidates(user, model: RegisteredModel) -> list[ArtifactVersion]:
    """List the team's newest model versions that the model does not link yet.

    Versions of the artifact named like the model come first, since they are the ones most
    often linked into it.
    """
    return list(
        ArtifactVersion.objects.visible_to(user)
        .filter(
            artifact__project__team=model.legacy_registry.team_id,
            artifact__type="model",
        )
        .exclude(legacy_links__model=model)
        .select_related("artifact__project__team")
        .alias(
            same_name=Case(
                When(equals_ignoring_case("artifact__name", model.name), then=Value(0)),
                default=Value(1),
            )
        )
        .order_by("same_name", "-created_at", "-id")[:LINK_CANDIDATES]
    )


def find_source_version(user, model: RegisteredModel, path: SourcePath) -> ArtifactVersion | None:
    """Find the visible version of the model's organization at a source path.

    A path without a version number means the artifact's newest version. Names compare
    without regard to case, as they do everywhere else in paths.
    """
    candidates = ArtifactVersion.objects.visible_to(user).filter(
        equals_ignoring_case("artifact__project__team__name", path.team),
        equals_ignoring_case("artifact__project__name", path.project),
        equals_ignoring_case("artifact__name", path.artifact),
        artifact__project__team__organization_id=model.legacy_registry.team.organization_id,
    )
    if path.number is not None:
        return candidates.filter(version=path.number).select_related("artifact__project").first()
    return candidates.select_related("artifact__project").order_by("-version").first()


def model_context(
    user,
    model: RegisteredModel,
    *,
    after: Key | None = None,
    before: Key | None = None,
    now: datetime | None = None,
) -> dict:
    """Build the model page: description, tags, one page of versions and recent history."""
    legacy_registry = model.legacy_registry
    versions = _with_labels(
        LegacyVersion.objects.visible_to(user, now)
        .filter(model=model)
        .select_related("version__artifact__project__team", "linked_by")
    )
    page = keyset_page(
        versions, fields=("index",), descending=True, size=page_size(), after=after, before=before
    )
    for legacy_version in page.items:
        legacy_version.model = model
    _tidy_labels(page.items)

    base_url = model_url(model)
    current = {"after": after[0] if after else None, "before": before[0] if before else None}
    context = _registry_context(legacy_registry, now)
    context.update(
        {
            "model": model,
            "page": page,
            "current_url": with_query(base_url, current),
            "next_url": with_query(base_url, {"after": page.next_key[0]})
            if page.next_key
            else None,
            "previous_url": with_query(base_url, {"before": page.previous_key[0]})
            if page.previous_key
            else None,
            "model_path": format_legacy_path(legacy_registry.team.name, model.name),
            "history": history(model),
            "history_size": HISTORY_SIZE,
            "candidates": link_candidates(user, model) if context["can_write"] else [],
            "link_candidate_limit": LINK_CANDIDATES,
        }
    )
    return context


# Version page ----------------------------------------------------------------------------------


def version_context(legacy_version: LegacyVersion, now: datetime | None = None) -> dict:
    """Build the version page from a get_version row: path, source, labels, files, usage."""
    model = legacy_version.model
    legacy_registry = model.legacy_registry
    team = legacy_registry.team.name
    alias_names = legacy_version.alias_names

    context = _registry_context(legacy_registry, now)
    context.update(
        {
            "model": model,
            "legacy_version": legacy_version,
            "version": legacy_version.version,
            "alias_names": alias_names,
            "full_path": format_legacy_path(team, model.name, f"v{legacy_version.index}"),
            "alias_paths": [format_legacy_path(team, model.name, alias) for alias in alias_names],
            "files": list(legacy_version.version.files.all()),
            "current_url": version_url(legacy_version),
        }
    )
    return context


def new_path_of(collection: Collection, version: str | None = None) -> str:
    registry = collection.registry
    return format_path(registry.organization.name, registry.name, collection.name, version)

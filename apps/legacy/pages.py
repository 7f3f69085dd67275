"""Context of each legacy Model Registry page, read through the legacy gate.

Every page keeps to a fixed number of SQL queries whatever the number of rows: related rows
come through joins, counts through correlated subqueries, tags and aliases through one
prefetch query per kind, lists through keyset pagination.
"""

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse

from apps.legacy.forms import SORT_FIELDS
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyRegistry,
    LegacyState,
    LegacyVersion,
    RegisteredModel,
)
from apps.legacy.permissions import can_manage_protected, can_write
from apps.orgs.support import is_support
from apps.registry.models import ArtifactVersion, Collection, CollectionLink, Registry
from apps.registry.pagination import Key, keyset_page
from apps.registry.paths import format_legacy_path, format_path

HISTORY_SIZE = 25
# Source versions offered in the "link a version" menu: the team's newest unlinked ones.
LINK_CANDIDATES = 50

ModelTag = RegisteredModel.tags.through


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


def get_legacy_registry(user, org: str, team: str, now: datetime | None = None) -> LegacyRegistry:
    """Return the team's legacy registry, or raise Http404 (LegacyRegistryHidden once hidden).

    LegacyRegistryHidden is raised only to the team's members, who knew the registry, so a
    view can send them on to the registry it was migrated to. Everybody else gets Http404.
    """
    lookup = {"team__organization__name__iexact": org, "team__name__iexact": team}
    related = ("team__organization", "migrated_to__organization")
    found = (
        LegacyRegistry.objects.visible_to(user, now)
        .select_related(*related)
        .filter(**lookup)
        .first()
    )
    if found is not None:
        return found
    members_only = LegacyRegistry.objects.of_members(user).select_related(*related)
    hidden = members_only.filter(**lookup).first()
    if hidden is not None and hidden.state(now) == LegacyState.HIDDEN:
        raise LegacyRegistryHidden(hidden)
    raise Http404("No legacy Model Registry matches this address.")


def get_model(user, legacy_registry: LegacyRegistry, name: str) -> RegisteredModel:
    model = (
        RegisteredModel.objects.visible_to(user)
        .filter(legacy_registry=legacy_registry, name__iexact=name)
        .annotate(version_count=_version_count())
        .prefetch_related("tags")
        .first()
    )
    if model is None:
        raise Http404("No registered model matches this address.")
    model.legacy_registry = legacy_registry
    return model


def get_version(user, model: RegisteredModel, index: int) -> LegacyVersion:
    legacy_version = (
        LegacyVersion.objects.visible_to(user)
        .filter(model=model, index=index)
        .select_related("version__artifact__project__team", "version__created_by", "linked_by")
        .prefetch_related("tags", _aliases_prefetch())
        .first()
    )
    if legacy_version is None:
        raise Http404("No version matches this address.")
    legacy_version.model = model
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


def _aliases_prefetch() -> Prefetch:
    return Prefetch("aliases", queryset=LegacyAlias.objects.order_by("name"))


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


def _registry_context(user, legacy_registry: LegacyRegistry, now: datetime | None) -> dict:
    state = legacy_registry.state(now)
    writable = state in (LegacyState.ACTIVE, LegacyState.WRITE_PAUSED)
    return {
        "legacy_registry": legacy_registry,
        "team": legacy_registry.team,
        "organization": legacy_registry.team.organization,
        "state": state,
        "read_only": not writable,
        "hidden_at": legacy_registry.hidden_at(),
        "support_view": is_support(user) and not writable,
        "can_write": writable and can_write(user, legacy_registry),
        "can_manage_protected": writable and can_manage_protected(user, legacy_registry),
        "new_registry": migrated_registry(user, legacy_registry) if not writable else None,
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
    models = models.annotate(version_count=_version_count()).prefetch_related("tags")

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

    base_url = registry_url(legacy_registry)
    kept = {"q": filters.get("q"), "tag": filters.get("tag")}
    kept["sort"] = sort if sort != "name" else None
    context = _registry_context(user, legacy_registry, now)
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
            "protected_aliases": list(legacy_registry.protected_aliases.all()),
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
    """List the team's newest model versions that the model does not link yet."""
    return list(
        ArtifactVersion.objects.visible_to(user)
        .filter(
            artifact__project__team=model.legacy_registry.team_id,
            artifact__type="model",
        )
        .exclude(legacy_links__model=model)
        .select_related("artifact__project__team")
        .order_by("-created_at", "-id")[:LINK_CANDIDATES]
    )


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
    versions = (
        LegacyVersion.objects.visible_to(user)
        .filter(model=model)
        .select_related("version__artifact__project__team", "linked_by")
        .prefetch_related("tags", _aliases_prefetch())
    )
    page = keyset_page(
        versions, fields=("index",), descending=True, size=page_size(), after=after, before=before
    )
    for legacy_version in page.items:
        legacy_version.model = model

    base_url = model_url(model)
    current = {"after": after[0] if after else None, "before": before[0] if before else None}
    context = _registry_context(user, legacy_registry, now)
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
        }
    )
    return context


# Version page ----------------------------------------------------------------------------------


def version_context(user, legacy_version: LegacyVersion, now: datetime | None = None) -> dict:
    """Build the version page: path, source, aliases, tags, metadata, files and usage."""
    model = legacy_version.model
    legacy_registry = model.legacy_registry
    team = legacy_registry.team.name
    alias_names = [alias.name for alias in legacy_version.aliases.all()]

    context = _registry_context(user, legacy_registry, now)
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

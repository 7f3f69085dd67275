"""Queries and template context of the registry pages, read through the permission gate.

Every page keeps to a fixed number of SQL queries whatever the number of rows: related rows
come through joins, lists through keyset pagination, and counts, tags and aliases through
correlated subqueries evaluated on the rows of the page only. A collection's version count
is a column of its row (Collection.version_count), so no page counts links.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.shortcuts import get_object_or_404
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Organization, OrgRole
from apps.registry.files import downloadable_versions
from apps.registry.forms import SORT_FIELDS
from apps.registry.models import (
    Alias,
    ArtifactVersion,
    Collection,
    CollectionLink,
    Registry,
    RegistryGroupObjectPermission,
    RegistryUserObjectPermission,
    Star,
)
from apps.registry.pagination import Key, KeysetPage, keyset_page
from apps.registry.paths import format_path
from apps.registry.roles import Role, role_from_codenames

HISTORY_SIZE = 25
SEARCH_LIMIT = 20

CollectionTag = Collection.tags.through
LinkTag = CollectionLink.tags.through


def page_size() -> int:
    return settings.REGISTRY_PAGE_SIZE


# URLs -----------------------------------------------------------------------------------------


def home_url() -> str:
    return reverse("registry:home")


def registry_url(registry: Registry) -> str:
    return reverse(
        "registry:registry_detail",
        kwargs={"org": registry.organization.name, "registry": registry.name},
    )


def registry_page_url(registry: Registry, name: str) -> str:
    """Return the URL of one of the registry's own pages, such as `registry_settings`."""
    return reverse(
        f"registry:{name}",
        kwargs={"org": registry.organization.name, "registry": registry.name},
    )


def collection_url(collection: Collection) -> str:
    registry = collection.registry
    return reverse(
        "registry:collection_detail",
        kwargs={
            "org": registry.organization.name,
            "registry": registry.name,
            "collection": collection.name,
        },
    )


def version_url(link: CollectionLink) -> str:
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


# Lookups: a hidden object raises the same Http404 as a missing one --------------------------


def _count(queryset: QuerySet, outer_field: str) -> Coalesce:
    """Count, in a subquery, the rows of `queryset` whose `outer_field` is the outer row."""
    counted = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        # COUNT(*) needs no column of the row, so PostgreSQL can count from the index on
        # outer_field alone (an index-only scan); COUNT(id) reads every row from the table.
        .annotate(total=Count("*"))
        .values("total")
    )
    return Coalesce(Subquery(counted), 0)


def _version_total() -> Coalesce:
    """Add up, in a subquery, the stored version counts of the outer registry's collections."""
    totals = (
        Collection.objects.filter(registry=OuterRef("pk"))
        .order_by()
        .values("registry")
        .annotate(total=Sum("version_count"))
        .values("total")
    )
    return Coalesce(Subquery(totals), 0)


def _can_change(user, registry_field: str) -> Exists:
    """permissions.can_change as a subquery, so a page spends no query of its own on it."""
    return Exists(Registry.objects.changeable_by(user).filter(pk=OuterRef(registry_field)))


def _registry_named(org: str, name: str, *, prefix: str = "") -> tuple[Exact, Exact]:
    """Filter on the organization's and registry's names, through their LOWER(name) indexes.

    `prefix` is the relation path from the queried model to the registry.
    """
    return (
        equals_ignoring_case(f"{prefix}organization__name", org),
        equals_ignoring_case(f"{prefix}name", name),
    )


def get_registry(user, org: str, name: str) -> Registry:
    queryset = Registry.objects.visible_to(user).select_related("organization")
    return get_object_or_404(queryset.filter(*_registry_named(org, name)))


def registry_access_queryset(user) -> QuerySet:
    """Return the visible registries with the user's permission codenames on each.

    The codenames granted to the user and to their groups come as two JSON lists in the
    same query. Call with_access on a fetched row to read the role from them.
    """
    direct = RegistryUserObjectPermission.objects.filter(user=user)
    through_groups = RegistryGroupObjectPermission.objects.filter(group__user=user)
    return (
        Registry.objects.visible_to(user)
        .select_related("organization", "owner")
        .annotate(
            direct_codenames=json_names(direct, "content_object", "permission__codename"),
            group_codenames=json_names(through_groups, "content_object", "permission__codename"),
            is_starred=Exists(Star.objects.filter(user=user, registry=OuterRef("pk"))),
        )
    )


def with_access(registry: Registry) -> Registry:
    """Set the user's role and what it allows on a row of registry_access_queryset.

    The role is read from the permissions the same way everywhere (role_from_codenames), so
    the page shows the role that the gate enforces.
    """
    direct = registry.direct_codenames or []
    registry.user_role = role_from_codenames([*direct, *(registry.group_codenames or [])])
    role = registry.user_role or Role.RESTRICTED_VIEWER
    registry.user_can_download = role >= Role.VIEWER
    registry.user_can_change = role >= Role.MEMBER
    registry.user_can_administer = role >= Role.ADMIN
    registry.user_is_direct_member = bool(direct)
    return registry


def get_registry_with_access(user, org: str, name: str) -> Registry:
    registry = get_object_or_404(registry_access_queryset(user).filter(*_registry_named(org, name)))
    return with_access(registry)


def user_role(registry: Registry) -> Role:
    """Return the user's effective role on a registry that went through with_access."""
    return registry.user_role or Role.RESTRICTED_VIEWER


def require_role(registry: Registry, role: Role, action: str) -> None:
    """Raise PermissionDenied unless the user's role (user_role) is `role` or higher.

    Pages check this before they validate a form, so a person who may not do the action
    learns which role it needs rather than what was wrong with the input. The service that
    the page then calls checks the permission again, inside its transaction.
    """
    if user_role(registry) < role:
        raise denied(registry, role, action)


def denied(registry: Registry, role: Role, action: str) -> PermissionDenied:
    """Build the 403 error of an action that needs `role`, in the services' wording."""
    return PermissionDenied(
        f"{action} in the registry '{registry.name}' needs the {role.label} role; ask one of "
        f"its admins for it."
    )


def collection_queryset(user) -> QuerySet:
    collections = (
        Collection.objects.visible_to(user)
        .select_related("registry__organization")
        .annotate(user_can_change=_can_change(user, "registry"))
    )
    return _with_collection_tags(collections)


def get_collection(user, org: str, registry: str, name: str) -> Collection:
    return get_object_or_404(
        collection_queryset(user).filter(
            *_registry_named(org, registry, prefix="registry__"),
            equals_ignoring_case("name", name),
        )
    )


def link_queryset(user) -> QuerySet:
    links = (
        CollectionLink.objects.visible_to(user)
        .select_related(
            "collection__registry__organization",
            "version__artifact__project__team",
            "version__produced_by__project__team",
            "version__created_by",
            "linked_by",
        )
        .annotate(user_can_change=_can_change(user, "collection__registry"))
    )
    return _with_link_labels(links)


def get_link(user, org: str, registry: str, collection: str, index: int) -> CollectionLink:
    return get_object_or_404(
        link_queryset(user).filter(
            *_registry_named(org, registry, prefix="collection__registry__"),
            equals_ignoring_case("collection__name", collection),
            index=index,
        )
    )


def with_names(user, link: CollectionLink) -> CollectionLink:
    """Fetch the link again with the collection, registry and organization of its URL."""
    return (
        CollectionLink.objects.visible_to(user)
        .select_related("collection__registry__organization")
        .get(pk=link.pk)
    )


# Tags and aliases as JSON lists on the rows themselves --------------------------------------


class JSONList(Aggregate):
    """The group's values as a JSON array (json_group_array on SQLite, jsonb_agg on PostgreSQL)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # jsonb rather than json: Django reads jsonb as text and decodes it in JSONField.
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def json_names(queryset: QuerySet, outer_field: str, name_field: str) -> Subquery:
    """Collect, in a subquery, the `name_field` values of the rows of the outer row."""
    names = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(names=JSONList(name_field))
        .values("names")
    )
    return Subquery(names, output_field=JSONField())


def _with_collection_tags(collections: QuerySet) -> QuerySet:
    return collections.annotate(
        tag_list=json_names(CollectionTag.objects, "collection", "tag__name")
    )


def _with_link_labels(links: QuerySet) -> QuerySet:
    return links.annotate(
        alias_list=json_names(Alias.objects, "link", "name"),
        tag_list=json_names(LinkTag.objects, "collectionlink", "tag__name"),
    )


def sorted_names(names: list[str] | None) -> list[str]:
    return sorted(names or [], key=str.casefold)


def _tidy_labels(*, collections=(), links=()) -> None:
    """Sort the aggregated names, which arrive in no particular order (or None for none)."""
    for collection in collections:
        collection.tag_names = sorted_names(collection.tag_list)
    for link in links:
        link.alias_names = sorted_names(link.alias_list)
        link.tag_names = sorted_names(link.tag_list)


# Registry home ------------------------------------------------------------------------------


@dataclass
class SearchResults:
    query: str
    registries: list[Registry]
    collections: list[Collection]
    links: list[CollectionLink]

    @property
    def is_empty(self) -> bool:
        return not (self.registries or self.collections or self.links)


def visible_registries(user) -> list[Registry]:
    """List the registries the user may see: core first, then starred, then recently updated."""
    queryset = (
        Registry.objects.visible_to(user)
        .select_related("organization")
        .annotate(
            collection_count=_count(Collection.objects, "registry"),
            version_count=_version_total(),
            is_starred=Exists(Star.objects.filter(user=user, registry=OuterRef("pk"))),
        )
        .order_by("-is_core", "-is_starred", "-updated_at", "pk")
    )
    return list(queryset)


def search(user, query: str, registries: list[Registry]) -> SearchResults:
    """Find registries, collections and linked versions whose names, tags or aliases match."""
    needle = query.casefold()
    # The visible registries are already loaded; matching them in Python also folds case
    # beyond ASCII, which SQLite's LIKE does not.
    matched_registries = [registry for registry in registries if needle in registry.name.casefold()]

    tag_matches = CollectionTag.objects.filter(
        collection=OuterRef("pk"), tag__name__icontains=query
    )
    collections = list(
        _with_collection_tags(Collection.objects.visible_to(user))
        .filter(Q(name__icontains=query) | Exists(tag_matches))
        .select_related("registry__organization")
        .order_by("name", "pk")[:SEARCH_LIMIT]
    )

    alias_matches = Alias.objects.filter(link=OuterRef("pk"), name__icontains=query)
    link_tag_matches = LinkTag.objects.filter(
        collectionlink=OuterRef("pk"), tag__name__icontains=query
    )
    links = list(
        _with_link_labels(CollectionLink.objects.visible_to(user))
        .filter(Exists(alias_matches) | Exists(link_tag_matches))
        .select_related("collection__registry__organization")
        .order_by("collection__name", "collection_id", "-index")[:SEARCH_LIMIT]
    )

    _tidy_labels(collections=collections, links=links)
    return SearchResults(
        query=query, registries=matched_registries, collections=collections, links=links
    )


def creatable_organizations(user) -> list[Organization]:
    """List the organizations in which the user may create registries (org admins and members)."""
    return list(
        Organization.objects.filter(
            memberships__user=user, memberships__role__in=[OrgRole.ADMIN, OrgRole.MEMBER]
        ).order_by("name")
    )


def home_context(user, query: str) -> dict:
    registries = visible_registries(user)
    organizations = {registry.organization_id: registry.organization for registry in registries}
    only_organization = next(iter(organizations.values())) if len(organizations) == 1 else None
    return {
        "registries": registries,
        "organization": only_organization,
        "creatable_organizations": creatable_organizations(user),
        "results": search(user, query, registries) if query else None,
        "search_limit": SEARCH_LIMIT,
    }


# Registry page ------------------------------------------------------------------------------


def _cursor_params(prefix: str, key: Key) -> dict:
    value, row_id = key
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return {prefix: text, f"{prefix}_id": row_id}


def registry_context(user, registry: Registry, filters: dict) -> dict:
    """Build the registry page: one page of collections under the given filters and sort."""
    sort = filters.get("sort") or "name"
    fields, descending = SORT_FIELDS[sort]

    collections = Collection.objects.visible_to(user).filter(registry=registry)
    if filters.get("q"):
        collections = collections.filter(name__icontains=filters["q"])
    if filters.get("type"):
        collections = collections.filter(type=filters["type"])
    if filters.get("tag"):
        collections = collections.filter(
            Exists(
                CollectionTag.objects.filter(
                    collection=OuterRef("pk"), tag__name__iexact=filters["tag"]
                )
            )
        )
    collections = _with_collection_tags(collections)

    page = keyset_page(
        collections,
        fields=fields,
        descending=descending,
        size=page_size(),
        after=filters.get("after_key"),
        before=filters.get("before_key"),
    )
    _tidy_labels(collections=page.items)

    base_url = registry_url(registry)
    filter_params = {name: filters.get(name) for name in ("q", "type", "tag")}
    filter_params["sort"] = sort if sort != "name" else None
    next_url = previous_url = None
    if page.next_key:
        next_url = with_query(base_url, {**filter_params, **_cursor_params("after", page.next_key)})
    if page.previous_key:
        previous_params = _cursor_params("before", page.previous_key)
        previous_url = with_query(base_url, {**filter_params, **previous_params})
    return {
        "registry": registry,
        "organization": registry.organization,
        "page": page,
        "sort": sort,
        "next_url": next_url,
        "previous_url": previous_url,
        "link_target": format_path(registry.organization.name, registry.name, ""),
        "link_type": registry.accepted_types[0] if registry.accepted_types else "model",
        "role": user_role(registry),
    }


# Collection page ----------------------------------------------------------------------------


def version_page(user, collection: Collection, *, after: Key | None, before: Key | None):
    links = (
        CollectionLink.objects.visible_to(user)
        .filter(collection=collection)
        .select_related("version__artifact__project__team", "linked_by")
    )
    return keyset_page(
        _with_link_labels(links),
        fields=("index",),
        descending=True,
        size=page_size(),
        after=after,
        before=before,
    )


def collection_history(collection: Collection) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(registry_id=collection.registry_id, collection_id=collection.pk)
        .select_related("actor")
        .order_by("-id")[:HISTORY_SIZE]
    )


def collection_context(
    user,
    collection: Collection,
    *,
    can_change: bool,
    after: Key | None = None,
    before: Key | None = None,
) -> dict:
    """Build the collection page: tags, one page of versions and the recent history."""
    page: KeysetPage = version_page(user, collection, after=after, before=before)
    for link in page.items:
        link.collection = collection
    _tidy_labels(collections=[collection], links=page.items)

    base_url = collection_url(collection)
    current = {"after": after[0] if after else None, "before": before[0] if before else None}
    return {
        "collection": collection,
        "registry": collection.registry,
        "organization": collection.registry.organization,
        "can_change": can_change,
        "page": page,
        "current_url": with_query(base_url, current),
        "next_url": with_query(base_url, {"after": page.next_key[0]}) if page.next_key else None,
        "previous_url": with_query(base_url, {"before": page.previous_key[0]})
        if page.previous_key
        else None,
        "collection_path": format_path(
            collection.registry.organization.name, collection.registry.name, collection.name
        ),
        "history": collection_history(collection),
        "history_size": HISTORY_SIZE,
    }


# Version page -------------------------------------------------------------------------------


def version_context(user, link: CollectionLink, *, can_change: bool) -> dict:
    """Build the version page: path, labels, source version, metadata, files and lineage."""
    collection = link.collection
    registry = collection.registry
    organization = registry.organization
    version = link.version
    _tidy_labels(links=[link])

    producer = version.produced_by
    producer_inputs = []
    if producer is not None:
        producer_inputs = list(
            ArtifactVersion.objects.visible_to(user)
            .filter(used_by=producer)
            .select_related("artifact__project__team")
            .order_by("artifact__name", "version")
        )
    # Only runs of the user's own organizations are listed, so another organization's run
    # that used this version is not revealed.
    consumers = list(
        version.used_by.filter(project__team__organization__memberships__user=user)
        .select_related("project__team")
        .order_by("created_at", "pk")
    )

    full_path = format_path(organization.name, registry.name, collection.name, f"v{link.index}")
    # The rule of the download itself: a Viewer of a registry the version is linked into,
    # or a member of the team that logged it.
    can_download = downloadable_versions(user).filter(pk=version.pk).exists()
    return {
        "link": link,
        "version": version,
        "collection": collection,
        "registry": registry,
        "organization": organization,
        "can_change": can_change,
        "can_download": can_download,
        "full_path": full_path,
        "alias_paths": [
            format_path(organization.name, registry.name, collection.name, alias)
            for alias in link.alias_names
        ],
        "files": list(version.files.all()),
        "producer": producer,
        "producer_inputs": producer_inputs,
        "consumers": consumers,
    }

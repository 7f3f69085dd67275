"""Registry, collection and version searches of an organization, with their filters.

The allow-lists below name every field a filter may use, per target, in the names the SDK
sends (see apps.graphql_api.filters for the operators). Each search starts from the
`visible_to(user)` gate.
"""

from django.db.models import Prefetch
from graphql import GraphQLError

from apps.graphql_api.filters import (
    FilterField,
    FilterTranslator,
    Kind,
    id_converter,
    version_index,
)
from apps.graphql_api.ids import ARTIFACT, PORTFOLIO, REGISTRY_PROJECT
from apps.graphql_api.lookups import LINK_RELATED, registries_of
from apps.legacy.models import LegacyVersion, RegisteredModel
from apps.registry.models import (
    ArtifactVersion,
    Collection,
    CollectionLink,
    ManifestEntry,
    Registry,
)

REGISTRY_FILTER = FilterTranslator(
    "registries",
    Registry,
    {
        "id": FilterField("pk", Kind.INT, convert=id_converter(REGISTRY_PROJECT)),
        # The registry's path name, `wandb-registry-NAME`, annotated by registries_of().
        "name": FilterField("prefixed_name", Kind.TEXT),
        "entity_id": FilterField("organization_id", Kind.INT),
        "description": FilterField("description", Kind.TEXT),
        "created_at": FilterField("created_at", Kind.DATETIME),
        "updated_at": FilterField("updated_at", Kind.DATETIME),
    },
)

_collection_id = FilterField("pk", Kind.INT, convert=id_converter(PORTFOLIO))
COLLECTION_FILTER = FilterTranslator(
    "collections",
    Collection,
    {
        "id": _collection_id,
        "collection_id": _collection_id,
        "artifact_collection_id": _collection_id,
        "name": FilterField("name", Kind.TEXT),
        "tag": FilterField("tags__name", Kind.TEXT, many=True),
        "description": FilterField("description", Kind.TEXT),
        "created_at": FilterField("created_at", Kind.DATETIME),
        "updated_at": FilterField("updated_at", Kind.DATETIME),
    },
)

# Versions are immutable, so a version's created_at is also its updated_at.
_version_fields = {
    "id": FilterField("version_id", Kind.INT, convert=id_converter(ARTIFACT)),
    "version": FilterField("index", Kind.INT, convert=version_index),
    "alias": FilterField("aliases__name", Kind.TEXT, many=True),
    "tag": FilterField("tags__name", Kind.TEXT, many=True),
    "metadata": FilterField("version__metadata", Kind.JSON),
    "created_at": FilterField("version__created_at", Kind.DATETIME),
    "updated_at": FilterField("version__created_at", Kind.DATETIME),
    "state": FilterField("pk", Kind.STATE),
}
LINK_FILTER = FilterTranslator("versions", CollectionLink, _version_fields)
LEGACY_VERSION_FILTER = FilterTranslator("versions", LegacyVersion, _version_fields)
SEQUENCE_VERSION_FILTER = FilterTranslator(
    "versions",
    ArtifactVersion,
    {
        "id": FilterField("pk", Kind.INT, convert=id_converter(ARTIFACT)),
        "version": FilterField("version", Kind.INT, convert=version_index),
        "metadata": FilterField("metadata", Kind.JSON),
        "created_at": FilterField("created_at", Kind.DATETIME),
        "updated_at": FilterField("created_at", Kind.DATETIME),
        "state": FilterField("pk", Kind.STATE),
    },
)

# `order` values: a field, optionally prefixed by "-" (descending) or "+".
REGISTRY_ORDER = {"name": "name", "created_at": "created_at", "updated_at": "updated_at"}
COLLECTION_ORDER = REGISTRY_ORDER
VERSION_ORDER = {
    "created_at": "version__created_at",
    "updated_at": "version__created_at",
    "linked_at": "linked_at",
    "version": "index",
}
SEQUENCE_ORDER = {"created_at": "created_at", "updated_at": "created_at", "version": "version"}


def ordering(order: str | None, allowed: dict[str, str], default: list[str]) -> list[str]:
    """ORM ordering for an `order` argument; the primary key breaks ties."""
    if not order:
        return default
    descending = order.startswith("-")
    name = order.lstrip("+-")
    # The SDK and W&B's web app write some fields in camelCase ("createdAt").
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    field = allowed.get(snake)
    if field is None:
        raise GraphQLError(
            f"Ordering by '{name}' is not supported; use one of: {', '.join(sorted(allowed))}, "
            f"optionally prefixed with '-'."
        )
    return [f"-{field}", "-pk"] if descending else [field, "pk"]


def registries(user, organization, *, filters=None, order: str | None = None):
    chosen = REGISTRY_FILTER.apply(registries_of(user, organization), filters)
    return chosen.order_by(*ordering(order, REGISTRY_ORDER, ["name", "pk"]))


def collections(user, organization, *, registry_filters=None, filters=None, order=None):
    chosen = registries(user, organization, filters=registry_filters)
    found = COLLECTION_FILTER.apply(
        Collection.objects.visible_to(user).filter(registry__in=chosen.values("pk")), filters
    )
    return (
        found.select_related("registry__organization")
        .prefetch_related("tags")
        .order_by(*ordering(order, COLLECTION_ORDER, ["registry__name", "name", "pk"]))
    )


def links(
    user,
    organization,
    *,
    registry_filters=None,
    collection_filters=None,
    filters=None,
    order=None,
):
    chosen = collections(
        user, organization, registry_filters=registry_filters, filters=collection_filters
    )
    found = LINK_FILTER.apply(
        CollectionLink.objects.visible_to(user).filter(collection__in=chosen.values("pk")),
        filters,
    )
    return with_link_rows(
        found.order_by(*ordering(order, VERSION_ORDER, ["collection__name", "-index", "pk"]))
    )


def with_link_rows(queryset):
    """Add the related rows that responses show, fetched in a fixed number of queries."""
    return queryset.select_related(*LINK_RELATED).prefetch_related(
        "aliases",
        "tags",
        Prefetch("version__files", queryset=ManifestEntry.objects.order_by("path")),
    )


def versions_of(user, collection, *, filters=None, order=None):
    """List the memberships of one collection, newest index first unless `order` is given."""
    if isinstance(collection, Collection):
        links = LINK_FILTER.apply(
            CollectionLink.objects.visible_to(user).filter(collection=collection), filters
        )
        return with_link_rows(links.order_by(*ordering(order, VERSION_ORDER, ["-index", "pk"])))
    if isinstance(collection, RegisteredModel):
        legacy = LEGACY_VERSION_FILTER.apply(
            LegacyVersion.objects.visible_to(user).filter(model=collection), filters
        )
        return (
            legacy.select_related(
                "model__legacy_registry__team__organization",
                "version__artifact__project__team__organization",
            )
            .prefetch_related("aliases", "tags", "version__files")
            .order_by(*ordering(order, VERSION_ORDER, ["-index", "pk"]))
        )
    versions = SEQUENCE_VERSION_FILTER.apply(
        ArtifactVersion.objects.visible_to(user).filter(artifact=collection), filters
    )
    return (
        versions.select_related("artifact__project__team__organization")
        .prefetch_related("files")
        .order_by(*ordering(order, SEQUENCE_ORDER, ["-version", "pk"]))
    )

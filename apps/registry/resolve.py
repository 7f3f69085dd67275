"""Find the link an ArtifactPath names, through the permission gate."""

from django.db.models import Subquery
from django.http import Http404

from apps.core.lookups import equals_ignoring_case
from apps.orgs.models import Organization
from apps.registry.models import Alias, Collection, CollectionLink, Registry
from apps.registry.paths import ArtifactPath


class PathNotFound(Http404):
    """A part of a path names nothing the user may see; the message names that part."""


def organization_for(user, name: str | None) -> Organization:
    """Return the organization a path names, or the user's only one for a short path."""
    organizations = Organization.objects.filter(memberships__user=user)
    if name is not None:
        organization = organizations.filter(equals_ignoring_case("name", name)).first()
        if organization is None:
            raise PathNotFound(f"The organization '{name}' was not found.")
        return organization
    found = list(organizations[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise PathNotFound("You belong to no organization, so a short path names nothing.")
    raise PathNotFound(
        "You belong to several organizations; put the organization at the start of the path."
    )


def resolve_registry_path(user, path: ArtifactPath) -> CollectionLink:
    organization = organization_for(user, path.organization)
    registry = (
        Registry.objects.visible_to(user)
        .filter(equals_ignoring_case("name", path.registry), organization=organization)
        .first()
    )
    if registry is None:
        raise PathNotFound(f"The registry '{path.registry}' was not found in '{organization}'.")
    collection = (
        Collection.objects.visible_to(user)
        .filter(equals_ignoring_case("name", path.collection), registry=registry)
        .first()
    )
    if collection is None:
        raise PathNotFound(
            f"The collection '{path.collection}' was not found in the registry '{registry}'."
        )
    # The related rows that every caller shows come in the same query.
    links = CollectionLink.objects.filter(collection=collection).select_related(
        "collection__registry__organization", "version__artifact__project__team", "linked_by"
    )
    if path.index is not None:
        link = links.filter(index=path.index).first()
    else:
        # The alias is found on its own, through the (collection, LOWER(name)) index. Joined
        # to the links, PostgreSQL 15 walked the collection's links in id order instead and
        # probed each for the alias, 7 ms under EXPLAIN ANALYZE for the 100,000 versions of
        # bench/api.py's large collection (0.05 ms this way).
        alias = (
            Alias.objects.filter(equals_ignoring_case("name", path.version), collection=collection)
            .order_by()
            .values("link_id")
        )
        link = links.filter(pk=Subquery(alias[:1])).first()
    if link is None:
        raise PathNotFound(
            f"The version '{path.version}' was not found in the collection '{collection}'."
        )
    return link

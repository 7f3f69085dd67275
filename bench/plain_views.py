"""Plain Django views that list the same rows as the registry pages and the API, for comparison.

Each reads through the same `visible_to(user)` gate and with the usual select_related and
prefetch_related, then renders a bare template or a JsonResponse: no base layout, notices,
history, forms, serializers, filters or throttles. The HTML views take the session's user and
the JSON views the same `Authorization: Bearer KEY` as the API.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template import engines

from apps.core.lookups import equals_ignoring_case
from apps.orgs.services import authenticate_api_key
from apps.registry.models import Collection, CollectionLink, Registry
from apps.registry.paths import PathError, format_path, parse_path
from apps.registry.resolve import PathNotFound, resolve_registry_path

API_PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]

REGISTRY_TEMPLATE = engines["django"].from_string(
    """<!doctype html>
<title>{{ registry.name }}</title>
<h1>{{ registry.name }}</h1>
<table>
{% for collection in collections %}<tr>
<td><a href="{% url 'registry:collection_detail' org=registry.organization.name registry=registry.name collection=collection.name %}">{{ collection.name }}</a></td>
<td>{{ collection.type }}</td>
<td>{% for tag in collection.tags.all %}{{ tag.name }} {% endfor %}</td>
<td>{{ collection.version_count }}</td>
<td>{{ collection.updated_at }}</td>
<td>{{ collection.created_at }}</td>
</tr>{% endfor %}
</table>
{% if has_next %}<a href="?after={{ collections|last }}" rel="next">Next</a>{% endif %}
"""  # noqa: E501
)

COLLECTION_TEMPLATE = engines["django"].from_string(
    """<!doctype html>
<title>{{ collection.name }}</title>
<h1>{{ collection.name }}</h1>
<table>
{% for link in links %}<tr>
<td><a href="{% url 'registry:version_detail' org=registry.organization.name registry=registry.name collection=collection.name index=link.index %}">v{{ link.index }}</a></td>
<td>{% for alias in link.aliases.all %}{{ alias.name }} {% endfor %}</td>
<td>{% for tag in link.tags.all %}{{ tag.name }} {% endfor %}</td>
<td>{{ link.version.source_path }}</td>
<td>{{ link.linked_by.username|default:"" }}</td>
<td>{{ link.linked_at }}</td>
</tr>{% endfor %}
</table>
{% if next_after is not None %}<a href="?after={{ next_after }}" rel="next">Older</a>{% endif %}
"""  # noqa: E501
)


def _page_size() -> int:
    return settings.REGISTRY_PAGE_SIZE


def _collection_named(org: str, registry: str, collection: str) -> list:
    """Filter on the three names of a collection's URL, as the site does, through the indexes."""
    return [
        equals_ignoring_case("registry__organization__name", org),
        equals_ignoring_case("registry__name", registry),
        equals_ignoring_case("name", collection),
    ]


def _after(request: HttpRequest) -> int | None:
    try:
        return int(request.GET["after"])
    except (KeyError, ValueError):
        return None


# HTML ------------------------------------------------------------------------------------------


@login_required
def registry_page(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Render the first page of a registry's collections by name, with tags and version counts."""
    registry_obj = get_object_or_404(
        Registry.objects.visible_to(request.user)
        .select_related("organization")
        .filter(
            equals_ignoring_case("organization__name", org), equals_ignoring_case("name", registry)
        )
    )
    collections = list(
        Collection.objects.visible_to(request.user)
        .filter(registry=registry_obj)
        .prefetch_related("tags")
        .order_by("name", "id")[: _page_size() + 1]
    )
    has_next = len(collections) > _page_size()
    collections = collections[: _page_size()]

    context = {"registry": registry_obj, "collections": collections, "has_next": has_next}
    return HttpResponse(REGISTRY_TEMPLATE.render(context, request))


@login_required
def collection_page(request: HttpRequest, org: str, registry: str, collection: str) -> HttpResponse:
    """Render one page of a collection's links, newest index first, below `?after=INDEX`."""
    collection_obj = get_object_or_404(
        Collection.objects.visible_to(request.user)
        .select_related("registry__organization")
        .filter(*_collection_named(org, registry, collection))
    )
    links = (
        CollectionLink.objects.visible_to(request.user)
        .filter(collection=collection_obj)
        .select_related("version__artifact__project__team", "linked_by")
        .prefetch_related("aliases", "tags")
        .order_by("-index")
    )
    after = _after(request)
    if after is not None:
        links = links.filter(index__lt=after)
    rows = list(links[: _page_size() + 1])
    page = rows[: _page_size()]
    next_after = page[-1].index if len(rows) > _page_size() else None

    context = {
        "collection": collection_obj,
        "registry": collection_obj.registry,
        "links": page,
        "next_after": next_after,
    }
    return HttpResponse(COLLECTION_TEMPLATE.render(context, request))


# JSON ------------------------------------------------------------------------------------------


def _bearer_user(request: HttpRequest):
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    key = authenticate_api_key(raw) if scheme.lower() == "bearer" else None
    return key.user if key is not None else None


def _unauthorized() -> JsonResponse:
    return JsonResponse({"error": "The API key is invalid or revoked."}, status=401)


def _link_json(link: CollectionLink, collection: Collection) -> dict:
    """Return the fields of the API's LinkSerializer, built by hand."""
    registry = collection.registry
    version = link.version
    return {
        "index": link.index,
        "version": f"v{link.index}",
        "path": format_path(
            registry.organization.name, registry.name, collection.name, f"v{link.index}"
        ),
        "aliases": [alias.name for alias in link.aliases.all()],
        "tags": [tag.name for tag in link.tags.all()],
        "description": link.description,
        "source": {
            "id": version.pk,
            "path": version.source_path,
            "type": version.artifact.type,
            "digest": version.digest,
            "created_at": version.created_at.isoformat(),
        },
        "linked_by": link.linked_by.username if link.linked_by else None,
        "linked_at": link.linked_at.isoformat(),
    }


def link_list(request: HttpRequest, org: str, registry: str, collection: str) -> HttpResponse:
    """Return one page of a collection's links, newest first like the API, below `?after=ID`."""
    user = _bearer_user(request)
    if user is None:
        return _unauthorized()
    collection_obj = (
        Collection.objects.visible_to(user)
        .select_related("registry__organization")
        .filter(*_collection_named(org, registry, collection))
        .first()
    )
    if collection_obj is None:
        return JsonResponse({"error": f"The collection '{collection}' was not found."}, status=404)

    links = (
        CollectionLink.objects.visible_to(user)
        .filter(collection=collection_obj)
        .select_related("version__artifact__project__team", "linked_by")
        .prefetch_related("aliases", "tags")
        .order_by("-id")
    )
    after = _after(request)
    if after is not None:
        links = links.filter(id__lt=after)
    rows = list(links[: API_PAGE_SIZE + 1])
    page = rows[:API_PAGE_SIZE]
    next_url = f"{request.path}?after={page[-1].pk}" if len(rows) > API_PAGE_SIZE else None
    return JsonResponse(
        {"next": next_url, "results": [_link_json(link, collection_obj) for link in page]}
    )


def resolve(request: HttpRequest) -> HttpResponse:
    """Return the link that `?path=` names, found by the same resolver as the API uses."""
    user = _bearer_user(request)
    if user is None:
        return _unauthorized()
    text = request.GET.get("path", "")
    try:
        path = parse_path(text)
        if path.is_legacy:
            raise Http404("Legacy paths are not resolved here.")
        link = resolve_registry_path(user, path)
    except PathError as error:
        return JsonResponse({"error": str(error)}, status=400)
    except (PathNotFound, Http404) as error:
        return JsonResponse({"error": str(error)}, status=404)

    prefetch_related_objects([link], "aliases", "tags")
    collection = link.collection
    body = _link_json(link, collection)
    body["requested_path"] = text
    body["organization"] = collection.registry.organization.name
    body["registry"] = collection.registry.name
    body["collection"] = collection.name
    return JsonResponse(body)

"""Registry page: collections filtered, sorted and keyset-paginated, and the link snippet."""

import html
import re
from urllib.parse import parse_qs, urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from apps.registry.models import Visibility
from tests.conftest import log_version
from tests.registry.conftest import HTMX, REGISTRY_URL


def collection_names(body: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]*/collections/[^"]+/">([^<]+)</a></th>', body)


def link_href(body: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" hx-get="[^"]+"[^>]*rel="{rel}"', body)
    return match.group(1).replace("&amp;", "&") if match else None


def test_registry_page_lists_collections(member_client, linked):
    response = member_client.get(REGISTRY_URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>model</h1>" in body
    assert collection_names(body) == ["fraud-detector"]
    assert '<td class="numeric">3</td>' in body
    assert "Core registry" in body


def test_registry_page_shows_link_snippet(member_client, linked):
    body = html.unescape(member_client.get(REGISTRY_URL).content.decode())

    assert "run.link_artifact(" in body
    assert 'target_path="acme/wandb-registry-model/" + collection' in body
    assert 'type="model"' in body


def test_registry_lookup_ignores_case(member_client, linked):
    body = member_client.get("/orgs/ACME/registries/Model/").content.decode()

    assert "<h1>model</h1>" in body
    assert collection_names(body) == ["fraud-detector"]


def test_registry_name_with_space_and_unicode(member_client, org, org_admin):
    services.create_registry(
        organization=org,
        name="Modèles de risque",
        visibility=Visibility.ORGANIZATION,
        accepted_types=["model"],
        actor=org_admin,
    )

    home = member_client.get("/").content.decode()
    response = member_client.get("/orgs/acme/registries/Mod%C3%A8les%20de%20risque/")

    assert 'href="/orgs/acme/registries/Mod%C3%A8les%20de%20risque/"' in home
    assert response.status_code == 200
    assert "<h1>Modèles de risque</h1>" in response.content.decode()


def test_filter_by_text_type_and_tag(member_client, make_collections, project, member):
    make_collections(6, project)

    by_text = member_client.get(REGISTRY_URL, {"q": "00"}).content.decode()
    by_tag = member_client.get(REGISTRY_URL, {"tag": "GROUP-1"}).content.decode()
    by_type = member_client.get(REGISTRY_URL, {"type": "dataset"}).content.decode()

    assert collection_names(by_text) == [f"bulk-00{n}" for n in range(6)]
    assert collection_names(by_tag) == ["bulk-001", "bulk-004"]
    assert collection_names(by_type) == []
    assert "No collection matches these filters." in by_type


def test_empty_registry_says_none_yet(member_client, viewer_client, model_registry):
    as_member = member_client.get(REGISTRY_URL).content.decode()
    as_viewer = viewer_client.get(REGISTRY_URL, **HTMX).content.decode()

    assert "No collection yet. Create one with the New collection form" in as_member
    assert "matches these filters" not in as_member
    assert "No collection yet.</p>" in as_viewer


def test_sort_by_last_updated(member_client, make_collections, project, member):
    first, _second, _third = make_collections(3, project)
    version = log_version(project, member, name="bulk-artifact-000")
    services.link_version(collection=first, version=version, actor=member)

    body = member_client.get(REGISTRY_URL, {"sort": "updated"}).content.decode()

    assert collection_names(body) == ["bulk-000", "bulk-002", "bulk-001"]
    assert '<option value="updated" selected>Last updated</option>' in body


def test_sort_by_created_newest_first(member_client, make_collections, project):
    make_collections(3, project)

    body = member_client.get(REGISTRY_URL, {"sort": "created"}).content.decode()

    assert collection_names(body) == ["bulk-002", "bulk-001", "bulk-000"]


def test_keyset_pages_walk_forward_and_back(member_client, make_collections, project, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    make_collections(5, project)

    first = member_client.get(REGISTRY_URL).content.decode()
    second_url = link_href(first, "next")
    second = member_client.get(second_url).content.decode()
    third_url = link_href(second, "next")
    third = member_client.get(third_url).content.decode()
    back_url = link_href(third, "prev")
    back = member_client.get(back_url).content.decode()

    assert collection_names(first) == ["bulk-000", "bulk-001"]
    assert link_href(first, "prev") is None
    assert parse_qs(urlsplit(second_url).query)["after"] == ["bulk-001"]
    assert "after_id" in parse_qs(urlsplit(second_url).query)
    assert collection_names(second) == ["bulk-002", "bulk-003"]
    assert collection_names(third) == ["bulk-004"]
    assert link_href(third, "next") is None
    assert collection_names(back) == ["bulk-002", "bulk-003"]


def test_pages_keep_filters_and_sort(member_client, make_collections, project, settings):
    settings.REGISTRY_PAGE_SIZE = 1
    make_collections(6, project)

    first = member_client.get(REGISTRY_URL, {"tag": "group-0", "sort": "created"})
    next_url = link_href(first.content.decode(), "next")
    second = member_client.get(next_url).content.decode()

    query = parse_qs(urlsplit(next_url).query)
    assert query["tag"] == ["group-0"]
    assert query["sort"] == ["created"]
    assert collection_names(first.content.decode()) == ["bulk-003"]
    assert collection_names(second) == ["bulk-000"]


def test_page_query_uses_no_offset(member_client, make_collections, project, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    make_collections(5, project)
    first = member_client.get(REGISTRY_URL).content.decode()

    with CaptureQueriesContext(connection) as queries:
        member_client.get(link_href(first, "next"))

    statements = " ".join(query["sql"].upper() for query in queries.captured_queries)
    assert "OFFSET" not in statements
    assert "LIMIT 3" in statements


def test_invalid_page_position_shows_first_page(member_client, make_collections, project):
    make_collections(2, project)

    response = member_client.get(
        REGISTRY_URL, {"sort": "updated", "after": "yesterday", "after_id": "1"}
    )

    body = response.content.decode()
    assert collection_names(body) == ["bulk-001", "bulk-000"]
    assert "The page position &#x27;yesterday&#x27; is not a date and time" in body


def test_htmx_request_gets_list_partial(member_client, linked):
    response = member_client.get(REGISTRY_URL, {"q": "fraud"}, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="collection-list"')
    assert "<html" not in body
    assert collection_names(body) == ["fraud-detector"]
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_full_page(member_client, linked):
    response = member_client.get(
        REGISTRY_URL, headers={**HTMX, "HX-History-Restore-Request": "true"}
    )

    assert response.content.decode().startswith("<!DOCTYPE html>")


def test_pagination_links_keep_href_and_push_url(
    member_client, make_collections, project, settings
):
    settings.REGISTRY_PAGE_SIZE = 1
    make_collections(2, project)

    body = member_client.get(REGISTRY_URL).content.decode()

    match = re.search(r'<a href="([^"]+)" hx-get="([^"]+)" hx-target="#collection-list"', body)
    assert match is not None
    assert match.group(1) == match.group(2)
    assert 'hx-push-url="true" rel="next"' in body


def registry_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REGISTRY_URL)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_registry_query_count_same_for_5_and_50(member_client, make_collections, project, settings):
    settings.REGISTRY_PAGE_SIZE = 100
    make_collections(5, project)
    with_5 = registry_queries(member_client)
    make_collections(45, project)
    with_50 = registry_queries(member_client)

    assert with_5 == with_50
    assert with_50 <= 8
    assert len(collection_names(member_client.get(REGISTRY_URL).content.decode())) == 50

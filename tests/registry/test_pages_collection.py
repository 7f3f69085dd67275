"""Collection page: description, tags, versions with their aliases, and the history."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from tests.conftest import log_version
from tests.registry.conftest import COLLECTION_URL, HTMX, REGISTRY_URL


def row_indices(body: str) -> list[int]:
    return [int(index) for index in re.findall(r'<tr id="version-row-(\d+)">', body)]


def row_html(body: str, index: int) -> str:
    start = body.index(f'<tr id="version-row-{index}">')
    return body[start : body.index("</tr>", start)]


def test_collection_page_shows_versions_newest_first(viewer_client, linked):
    response = viewer_client.get(COLLECTION_URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>fraud-detector</h1>" in body
    assert "model collection · 3 versions" in body
    assert "<code>acme/wandb-registry-model/fraud-detector</code>" in body
    assert row_indices(body) == [2, 1, 0]


def test_rows_show_aliases_source_and_linker(viewer_client, linked):
    body = viewer_client.get(COLLECTION_URL).content.decode()

    newest = row_html(body, 2)
    middle = row_html(body, 1)
    assert re.search(r'<li class="alias">\s*latest\s*</li>', newest)
    assert re.search(r'<li class="alias">\s*champion\s*</li>', middle)
    assert '<code class="source-path">fraud-team/fraud/fraud-detector:v1</code>' in middle
    assert "<td>mike</td>" in middle
    assert "<time datetime=" in middle


def test_rows_show_version_tags(viewer_client, linked, member):
    services.add_tag(target=linked[0], name="nightly", actor=member)

    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert '<span class="tag">nightly</span>' in row_html(body, 0)
    assert '<span class="tag">nightly</span>' not in row_html(body, 1)


def test_description_is_rendered_markdown(viewer_client, linked):
    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert "<p>Card <strong>fraud</strong> classifier.</p>" in body


def test_description_script_is_stripped(viewer_client, collection, member):
    services.edit_description(
        target=collection,
        text="Safe *text*<script>alert('owned')</script>",
        actor=member,
    )

    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert "<em>text</em>" in body
    assert "<script>alert" not in body
    assert "owned" not in body


def test_collection_tags_listed(viewer_client, collection, member):
    services.add_tag(target=collection, name="fraud", actor=member)
    services.add_tag(target=collection, name="Card Payments", actor=member)

    body = viewer_client.get(COLLECTION_URL).content.decode()
    tags = body[body.index('<section id="collection-tags"') :]
    tags = tags[: tags.index("</section>")]

    assert re.findall(r'<li class="tag">\s*([^<]+?)\s*</li>', tags) == ["Card Payments", "fraud"]


def test_history_lists_links_and_alias_moves(viewer_client, linked, member):
    services.set_alias(link=linked[2], name="champion", actor=member)

    body = viewer_client.get(COLLECTION_URL).content.decode()
    history = body[body.index('<section id="collection-history"') :]

    assert "<strong>mike</strong> moved the alias champion from v1 to v2" in history
    assert "<strong>mike</strong> set the alias champion on v1" in history
    assert "<strong>mike</strong> linked v0 from fraud-team/fraud/fraud-detector:v0" in history
    assert history.index("from v1 to v2") < history.index("on v1")


def test_history_lists_unlinks(viewer_client, linked, member):
    services.unlink_version(link=linked[0], actor=member)

    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert "<strong>mike</strong> unlinked v0" in body
    assert row_indices(body) == [2, 1]


def test_viewer_sees_no_edit_forms(viewer_client, linked):
    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert "Edit the description" not in body
    assert "Add a tag" not in body
    assert "Set an alias" not in body
    assert "aliases/remove/" not in body


def test_member_sees_edit_forms(member_client, linked):
    body = member_client.get(COLLECTION_URL).content.decode()

    assert "Edit the description" in body
    assert '<label for="collection-tag-name">Add a tag</label>' in body
    assert '<label for="row-alias-1" class="visually-hidden">Alias to set on v1</label>' in body
    assert 'aria-label="Remove the alias champion from v1"' in body
    assert 'aria-label="Remove the alias latest' not in body


def test_collection_lookup_ignores_case(viewer_client, linked):
    body = viewer_client.get(f"{REGISTRY_URL}collections/FRAUD-Detector/").content.decode()

    assert "<h1>fraud-detector</h1>" in body
    assert 'href="/orgs/acme/registries/model/collections/fraud-detector/versions/v1/"' in body


def test_collection_name_with_space_and_unicode(viewer_client, model_registry, member, project):
    collection = services.create_collection(
        registry=model_registry, name="Détecteur de fraude", type="model", actor=member
    )
    services.link_version(collection=collection, version=log_version(project, member), actor=member)

    registry_body = viewer_client.get(REGISTRY_URL).content.decode()
    url = f"{REGISTRY_URL}collections/D%C3%A9tecteur%20de%20fraude/"
    body = viewer_client.get(url).content.decode()

    assert f'href="{url}"' in registry_body
    assert "<h1>Détecteur de fraude</h1>" in body
    assert f'href="{url}versions/v0/"' in body


def test_versions_paginate_by_index(viewer_client, linked, make_links, settings):
    settings.REGISTRY_PAGE_SIZE = 2
    make_links(3)  # v3, v4, v5

    first = viewer_client.get(COLLECTION_URL).content.decode()
    second = viewer_client.get(COLLECTION_URL, {"after": 4}).content.decode()
    last = viewer_client.get(COLLECTION_URL, {"after": 2}).content.decode()
    newer = viewer_client.get(COLLECTION_URL, {"before": 1}).content.decode()

    assert row_indices(first) == [5, 4]
    assert 'href="/orgs/acme/registries/model/collections/fraud-detector/?after=4"' in first
    assert 'rel="prev"' not in first
    assert row_indices(second) == [3, 2]
    assert row_indices(last) == [1, 0]
    assert 'rel="next"' not in last
    assert row_indices(newer) == [3, 2]
    assert 'href="/orgs/acme/registries/model/collections/fraud-detector/?before=3"' in newer


def test_versions_pagination_skips_unlinked_gap(
    viewer_client, linked, make_links, member, settings
):
    settings.REGISTRY_PAGE_SIZE = 2
    links = make_links(2)  # v3, v4
    services.unlink_version(link=links[0], actor=member)

    first = viewer_client.get(COLLECTION_URL).content.decode()
    second = viewer_client.get(COLLECTION_URL, {"after": 2}).content.decode()

    assert row_indices(first) == [4, 2]
    assert row_indices(second) == [1, 0]


def test_htmx_pagination_gets_versions_partial(viewer_client, linked, settings):
    settings.REGISTRY_PAGE_SIZE = 2

    response = viewer_client.get(COLLECTION_URL, {"after": 1}, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="collection-versions"')
    assert "<html" not in body
    assert row_indices(body) == [0]
    assert "HX-Request" in response["Vary"]


def test_plain_pagination_gets_full_page(viewer_client, linked, settings):
    settings.REGISTRY_PAGE_SIZE = 2

    body = viewer_client.get(COLLECTION_URL, {"after": 1}).content.decode()

    assert body.startswith("<!DOCTYPE html>")
    assert row_indices(body) == [0]
    assert '<section id="collection-history"' in body


def collection_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(COLLECTION_URL)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_collection_query_count_same_for_5_and_50(member_client, collection, make_links, settings):
    settings.REGISTRY_PAGE_SIZE = 100
    make_links(5)
    with_5 = collection_queries(member_client)
    make_links(45)
    with_50 = collection_queries(member_client)

    body = member_client.get(COLLECTION_URL).content.decode()
    assert with_5 == with_50
    assert with_50 <= 8
    assert len(row_indices(body)) == 50
    assert '<span class="tag">batch 3</span>' in row_html(body, 3)
    assert re.search(r'<li class="alias">\s*candidate-49', row_html(body, 49))


def test_history_explains_reserved_numbers(viewer_client, collection, member):
    services.reserve_index(collection=collection, index=4, actor=member)

    body = viewer_client.get(COLLECTION_URL).content.decode()

    assert "<strong>mike</strong> reserved the numbers up to v4, so they stay unused" in body

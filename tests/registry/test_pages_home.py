"""Registry home: visible registries with their counts, and search across them."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from apps.registry.models import Visibility
from tests.registry.conftest import HTMX, signed_in


def registry_names(body: str) -> list[str]:
    return re.findall(
        r'<th scope="row">\s*<a href="/orgs/acme/registries/[^"]+/">([^<]+)</a>', body
    )


def test_home_lists_core_registries_with_counts(member_client, linked):
    response = member_client.get("/")

    body = response.content.decode()
    assert response.status_code == 200
    assert registry_names(body)[:2] in (["model", "dataset"], ["dataset", "model"])
    model_row = body[body.index(">model</a>") : body.index("</tr>", body.index(">model</a>"))]
    assert '<td class="numeric">1</td>' in model_row
    assert '<td class="numeric">3</td>' in model_row
    assert '<span class="type-label">model</span>' in model_row


def test_home_puts_core_first_then_recent(member_client, org_admin, make_registries):
    older, newer = make_registries(2)
    # Editing `older` makes it the most recently updated.
    services.update_registry(registry=older, description="Refreshed.", actor=org_admin)

    names = registry_names(member_client.get("/").content.decode())

    assert set(names[:2]) == {"model", "dataset"}
    assert names[2:] == [older.name, newer.name]


def test_home_hides_restricted_registry(member_client, org, org_admin):
    services.create_registry(
        organization=org,
        name="secret-models",
        visibility=Visibility.RESTRICTED,
        accepted_types=["model"],
        actor=org_admin,
    )

    member_body = member_client.get("/").content.decode()
    admin_body = signed_in(org_admin).get("/").content.decode()

    assert "secret-models" not in member_body
    assert "secret-models" in admin_body


def test_home_shows_org_in_top_bar(member_client, linked):
    body = member_client.get("/").content.decode()

    assert '<span class="topbar-org" title="Organization">Acme Corp</span>' in body


def test_search_finds_registry_collection_alias_and_tag(member_client, linked, member):
    services.add_tag(target=linked[0], name="nightly", actor=member)
    services.add_tag(target=linked[0].collection, name="fraud-team-pick", actor=member)

    by_name = member_client.get("/", {"q": "detector"}).content.decode()
    by_alias = member_client.get("/", {"q": "CHAMP"}).content.decode()
    by_tag = member_client.get("/", {"q": "nightly"}).content.decode()
    by_collection_tag = member_client.get("/", {"q": "team-pick"}).content.decode()
    by_registry = member_client.get("/", {"q": "datas"}).content.decode()

    assert 'href="/orgs/acme/registries/model/collections/fraud-detector/">fraud-detector' in (
        by_name
    )
    assert "fraud-detector:v1</a>" in by_alias
    assert '<span class="alias">champion</span>' in by_alias
    assert "fraud-detector:v0</a>" in by_tag
    assert '<span class="tag">fraud-team-pick</span>' in by_collection_tag
    assert 'href="/orgs/acme/registries/dataset/">dataset</a>' in by_registry


def test_search_without_match_says_so(member_client, linked):
    body = member_client.get("/", {"q": "no-such-thing"}).content.decode()

    assert "Nothing you can see matches “no-such-thing”." in body


def test_search_skips_what_user_cannot_see(member, org, org_admin, outsider, project):
    secret = services.create_registry(
        organization=org,
        name="secret-models",
        visibility=Visibility.RESTRICTED,
        accepted_types=["model"],
        actor=org_admin,
    )
    hidden = services.create_collection(
        registry=secret, name="hidden-detector", type="model", actor=org_admin
    )
    version = services.create_artifact_version(
        project=project, artifact_name="hidden", type="model", actor=org_admin
    )
    services.link_version(
        collection=hidden, version=version, aliases=["hidden-champion"], actor=org_admin
    )

    member_body = signed_in(member).get("/", {"q": "hidden"}).content.decode()
    outsider_body = signed_in(outsider).get("/", {"q": "hidden"}).content.decode()
    admin_body = signed_in(org_admin).get("/", {"q": "hidden"}).content.decode()

    assert "hidden-detector" not in member_body
    assert "hidden-champion" not in member_body
    assert "hidden-detector" not in outsider_body
    assert "hidden-detector" in admin_body
    assert '<span class="alias">hidden-champion</span>' in admin_body


def test_search_htmx_returns_results_partial(member_client, linked):
    response = member_client.get("/", {"q": "champion"}, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="search-results"')
    assert "<html" not in body
    assert "fraud-detector:v1</a>" in body
    assert "HX-Request" in response["Vary"]


def test_search_without_htmx_returns_full_page(member_client, linked):
    body = member_client.get("/", {"q": "champion"}).content.decode()

    assert body.startswith("<!DOCTYPE html>")
    assert '<section id="search-results"' in body


def home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries.captured_queries)


def search_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/", {"q": "team-space"})
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_home_query_count_same_for_5_and_50(member_client, make_registries):
    make_registries(5)
    with_5 = home_queries(member_client)
    make_registries(45)
    with_50 = home_queries(member_client)

    assert with_5 == with_50
    assert with_50 <= 8
    assert len(registry_names(member_client.get("/").content.decode())) == 52


def test_search_query_count_same_for_5_and_50(member_client, make_registries):
    make_registries(5)
    with_5 = search_queries(member_client)
    make_registries(45)
    with_50 = search_queries(member_client)

    assert with_5 == with_50
    assert with_50 <= 8

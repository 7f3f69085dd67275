"""Depth, field and cost limits of /graphql: a query over one is rejected before it runs."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.graphql_api import limits
from tests.sdk.test_endpoint import post

pytestmark = pytest.mark.django_db

# Organization -> entity -> collections -> versions: the nesting that costs the most.
NESTED_PAGES = """
  {alias}: organization(name: "acme") {{
    orgEntity {{
      artifactCollections(first: $collections) {{
        edges {{ node {{ name artifacts(first: 100) {{ edges {{ node {{ id digest }} }} }} }} }}
      }}
    }}
  }}
"""


def nested_pages(copies: int) -> str:
    selections = "".join(NESTED_PAGES.format(alias=f"copy{number}") for number in range(copies))
    return f"query Pages($collections: Int) {{{selections}}}"


def rejected(client, world, query: str, variables=None) -> tuple[list[str], list[dict]]:
    """Post a query as mike; return its error messages and the queries that touched the
    registry's tables."""
    with CaptureQueriesContext(connection) as captured:
        response, body = post(client, world.keys["mike"], query, variables)
    assert response.status_code == 400, body
    assert "data" not in body, body
    registry_queries = [query for query in captured if "registry_" in query["sql"]]
    return [error["message"] for error in body["errors"]], registry_queries


def test_deep_query_rejected(client, graph_world):
    levels = 10
    query = '{ organization(name: "acme") { ' + "orgEntity { organization { " * levels
    query += "name" + " } }" * levels + " } }"

    messages, registry_queries = rejected(client, graph_world, query)

    assert messages == [
        f"The query nests fields 22 levels deep; the limit is {limits.MAX_DEPTH} "
        "(GRAPHQL_MAX_DEPTH). Split it into shallower queries, starting the inner ones from "
        "an id or a name that the outer query returns."
    ]
    assert registry_queries == []


def test_aliased_copies_rejected(client, graph_world):
    copies = 600
    query = "{" + " ".join(f"me{number}: viewer {{ username }}" for number in range(copies)) + "}"

    messages, registry_queries = rejected(client, graph_world, query)

    assert messages == [
        f"The query selects 1200 fields, counting every alias and every use of a fragment; "
        f"the limit is {limits.MAX_FIELDS} (GRAPHQL_MAX_FIELDS). Send fewer aliased copies "
        f"in one request, or split it into several requests."
    ]
    assert registry_queries == []


def test_costly_query_rejected(client, graph_world):
    messages, registry_queries = rejected(
        client, graph_world, nested_pages(3), {"collections": 100}
    )

    # Per copy: organization, orgEntity and the collections page, then per collection its
    # edge, node and versions page, then per version its edge and node.
    cost = 3 * (3 + 100 * (3 + 100 * 2))
    assert messages == [
        f"The query's estimated cost is {cost}; the limit is {limits.MAX_COST} "
        "(GRAPHQL_MAX_COST). Each nested object counts once per item of every page above "
        "it: ask for smaller pages with `first`, select fewer nested lists, or fetch inner "
        "lists in separate requests."
    ]
    assert registry_queries == []


def test_many_costly_copies_name_each_limit(client, graph_world):
    messages, registry_queries = rejected(
        client, graph_world, nested_pages(300), {"collections": 100}
    )

    assert [message.split(";")[0] for message in messages] == [
        "The query selects 3300 fields, counting every alias and every use of a fragment",
        f"The query's estimated cost is {300 * (3 + 100 * (3 + 100 * 2))}",
    ]
    assert registry_queries == []


def test_smaller_pages_run(client, graph_world):
    """The costly query of three copies runs with 2 collections a page (`first: $collections`)."""
    response, body = post(client, graph_world.keys["mike"], nested_pages(3), {"collections": 2})

    assert response.status_code == 200, body
    names = sorted(
        edge["node"]["name"]
        for edge in body["data"]["copy0"]["orgEntity"]["artifactCollections"]["edges"]
    )
    assert names == ["detector", "fraud-detector"]


def test_cyclic_fragments_rejected(client, graph_world):
    query = """
    query { viewer { ...A } }
    fragment A on User { teams { edges { node { user { ...B } } } } }
    fragment B on User { ...A }
    """

    response, body = post(client, graph_world.keys["mike"], query)

    assert response.status_code == 400
    assert body["errors"][0]["message"] == "Cannot spread fragment 'A' within itself via 'B'."


@pytest.mark.parametrize(
    ("raw", "message"), [("0", "Set it to 1 or more"), ("ten", "whole number")]
)
def test_limit_setting_rejects_bad_value(monkeypatch, raw, message):
    monkeypatch.setenv("GRAPHQL_MAX_DEPTH", raw)

    with pytest.raises(ImproperlyConfigured, match=f"GRAPHQL_MAX_DEPTH='?{raw}'? .*{message}"):
        limits.read_limit("GRAPHQL_MAX_DEPTH", 15)

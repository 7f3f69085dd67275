"""Lists and resolve run a fixed number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from apps.registry.models import Registry

pytestmark = pytest.mark.django_db

MAX_QUERIES = 8


def _registry(world) -> Registry:
    admin = world.users["admin"]
    registry = services.create_registry(
        organization=world.organization, name="bulk", accepted_types=["model"], actor=admin
    )
    services.add_member(registry=registry, member=world.users["member"], role=None, actor=admin)
    return registry


def _add_collections(world, registry: Registry, numbers: range) -> None:
    """Collections with a tag, an alias and one link each."""
    admin = world.users["admin"]
    for number in numbers:
        collection = services.create_collection(
            registry=registry, name=f"model-{number}", type="model", tags=["bulk"], actor=admin
        )
        services.link_version(
            collection=collection, version=world.spare_version, aliases=["candidate"], actor=admin
        )


def _count(client, world, url: str) -> tuple[int, dict]:
    headers = world.headers("member")
    client.get(url, headers=headers)  # records the key's last use, once a minute at most
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_query_counts_constant(world, client):
    registry = _registry(world)
    list_url = "/api/v1/orgs/acme/registries/bulk/collections/?page_size=100"
    resolve_url = "/api/v1/resolve/?path=acme/wandb-registry-bulk/MODEL-4:candidate"
    counts = {}

    for rows, numbers in ((5, range(5)), (50, range(5, 50))):
        _add_collections(world, registry, numbers)
        listed, body = _count(client, world, list_url)
        resolved, resolved_body = _count(client, world, resolve_url)
        counts[rows] = (listed, resolved)
        print(f"{rows} rows: collection list {listed} queries, resolve {resolved} queries")

        assert len(body["results"]) == rows
        assert all(item["tags"] == ["bulk"] for item in body["results"])
        assert {"name": "candidate", "index": 0} in body["results"][0]["aliases"]
        assert resolved_body["path"] == "acme/wandb-registry-bulk/model-4:v0"
        assert resolved_body["aliases"] == ["candidate", "latest"]

    assert counts[5] == counts[50]
    assert max(counts[50]) <= MAX_QUERIES

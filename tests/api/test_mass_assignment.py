"""Read-only fields sent in a write are ignored, one field at a time."""

import json

import pytest

from apps.registry.access import role_of
from apps.registry.models import Collection, CollectionLink, Registry
from apps.registry.roles import Role

pytestmark = pytest.mark.django_db

REGISTRY_URL = "/api/v1/orgs/acme/registries/secret-models/"
COLLECTION_URL = REGISTRY_URL + "collections/fraud-detector/"
LINK_URL = COLLECTION_URL + "versions/0/"


def _send(client, world, method, url, body, persona="admin"):
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", headers=world.headers(persona)
    )


REGISTRY_FIELDS = [
    ("id", 999_999),
    ("organization", "globex"),
    ("is_core", True),
    ("owner", "max"),
    ("role", "viewer"),
    ("collection_count", 77),
    ("starred", True),
    ("protected_aliases", ["gold"]),
    ("path_name", "wandb-registry-elsewhere"),
    ("created_at", "2001-01-01T00:00:00Z"),
    ("updated_at", "2001-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("field", "value"), REGISTRY_FIELDS, ids=[f for f, _ in REGISTRY_FIELDS])
def test_registry_update_ignores_read_only_field(world, client, field, value):
    before = Registry.objects.get(name="secret-models")
    protected_before = list(before.protected_aliases.values_list("name", flat=True))

    response = _send(client, world, "patch", REGISTRY_URL, {field: value, "description": "New."})

    assert response.status_code == 200, response.content
    after = Registry.objects.get(pk=before.pk)
    assert after.description == "New."
    assert (after.id, after.organization_id, after.is_core) == (
        before.id,
        before.organization_id,
        before.is_core,
    )
    assert after.owner_id == before.owner_id
    assert after.created_at == before.created_at
    assert list(after.protected_aliases.values_list("name", flat=True)) == protected_before
    assert not after.stars.exists()
    assert role_of(world.users["admin"], after) == Role.ADMIN
    assert response.json()[field] != value


def test_registry_update_cannot_grant_roles(world, client):
    response = _send(
        client,
        world,
        "patch",
        REGISTRY_URL,
        {"members": [{"user": "vera", "role": "admin"}], "role": "admin", "description": "x"},
    )
    registry = Registry.objects.get(name="secret-models")

    assert response.status_code == 200
    assert role_of(world.users["org_viewer"], registry) is None


COLLECTION_FIELDS = [
    ("id", 999_999),
    ("name", "Renamed"),
    ("type", "dataset"),
    ("registry", "shared-models"),
    ("organization", "globex"),
    ("path", "acme/wandb-registry-x/y"),
    ("aliases", [{"name": "gold", "index": 0}]),
    ("version_count", 50),
    ("created_by", "vera"),
    ("created_at", "2001-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(
    ("field", "value"), COLLECTION_FIELDS, ids=[f for f, _ in COLLECTION_FIELDS]
)
def test_collection_update_ignores_read_only_field(world, client, field, value):
    before = Collection.objects.get(registry__name="secret-models", name="Fraud-Detector")
    aliases_before = sorted(before.aliases.values_list("name", "link_id"))

    response = _send(
        client, world, "patch", COLLECTION_URL, {field: value, "description": "Edited."}, "member"
    )

    assert response.status_code == 200, response.content
    after = Collection.objects.get(pk=before.pk)
    assert after.description == "Edited."
    assert (after.name, after.type, after.registry_id) == (
        before.name,
        before.type,
        before.registry_id,
    )
    assert after.created_by_id == before.created_by_id
    assert after.created_at == before.created_at
    assert sorted(after.aliases.values_list("name", "link_id")) == aliases_before
    assert response.json()[field] != value


def test_collection_create_ignores_author_and_id(world, client):
    response = _send(
        client,
        world,
        "post",
        REGISTRY_URL + "collections/",
        {
            "name": "new-one",
            "type": "model",
            "id": 999_999,
            "created_by": "vera",
            "version_count": 9,
        },
        "member",
    )

    assert response.status_code == 201
    created = Collection.objects.get(name="new-one")
    assert created.pk != 999_999
    assert created.created_by == world.users["member"]
    assert response.json()["created_by"] == "max"
    assert response.json()["version_count"] == 0


LINK_FIELDS = [
    ("index", 42),
    ("version", "v42"),
    ("path", "acme/wandb-registry-x/y:v9"),
    ("aliases", ["gold"]),
    ("source", {"id": 1}),
    ("linked_by", "vera"),
    ("linked_at", "2001-01-01T00:00:00Z"),
    ("metadata", {"auc": 0.1}),
    ("files", []),
]


@pytest.mark.parametrize(("field", "value"), LINK_FIELDS, ids=[f for f, _ in LINK_FIELDS])
def test_link_update_ignores_read_only_field(world, client, field, value):
    before = CollectionLink.objects.get(
        collection__registry__name="secret-models", collection__name="Fraud-Detector", index=0
    )
    metadata_before = dict(before.version.metadata)

    response = _send(
        client, world, "patch", LINK_URL, {field: value, "description": "Ok."}, "member"
    )

    assert response.status_code == 200, response.content
    after = CollectionLink.objects.get(pk=before.pk)
    assert after.description == "Ok."
    assert (after.index, after.version_id, after.linked_by_id) == (
        before.index,
        before.version_id,
        before.linked_by_id,
    )
    assert after.linked_at == before.linked_at
    assert sorted(after.aliases.values_list("name", flat=True)) == ["champion"]
    assert after.version.metadata == metadata_before
    assert response.json()[field] != value


def test_member_role_change_ignores_other_fields(world, client):
    url = REGISTRY_URL + "members/users/rita/"
    response = _send(
        client,
        world,
        "patch",
        url,
        {
            "role": "viewer",
            "name": "vera",
            "kind": "team",
            "is_owner": True,
            "effective_role": "admin",
        },
    )
    registry = Registry.objects.get(name="secret-models")

    assert response.status_code == 200
    assert response.json()["name"] == "rita"
    assert response.json()["granted_role"] == "viewer"
    assert response.json()["is_owner"] is False
    assert registry.owner == world.users["admin"]
    assert role_of(world.users["restricted_viewer"], registry) == Role.VIEWER
    assert role_of(world.users["org_viewer"], registry) is None


def test_role_cannot_be_set_through_collection_endpoint(world, client):
    response = _send(
        client, world, "patch", COLLECTION_URL, {"role": "admin", "tags": ["x"]}, "member"
    )
    registry = Registry.objects.get(name="secret-models")

    assert response.status_code == 200
    assert role_of(world.users["member"], registry) == Role.MEMBER

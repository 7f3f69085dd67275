"""Names with invisible format characters get 400 naming the code point, through the API."""

import json
from urllib.parse import quote

import pytest

from apps.registry.models import Alias, Collection

pytestmark = pytest.mark.django_db

REGISTRY = "/api/v1/orgs/acme/registries/shared-models/"


def _send(client, world, method, url, body):
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", headers=world.headers("admin")
    )


@pytest.mark.parametrize(
    ("name", "code_point"),
    [("\u200b", "U+200B"), ("rtl\u202eabc", "U+202E"), ("\u202eevil", "U+202E")],
)
def test_collection_name_rejected(world, client, name, code_point):
    response = _send(
        client, world, "post", REGISTRY + "collections/", {"name": name, "type": "model"}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "name"
    assert f"the invisible format character {code_point}" in error["message"]
    assert not Collection.objects.filter(name=name).exists()


def test_collection_tag_rejected(world, client):
    body = {"name": "tagged", "type": "model", "tags": ["rtl\u202eabc"]}

    response = _send(client, world, "post", REGISTRY + "collections/", body)

    assert response.status_code == 400
    assert "the invisible format character U+202E" in response.json()["error"]["message"]
    assert not Collection.objects.filter(name="tagged").exists()


def test_alias_rejected(world, client):
    url = REGISTRY + f"collections/fraud-detector/aliases/{quote(chr(0x202E) + 'evil')}/"

    response = _send(client, world, "put", url, {"index": 0})

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "the invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE)" in message
    assert not Alias.objects.filter(name="\u202eevil").exists()


def test_registry_name_rejected(world, client):
    response = _send(client, world, "post", "/api/v1/orgs/acme/registries/", {"name": "\u200b"})

    assert response.status_code == 400
    assert "the invisible format character U+200B" in response.json()["error"]["message"]

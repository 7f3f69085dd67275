"""`ordering` and `cursor` values that name nothing get 400 naming the parameter and the fix."""

import pytest

pytestmark = pytest.mark.django_db

REGISTRIES = "/api/v1/orgs/acme/registries/"


def test_unknown_ordering_rejected(world, client):
    response = client.get(f"{REGISTRIES}?ordering=password", headers=world.headers("admin"))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "ordering"
    assert "Cannot sort by 'password'" in error["message"]
    assert "use one of name, created_at, updated_at" in error["message"]


def test_unknown_ordering_among_valid_rejected(world, client):
    response = client.get(f"{REGISTRIES}?ordering=name,-secret", headers=world.headers("admin"))

    assert response.status_code == 400
    assert "Cannot sort by '-secret'" in response.json()["error"]["message"]


@pytest.mark.parametrize("ordering", ["name", "-name", "-created_at,name"])
def test_known_ordering_accepted(world, client, ordering):
    response = client.get(f"{REGISTRIES}?ordering={ordering}", headers=world.headers("admin"))

    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    if ordering == "name":
        assert names == sorted(names)
    if ordering == "-name":
        assert names == sorted(names, reverse=True)


def test_bad_cursor_rejected(world, client):
    response = client.get(f"{REGISTRIES}?cursor=garbage", headers=world.headers("admin"))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "cursor"
    assert "The cursor 'garbage' is invalid" in error["message"]
    assert "follow the 'next' or 'previous' link" in error["message"]


def test_next_cursor_still_works(world, client):
    first = client.get(f"{REGISTRIES}?page_size=1", headers=world.headers("admin")).json()

    response = client.get(first["next"], headers=world.headers("admin"))

    assert response.status_code == 200
    assert response.json()["results"][0]["name"] != first["results"][0]["name"]

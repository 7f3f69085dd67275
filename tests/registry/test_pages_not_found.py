"""What a user may not see answers exactly like what does not exist: the same 404 page."""

import pytest

from apps.registry import services
from apps.registry.models import Visibility
from tests.registry.conftest import COLLECTION_URL, HTMX, REGISTRY_URL, signed_in, version_url

VERSION_URL = version_url(1)

PAGES = [
    (REGISTRY_URL, "/orgs/acme/registries/no-such-registry/"),
    (COLLECTION_URL, f"{REGISTRY_URL}collections/no-such-collection/"),
    (VERSION_URL, version_url(99)),
]

EDITS = [
    (f"{COLLECTION_URL}description/", {"text": "Taken over."}),
    (f"{COLLECTION_URL}tags/", {"name": "taken"}),
    (f"{COLLECTION_URL}tags/remove/", {"name": "taken"}),
    (f"{VERSION_URL}aliases/", {"name": "taken"}),
    (f"{VERSION_URL}aliases/remove/", {"name": "champion"}),
    (f"{VERSION_URL}tags/", {"name": "taken"}),
    (f"{VERSION_URL}tags/remove/", {"name": "taken"}),
    (f"{VERSION_URL}description/", {"text": "Taken over."}),
]


@pytest.mark.parametrize(("url", "missing_url"), PAGES)
def test_outsider_gets_same_404_as_missing(outsider_client, linked, url, missing_url):
    hidden = outsider_client.get(url)
    missing = outsider_client.get(missing_url)

    assert hidden.status_code == 404
    assert "<h1>Not found</h1>" in hidden.content.decode()
    assert "fraud-detector" not in hidden.content.decode()
    assert hidden.content == missing.content


@pytest.mark.parametrize(("url", "missing_url"), PAGES)
def test_outsider_htmx_request_gets_404(outsider_client, linked, url, missing_url):
    hidden = outsider_client.get(url, headers=HTMX)
    missing = outsider_client.get(missing_url, headers=HTMX)

    assert hidden.status_code == 404
    assert hidden.content == missing.content


@pytest.mark.parametrize(("url", "data"), EDITS)
def test_outsider_edit_gets_404_and_changes_nothing(outsider_client, linked, url, data):
    plain = outsider_client.post(url, data)
    htmx = outsider_client.post(url, data, headers=HTMX)

    linked[1].refresh_from_db()
    assert plain.status_code == 404
    assert htmx.status_code == 404
    assert "<h1>Not found</h1>" in plain.content.decode()
    assert linked[1].collection.tags.count() == 0
    assert linked[1].tags.count() == 0
    assert linked[1].aliases.filter(name="champion").exists()
    assert linked[1].description == ""


def test_restricted_registry_pages_404_for_member(member, org, org_admin, project):
    secret = services.create_registry(
        organization=org,
        name="secret",
        visibility=Visibility.RESTRICTED,
        accepted_types=["model"],
        actor=org_admin,
    )
    plans = services.create_collection(registry=secret, name="plans", type="model", actor=org_admin)
    version = services.create_artifact_version(
        project=project, artifact_name="plans", type="model", actor=org_admin
    )
    services.link_version(collection=plans, version=version, actor=org_admin)
    client = signed_in(member)
    urls = [
        "/orgs/acme/registries/secret/",
        "/orgs/acme/registries/secret/collections/plans/",
        "/orgs/acme/registries/secret/collections/plans/versions/v0/",
    ]

    hidden = [client.get(url) for url in urls]
    services.delete_registry(registry=secret, confirm_name="secret", actor=org_admin)
    missing = [client.get(url) for url in urls]

    assert [response.status_code for response in hidden] == [404, 404, 404]
    assert [response.content for response in hidden] == [response.content for response in missing]
    assert signed_in(org_admin).get("/").content.decode().count(">secret</a>") == 0


def test_not_found_page_has_landmarks_and_no_token(outsider_client, linked):
    body = outsider_client.get(COLLECTION_URL).content.decode()

    assert "<header" in body
    assert "<nav" in body
    assert '<main id="main"' in body
    assert "csrfmiddlewaretoken" not in body
    assert "X-CSRFToken" not in body

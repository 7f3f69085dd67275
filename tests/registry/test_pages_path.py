"""/path/<path>: paths redirect to the version page, or a 404 page names the unknown part."""

import pytest

from apps.registry import services
from apps.registry.models import Visibility
from tests.registry.conftest import version_url


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("acme/wandb-registry-model/fraud-detector:champion", 1),
        ("acme/wandb-registry-model/fraud-detector:CHAMPION", 1),
        ("acme/wandb-registry-model/fraud-detector:v0", 0),
        ("acme/wandb-registry-model/fraud-detector:V2", 2),
        ("acme/wandb-registry-model/fraud-detector:latest", 2),
        ("acme/wandb-registry-model/fraud-detector", 2),
        ("wandb-registry-model/fraud-detector:champion", 1),
        ("wandb-registry-model/fraud-detector", 2),
        ("ACME/wandb-registry-Model/Fraud-Detector:v1", 1),
        ("acme/wandb-registry-model/fraud-detector:v1/", 1),
    ],
)
def test_path_redirects_to_version_page(member_client, linked, path, index):
    response = member_client.get(f"/path/{path}")

    assert response.status_code == 302
    assert response["Location"] == version_url(index)


def test_path_with_space_and_unicode(member_client, model_registry, member, project):
    collection = services.create_collection(
        registry=model_registry, name="Détecteur de fraude", type="model", actor=member
    )
    version = services.create_artifact_version(
        project=project, artifact_name="detecteur", type="model", actor=member
    )
    services.link_version(collection=collection, version=version, aliases=["prod"], actor=member)

    encoded = "D%C3%A9tecteur%20de%20fraude"
    response = member_client.get(f"/path/acme/wandb-registry-model/{encoded}:prod")

    assert response.status_code == 302
    assert response["Location"] == (
        f"/orgs/acme/registries/model/collections/{encoded}/versions/v0/"
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("globex/wandb-registry-model/fraud-detector", "The organization &#x27;globex&#x27;"),
        ("acme/wandb-registry-models/fraud-detector", "The registry &#x27;models&#x27;"),
        ("acme/wandb-registry-model/fraud-detectors", "The collection &#x27;fraud-detectors&#x27;"),
        ("acme/wandb-registry-model/fraud-detector:v9", "The version &#x27;v9&#x27;"),
        ("acme/wandb-registry-model/fraud-detector:staging", "The version &#x27;staging&#x27;"),
    ],
)
def test_unknown_part_is_named_in_404(member_client, linked, path, message):
    response = member_client.get(f"/path/{path}")

    body = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in body
    assert message in body
    assert "was not found" in body


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("acme/models/fraud-detector", "is not a registry: registry paths start with"),
        ("acme/wandb-registry-model/fraud-detector:", "The version after &#x27;:&#x27; is empty"),
        ("acme/wandb-registry-model/a:b:c", "has more than one &#x27;:&#x27;"),
        ("acme/wandb-registry-/fraud-detector", "The registry name after"),
        ("a/b/c/d", "has 3 &#x27;/&#x27; separators"),
    ],
)
def test_unparsable_path_is_explained_in_404(member_client, linked, path, message):
    response = member_client.get(f"/path/{path}")

    assert response.status_code == 404
    assert message in response.content.decode()


def test_legacy_path_without_legacy_registry(member_client, linked):
    # Legacy paths resolve through the team's legacy registry, which fraud-team lacks here.
    response = member_client.get("/path/fraud-team/model-registry/fraud-detector:champion")

    body = response.content.decode()
    assert response.status_code == 404
    assert "The team &#x27;fraud-team&#x27; has no legacy Model Registry that you can see." in body


def test_short_path_outside_any_organization(client, db, linked):
    from tests.conftest import make_user

    client.force_login(make_user("nobody"))
    response = client.get("/path/wandb-registry-model/fraud-detector")

    assert response.status_code == 404
    assert "You belong to no organization" in response.content.decode()


def test_hidden_registry_reads_like_missing_one(member_client, org, org_admin):
    secret = services.create_registry(
        organization=org,
        name="secret",
        visibility=Visibility.RESTRICTED,
        accepted_types=["model"],
        actor=org_admin,
    )
    services.create_collection(registry=secret, name="plans", type="model", actor=org_admin)
    url = "/path/acme/wandb-registry-secret/plans"

    hidden = member_client.get(url)
    services.delete_registry(registry=secret, confirm_name="secret", actor=org_admin)
    missing = member_client.get(url)

    assert hidden.status_code == 404
    assert "The registry &#x27;secret&#x27; was not found in &#x27;acme&#x27;." in (
        hidden.content.decode()
    )
    assert hidden.content == missing.content


def test_outsider_gets_404_for_existing_path(outsider_client, linked):
    response = outsider_client.get("/path/acme/wandb-registry-model/fraud-detector:champion")

    assert response.status_code == 404
    assert "The organization &#x27;acme&#x27; was not found." in response.content.decode()


def test_anonymous_path_asks_to_sign_in(client, linked):
    response = client.get("/path/acme/wandb-registry-model/fraud-detector")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_redirect_stays_within_query_budget(member_client, linked, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = member_client.get("/path/acme/wandb-registry-model/fraud-detector:champion")

    assert response.status_code == 302

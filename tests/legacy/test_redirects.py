"""Redirects of legacy paths and pages, before the migration, after it, and once hidden."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.registry import services as registry_services
from apps.registry.models import Collection
from tests.legacy.conftest import migrate

LIST = "/orgs/acme/teams/fraud-team/model-registry/"
MODEL = f"{LIST}fraud-detector/"
PATH = "/path/fraud-team/model-registry/fraud-detector"
NEW_REGISTRY = "/orgs/acme/registries/fraud-team/"
NEW_COLLECTION = f"{NEW_REGISTRY}collections/fraud-detector/"
RETENTION_ENDED = timedelta(days=29)


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def migrated(legacy_versions, org_admin):
    """A finished migration of fraud-team's legacy registry, still inside its retention."""
    legacy_registry = legacy_versions[0].model.legacy_registry
    migrate(legacy_registry, actor=org_admin)
    return legacy_registry


@pytest.fixture
def hidden(legacy_versions, org_admin):
    """A migration that finished longer ago than the retention window (28 days)."""
    legacy_registry = legacy_versions[0].model.legacy_registry
    migrate(legacy_registry, actor=org_admin, read_only_since=timezone.now() - RETENTION_ENDED)
    return legacy_registry


def messages_of(client, url: str) -> str:
    return client.get(url).content.decode()


# Before the migration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "index"), [(":champion", 1), (":v0", 0), ("", 2), (":latest/", 2)]
)
def test_path_redirects_302_to_legacy_page(signed_in, legacy_versions, member, suffix, index):
    response = signed_in(member).get(f"{PATH}{suffix}")

    assert response.status_code == 302
    assert response["Location"] == f"{MODEL}versions/v{index}/"


def test_path_of_other_team_is_404(signed_in, legacy_versions, stranger):
    response = signed_in(stranger).get(f"{PATH}:champion")

    assert response.status_code == 404
    assert "has no legacy Model Registry that you can see" in response.content.decode()


def test_pages_do_not_redirect_before_migration(signed_in, legacy_versions, member):
    response = signed_in(member).get(MODEL)

    assert response.status_code == 200


# After the migration ----------------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "index"), [(":champion", 1), (":v0", 0), ("", 2), (":V2", 2)])
def test_path_redirects_301_to_new_page(signed_in, migrated, member, suffix, index):
    client = signed_in(member)

    response = client.get(f"{PATH}{suffix}")

    assert response.status_code == 301
    assert response["Location"] == f"{NEW_COLLECTION}versions/v{index}/"
    html = messages_of(client, response["Location"])
    assert "The legacy path fraud-team/model-registry/fraud-detector" in html
    assert "is deprecated" in html


def test_model_page_redirects_301(signed_in, migrated, member):
    client = signed_in(member)

    response = client.get(MODEL)

    assert response.status_code == 301
    assert response["Location"] == NEW_COLLECTION
    html = messages_of(client, NEW_COLLECTION)
    assert "fraud-team/model-registry/fraud-detector was migrated to the new registry" in html
    assert "is now acme/wandb-registry-fraud-team/fraud-detector" in html


def test_version_page_redirects_301(signed_in, migrated, member):
    response = signed_in(member).get(f"{MODEL}versions/v1/")

    assert response.status_code == 301
    assert response["Location"] == f"{NEW_COLLECTION}versions/v1/"


def test_list_page_stays_readable(signed_in, migrated, member):
    response = signed_in(member).get(LIST)

    assert response.status_code == 200
    assert "read-only since its migration" in response.content.decode()


def test_redirects_follow_renames(signed_in, migrated, member, org_admin):
    target = migrated.migrated_to
    registry_services.update_registry(registry=target, name="fraud-models", actor=org_admin)
    Collection.objects.filter(registry=target).update(name="card-fraud")
    client = signed_in(member)

    path_response = client.get(f"{PATH}:champion")
    page_response = client.get(MODEL)

    new_collection = "/orgs/acme/registries/fraud-models/collections/card-fraud/"
    assert path_response["Location"] == f"{new_collection}versions/v1/"
    assert page_response["Location"] == new_collection


def test_new_name_under_migrated_path_is_404(signed_in, migrated, member):
    response = signed_in(member).get(f"{PATH.replace('fraud-detector', 'churn')}:v0")

    assert response.status_code == 404
    assert "The registered model &#x27;churn&#x27; was not found" in response.content.decode()


def test_stranger_still_gets_404_after_migration(signed_in, migrated, stranger):
    client = signed_in(stranger)

    assert client.get(MODEL).status_code == 404
    assert client.get(f"{PATH}:champion").status_code == 404


# Hidden after the retention window --------------------------------------------------------------


def test_state_is_hidden_after_retention(hidden):
    assert hidden.state() == "hidden"
    assert hidden.state(now=hidden.read_only_since + timedelta(days=27)) == "read-only"


def test_hidden_list_redirects_with_one_time_message(signed_in, hidden, member):
    client = signed_in(member)

    response = client.get(LIST)
    first = messages_of(client, NEW_REGISTRY)
    second = messages_of(client, NEW_REGISTRY)

    assert response.status_code == 302
    assert response["Location"] == NEW_REGISTRY
    note = "The legacy Model Registry of the team &#x27;fraud-team&#x27; moved to"
    assert note in first
    assert "acme/wandb-registry-fraud-team and is no longer shown since" in first
    assert note not in second


def test_hidden_model_page_goes_to_collection(signed_in, hidden, member):
    response = signed_in(member).get(f"{MODEL}versions/v2/")

    assert response.status_code == 301
    assert response["Location"] == f"{NEW_COLLECTION}versions/v2/"


def test_hidden_path_still_resolves(signed_in, hidden, member):
    response = signed_in(member).get(f"{PATH}:champion")

    assert response.status_code == 301
    assert response["Location"] == f"{NEW_COLLECTION}versions/v1/"


def test_hidden_registry_leaves_navigation(signed_in, hidden, member):
    html = signed_in(member).get("/").content.decode()

    assert f'href="{LIST}"' not in html


def test_hidden_registry_is_404_for_strangers(signed_in, hidden, stranger):
    response = signed_in(stranger).get(LIST)

    assert response.status_code == 404


def test_support_reads_hidden_registry(signed_in, hidden, support):
    client = signed_in(support)

    listing = client.get(LIST)
    version = client.get(f"{MODEL}versions/v1/")

    assert listing.status_code == 200
    assert "It is hidden from the team since" in listing.content.decode()
    assert version.status_code == 200
    assert "fraud-team/model-registry/fraud-detector:v1" in version.content.decode()

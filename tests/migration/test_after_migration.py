"""After a migration: legacy paths lead to the copied versions, also after a rename."""

import pytest
from django.urls import reverse

from apps.legacy.resolve import resolve_any_path
from apps.registry import services as registry_services
from apps.registry.models import CollectionLink, Registry
from tests.migration.conftest import run_plan, schedule


@pytest.fixture
def migrated_plan(small_legacy, nlp_team, support):
    plan = run_plan(schedule(nlp_team, support), support)
    assert plan.state == "completed", plan.failure
    return plan


def link(plan, collection: str, index: int) -> CollectionLink:
    return CollectionLink.objects.get(
        collection__registry=plan.target_registry, collection__name=collection, index=index
    )


@pytest.mark.parametrize(
    ("suffix", "index", "new_suffix"),
    [
        (":v0", 0, ":v0"),
        (":v3", 3, ":v3"),
        (":staging", 0, ":staging"),
        (":production", 3, ":production"),
        ("", 3, ":latest"),
    ],
)
def test_legacy_path_resolves_to_copy(migrated_plan, nlp_people, suffix, index, new_suffix):
    resolution = resolve_any_path(
        nlp_people["dave"], f"nlp-team/model-registry/intent-classifier{suffix}"
    )

    assert resolution.target == link(migrated_plan, "intent-classifier", index)
    assert resolution.path == f"acme/wandb-registry-nlp-team/intent-classifier{new_suffix}"
    assert "acme/wandb-registry-nlp-team/intent-classifier" in resolution.deprecation


def test_rename_keeps_legacy_resolution(migrated_plan, nlp_people):
    registry = Registry.objects.get(pk=migrated_plan.target_registry_id)
    registry_services.update_registry(
        registry=registry, name="nlp-models", actor=nlp_people["nadia"]
    )

    resolution = resolve_any_path(nlp_people["dave"], "nlp-team/model-registry/faq-retriever:v1")

    assert resolution.target == link(migrated_plan, "faq-retriever", 1)
    assert resolution.path == "acme/wandb-registry-nlp-models/faq-retriever:v1"
    assert "wandb-registry-nlp-models" in resolution.deprecation


def test_rename_keeps_legacy_redirect(migrated_plan, nlp_people, client):
    registry = Registry.objects.get(pk=migrated_plan.target_registry_id)
    registry_services.update_registry(
        registry=registry, name="nlp-models", actor=nlp_people["nadia"]
    )
    client.force_login(nlp_people["dave"])

    response = client.get("/path/nlp-team/model-registry/intent-classifier:v2")

    assert response.status_code == 301
    assert response["Location"] == reverse(
        "registry:version_detail",
        kwargs={
            "org": "acme",
            "registry": "nlp-models",
            "collection": "intent-classifier",
            "index": 2,
        },
    )


def test_legacy_page_redirects_to_copy(migrated_plan, nlp_people, client):
    client.force_login(nlp_people["dave"])

    response = client.get(
        reverse(
            "legacy:model_detail",
            kwargs={"org": "acme", "team": "nlp-team", "name": "intent-classifier"},
        )
    )

    assert response.status_code == 301
    assert response["Location"] == reverse(
        "registry:collection_detail",
        kwargs={"org": "acme", "registry": "nlp-team", "collection": "intent-classifier"},
    )


def test_rename_updates_completed_banner(migrated_plan, nlp_people, client):
    registry = Registry.objects.get(pk=migrated_plan.target_registry_id)
    registry_services.update_registry(
        registry=registry, name="nlp-models", actor=nlp_people["nadia"]
    )
    client.force_login(nlp_people["dave"])

    page = client.get(reverse("registry:home")).content.decode()
    new_url = reverse("registry:registry_detail", kwargs={"org": "acme", "registry": "nlp-models"})

    assert "now lives in the registry nlp-models" in page
    assert "wandb-registry-nlp-models" in page
    assert "now lives in the registry nlp-team" not in page
    assert f'href="{new_url}"' in page
    assert "Open nlp-models" in page
    assert client.get(new_url).status_code == 200

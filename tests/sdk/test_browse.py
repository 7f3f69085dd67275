"""Browsing with the SDK: registries, collections and versions, with filters."""

import pytest

pytestmark = pytest.mark.sdk

MODEL = "acme/wandb-registry-model/fraud-detector"


def test_browse_registries_collections_versions(sdk, world):
    outcome = sdk.run(
        "browse",
        world.keys["mike"],
        registry="model",
        registry_filter={"name": {"$in": ["model", "vision", "secret"]}},
        collection_filter={"tag": "fraud"},
        version_filter={"$or": [{"alias": "champion"}, {"version": "v0"}]},
        collection_path=MODEL,
        search_filter={"metadata.auc": {"$gte": 0.85}},
    )
    result = outcome.result

    # `secret` exists but mike may not see it, so the filter finds only two.
    assert result["registries"] == [
        {
            "name": "model",
            "full_name": "wandb-registry-model",
            "visibility": "organization",
            "artifact_types": ["model"],
            "description": "Models the organization publishes for others to use.",
        },
        {
            "name": "vision",
            "full_name": "wandb-registry-vision",
            "visibility": "restricted",
            "artifact_types": ["model"],
            "description": "",
        },
    ]
    assert result["collections"] == ["fraud-detector"]
    assert result["versions"] == [["fraud-detector:v0", []], ["fraud-detector:v1", ["champion"]]]
    assert result["collection"] == {
        "name": "fraud-detector",
        "description": "Card **fraud** classifier.",
        "aliases": ["champion", "latest"],
        "tags": ["fraud"],
        "versions": ["fraud-detector:v2", "fraud-detector:v1", "fraud-detector:v0"],
    }
    assert result["artifacts"] == [
        ["fraud-detector:v2", "v2", ["latest"]],
        ["fraud-detector:v1", "v1", ["champion"]],
        ["fraud-detector:v0", "v0", []],
    ]
    # Versions across every collection with the tag, by a key of their metadata.
    assert result["search"] == ["fraud-detector:v1", "fraud-detector:v2"]

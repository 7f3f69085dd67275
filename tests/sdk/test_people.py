"""What a Restricted Viewer, a Viewer, an outsider and a bad key get from the SDK."""

import pytest

pytestmark = pytest.mark.sdk

VISION = "acme/wandb-registry-vision/detector:v0"
MODEL = "acme/wandb-registry-model/fraud-detector:v1"
NO_DOWNLOAD = (
    "Downloading the files of fraud-team/fraud/detector:v0 needs the Viewer role on a "
    "registry it is linked into, or membership of its team; ask a registry admin."
)


def test_people_and_bad_key(sdk, world):
    keys = {
        "rita": world.keys["rita"],
        "vera": world.keys["vera"],
        "oscar": world.keys["oscar"],
        "unknown": "reg-" + "A" * 48,
    }
    steps = [
        {"as": "rita", "action": "fetch", "path": VISION, "download": True, "manifest": True},
        {"as": "rita", "action": "use", "path": VISION, "run": "eval-team/eval/run-1"},
        {"as": "vera", "action": "fetch", "path": MODEL, "download": True},
        {"as": "oscar", "action": "fetch", "path": MODEL},
        {"as": "oscar", "action": "fetch", "path": "nlp-team/model-registry/sentiment:v0"},
        {"as": "unknown", "action": "login"},
    ]
    outcome = sdk.run("steps", None, keys=keys, steps=steps)
    restricted, restricted_use, viewer, outsider, outsider_legacy, unknown = outcome.result

    # A Restricted Viewer sees the version, its metadata and its manifest, but no file URL.
    assert restricted["qualified_name"] == VISION
    assert restricted["metadata"] == {"map": 0.5}
    assert restricted["manifest"] == ["config/params.json", "model.pkl"]
    assert NO_DOWNLOAD in restricted["download"]["error"]
    assert not (sdk.tmp_path / "download-0").exists()
    assert restricted_use["error"].endswith(NO_DOWNLOAD)
    assert not world.versions["detector v0"].used_by.exists()

    assert viewer["download"]["files"] == world.sha256_of("fraud-detector v1")
    assert viewer["download"]["verify"] == "ok"

    # The SDK itself stops a path of an organization the user does not belong to.
    assert outsider["error"] == (
        "CommError: Expecting the organization name or entity name to match 'globex' and "
        "cannot be linked/fetched with 'acme'. Please update the target path with the correct "
        "organization name."
    )
    assert outsider_legacy["error"] == (
        "CommError: project 'model-registry' not found under entity 'nlp-team'"
    )

    assert unknown["error"] == (
        f"AuthenticationError: Failed to verify credentials with {sdk.base_url}: The API key "
        "is invalid or revoked; create a new one under /api/v1/me/api-keys/."
    )

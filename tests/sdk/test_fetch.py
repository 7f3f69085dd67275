"""Api().artifact(): by vN, alias, latest and short path; download and verify; not found."""

import base64
import hashlib

import pytest

pytestmark = [pytest.mark.sdk, pytest.mark.sdk_old]

MODEL = "acme/wandb-registry-model/fraud-detector"


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324


def test_fetch_paths_and_download(sdk, world):
    missing = [
        f"{MODEL}:v9",
        "acme/wandb-registry-model/no-such-model:v0",
        "acme/wandb-registry-secret/hidden-model:v0",
        "acme/wandb-registry-nothing/hidden-model:v0",
    ]
    paths = [
        f"{MODEL}:v1",
        f"{MODEL}:champion",
        f"{MODEL}:latest",
        "wandb-registry-model/fraud-detector",
        *missing,
    ]
    downloads = {f"{MODEL}:v1", "wandb-registry-model/fraud-detector"}
    outcome = sdk.run(
        "steps",
        world.keys["mike"],
        steps=[{"action": "fetch", "path": path, "download": path in downloads} for path in paths],
    )
    result = dict(zip(paths, outcome.result, strict=True))

    by_index = result[f"{MODEL}:v1"]
    assert by_index["name"] == "fraud-detector:v1"
    assert by_index["version"] == "v1"
    assert by_index["aliases"] == ["champion"]
    assert by_index["tags"] == ["reviewed"]
    assert by_index["type"] == "model"
    assert by_index["entity"] == "acme"
    assert by_index["project"] == "wandb-registry-model"
    assert by_index["source_name"] == "fraud-detector:v1"
    assert by_index["source_entity"] == "fraud-team"
    assert by_index["source_project"] == "fraud"
    assert by_index["metadata"] == {"auc": 0.85}
    assert by_index["state"] == "COMMITTED"
    assert by_index["is_link"] is True
    contents = world.contents["fraud-detector v1"]
    assert by_index["size"] == sum(len(data) for _, data in contents)

    by_alias = result[f"{MODEL}:champion"]
    assert by_alias["id"] == by_index["id"]
    assert by_alias["version"] == "v1"
    assert by_alias["name"] == "fraud-detector:champion"

    latest = result[f"{MODEL}:latest"]
    assert latest["version"] == "v2"
    assert latest["aliases"] == ["latest"]
    assert latest["source_name"] == "fraud-detector:v2"

    short = result["wandb-registry-model/fraud-detector"]
    assert short["qualified_name"] == f"{MODEL}:v2"
    assert short["id"] == latest["id"]

    download = by_index["download"]
    assert download["files"] == world.sha256_of("fraud-detector v1")
    assert download["verify"] == "ok"
    assert download["manifest"] == {path: md5_base64(data) for path, data in contents}
    assert by_index["digest"] == download["manifest_digest"]
    assert short["download"]["files"] == world.sha256_of("fraud-detector v2")
    assert short["download"]["verify"] == "ok"

    assert result[f"{MODEL}:v9"] == {
        "error": "CommError: artifact membership 'fraud-detector:v9' not found in "
        "'acme/wandb-registry-model'"
    }
    assert result["acme/wandb-registry-model/no-such-model:v0"] == {
        "error": "CommError: artifact membership 'no-such-model:v0' not found in "
        "'acme/wandb-registry-model'"
    }
    # A registry the user may not see answers exactly like one that does not exist.
    hidden = result["acme/wandb-registry-secret/hidden-model:v0"]["error"]
    nothing = result["acme/wandb-registry-nothing/hidden-model:v0"]["error"]
    assert hidden == "CommError: project 'wandb-registry-secret' not found under entity 'acme'"
    assert nothing == hidden.replace("secret", "nothing")

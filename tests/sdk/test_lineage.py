"""artifact.files(), file.download(), artifact.used_by() and artifact.logged_by().

Files and their URLs need the download permission. Runs belong to a team's project, so
only the team's members see them: a run of another team is left out of used_by(), and
logged_by() returns None for it.
"""

import hashlib

import pytest

from apps.registry import services

pytestmark = pytest.mark.sdk

FRAUD_V2 = "acme/wandb-registry-model/fraud-detector:v2"
DETECTOR = "acme/wandb-registry-vision/detector:v0"


def record_runs(world) -> None:
    """fraud-team's run `train-1` logged fraud-detector v2 and detector v0; `serve-1` of
    fraud-team and `eval-7` of eval-team used fraud-detector v2."""
    mike, rita = world.users["mike"], world.users["rita"]
    fraud = world.versions["fraud-detector v2"].artifact.project
    eval_project = services.get_or_create_project(
        team=rita.team_memberships.get().team, name="eval", actor=rita
    )
    train = services.get_or_create_run(project=fraud, run_id="train-1", name="train", actor=mike)
    serve = services.get_or_create_run(project=fraud, run_id="serve-1", actor=mike)
    evaluate = services.get_or_create_run(project=eval_project, run_id="eval-7", actor=rita)
    for label in ("fraud-detector v2", "detector v0"):
        version = world.versions[label]
        version.produced_by = train
        version.save(update_fields=["produced_by"])
    services.record_use(version=world.versions["fraud-detector v2"], run=serve, actor=mike)
    services.record_use(version=world.versions["fraud-detector v2"], run=evaluate, actor=rita)


def lineage_of(sdk, world, path: str, *people: str) -> dict:
    outcome = sdk.run(
        "steps",
        None,
        keys={person: world.keys[person] for person in people},
        steps=[{"action": "lineage", "path": path, "as": person} for person in people],
    )
    return dict(zip(people, outcome.result, strict=True))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_lineage_as_team_member_and_other_team(sdk, world):
    record_runs(world)

    result = lineage_of(sdk, world, FRAUD_V2, "mike", "rita")

    contents = dict(world.contents["fraud-detector v2"])
    mike = result["mike"]
    assert mike["files"]["names"] == ["params.json", "model.pkl"]
    assert mike["files"]["sizes"] == [
        len(contents["config/params.json"]),
        len(contents["model.pkl"]),
    ]
    assert mike["files"]["urls_match"] == [True, True]
    assert mike["files"]["downloaded"] == {"params.json": sha256(contents["config/params.json"])}
    assert mike["used_by"] == [
        {"entity": "fraud-team", "project": "fraud", "id": "serve-1", "name": "serve-1"}
    ]
    assert mike["logged_by"] == {
        "entity": "fraud-team",
        "project": "fraud",
        "id": "train-1",
        "name": "train",
    }

    # rita may download through the organization's Viewer role but is in eval-team only.
    rita = result["rita"]
    assert rita["files"]["downloaded"] == {"params.json": sha256(contents["config/params.json"])}
    assert rita["used_by"] == [
        {"entity": "eval-team", "project": "eval", "id": "eval-7", "name": "eval-7"}
    ]
    assert rita["logged_by"] is None


def test_lineage_without_download_permission(sdk, world):
    record_runs(world)

    result = lineage_of(sdk, world, DETECTOR, "rita", "mike")

    # rita is a Restricted Viewer of `vision`: she sees the version but not its files.
    rita = result["rita"]
    assert "error" in rita["files"]
    assert (
        "Downloading the files of fraud-team/fraud/detector:v0 needs the Viewer role on a "
        "registry it is linked into, or membership of its team; ask a registry admin."
    ) in rita["files"]["error"]
    assert rita["files"]["error"].count("Downloading the files") == 1
    assert rita["used_by"] == []
    assert rita["logged_by"] is None

    mike = result["mike"]
    assert mike["files"]["names"] == ["params.json", "model.pkl"]
    assert mike["files"]["downloaded"] == {
        "params.json": sha256(dict(world.contents["detector v0"])["config/params.json"])
    }
    assert mike["logged_by"]["id"] == "train-1"

"""Artifact.link() into a collection with aliases, run.use_artifact lineage, write pauses.

NOTE: run.use_artifact() on a run of wandb.init() needs the run API (upsertBucket, the file
stream, run file uploads), which this server does not implement, and wandb.init() in
offline mode rejects use_artifact. The test uses the SDK's public Run object, as
api.runs() builds it, whose use_artifact() sends the same useArtifact mutation.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.graphql_api.ids import encode_id
from apps.registry.models import Alias, CollectionLink, Registry

pytestmark = pytest.mark.sdk

MODEL = "acme/wandb-registry-model"


def test_link_use_and_write_pause(sdk, world):
    Registry.objects.filter(pk=world.registries["vision"].pk).update(
        write_paused_since=timezone.now(),
        write_pause_ends_at=timezone.now() + timedelta(hours=2),
        write_pause_reason="moving its storage",
    )
    first = "fraud-team/fraud/fraud-detector:v0"
    steps = [
        {
            "action": "link",
            "source": first,
            "target": f"{MODEL}/fraud-candidates",
            "aliases": ["staging", "best"],
        },
        {"action": "fetch", "path": f"{MODEL}/fraud-candidates:best"},
        # A short target path: the SDK finds the organization from the source's team.
        {
            "action": "link",
            "source": "fraud-team/fraud/fraud-detector:v2",
            "target": "wandb-registry-model/fraud-candidates",
            "aliases": ["staging"],
        },
        {"action": "link", "source": first, "target": "acme/wandb-registry-vision/detector"},
        {
            "action": "use",
            "path": f"{MODEL}/fraud-detector:champion",
            "run": "fraud-team/fraud/run-42",
        },
        {
            "action": "link",
            "source": f"{MODEL}/fraud-detector:v1",
            "target": f"{MODEL}/fraud-detector",
            "aliases": ["staging"],
            "as": "vera",
        },
    ]
    outcome = sdk.run("steps", world.keys["mike"], keys={"vera": world.keys["vera"]}, steps=steps)
    linked, fetched, moved, paused, used, denied = outcome.result

    assert linked["qualified_name"] == f"{MODEL}/fraud-candidates:v0"
    assert linked["aliases"] == ["best", "latest", "staging"]
    assert linked["source_name"] == "fraud-detector:v0"
    assert linked["id"] == fetched["id"]
    assert fetched["version"] == "v0"
    assert fetched["metadata"] == {"auc": 0.8}

    assert moved["qualified_name"] == f"{MODEL}/fraud-candidates:v1"
    assert moved["aliases"] == ["latest", "staging"]
    collection = world.registries["model"].collections.get(name="fraud-candidates")
    assert collection.type == "model"
    aliases = dict(Alias.objects.filter(collection=collection).values_list("name", "link__index"))
    assert aliases == {"best": 0, "staging": 1, "latest": 1}
    assert (
        CollectionLink.objects.get(collection=collection, index=0).linked_by == world.users["mike"]
    )

    assert paused["error"].endswith(
        "The registry 'vision' is paused for writes: moving its storage. It is expected to "
        f"end at {Registry.objects.get(name='vision').write_pause_ends_at:%Y-%m-%d %H:%M} UTC. "
        "Reading works as usual; try the change again afterwards."
    )
    assert not CollectionLink.objects.filter(
        collection__registry__name="vision", version=world.versions["fraud-detector v0"]
    ).exists()

    champion = world.versions["fraud-detector v1"]
    assert used == {"name": "fraud-detector:champion", "id": encode_id("Artifact", champion.pk)}
    assert list(champion.used_by.values_list("run_id", "project__name")) == [("run-42", "fraud")]
    assert AuditEvent.objects.filter(
        action="artifact_version.used", target="fraud-team/fraud/fraud-detector:v1"
    ).exists()

    assert denied["error"].endswith(
        "Changing content in the registry 'model' needs the Member role; ask one of its "
        "admins for it."
    )

"""SDK scenarios that the tests run in a subprocess: `python client.py SCENARIO ARGS_JSON`.

Each scenario uses only the public wandb API the way user code does, and prints one line
`RESULT {json}` with what the SDK returned; an SDK exception is reported as
{"error": "ExceptionType: message"} in place of the step's result. The same file runs
with the pinned SDK and with the older one of `make test-sdk-old`, so it reads attributes
that an older release may lack with getattr().
"""

import hashlib
import json
import os
import sys
import traceback


def attempt(step, *arguments):
    try:
        return step(*arguments)
    except Exception as error:
        message = str(error).strip() or repr(error)
        return {"error": f"{type(error).__name__}: {message}"}


def api(key=None):
    import wandb

    return wandb.Api(api_key=key) if key else wandb.Api()


def describe(artifact) -> dict:
    """The attributes of a fetched artifact that user code reads."""
    return {
        "name": artifact.name,
        "qualified_name": getattr(artifact, "qualified_name", None),
        "version": artifact.version,
        "aliases": sorted(artifact.aliases),
        "tags": sorted(getattr(artifact, "tags", []) or []),
        "type": artifact.type,
        "entity": artifact.entity,
        "project": artifact.project,
        "source_name": artifact.source_name,
        "source_entity": artifact.source_entity,
        "source_project": artifact.source_project,
        "metadata": artifact.metadata,
        "description": artifact.description,
        "id": artifact.id,
        "digest": artifact.digest,
        "state": str(getattr(artifact.state, "value", artifact.state)),
        "size": artifact.size,
        "is_link": getattr(artifact, "is_link", None),
    }


def download(artifact, root: str) -> dict:
    """Download an artifact and check it: the files on disk and artifact.verify()."""
    path = artifact.download(root=root)
    found = {}
    for folder, _, names in os.walk(path):
        for name in names:
            full = os.path.join(folder, name)
            with open(full, "rb") as handle:
                found[os.path.relpath(full, path).replace(os.sep, "/")] = hashlib.sha256(
                    handle.read()
                ).hexdigest()
    verified = attempt(lambda: artifact.verify(root=path) or "ok")
    manifest = artifact.manifest
    return {
        "files": found,
        "verify": verified,
        "manifest": {path: entry.digest for path, entry in manifest.entries.items()},
        "manifest_digest": manifest.digest(),
    }


# Scenarios -----------------------------------------------------------------------------------


def fetch(client, step: dict, number: int) -> dict:
    """Fetch a path; with "download", also download it into a folder of its own."""
    artifact = client.artifact(step["path"])
    result = describe(artifact)
    if step.get("download"):
        result["download"] = attempt(lambda: download(artifact, f"download-{number}"))
    if step.get("manifest"):
        result["manifest"] = attempt(lambda: sorted(artifact.manifest.entries))
    return result


def link(client, step: dict, number: int) -> dict:
    """Fetch a version and link it to a collection with aliases, as Artifact.link() does."""
    source = client.artifact(step["source"])
    return describe(source.link(step["target"], aliases=step.get("aliases")))


def use(client, step: dict, number: int) -> dict:
    """Declare a fetched version as an input of a run, as the runs of api.runs() do."""
    from wandb.apis.public import Run

    artifact = client.artifact(step["path"])
    entity, project, run_id = step["run"].split("/")
    # A Run built with its attributes, as api.runs() builds them, sends no query for the
    # run itself.
    run = Run(client._service_api, entity, project, run_id, attrs={"name": run_id})
    used = run.use_artifact(artifact)
    return {"name": used.name, "id": used.id}


def describe_run(run) -> dict | None:
    if run is None:
        return None
    return {"entity": run.entity, "project": run.project, "id": run.id, "name": run.name}


def lineage(client, step: dict, number: int) -> dict:
    """List a version's files and download the first; the runs that logged and used it."""
    artifact = client.artifact(step["path"])

    def list_and_download() -> dict:
        listed = list(artifact.files())
        first = listed[0]
        with first.download(root=f"files-{number}", replace=True) as handle:
            handle.close()
        with open(os.path.join(f"files-{number}", first.name), "rb") as handle:
            sha256 = hashlib.sha256(handle.read()).hexdigest()
        return {
            "names": [file.name for file in listed],
            "sizes": [file.size for file in listed],
            "urls_match": [file.url == file.direct_url for file in listed],
            "downloaded": {first.name: sha256},
        }

    return {
        "files": attempt(list_and_download),
        "used_by": attempt(lambda: [describe_run(run) for run in artifact.used_by()]),
        "logged_by": attempt(lambda: describe_run(artifact.logged_by())),
    }


def login(client, step: dict, number: int) -> dict:
    return {"default_entity": client.default_entity}


ACTIONS = {"fetch": fetch, "link": link, "use": use, "lineage": lineage, "login": login}


def steps(arguments: dict) -> list:
    """Run each step with the Api of its key ("as": a label of "keys", else the default).

    One Api is made per key, when its first step runs; a failure to make it is that
    step's result, and the result of every later step of the same key.
    """
    keys = arguments.get("keys", {})
    clients: dict = {}
    results = []
    for number, step in enumerate(arguments["steps"]):
        label = step.get("as", "default")
        if label not in clients:
            clients[label] = attempt(api, keys.get(label))
        client = clients[label]
        if isinstance(client, dict):
            results.append(client)
            continue
        action = ACTIONS[step["action"]]
        results.append(attempt(action, client, step, number))
    return results


def browse(arguments: dict) -> dict:
    """Registries, a registry's collections and versions, a collection and its versions."""
    client = api()
    result = {}
    result["registries"] = attempt(
        lambda: [
            {
                "name": registry.name,
                "full_name": registry.full_name,
                "visibility": str(getattr(registry.visibility, "name", registry.visibility)),
                "artifact_types": sorted(registry.artifact_types),
                "description": registry.description,
            }
            for registry in client.registries(filter=arguments.get("registry_filter"))
        ]
    )
    registry_name = arguments["registry"]
    result["collections"] = attempt(
        lambda: sorted(
            collection.name
            for collection in client.registry(registry_name).collections(
                filter=arguments.get("collection_filter")
            )
        )
    )
    result["versions"] = attempt(
        lambda: sorted(
            (artifact.name, sorted(artifact.aliases))
            for artifact in client.registry(registry_name).versions(
                filter=arguments.get("version_filter")
            )
        )
    )
    path = arguments["collection_path"]

    def collection_summary():
        collection = client.artifact_collection("model", path)
        return {
            "name": collection.name,
            "description": collection.description,
            "aliases": sorted(collection.aliases),
            "tags": sorted(collection.tags),
            "versions": [artifact.name for artifact in collection.artifacts()],
        }

    result["collection"] = attempt(collection_summary)
    result["artifacts"] = attempt(
        lambda: [
            (artifact.name, artifact.version, sorted(artifact.aliases))
            for artifact in client.artifacts("model", path)
        ]
    )
    if arguments.get("search_filter"):
        result["search"] = attempt(
            lambda: sorted(
                artifact.name
                for artifact in client.registries()
                .collections(filter=arguments.get("collection_filter"))
                .versions(filter=arguments["search_filter"])
            )
        )
    return result


SCENARIOS = {"steps": steps, "browse": browse}


def main() -> None:
    scenario, arguments = sys.argv[1], json.loads(sys.argv[2])
    try:
        result = SCENARIOS[scenario](arguments)
    except Exception:
        traceback.print_exc()
        raise
    print("RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()

"""Version page: path, source, aliases, tags, metadata, files, lineage and usage."""

import html
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.registry import services
from tests.registry.conftest import COLLECTION_URL, REGISTRY_URL, version_url


def section(body: str, element_id: str) -> str:
    start = body.index(f'id="{element_id}"')
    return body[start : body.index("</section>", start)]


def test_version_page_shows_full_path_and_copy_button(viewer_client, linked):
    response = viewer_client.get(version_url(1))

    body = response.content.decode()
    assert response.status_code == 200
    assert (
        '<code id="full-path" class="full-path">acme/wandb-registry-model/fraud-detector:v1</code>'
        in body
    )
    assert (
        '<button type="button" class="button-quiet copy-button" data-copy="full-path" hidden>'
        in (body)
    )
    assert '<script src="/static/js/copy.js" defer></script>' in body


def test_version_page_shows_source_version(viewer_client, linked):
    body = viewer_client.get(version_url(1)).content.decode()
    source = section(body, "source-heading")

    assert "<code>fraud-team/fraud/fraud-detector:v1</code>" in source
    assert f'<code class="digest">{linked[1].version.digest}</code>' in source
    assert "by mike" in source


def test_version_page_lists_aliases_with_paths(viewer_client, linked):
    body = viewer_client.get(version_url(2)).content.decode()
    aliases = section(body, "version-aliases")

    assert re.search(r'<li class="alias">\s*latest\s*</li>', aliases)
    assert "<code>acme/wandb-registry-model/fraud-detector:latest</code>" in aliases


def test_version_page_lists_tags_and_description(viewer_client, linked, member):
    services.add_tag(target=linked[1], name="validated", actor=member)
    services.edit_description(
        target=linked[1], text="Chosen after the **May** review.", actor=member
    )

    body = viewer_client.get(version_url(1)).content.decode()

    assert re.search(r'<li class="tag">\s*validated\s*</li>', section(body, "version-tags"))
    assert "<p>Chosen after the <strong>May</strong> review.</p>" in body


def test_version_page_shows_metadata(viewer_client, collection, project, member):
    version = services.create_artifact_version(
        project=project,
        artifact_name="fraud-detector",
        type="model",
        metadata={"auc": 0.93, "mlflow": {"stage": "Production"}, "owner": "fraud-team"},
        actor=member,
    )
    services.link_version(collection=collection, version=version, actor=member)

    body = viewer_client.get(version_url(0)).content.decode()
    metadata = section(body, "metadata-heading")

    assert '<th scope="row"><code>auc</code></th><td class="wrap">0.93</td>' in metadata
    assert "{&quot;stage&quot;: &quot;Production&quot;}" in metadata
    assert '<td class="wrap">fraud-team</td>' in metadata


def test_version_page_lists_files(viewer_client, collection, project, member):
    version = services.create_artifact_version(
        project=project,
        artifact_name="fraud-detector",
        type="model",
        files=[
            services.FileEntry(path="weights/model.bin", size=2_500_000, sha256="b" * 64),
            services.FileEntry(path="MLmodel", size=512, sha256="c" * 64),
        ],
        actor=member,
    )
    services.link_version(collection=collection, version=version, actor=member)

    body = viewer_client.get(version_url(0)).content.decode()
    files = section(body, "files-heading")

    assert files.index("MLmodel") < files.index("weights/model.bin")
    assert '<span title="2500000 bytes">2.4\xa0MB</span>' in files
    assert f'<code class="digest">{"b" * 64}</code>' in files


def test_version_page_shows_lineage(member_client, viewer_client, collection, project, member):
    training = services.get_or_create_run(
        project=project, run_id="r-train", name="train-42", actor=member
    )
    evaluation = services.get_or_create_run(
        project=project, run_id="r-eval", name="eval-7", actor=member
    )
    dataset = services.create_artifact_version(
        project=project, artifact_name="transactions", type="dataset", actor=member
    )
    dataset.used_by.add(training)
    model = services.create_artifact_version(
        project=project,
        artifact_name="fraud-detector",
        type="model",
        produced_by=training,
        actor=member,
    )
    model.used_by.add(evaluation)
    services.link_version(collection=collection, version=model, actor=member)

    lineage = section(member_client.get(version_url(0)).content.decode(), "lineage-heading")
    # The viewer is in no team, and the dataset is linked nowhere: it is not theirs to see.
    viewer_lineage = section(viewer_client.get(version_url(0)).content.decode(), "lineage-heading")

    assert (
        '<span class="run">train-42</span> <span class="muted">run r-train in fraud-team/fraud'
        in (lineage)
    )
    assert "<code>fraud-team/fraud/transactions:v0</code>" in lineage
    assert '<span class="run">eval-7</span>' in lineage
    assert "transactions" not in viewer_lineage
    assert "The run used no versions that you can see." in viewer_lineage


def test_version_page_without_lineage_says_so(viewer_client, linked):
    body = viewer_client.get(version_url(0)).content.decode()

    assert "No run is recorded as its producer." in body
    assert "No run has used this version yet." in body


def test_version_page_usage_snippet(viewer_client, linked):
    body = html.unescape(viewer_client.get(version_url(1)).content.decode())

    assert "api = wandb.Api()" in body
    assert 'artifact = api.artifact("acme/wandb-registry-model/fraud-detector:v1")' in body
    assert 'run.use_artifact("acme/wandb-registry-model/fraud-detector:v1")' in body


def test_version_page_breadcrumbs(viewer_client, linked):
    body = viewer_client.get(version_url(1)).content.decode()

    assert f'<a href="{REGISTRY_URL}">model</a>' in body
    assert f'<a href="{COLLECTION_URL}">fraud-detector</a>' in body


def test_version_lookup_ignores_case(viewer_client, linked):
    body = viewer_client.get("/orgs/Acme/registries/MODEL/collections/Fraud-Detector/versions/v1/")

    assert "acme/wandb-registry-model/fraud-detector:v1</code>" in body.content.decode()


def test_version_page_within_query_budget(viewer_client, collection, project, member):
    training = services.get_or_create_run(
        project=project, run_id="r-train", name="train-42", actor=member
    )
    model = services.create_artifact_version(
        project=project,
        artifact_name="fraud-detector",
        type="model",
        produced_by=training,
        actor=member,
    )
    model.used_by.add(services.get_or_create_run(project=project, run_id="r-eval", actor=member))
    services.link_version(collection=collection, version=model, actor=member)

    with CaptureQueriesContext(connection) as queries:
        response = viewer_client.get(version_url(0))

    assert response.status_code == 200
    # The budget of eight plus the navigation's query for the links to the person's legacy
    # Model Registries, which every full page runs.
    assert len(queries.captured_queries) <= 9

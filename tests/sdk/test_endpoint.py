"""The /graphql endpoint itself, through Django's test client (no SDK needed).

Authentication, GraphQL features the SDK relies on, the filter translator, the gates, the
signed manifest URLs and the write pause, each checked on the response a client reads.
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.graphql_api.ids import encode_id
from apps.registry import services
from apps.registry.models import Registry
from tests.sdk.conftest import basic_auth

pytestmark = pytest.mark.django_db

VERSIONS = """
query Versions($registry: JSONString, $collection: JSONString, $filter: JSONString) {
  organization(name: "acme") {
    orgEntity {
      artifactMemberships(
        projectFilters: $registry, collectionFilters: $collection, filters: $filter
      ) {
        edges { node { versionIndex artifactCollection { name } } }
      }
    }
  }
}
"""


def post(client, key: str | None, query: str, variables=None, **extra):
    body = {"query": query, "variables": variables or {}, "operationName": ""}
    headers = {"HTTP_AUTHORIZATION": basic_auth(key)} if key else {}
    response = client.post(
        "/graphql", data=json.dumps(body), content_type="application/json", **headers, **extra
    )
    return response, response.json()


def versions(client, world, **filters) -> list[str]:
    variables = {name: json.dumps(value) for name, value in filters.items()}
    _, body = post(client, world.keys["mike"], VERSIONS, variables)
    assert "errors" not in body, body
    edges = body["data"]["organization"]["orgEntity"]["artifactMemberships"]["edges"]
    return sorted(
        f"{edge['node']['artifactCollection']['name']}:v{edge['node']['versionIndex']}"
        for edge in edges
    )


def error_of(client, world, **filters) -> str:
    variables = {name: json.dumps(value) for name, value in filters.items()}
    _, body = post(client, world.keys["mike"], VERSIONS, variables)
    assert body["data"]["organization"]["orgEntity"]["artifactMemberships"] is None
    return body["errors"][0]["message"]


# Authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Authentication credentials were not provided."),
        (basic_auth("reg-" + "B" * 48), "The API key is invalid or revoked"),
        (basic_auth("short"), "The API key is invalid or revoked"),
        ("Basic bm90LWJhc2U2NA", "The Basic credentials are not base64 of 'api:KEY'"),
    ],
)
def test_bad_credentials_get_401(client, graph_world, authorization, message):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.post(
        "/graphql",
        data=json.dumps({"query": "{ viewer { username } }"}),
        content_type="application/json",
        **headers,
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert message in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


def test_basic_user_must_be_api(client, graph_world):
    import base64

    credentials = base64.b64encode(f"mike:{graph_world.keys['mike']}".encode()).decode()
    response = client.post(
        "/graphql",
        data=json.dumps({"query": "{ viewer { username } }"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == (
        "The user name must be 'api', with your API key as the password."
    )


def test_session_cookie_is_not_enough(client, graph_world):
    client.force_login(graph_world.users["mike"])
    response, body = post(client, None, "{ viewer { username } }")

    assert response.status_code == 401
    assert body["errors"][0]["message"] == "Authentication credentials were not provided."


def test_get_is_not_allowed(client, graph_world):
    response = client.get("/graphql", HTTP_AUTHORIZATION=basic_auth(graph_world.keys["mike"]))

    assert response.status_code == 405


# GraphQL features ----------------------------------------------------------------------------


def test_fragments_include_defaults_and_aliases(client, graph_world):
    query = """
    query Pick($entity: String!, $name: String!, $withAliases: Boolean = false) {
      found: project(name: "wandb-registry-model", entityName: $entity) {
        artifactCollection(name: "fraud-detector") {
          ...Collection
          artifactMembership(aliasName: $name) {
            versionIndex
            aliases @include(if: $withAliases) { alias }
          }
        }
      }
    }
    fragment Collection on ArtifactCollection {
      __typename
      collectionName: name
      ... on ArtifactPortfolio { description }
    }
    """
    variables = {"entity": "acme", "name": "champion"}
    response, body = post(client, graph_world.keys["mike"], query, variables)

    assert response.status_code == 200
    collection = body["data"]["found"]["artifactCollection"]
    assert collection == {
        "__typename": "ArtifactPortfolio",
        "collectionName": "fraud-detector",
        "description": "Card **fraud** classifier.",
        "artifactMembership": {"versionIndex": 1},
    }

    _, body = post(client, graph_world.keys["mike"], query, {**variables, "withAliases": True})
    membership = body["data"]["found"]["artifactCollection"]["artifactMembership"]
    assert membership["aliases"] == [{"alias": "v1"}, {"alias": "champion"}]


def test_invalid_document_names_the_field(client, graph_world):
    response, body = post(client, graph_world.keys["mike"], "{ viewer { password } }")

    assert response.status_code == 400
    assert body["errors"][0]["message"] == "Cannot query field 'password' on type 'User'."


def test_project_ids_decode_to_project_numbers(client, graph_world):
    query = '{ project(name: "wandb-registry-model", entityName: "acme") { id internalId } }'
    _, body = post(client, graph_world.keys["mike"], query)

    registry = graph_world.registries["model"]
    assert body["data"]["project"]["internalId"] == encode_id("Project", registry.pk)
    assert body["data"]["project"]["id"] == body["data"]["project"]["internalId"]


# Filters -------------------------------------------------------------------------------------


FILTER_CASES = [
    ({"filter": {"alias": "champion"}}, ["fraud-detector:v1"]),
    (
        {"filter": {"alias": {"$ne": "champion"}}},
        ["detector:v0", "fraud-detector:v0", "fraud-detector:v2"],
    ),
    (
        {"filter": {"version": {"$in": ["v0", 2]}}},
        ["detector:v0", "fraud-detector:v0", "fraud-detector:v2"],
    ),
    ({"filter": {"version": {"$nin": ["v0"]}}}, ["fraud-detector:v1", "fraud-detector:v2"]),
    (
        {"filter": {"metadata.auc": {"$gt": 0.8, "$lte": 0.9}}},
        ["fraud-detector:v1", "fraud-detector:v2"],
    ),
    ({"filter": {"metadata.auc": {"$lt": 0.85}}}, ["fraud-detector:v0"]),
    ({"filter": {"metadata.map": {"$exists": True}}}, ["detector:v0"]),
    ({"filter": {"metadata.auc": {"$gte": 0.85}, "tag": "reviewed"}}, ["fraud-detector:v1"]),
    (
        {"filter": {"$or": [{"alias": "latest", "version": 2}, {"tag": "reviewed"}]}},
        ["fraud-detector:v1", "fraud-detector:v2"],
    ),
    (
        {"filter": {"$and": [{"alias": "latest"}, {"alias": {"$in": ["latest", "x"]}}]}},
        ["detector:v0", "fraud-detector:v2"],
    ),
    (
        {"collection": {"name": {"$regex": "^fraud-"}}},
        ["fraud-detector:v0", "fraud-detector:v1", "fraud-detector:v2"],
    ),
    ({"collection": {"tag": {"$in": ["fraud"]}}, "filter": {"version": 0}}, ["fraud-detector:v0"]),
    ({"registry": {"name": "wandb-registry-vision"}}, ["detector:v0"]),
    ({"registry": {"name": {"$nin": ["wandb-registry-model"]}}}, ["detector:v0"]),
    ({"filter": {"created_at": {"$lt": "2000-01-01T00:00:00Z"}}}, []),
    (
        {"filter": {"state": "COMMITTED", "$nor": [{"version": 1}]}},
        ["detector:v0", "fraud-detector:v0", "fraud-detector:v2"],
    ),
]


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_filter_translates_to_versions(client, graph_world, filters, expected):
    assert versions(client, graph_world, **filters) == expected


def test_filter_by_registry_id(client, graph_world):
    vision = graph_world.registries["vision"]

    assert versions(client, graph_world, registry={"id": vision.pk}) == ["detector:v0"]
    found = versions(client, graph_world, registry={"id": {"$ne": vision.pk}})
    assert found == ["fraud-detector:v0", "fraud-detector:v1", "fraud-detector:v2"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"filter": {"owner": "mike"}},
            "The filter field 'owner' is not supported for versions; use one of: alias, "
            "created_at, id, metadata, state, tag, updated_at, version.",
        ),
        (
            {"filter": {"alias": {"$where": "1"}}},
            "The filter operator '$where' is not supported on 'alias'; use one of: $eq, $ne, "
            "$in, $nin, $gt, $gte, $lt, $lte, $regex, $contains, $exists, $not.",
        ),
        (
            {"filter": {"version": {"$regex": "1"}}},
            "The filter operator '$regex' is not supported on 'version'; use one of: $eq, $ne, "
            "$in, $nin, $gt, $gte, $lt, $lte, $not.",
        ),
        (
            {"registry": {"$where": [{"name": "x"}]}},
            "The filter operator '$where' is not supported at the top of a registries filter; "
            "use one of: $and, $or, $nor, $not, or a field name.",
        ),
        (
            {"collection": {"name": {"$regex": "("}}},
            "The regular expression '(' on 'name' is invalid: missing ), unterminated "
            "subpattern at position 0.",
        ),
        (
            {"filter": {"created_at": {"$gt": "yesterday"}}},
            "The value 'yesterday' of 'created_at' is not an ISO 8601 date and time, such as "
            '"2025-01-31T12:00:00Z".',
        ),
        (
            {"filter": {"alias.name": "x"}},
            "The filter field 'alias.name' is not supported for versions: only 'alias' itself "
            "can be filtered on, without '.name'.",
        ),
        (
            {"filter": {"version": "latest"}},
            "The value 'latest' of 'version' is invalid: write a version as vN or a whole number.",
        ),
    ],
)
def test_filter_rejects_what_is_not_allowed(client, graph_world, filters, message):
    assert error_of(client, graph_world, **filters) == message


def test_filter_that_is_not_json(client, graph_world):
    _, body = post(client, graph_world.keys["mike"], VERSIONS, {"filter": "{alias: x}"})

    assert body["errors"][0]["message"] == (
        "Variable '$filter' has invalid value: The JSONString is not valid JSON: Expecting "
        "property name enclosed in double quotes."
    )


def test_version_list_query_count_does_not_grow(client, graph_world):
    query = """
    {
      organization(name: "acme") {
        orgEntity {
          artifactMemberships(first: 100) {
            edges { node { aliases { alias } artifact { state size digest tags { name }
              artifactSequence { name project { name entity { name } } } } } }
          }
        }
      }
    }
    """
    # The first request of a key also records when the key was last used.
    post(client, graph_world.keys["mike"], "{ viewer { id } }")
    with CaptureQueriesContext(connection) as few:
        post(client, graph_world.keys["mike"], query)
    collection = graph_world.collections["fraud-detector"]
    mike = graph_world.users["mike"]
    for label in ("fraud-detector v0", "fraud-detector v1", "fraud-detector v2"):
        copy = services.create_artifact_version(
            project=graph_world.versions[label].artifact.project,
            artifact_name="fraud-detector",
            type="model",
            actor=mike,
        )
        services.link_version(collection=collection, version=copy, actor=mike)
    with CaptureQueriesContext(connection) as more:
        _, body = post(client, graph_world.keys["mike"], query)

    edges = body["data"]["organization"]["orgEntity"]["artifactMemberships"]["edges"]
    assert len(edges) == 7
    assert len(more.captured_queries) == len(few.captured_queries)


COLLECTION_VERSIONS = """
query Total($filter: JSONString) {
  project(name: "wandb-registry-model", entityName: "ACME") {
    artifactCollection(name: "Fraud-Detector") {
      artifacts(first: 1, filters: $filter) { totalCount edges { version } }
    }
  }
}
"""


def collection_versions(client, world, variables=None) -> tuple[dict, list[str]]:
    """Return the collection's artifacts connection and the SQL of the request."""
    post(client, world.keys["mike"], "{ viewer { id } }")
    with CaptureQueriesContext(connection) as captured:
        _, body = post(client, world.keys["mike"], COLLECTION_VERSIONS, variables)
    assert "errors" not in body, body
    artifacts = body["data"]["project"]["artifactCollection"]["artifacts"]
    return artifacts, [query["sql"] for query in captured.captured_queries]


def test_collection_total_is_the_stored_count(client, graph_world):
    artifacts, queries = collection_versions(client, graph_world)

    assert artifacts["totalCount"] == 3
    assert artifacts["edges"] == [{"version": "v2"}]
    assert not [sql for sql in queries if "COUNT(" in sql.upper()]


def test_collection_total_after_unlink(client, graph_world):
    services.unlink_version(
        link=graph_world.links["fraud-detector v0"], actor=graph_world.users["mike"]
    )

    artifacts, _ = collection_versions(client, graph_world)

    assert artifacts["totalCount"] == 2


def test_filtered_collection_total_counts_matches(client, graph_world):
    variables = {"filter": json.dumps({"alias": "champion"})}

    artifacts, _ = collection_versions(client, graph_world, variables)

    assert artifacts["totalCount"] == 1
    assert artifacts["edges"] == [{"version": "v1"}]


# Gates, downloads and the write pause --------------------------------------------------------


def test_hidden_registry_answers_like_a_missing_one(client, graph_world):
    query = """
    query ($name: String!) {
      project(name: $name, entityName: "acme") {
        artifactCollectionMembership(name: "hidden-model:v0") { versionIndex }
      }
    }
    """
    _, hidden = post(client, graph_world.keys["mike"], query, {"name": "wandb-registry-secret"})
    _, missing = post(client, graph_world.keys["mike"], query, {"name": "wandb-registry-none"})
    _, admin = post(client, graph_world.keys["olivia"], query, {"name": "wandb-registry-secret"})

    assert hidden == {"data": {"project": None}}
    assert missing == hidden
    assert admin["data"]["project"]["artifactCollectionMembership"] == {"versionIndex": 0}


MANIFEST = """
query ($id: ID!) { artifact(id: $id) { currentManifest { file { directUrl } } } }
"""
FILES = """
query {
  project(name: "wandb-registry-vision", entityName: "acme") {
    artifactCollection(name: "detector") {
      artifactMembership(aliasName: "v0") {
        files { totalCount edges { node { name directUrl md5 sizeBytes } } }
      }
    }
  }
}
"""


def test_restricted_viewer_no_file_urls(client, graph_world):
    version = graph_world.versions["detector v0"]
    _, body = post(
        client, graph_world.keys["rita"], MANIFEST, {"id": encode_id("Artifact", version.pk)}
    )
    manifest_url = body["data"]["artifact"]["currentManifest"]["file"]["directUrl"]
    manifest = client.get(manifest_url)

    assert manifest.status_code == 200
    assert manifest.json()["version"] == 1
    assert manifest.json()["storagePolicy"] == "wandb-storage-policy-v1"
    assert sorted(manifest.json()["contents"]) == ["config/params.json", "model.pkl"]
    entry = version.files.get(path="model.pkl")
    assert manifest.json()["contents"]["model.pkl"] == {"digest": entry.md5, "size": entry.size}

    _, body = post(client, graph_world.keys["rita"], FILES)
    files = body["data"]["project"]["artifactCollection"]["artifactMembership"]["files"]
    assert files["totalCount"] == 2
    assert [edge["node"]["directUrl"] for edge in files["edges"]] == [None, None]
    assert [edge["node"]["name"] for edge in files["edges"]] == ["config/params.json", "model.pkl"]
    assert body["errors"][0]["message"] == (
        "Downloading the files of fraud-team/fraud/detector:v0 needs the Viewer role on a "
        "registry it is linked into, or membership of its team; ask a registry admin."
    )
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_file_urls_download_without_credentials(client, graph_world):
    _, body = post(client, graph_world.keys["mike"], FILES)
    edges = body["data"]["project"]["artifactCollection"]["artifactMembership"]["files"]["edges"]
    contents = dict(graph_world.contents["detector v0"])

    for edge in edges:
        client.logout()
        response = client.get(edge["node"]["directUrl"])
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == contents[edge["node"]["name"]]


def test_file_not_uploaded_yet(client, graph_world):
    mike = graph_world.users["mike"]
    pending = services.create_artifact_version(
        project=graph_world.versions["fraud-detector v0"].artifact.project,
        artifact_name="fraud-detector",
        type="model",
        files=[services.FileEntry(path="weights.bin", size=5, sha256="c" * 64)],
        actor=mike,
    )
    services.link_version(
        collection=graph_world.collections["fraud-detector"], version=pending, actor=mike
    )
    query = FILES.replace("wandb-registry-vision", "wandb-registry-model")
    query = query.replace('"detector"', '"fraud-detector"').replace('"v0"', '"v3"')
    key = graph_world.keys["mike"]
    _, body = post(client, key, query)
    _, manifest = post(client, key, MANIFEST, {"id": encode_id("Artifact", pending.pk)})
    manifest_url = manifest["data"]["artifact"]["currentManifest"]["file"]["directUrl"]

    files = body["data"]["project"]["artifactCollection"]["artifactMembership"]["files"]
    assert files["edges"] == [
        {"node": {"name": "weights.bin", "directUrl": None, "md5": "", "sizeBytes": 5}}
    ]
    assert body["errors"][0]["message"] == (
        "The file 'weights.bin' of fraud-team/fraud/fraud-detector:v3 has not been uploaded "
        "yet, so it cannot be downloaded; its run must upload it first."
    )
    assert client.get(manifest_url).json()["contents"] == {"weights.bin": {"digest": "", "size": 5}}


def test_manifest_url_expires_and_rejects_tampering(client, graph_world, settings):
    version = graph_world.versions["fraud-detector v1"]
    _, body = post(
        client, graph_world.keys["mike"], MANIFEST, {"id": encode_id("Artifact", version.pk)}
    )
    url = body["data"]["artifact"]["currentManifest"]["file"]["directUrl"]

    tampered = client.get(url.replace("/manifests/", "/manifests/x"))
    assert tampered.status_code == 403
    assert "invalid" in tampered.json()["error"]["message"]

    settings.ARTIFACT_SIGNED_URL_SECONDS = -1
    expired = client.get(url)
    assert expired.status_code == 403
    assert expired.json()["error"]["message"] == (
        "This manifest link has expired; fetch the artifact again for a new one."
    )


LINK = """
mutation ($input: LinkArtifactInput!) {
  linkArtifact(input: $input) { versionIndex artifactMembership { aliases { alias } } }
}
"""


def test_link_during_write_pause_fails_with_its_message(client, graph_world):
    ends = timezone.now() + timedelta(minutes=30)
    Registry.objects.filter(pk=graph_world.registries["model"].pk).update(
        write_paused_since=timezone.now(), write_pause_ends_at=ends, write_pause_reason="upkeep"
    )
    version = graph_world.versions["detector v0"]
    link_input = {
        "artifactID": encode_id("Artifact", version.pk),
        "artifactPortfolioName": "fraud-detector",
        "entityName": "acme",
        "projectName": "wandb-registry-model",
        "aliases": [{"artifactCollectionName": "fraud-detector", "alias": "staging"}],
    }
    _, body = post(client, graph_world.keys["mike"], LINK, {"input": link_input})

    assert body["data"] == {"linkArtifact": None}
    error = body["errors"][0]
    assert error["message"] == (
        f"The registry 'model' is paused for writes: upkeep. It is expected to end at "
        f"{ends:%Y-%m-%d %H:%M} UTC. Reading works as usual; try the change again afterwards."
    )
    assert error["extensions"]["code"] == "WRITE_PAUSED"
    assert error["extensions"]["retryAfter"] >= 30
    assert not graph_world.collections["fraud-detector"].links.filter(version=version).exists()


# The queries the SDK sends from runs: entities, ArtifactByID, ArtifactType ------------------


def test_entities_of_viewer_team_and_organization(client, graph_world):
    query = """
    query ($name: String!) {
      viewer { entity username teams { edges { node { name } } } }
      entity(name: $name) {
        entityType
        organization { name orgEntity { name } }
        user { organizations { name orgEntity { name } } }
      }
    }
    """
    _, team = post(client, graph_world.keys["mike"], query, {"name": "fraud-team"})
    _, user = post(client, graph_world.keys["mike"], query, {"name": "mike"})
    _, organization = post(client, graph_world.keys["mike"], query, {"name": "acme"})
    _, foreign = post(client, graph_world.keys["mike"], query, {"name": "globex"})

    assert team["data"]["viewer"] == {
        "entity": "mike",
        "username": "mike",
        "teams": {"edges": [{"node": {"name": "fraud-team"}}]},
    }
    acme = {"name": "acme", "orgEntity": {"name": "acme"}}
    assert team["data"]["entity"] == {"entityType": "team", "organization": acme, "user": None}
    assert user["data"]["entity"] == {
        "entityType": "user",
        "organization": None,
        "user": {"organizations": [acme]},
    }
    assert organization["data"]["entity"]["entityType"] == "organization"
    assert foreign["data"]["entity"] is None


ARTIFACT_BY_ID = """
query ($id: ID!, $includeAliases: Boolean = true) {
  artifact(id: $id) {
    versionIndex
    artifactSequence { name project { name entity { name } } }
    aliases @include(if: $includeAliases) {
      alias
      artifactCollection { __typename name project { name entity { name } } }
    }
  }
}
"""


def test_artifact_by_id_lists_aliases_of_visible_memberships(client, graph_world):
    champion = graph_world.versions["fraud-detector v1"]
    _, body = post(
        client, graph_world.keys["mike"], ARTIFACT_BY_ID, {"id": encode_id("Artifact", champion.pk)}
    )

    artifact = body["data"]["artifact"]
    assert artifact["versionIndex"] == 1
    assert artifact["artifactSequence"] == {
        "name": "fraud-detector",
        "project": {"name": "fraud", "entity": {"name": "fraud-team"}},
    }
    found = sorted(
        (
            alias["artifactCollection"]["project"]["entity"]["name"],
            alias["artifactCollection"]["project"]["name"],
            alias["artifactCollection"]["__typename"],
            alias["alias"],
        )
        for alias in artifact["aliases"]
    )
    assert found == [
        ("acme", "wandb-registry-model", "ArtifactPortfolio", "champion"),
        ("acme", "wandb-registry-model", "ArtifactPortfolio", "v1"),
        ("fraud-team", "fraud", "ArtifactSequence", "v1"),
    ]


def test_artifact_by_id_is_null_where_not_visible(client, graph_world):
    hidden = graph_world.versions["detector v0"]
    _, body = post(
        client, graph_world.keys["oscar"], ARTIFACT_BY_ID, {"id": encode_id("Artifact", hidden.pk)}
    )
    _, bad = post(client, graph_world.keys["mike"], ARTIFACT_BY_ID, {"id": "not-an-id"})

    assert body == {"data": {"artifact": None}}
    assert bad["errors"][0]["message"] == (
        "The id 'not-an-id' is not valid; send an id this server returned."
    )


def test_artifact_type_of_a_logged_artifact(client, graph_world):
    query = """
    query ($entity: String, $project: String, $name: String!) {
      project(name: $project, entityName: $entity) {
        artifact(name: $name) { artifactType { name } }
      }
    }
    """
    variables = {"entity": "fraud-team", "project": "fraud", "name": "fraud-detector:latest"}
    _, member = post(client, graph_world.keys["mike"], query, variables)
    _, other = post(client, graph_world.keys["vera"], query, variables)

    assert member["data"]["project"]["artifact"] == {"artifactType": {"name": "model"}}
    assert other == {"data": {"project": None}}


USED_BY = "query ($id: ID!) { artifact(id: $id) { usedBy { edges { node { name } } } } }"


def test_used_by_lists_every_run(client, graph_world):
    """The SDK reads usedBy without `first` and without paging, so all runs come at once."""
    mike = graph_world.users["mike"]
    version = graph_world.versions["fraud-detector v0"]
    for number in range(60):
        run = services.get_or_create_run(
            project=version.artifact.project, run_id=f"batch-{number}", actor=mike
        )
        services.record_use(version=version, run=run, actor=mike)

    _, body = post(
        client, graph_world.keys["mike"], USED_BY, {"id": encode_id("Artifact", version.pk)}
    )

    names = [edge["node"]["name"] for edge in body["data"]["artifact"]["usedBy"]["edges"]]
    assert names == [f"batch-{number}" for number in range(60)]

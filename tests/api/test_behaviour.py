"""What a script sees: names, hiding, filters, sorting, resolve, errors, members, schema."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.registry import services
from apps.registry.models import Registry

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/registries/"


def _get(client, world, url, persona="member"):
    return client.get(url, headers=world.headers(persona))


def _send(client, world, method, url, body=None, persona="admin"):
    return getattr(client, method)(
        url,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers=world.headers(persona),
    )


# Names and hiding ---------------------------------------------------------------------------


def test_lookup_in_other_case_shows_canonical_names(world, client):
    response = _get(client, world, BASE + "SECRET-MODELS/collections/FRAUD-detector/")

    assert response.status_code == 200
    assert response.json()["registry"] == "secret-models"
    assert response.json()["name"] == "Fraud-Detector"
    assert response.json()["path"] == "acme/wandb-registry-secret-models/Fraud-Detector"


@pytest.mark.parametrize(
    "path",
    [
        "secret-models/",
        "secret-models/collections/",
        "secret-models/collections/fraud-detector/",
        "secret-models/collections/fraud-detector/versions/0/",
        "secret-models/members/",
    ],
)
def test_hidden_and_missing_are_byte_identical(world, client, path):
    # org_viewer cannot see the Restricted registry; then it is deleted and asked for again.
    hidden = _get(client, world, BASE + path, "org_viewer")
    registry = Registry.objects.get(name="secret-models")
    services.delete_registry(
        registry=registry, confirm_name=registry.name, actor=world.users["admin"]
    )
    missing = _get(client, world, BASE + path, "org_viewer")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert hidden.headers == missing.headers


def test_hidden_version_and_path_look_missing(world, client):
    source = world.versions["restricted"][0]
    hidden = _get(client, world, f"/api/v1/artifact-versions/{source.pk}/", "org_viewer")
    missing = _get(client, world, "/api/v1/artifact-versions/987654/", "org_viewer")
    resolve_hidden = _get(
        client,
        world,
        "/api/v1/resolve/?path=acme/wandb-registry-secret-models/fraud-detector",
        "org_viewer",
    )
    resolve_missing = _get(
        client,
        world,
        "/api/v1/resolve/?path=acme/wandb-registry-absent-models/fraud-detector",
        "org_viewer",
    )

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(str(source.pk).encode(), b"987654") == missing.content
    assert resolve_hidden.status_code == 404
    assert resolve_hidden.content.replace(b"secret", b"absent") == resolve_missing.content


def test_registry_list_leaves_out_hidden(world, client):
    as_org_viewer = _get(client, world, BASE, "org_viewer").json()["results"]
    as_member = _get(client, world, BASE).json()["results"]

    assert "secret-models" not in [item["name"] for item in as_org_viewer]
    assert {"secret-models", "shared-models"} <= {item["name"] for item in as_member}
    roles = {item["name"]: item["role"] for item in as_member}
    assert roles["secret-models"] == "member"


def test_outsider_gets_404_for_organization(world, client):
    response = _get(client, world, BASE, "outsider")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "The organization 'acme' was not found."


# Filters, sorting, pagination ---------------------------------------------------------------


def _collection(world, name, **kwargs):
    return services.create_collection(
        registry=world.registries["restricted"],
        name=name,
        type="model",
        actor=world.users["admin"],
        **kwargs,
    )


def test_collection_filters(world, client):
    _collection(world, "churn", description="Customer churn", tags=["crm"])
    _collection(world, "Churn-EU", tags=["crm", "eu"])
    url = BASE + "secret-models/collections/"

    def names(query):
        response = _get(client, world, url + query)
        assert response.status_code == 200, response.content
        return sorted(item["name"] for item in response.json()["results"])

    assert names("?tag=CRM") == ["Churn-EU", "churn"]
    assert names("?tag=eu") == ["Churn-EU"]
    assert names("?text=customer") == ["churn"]
    assert names("?alias=champion") == ["Fraud-Detector"]
    assert names("?type=model&text=churn") == ["Churn-EU", "churn"]
    assert names("?type=dataset") == []
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert names(f"?created_after={future}") == []
    assert len(names(f"?updated_before={future}")) == 4


def test_invalid_filter_value_is_400_with_field(world, client):
    response = _get(client, world, BASE + "secret-models/collections/?created_after=yesterday")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "created_after"


def test_sorting_has_stable_tie_break_across_pages(world, client):
    for number in range(5):
        _collection(world, f"same-{number}", description="twin")
    url = BASE + "secret-models/collections/?text=twin&ordering=-updated_at&page_size=2"
    # Equal update times make the tie-break decide the order.
    from apps.registry.models import Collection

    Collection.objects.filter(description="twin").update(updated_at=timezone.now())

    seen = []
    while url:
        body = _get(client, world, url).json()
        seen.extend(item["id"] for item in body["results"])
        url = body["next"]

    assert seen == sorted(seen, reverse=True)
    assert len(seen) == 5


def test_unknown_ordering_is_rejected(world, client):
    response = _get(client, world, BASE + "secret-models/collections/?ordering=password")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ordering"
    assert "Cannot sort by 'password'" in response.json()["error"]["message"]


def test_version_list_filters_by_alias_and_tag(world, client):
    url = BASE + "secret-models/collections/fraud-detector/versions/"
    response = _get(client, world, url + "?alias=production")

    assert [item["version"] for item in response.json()["results"]] == ["v1"]
    assert _get(client, world, url + "?tag=none").json()["results"] == []


# Writes through the services ----------------------------------------------------------------


def test_create_registry_and_collection_flow(world, client):
    created = _send(
        client,
        world,
        "post",
        BASE,
        {"name": "Vision", "accepted_types": ["model"], "visibility": "restricted"},
        "member",
    )
    assert created.status_code == 201, created.content
    assert created.json()["role"] == "admin"
    assert created.json()["owner"] == "max"

    collection = _send(
        client,
        world,
        "post",
        BASE + "vision/collections/",
        {"name": "detector", "type": "model", "tags": ["cv"]},
        "member",
    )
    linked = _send(
        client,
        world,
        "post",
        BASE + "vision/collections/detector/versions/",
        {"source_path": "ml-team/fraud/spare-model:latest", "aliases": ["staging"]},
        "team_member",
    )

    assert collection.status_code == 201
    # tina is no member of Vision, so the registry does not exist for her.
    assert linked.status_code == 404


def test_link_by_source_path(world, client):
    response = _send(
        client,
        world,
        "post",
        BASE + "secret-models/collections/fraud-detector/versions/",
        {"source_path": "ml-team/fraud/spare-model:v0", "aliases": ["staging"]},
        "team_member",
    )

    assert response.status_code == 201, response.content
    assert response.json()["version"] == "v2"
    assert response.json()["aliases"] == ["latest", "staging"]
    assert response.json()["source"]["path"] == "ml-team/fraud/spare-model:v0"


def test_link_of_wrong_type_names_both_types(world, client):
    services.create_artifact_version(
        project=world.spare_version.artifact.project,
        artifact_name="table",
        type="dataset",
        actor=world.users["team_member"],
    )
    response = _send(
        client,
        world,
        "post",
        BASE + "secret-models/collections/fraud-detector/versions/",
        {"source_path": "ml-team/fraud/table"},
        "team_member",
    )

    assert response.status_code == 400
    assert "'dataset'" in response.json()["error"]["message"]
    assert "'model'" in response.json()["error"]["message"]


def test_registry_delete_needs_exact_name(world, client):
    wrong = _send(client, world, "delete", BASE + "secret-models/?confirm=SECRET-models")
    assert wrong.status_code == 400
    assert "Type the registry's name exactly" in wrong.json()["error"]["message"]
    assert Registry.objects.filter(name="secret-models").exists()


def test_widening_visibility_needs_confirmation(world, client):
    url = BASE + "secret-models/"
    unconfirmed = _send(client, world, "patch", url, {"visibility": "organization"})
    confirmed = _send(
        client, world, "patch", url, {"visibility": "organization", "confirm_visibility": True}
    )

    assert unconfirmed.status_code == 400
    assert "more people the Viewer role; confirm" in unconfirmed.json()["error"]["message"]
    assert confirmed.status_code == 200
    assert confirmed.json()["visibility"] == "organization"


def test_write_pause_answers_423_with_retry_after(world, client):
    Registry.objects.filter(pk=world.registries["restricted"].pk).update(
        write_paused_since=timezone.now(),
        write_pause_ends_at=timezone.now() + timedelta(minutes=10),
        write_pause_reason="migration of the team",
    )
    response = _send(
        client,
        world,
        "patch",
        BASE + "secret-models/collections/fraud-detector/",
        {"description": "x"},
        "member",
    )
    read = _get(client, world, BASE + "secret-models/collections/fraud-detector/")

    assert response.status_code == 423
    assert response.json()["error"]["code"] == "write_paused"
    assert "migration of the team" in response.json()["error"]["message"]
    assert 30 <= int(response["Retry-After"]) <= 600
    assert read.status_code == 200


# Members ------------------------------------------------------------------------------------


def test_members_show_granted_and_effective_roles(world, client):
    rows = _get(client, world, BASE + "shared-models/members/").json()
    by_name = {row["name"]: row for row in rows}

    assert by_name["rita"]["granted_role"] == "restricted_viewer"
    assert by_name["rita"]["effective_role"] == "viewer"
    assert by_name["rita"]["effective_source"] == "organization"
    assert by_name["ml-team"]["kind"] == "team"
    assert by_name["ada"]["is_owner"] is True


def test_add_members_with_default_roles(world, client):
    from apps.orgs import services as org_services
    from apps.orgs.models import Team

    team = Team.objects.get(name="ml-team")
    org_services.create_service_account(team=team, name="deploy-bot")
    url = BASE + "secret-models/members/"

    user = _send(client, world, "post", url, {"user": "uma"})
    bot = _send(client, world, "post", url, {"service_account": "deploy-bot"})
    weak_bot = _send(client, world, "patch", url + "users/deploy-bot/", {"role": "viewer"})
    unknown = _send(client, world, "post", url, {"user": "oscar"})
    both = _send(client, world, "post", url, {"user": "uma", "team": "ml-team"})

    assert user.status_code == 201
    assert user.json()["granted_role"] == "restricted_viewer"
    assert bot.status_code == 201
    assert bot.json()["kind"] == "service_account"
    assert bot.json()["granted_role"] == "member"
    assert weak_bot.status_code == 400
    assert "at least the Member role" in weak_bot.json()["error"]["message"]
    assert unknown.status_code == 400
    assert unknown.json()["error"]["field"] == "user"
    assert both.status_code == 400


def test_last_admin_cannot_be_demoted(world, client):
    response = _send(
        client, world, "patch", BASE + "secret-models/members/users/ada/", {"role": "member"}
    )
    assert response.status_code == 400
    assert "last Admin" in response.json()["error"]["message"]


# Resolve ------------------------------------------------------------------------------------


def test_resolve_short_path_gives_canonical(world, client):
    response = _get(
        client, world, "/api/v1/resolve/?path=wandb-registry-SECRET-models/fraud-detector:V1"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["path"] == "acme/wandb-registry-secret-models/Fraud-Detector:v1"
    assert body["requested_path"] == "wandb-registry-SECRET-models/fraud-detector:V1"
    assert body["aliases"] == ["latest", "production"]


def test_resolve_invalid_path_names_the_problem(world, client):
    response = _get(client, world, "/api/v1/resolve/?path=acme/models/x")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "path"
    assert "wandb-registry-" in response.json()["error"]["message"]


# Errors and documentation -------------------------------------------------------------------


def test_malformed_json_is_400(world, client):
    response = client.post(
        BASE + "secret-models/collections/",
        data="{not json",
        content_type="application/json",
        headers=world.headers("member"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_wrong_method_is_405_with_error_body(world, client):
    response = _send(client, world, "put", BASE + "secret-models/", {})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_unknown_endpoint_is_json_404(world, client):
    response = _get(client, world, "/api/v1/registries")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_missing_trailing_slash_is_named(world, client):
    response = _get(client, world, "/api/v1/resolve?path=model/x")
    assert response.status_code == 404
    assert "did you mean '/api/v1/resolve/'?" in response.json()["error"]["message"]


def test_unexpected_error_keeps_error_shape(world, client, monkeypatch):
    from apps.api.views import account

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(account.MeViewSet, "retrieve", broken)
    response = _get(client, world, "/api/v1/me/")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_schema_describes_every_operation(client):
    response = client.get("/api/v1/schema/?format=json")
    schema = response.json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]

    assert schema["openapi"].startswith("3.")
    assert len(operations) >= 45
    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        assert operation.get("summary"), label
        assert operation.get("description"), label
        examples = [
            example
            for response_item in operation["responses"].values()
            for content in response_item.get("content", {}).values()
            for example in content.get("examples", {})
        ]
        assert examples, label
        assert "404" in operation["responses"], label


def test_docs_page_uses_installed_assets(client):
    page = client.get("/api/v1/docs/")
    script = client.get("/api/v1/docs/?script=")

    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert script.status_code == 200
    assert "/api/v1/schema/" in script.content.decode()
    policy = dict(
        directive.strip().split(" ", 1) for directive in page["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"


def test_numbers_beyond_64_bits_are_rejected(world, client):
    url = BASE + "secret-models/collections/fraud-detector/"
    huge = 2**64

    link = _send(client, world, "post", url + "versions/", {"version_id": huge}, "member")
    alias = _send(client, world, "put", url + "aliases/staging/", {"index": huge}, "member")
    path = _get(client, world, url + f"versions/{huge}/")

    assert link.status_code == 400
    assert link.json()["error"]["field"] == "version_id"
    assert alias.status_code == 400
    assert alias.json()["error"]["field"] == "index"
    assert path.status_code == 404


@pytest.mark.parametrize("text", ["nul\\u0000", "lone\\ud800"], ids=["nul", "surrogate"])
def test_metadata_with_unstorable_text_is_400(world, client, text):
    response = client.post(
        "/api/v1/orgs/acme/teams/ml-team/projects/fraud/artifacts/spare-model/versions/",
        data='{"type": "model", "metadata": {"note": "' + text + '"}}',
        content_type="application/json",
        headers=world.headers("team_member"),
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "metadata"


def test_write_to_unknown_endpoint_is_json_404(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.delete("/api/v1/orgs/acme/registries/x/collections/y/versions/-3/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

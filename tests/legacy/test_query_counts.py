"""The legacy pages run a fixed number of SQL queries, whatever the number of rows.

Every full page spends four queries outside its own content: the session, the user, the
navigation's links to the user's legacy registries and the site banners. An htmx partial
shows neither the navigation nor the banners. On top of those:

    model list      1 the legacy registry with the user's standing and its protected aliases
                    2 one page of registered models with their tags and version counts
    model page      1 the model with its legacy registry, the user's standing and its tags
                    2 one page of versions with their aliases and tags
                    3 the history
                    4 the team's unlinked versions, only for those who may link one
    version page    1 the version with its model, legacy registry, source version, aliases,
                      tags and the user's standing
                    2 the files

The user's team role, the registry's admins and the support permission are subqueries of the
lookup, so support staff and team members spend the same number of queries.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.legacy import services
from apps.registry import services as registry_services
from tests.legacy.conftest import migrate, pause

LIST = "/orgs/acme/teams/fraud-team/model-registry/"
MODEL = f"{LIST}fraud-detector/"
HTMX = {"HTTP_HX_REQUEST": "true"}

LIST_QUERIES = 6
LIST_PARTIAL_QUERIES = 4
MODEL_QUERIES_WRITER = 8
MODEL_QUERIES_READER = 7
VERSION_QUERIES = 6


def add_models(legacy_registry, actor, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        model = services.create_registered_model(
            legacy_registry=legacy_registry, name=f"model-{number:03}", actor=actor
        )
        services.add_tag(target=model, name=f"tag-{number % 3}", actor=actor)


def add_versions(model, project, actor, count: int) -> None:
    """Link `count` new versions to `model`, each with a tag and an alias of its own."""
    for _ in range(count):
        source = registry_services.create_artifact_version(
            project=project, artifact_name=model.name, type="model", actor=actor
        )
        linked = services.link_version(model=model, version=source, actor=actor)
        services.add_tag(target=linked, name="nightly", actor=actor)
        services.set_alias(legacy_version=linked, name=f"build-{linked.index}", actor=actor)


def add_labelled_version(model, project, actor, count: int) -> int:
    """Link a version with `count` files, tags and aliases; return its index."""
    files = [
        registry_services.FileEntry(path=f"part-{number:03}.bin", size=number, sha256="a" * 64)
        for number in range(count)
    ]
    source = registry_services.create_artifact_version(
        project=project, artifact_name=model.name, type="model", files=files, actor=actor
    )
    linked = services.link_version(model=model, version=source, actor=actor)
    for number in range(count):
        services.add_tag(target=linked, name=f"tag-{number:03}", actor=actor)
        services.set_alias(legacy_version=linked, name=f"alias-{number:03}", actor=actor)
    return linked.index


def queries_for(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.mark.parametrize("who", ["member", "team_viewer", "team_admin", "support"])
def test_list_queries_fixed_for_5_and_50(
    signed_in, legacy_registry, member, team_admin, request, who, settings
):
    settings.REGISTRY_PAGE_SIZE = 100
    client = signed_in(request.getfixturevalue(who))
    add_models(legacy_registry, member, 5)
    for number in range(5):
        services.add_protected_alias(
            legacy_registry=legacy_registry, name=f"prod-{number:02}", actor=team_admin
        )
    with_five = queries_for(client, LIST)
    partial_with_five = queries_for(client, LIST, **HTMX)

    add_models(legacy_registry, member, 45, start=5)
    for number in range(5, 50):
        services.add_protected_alias(
            legacy_registry=legacy_registry, name=f"prod-{number:02}", actor=team_admin
        )
    with_fifty = queries_for(client, LIST)
    partial_with_fifty = queries_for(client, LIST, **HTMX)

    html = client.get(LIST).content.decode()
    assert html.count('<th scope="row"><a href=') == 50
    assert "prod-49" in html
    assert with_five == LIST_QUERIES
    assert with_fifty == LIST_QUERIES
    assert partial_with_five == LIST_PARTIAL_QUERIES
    assert partial_with_fifty == LIST_PARTIAL_QUERIES


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("member", MODEL_QUERIES_WRITER),
        ("team_admin", MODEL_QUERIES_WRITER),
        ("team_viewer", MODEL_QUERIES_READER),
        ("support", MODEL_QUERIES_READER),
    ],
)
def test_model_page_queries_fixed_for_5_and_50(
    signed_in, registered_model, project, member, request, who, expected, settings
):
    settings.REGISTRY_PAGE_SIZE = 100
    client = signed_in(request.getfixturevalue(who))
    add_versions(registered_model, project, member, 5)
    with_five = queries_for(client, MODEL)
    partial_with_five = queries_for(client, MODEL, **HTMX)

    add_versions(registered_model, project, member, 45)
    with_fifty = queries_for(client, MODEL)
    partial_with_fifty = queries_for(client, MODEL, **HTMX)

    html = client.get(MODEL).content.decode()
    assert html.count('<tr id="version-row-') == 50
    assert "build-49" in html
    assert with_five == expected
    assert with_fifty == expected
    # The partial is the list of versions without the navigation and the banners.
    assert partial_with_five == expected - 2
    assert partial_with_fifty == expected - 2


@pytest.mark.parametrize("who", ["member", "team_viewer", "support"])
def test_version_page_queries_fixed_for_5_and_50(
    signed_in, registered_model, project, member, request, who
):
    client = signed_in(request.getfixturevalue(who))
    few = add_labelled_version(registered_model, project, member, 5)
    many = add_labelled_version(registered_model, project, member, 50)

    with_five = queries_for(client, f"{MODEL}versions/v{few}/")
    with_fifty = queries_for(client, f"{MODEL}versions/v{many}/")

    html = client.get(f"{MODEL}versions/v{many}/").content.decode()
    assert "alias-049" in html
    assert "tag-049" in html
    assert "part-049.bin" in html
    assert with_five == VERSION_QUERIES
    assert with_fifty == VERSION_QUERIES


def test_paused_pages_cost_the_same(signed_in, legacy_versions, member):
    client = signed_in(member)
    pause(legacy_registry=legacy_versions[0].model.legacy_registry)

    assert queries_for(client, LIST) == LIST_QUERIES
    assert queries_for(client, MODEL) == MODEL_QUERIES_WRITER
    assert queries_for(client, f"{MODEL}versions/v1/") == VERSION_QUERIES


@pytest.mark.parametrize("days_ago", [0, 400], ids=["read-only", "hidden"])
def test_support_reads_migrated_pages_at_same_cost(
    signed_in, legacy_versions, support, org_admin, days_ago
):
    legacy_registry = legacy_versions[0].model.legacy_registry
    migrate(
        legacy_registry,
        actor=org_admin,
        read_only_since=timezone.now() - timedelta(days=days_ago),
    )
    client = signed_in(support)

    assert queries_for(client, LIST) == LIST_QUERIES
    assert queries_for(client, MODEL) == MODEL_QUERIES_READER
    assert queries_for(client, f"{MODEL}versions/v1/") == VERSION_QUERIES

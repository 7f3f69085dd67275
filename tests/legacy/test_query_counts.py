"""The legacy pages run a fixed number of SQL queries, whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.legacy import services
from apps.legacy.models import LegacyVersion
from apps.registry import services as registry_services

LIST = "/orgs/acme/teams/fraud-team/model-registry/"


def add_models(legacy_registry, actor, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        model = services.create_registered_model(
            legacy_registry=legacy_registry, name=f"model-{number:03}", actor=actor
        )
        services.add_tag(target=model, name=f"tag-{number % 3}", actor=actor)


def add_versions(model, project, actor, count: int) -> None:
    for _ in range(count):
        source = registry_services.create_artifact_version(
            project=project, artifact_name=model.name, type="model", actor=actor
        )
        linked = services.link_version(model=model, version=source, actor=actor)
        services.add_tag(target=linked, name="nightly", actor=actor)


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def test_list_queries_do_not_grow(member_client, legacy_registry, member, settings):
    settings.REGISTRY_PAGE_SIZE = 100
    add_models(legacy_registry, member, 5)
    with_five = queries_for(member_client, LIST)

    add_models(legacy_registry, member, 45, start=5)
    with_fifty = queries_for(member_client, LIST)

    html = member_client.get(LIST).content.decode()
    assert html.count('<th scope="row"><a href=') == 50
    assert with_fifty == with_five


def test_model_page_queries_do_not_grow(member_client, registered_model, project, member):
    url = f"{LIST}fraud-detector/"
    add_versions(registered_model, project, member, 5)
    with_five = queries_for(member_client, url)

    add_versions(registered_model, project, member, 45)
    with_fifty = queries_for(member_client, url)

    assert LegacyVersion.objects.count() == 50
    assert with_fifty == with_five


def test_version_page_queries_do_not_grow(member_client, registered_model, project, member):
    add_versions(registered_model, project, member, 1)
    url = f"{LIST}fraud-detector/versions/v0/"
    only = registered_model.versions.get()
    with_one = queries_for(member_client, url)

    for number in range(20):
        services.add_tag(target=only, name=f"tag-{number}", actor=member)
        services.set_alias(legacy_version=only, name=f"alias-{number}", actor=member)
    with_many = queries_for(member_client, url)

    assert "alias-19" in member_client.get(url).content.decode()
    assert with_many == with_one

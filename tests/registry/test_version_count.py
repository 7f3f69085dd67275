"""Collection.version_count: the stored number of links that the pages and the APIs show.

Every write that adds or removes a link keeps it, so after each one the stored count must
equal the links that are really there.
"""

import importlib

import pytest
from django.apps import apps as installed_apps
from django.core.exceptions import ValidationError
from django.db.models import Count

from apps.registry import services
from apps.registry.models import Collection
from apps.registry.pages import visible_registries
from tests.conftest import log_version
from tests.registry.conftest import COLLECTION_URL, REGISTRY_URL
from tests.registry.test_import_mlflow import SAMPLE, import_store

backfill = importlib.import_module(
    "apps.registry.migrations.0006_backfill_collection_version_count"
)


def stored_and_real(collection: Collection) -> tuple[int, int]:
    collection.refresh_from_db()
    return collection.version_count, collection.links.count()


def test_new_collection_counts_zero(collection):
    assert stored_and_real(collection) == (0, 0)


def test_links_count_up(linked):
    assert stored_and_real(linked[0].collection) == (3, 3)


def test_linking_a_linked_version_counts_nothing(linked, member):
    collection = linked[0].collection

    again = services.link_version(
        collection=collection, version=linked[1].version, aliases=["staging"], actor=member
    )

    assert again.pk == linked[1].pk
    assert stored_and_real(collection) == (3, 3)


def test_link_at_given_index_counts_one(linked, project, member):
    collection = linked[0].collection

    services.link_version(
        collection=collection, version=log_version(project, member), index=10, actor=member
    )
    services.reserve_index(collection=collection, index=20, actor=member)

    assert stored_and_real(collection) == (4, 4)


def test_rejected_link_counts_nothing(linked, project, member):
    collection = linked[0].collection

    with pytest.raises(ValidationError, match="v1 is already used"):
        services.link_version(
            collection=collection, version=log_version(project, member), index=1, actor=member
        )

    assert stored_and_real(collection) == (3, 3)


def test_unlink_counts_down(linked, member):
    services.unlink_version(link=linked[0], actor=member)

    assert stored_and_real(linked[0].collection) == (2, 2)


def test_unlinking_twice_counts_once(linked, member):
    services.unlink_version(link=linked[2], actor=member)
    services.unlink_version(link=linked[2], actor=member)

    assert stored_and_real(linked[0].collection) == (2, 2)


def test_unlink_all_then_link_again(linked, project, member):
    collection = linked[0].collection
    for link in linked:
        services.unlink_version(link=link, actor=member)
    assert stored_and_real(collection) == (0, 0)

    services.link_version(collection=collection, version=log_version(project, member), actor=member)

    assert stored_and_real(collection) == (1, 1)


def test_pages_show_the_count_after_unlink(viewer_client, linked, member):
    services.unlink_version(link=linked[0], actor=member)

    collection_page = viewer_client.get(COLLECTION_URL).content.decode()
    registry_page = viewer_client.get(REGISTRY_URL).content.decode()

    assert "model collection · 2 versions" in collection_page
    assert '<td class="numeric">2</td>' in registry_page


def test_home_adds_up_the_collections(linked, model_registry, project, member, viewer):
    other = services.create_collection(
        registry=model_registry, name="other", type="model", actor=member
    )
    services.link_version(collection=other, version=log_version(project, member), actor=member)

    def model_total() -> int:
        registries = visible_registries(viewer)
        return next(r.version_count for r in registries if r.pk == model_registry.pk)

    assert model_total() == 4
    services.delete_collection(collection=other, confirm_name="other", actor=member)
    assert model_total() == 3


def test_mlflow_import_counts_its_links(org, team, org_admin, model_registry):
    import_store(SAMPLE)

    collections = Collection.objects.filter(registry=model_registry).annotate(
        links_now=Count("links")
    )
    assert collections
    for collection in collections:
        assert collection.version_count == collection.links_now, collection.name
    assert sum(c.version_count for c in collections) > len(collections)


def test_backfill_sets_every_count(linked, model_registry, member):
    empty = services.create_collection(
        registry=model_registry, name="empty", type="model", actor=member
    )
    Collection.objects.filter(pk=linked[0].collection_id).update(version_count=0)
    Collection.objects.filter(pk=empty.pk).update(version_count=7)

    backfill.count_links(installed_apps, schema_editor=None)

    assert stored_and_real(linked[0].collection) == (3, 3)
    assert stored_and_real(empty) == (0, 0)

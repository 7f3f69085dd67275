"""Fixtures of the page and htmx tests: a signed-in client per persona and bulk rows."""

import itertools

import pytest
from django.test import Client

from apps.registry import services
from apps.registry.models import Visibility
from tests.conftest import log_version

REGISTRY_URL = "/orgs/acme/registries/model/"
COLLECTION_URL = f"{REGISTRY_URL}collections/fraud-detector/"
HTMX = {"HX-Request": "true"}


def version_url(index: int) -> str:
    return f"{COLLECTION_URL}versions/v{index}/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer):
    return signed_in(viewer)


@pytest.fixture
def outsider_client(outsider):
    return signed_in(outsider)


@pytest.fixture
def org_admin_client(org_admin):
    return signed_in(org_admin)


@pytest.fixture
def make_collections(model_registry, member):
    """Create `count` tagged collections, each with one linked version, in `model`."""

    numbers = itertools.count()

    def make(count: int, project) -> list:
        created = []
        for number in itertools.islice(numbers, count):
            collection = services.create_collection(
                registry=model_registry,
                name=f"bulk-{number:03d}",
                type="model",
                tags=[f"group-{number % 3}"],
                actor=member,
            )
            version = log_version(project, member, name=f"bulk-artifact-{number:03d}")
            services.link_version(collection=collection, version=version, actor=member)
            created.append(collection)
        return created

    return make


@pytest.fixture
def make_links(collection, project, member):
    """Link `count` more versions into `fraud-detector`, each with its own alias and tag."""

    numbers = itertools.count()

    def make(count: int) -> list:
        links = []
        for number in itertools.islice(numbers, count):
            link = services.link_version(
                collection=collection,
                version=log_version(project, member),
                aliases=[f"candidate-{number}"],
                actor=member,
            )
            services.add_tag(target=link, name=f"batch {number % 4}", actor=member)
            links.append(link)
        return links

    return make


@pytest.fixture
def make_registries(org, org_admin):
    """Create `count` custom registries with Organization visibility."""

    numbers = itertools.count()

    def make(count: int) -> list:
        return [
            services.create_registry(
                organization=org,
                name=f"team-space-{number:03d}",
                visibility=Visibility.ORGANIZATION,
                accepted_types=["model", "dataset"],
                actor=org_admin,
            )
            for number in itertools.islice(numbers, count)
        ]

    return make

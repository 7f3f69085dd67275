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


def pytest_terminal_summary(terminalreporter):
    """Report how many cells of the generated permission matrix ran, with or without `-s`."""
    ran = {"passed": 0, "failed": 0}
    for outcome in ran:
        ran[outcome] = sum(
            1
            for report in terminalreporter.stats.get(outcome, [])
            if getattr(report, "when", "call") == "call"
            and "test_matrix.py::test_cell[" in report.nodeid
        )
    if sum(ran.values()) == 0:
        return
    from tests.registry.matrix import CELLS

    terminalreporter.write_line(
        f"registry page permission matrix: {sum(ran.values())} of {len(CELLS)} generated "
        f"cells ran ({ran['passed']} passed, {ran['failed']} failed)"
    )

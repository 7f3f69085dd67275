"""Every cell of the generated permission matrix of the registry pages (see matrix.py).

The world is built once for the module inside a transaction that is rolled back at its end.
Each cell runs in a savepoint of its own, so a write in one cell is gone in the next.
"""

import copy
import hashlib
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings

from apps.audit.models import AuditEvent
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import files, services
from apps.registry.models import ArtifactVersion, Registry
from tests.conftest import make_user
from tests.registry.matrix import (
    CELLS,
    HTMX,
    PERSONAS,
    PROTECTED,
    REGISTRIES,
    ROLE_TABLE,
    Cell,
    OrgAction,
    RegistrySpec,
)

pytestmark = pytest.mark.django_db

FILE_CONTENT = b"weights of the fraud model"
MISSING_REGISTRY_URL = "/orgs/acme/registries/no-such-registry/"
HTMX_HEADERS = {"HX-Request": "true"}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    registries: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    not_found: dict = field(default_factory=dict)

    def registry(self, spec: RegistrySpec) -> Registry:
        return self.registries[spec.key]


class _Stream:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def read(self, size: int = -1) -> bytes:
        chunk, self.content = self.content, b""
        return chunk


def _build_world() -> World:
    world = World()
    organization = services.create_organization(name="acme", display_name="Acme Corp")
    other = services.create_organization(name="globex")

    for persona in PERSONAS:
        client = Client()
        if persona.signed_in:
            user = make_user(persona.username)
            if persona.org_role is None:
                org_services.add_org_member(organization=other, user=user, role=OrgRole.MEMBER)
            else:
                org_services.add_org_member(
                    organization=organization, user=user, role=persona.org_role
                )
            world.users[persona.name] = user
            client.force_login(user)
        world.clients[persona.name] = client
    org_services.add_org_member(organization=organization, user=make_user("uma"))

    ml_team = org_services.create_team(organization=organization, name="ml-team")
    for persona in PERSONAS:
        if persona.team_role is not None:
            org_services.add_team_member(
                team=ml_team, user=world.users[persona.name], role=TeamRole.MEMBER
            )
    org_services.create_team(organization=organization, name="data-team")
    # The source project belongs to a team that only the Admin persona is in, so the other
    # personas can download its files through registry roles only, never by team membership.
    source_team = org_services.create_team(organization=organization, name="source-team")
    admin = world.users["admin"]
    org_services.add_team_member(team=source_team, user=admin, role=TeamRole.MEMBER)
    project = services.get_or_create_project(team=source_team, name="fraud", actor=admin)

    for spec in REGISTRIES:
        if spec.is_core:
            registry = Registry.objects.get(organization=organization, name=spec.name)
            granter = world.users["org_admin"]
        else:
            registry = services.create_registry(
                organization=organization,
                name=spec.name,
                visibility=spec.visibility,
                accepted_types=["model"],
                actor=admin,
            )
            granter = admin
        for persona in PERSONAS:
            user = world.users.get(persona.name)
            if persona.granted is not None and user != granter:
                services.add_member(
                    registry=registry, member=user, role=persona.granted, actor=granter
                )
        teams = {persona.team_role for persona in PERSONAS if persona.team_role is not None}
        (team_role,) = teams
        services.add_member(registry=registry, member=ml_team, role=team_role, actor=granter)
        services.add_protected_alias(registry=registry, name="frozen", actor=granter)

        # Each registry links source versions of its own, so that no cell can reach a file
        # through another registry.
        versions = [_log(project, f"{spec.name}-detector", admin) for _ in range(3)]
        entry = versions[0].files.get()
        files.store_file(entry=entry, stream=_Stream(FILE_CONTENT), actor=admin)
        world.files[spec.key] = entry.pk

        collection = services.create_collection(
            registry=registry, name="Fraud-Detector", type="model", tags=["crm"], actor=granter
        )
        first = services.link_version(
            collection=collection, version=versions[0], aliases=["champion"], actor=granter
        )
        services.add_tag(target=first, name="gold", actor=granter)
        services.link_version(
            collection=collection, version=versions[1], aliases=["production"], actor=granter
        )
        other_collection = services.create_collection(
            registry=registry, name="Other-Model", type="model", actor=granter
        )
        services.link_version(collection=other_collection, version=versions[2], actor=granter)
        world.registries[spec.key] = registry

    for persona in PERSONAS:
        if persona.signed_in:
            world.not_found[persona.name] = world.clients[persona.name].get(MISSING_REGISTRY_URL)
    return world


def _log(project, name: str, actor) -> ArtifactVersion:
    return services.create_artifact_version(
        project=project,
        artifact_name=name,
        type="model",
        metadata={"auc": 0.9},
        files=[
            services.FileEntry(
                path="model.pkl",
                size=len(FILE_CONTENT),
                sha256=hashlib.sha256(FILE_CONTENT).hexdigest(),
            )
        ],
        actor=actor,
    )


def _templates_without_banners() -> list[dict]:
    """Return the template settings without the site-banner context processor.

    Banners are the same on every page of a person and have no bearing on registry access,
    but looking them up costs a query on every full page. Leaving them out keeps the two
    thousand cells fast, and the banners have tests of their own.
    """
    templates = copy.deepcopy(settings.TEMPLATES)
    processors = templates[0]["OPTIONS"]["context_processors"]
    processors.remove("apps.notices.context_processors.site_notices")
    return templates


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Build the world once for the module, inside a transaction rolled back at its end."""
    storages = dict(settings.STORAGES)
    storages["artifacts"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path_factory.mktemp("artifacts"))},
    }
    overrides = override_settings(STORAGES=storages, TEMPLATES=_templates_without_banners())
    with django_db_blocker.unblock(), overrides, transaction.atomic():
        built = _build_world()
        yield built
        transaction.set_rollback(True)


# Requests ------------------------------------------------------------------------------------


def _request(world: World, cell: Cell) -> tuple[str, dict]:
    action = cell.action
    if isinstance(action, OrgAction):
        return action.path, dict(action.data)
    spec = cell.registry
    path = action.path.format(registry=spec.name, file=world.files[spec.key])
    url = path if path.startswith("/") else f"/orgs/acme/registries/{spec.name}/{path}"
    return url, action.data_for(spec)


def _send(world: World, cell: Cell):
    client = world.clients[cell.persona.name]
    # A message left by an earlier cell would show up in this response's status region.
    client.cookies.pop("messages", None)
    url, data = _request(world, cell)
    headers = HTMX_HEADERS if cell.transport == HTMX else {}
    if cell.action.method == "get":
        return client.get(url, headers=headers)
    return client.post(url, data, headers=headers)


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode()


# What each outcome looks like ----------------------------------------------------------------


def _check_listing(cell: Cell, response) -> None:
    body = _text(response)
    name = cell.registry.name
    # Other organizations have registries of the same name, so the check is on the address.
    mention = f'href="/orgs/acme/registries/{name}/'
    if cell.outcome == "listed":
        assert mention in body
    else:
        assert mention not in body


def _check_done(world: World, cell: Cell, response) -> None:
    action = cell.action
    body = _text(response)
    name = cell.registry.name if cell.registry else ""
    if isinstance(action, OrgAction):
        if action.method == "get":
            assert "<h1>Create a registry</h1>" in body
        elif cell.transport == HTMX:
            assert response["HX-Redirect"] == "/orgs/acme/registries/new-space/"
        else:
            assert response["Location"] == "/orgs/acme/registries/new-space/"
        return

    shows = action.shows_for(cell.transport)
    answered_here = action.method == "get" or cell.status == 200
    if shows and answered_here and not response.has_header("HX-Redirect"):
        assert shows.format(registry=name) in body
    if action.name == "registry page" and cell.transport != HTMX:
        assert f"Your role: <strong>{cell.role.label}</strong>" in body
    if action.name == "version page":
        if cell.role >= ROLE_TABLE["download"]:
            assert ">Download<" in body
            assert "artifact.download()" in body
        else:
            assert ">Download<" not in body
            assert "artifact.download()" not in body
            assert "need the Viewer role" in body
    if action.name == "download file":
        assert b"".join(response.streaming_content) == FILE_CONTENT
    if action.name == "resolve path":
        assert response["Location"].endswith(
            f"/registries/{name}/collections/Fraud-Detector/versions/v0/"
        )
    if action.method == "post" and cell.status == 302:
        assert not response["Location"].startswith("/accounts/login/")


def _check_hidden(world: World, cell: Cell, response) -> None:
    body = _text(response)
    assert "Fraud-Detector" not in body
    if isinstance(cell.action, OrgAction):
        assert "<h1>Not found</h1>" in body
        return
    if cell.action.name == "resolve path":
        if cell.persona.org_role is None:
            assert "The organization &#x27;acme&#x27; was not found." in body
        else:
            assert f"The registry &#x27;{cell.registry.name}&#x27; was not found in" in body
        return
    # Byte for byte the response to a registry that does not exist.
    assert response.content == world.not_found[cell.persona.name].content


def _check_denied(cell: Cell, response) -> None:
    body = _text(response)
    if isinstance(cell.action, OrgAction):
        assert "org viewers cannot create registries" in body
    else:
        assert f"needs the {cell.needed.label} role" in body
    if cell.transport == HTMX:
        assert body.lstrip().startswith('<div id="status"')


def _check_rejected(cell: Cell, response) -> None:
    assert f"The core registry &#x27;{cell.registry.name}&#x27;" in _text(response)


def test_matrix_is_generated_for_every_dimension():
    personas = {cell.persona.name for cell in CELLS}
    registries = {cell.registry.key for cell in CELLS if cell.registry}
    states = {cell.state for cell in CELLS}
    outcomes = {cell.outcome for cell in CELLS}

    assert personas == {persona.name for persona in PERSONAS}
    assert registries == {"restricted", "organization", "core"}
    assert states == {"plain", PROTECTED}
    assert outcomes == {"login", "hidden", "denied", "rejected", "done", "listed", "unlisted"}
    assert len({cell.id for cell in CELLS}) == len(CELLS)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.id)
def test_cell(world, cell):
    if cell.state == PROTECTED:
        services.add_protected_alias(
            registry=world.registry(cell.registry), name="production", actor=world.users["admin"]
        )
    audit_before = AuditEvent.objects.count()

    response = _send(world, cell)

    written = AuditEvent.objects.count() - audit_before
    assert response.status_code == cell.status, _text(response)[:2000]
    if cell.audited:
        assert written > 0
    else:
        assert written == 0
    if cell.outcome == "login":
        assert response["Location"].startswith("/accounts/login/?next=")
    elif cell.outcome in ("listed", "unlisted"):
        _check_listing(cell, response)
    elif cell.outcome == "hidden":
        _check_hidden(world, cell, response)
    elif cell.outcome == "denied":
        _check_denied(cell, response)
    elif cell.outcome == "rejected":
        _check_rejected(cell, response)
    else:
        _check_done(world, cell, response)

"""The real wandb SDK against pytest-django's live server.

Each test builds a small registry with real, uploaded files, then runs `client.py` in a
subprocess with the installed SDK (wandb 0.31.0, pinned in the test extras) or, for the
tests that `make test-sdk-old` selects, with the older SDK in .venv-sdk-old. A subprocess per
scenario keeps the SDK's caches and its wandb-core helper process apart between tests.

Nothing can reach another host. WANDB_BASE_URL is the live server on 127.0.0.1, and every
WANDB_* folder and HOME are under the test's tmp_path. Error reporting is off, and every
other HTTP(S) request goes to a proxy address on 127.0.0.1 where nothing listens.

Without the SDK the tests are skipped with a message on how to install it, except when
REQUIRE_SERVICES=1 (CI), which makes that a failure.

The world, for the organization `acme`:

    mike    org member, member of fraud-team; fraud-team is Member of the `model` registry
    vera    org viewer: Viewer of the core registries
    rita    org member, Restricted Viewer of the custom registry `vision` (made by mike);
            member of eval-team, which has the project `eval`
    nadia   org member, admin of nlp-team, whose legacy Model Registry holds `sentiment`
    olivia  org admin; she made the Restricted registry `secret`, which mike cannot see
    oscar   member of another organization, `globex`

    acme/wandb-registry-model/fraud-detector   v0, v1 (champion, tag reviewed), v2 (latest)
    acme/wandb-registry-vision/detector        v0 (latest)
    acme/wandb-registry-secret/hidden-model    v0
    nlp-team/model-registry/sentiment          v0, v1 (production)
"""

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.legacy import services as legacy_services
from apps.migration import services as migration_services
from apps.migration.tasks import run_copy
from apps.orgs import services as org_services
from apps.orgs.models import OrgRole, TeamRole
from apps.registry import files, services
from apps.registry.models import Registry
from apps.registry.roles import Role
from tests.conftest import make_user, skip_or_fail

# The live server listens on 127.0.0.1 rather than pytest-django's default of localhost.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CLIENT = Path(__file__).resolve().parent / "client.py"
PINNED_SDK = "0.31.0"
# Set by `make test-sdk-old` to the Python of the virtualenv with the older SDK.
SDK_PYTHON_VARIABLE = "SDK_PYTHON"
# A scenario that takes longer than this has hung; the SDK's own timeouts are far shorter.
SCENARIO_TIMEOUT_SECONDS = 120
# Requests to any host but 127.0.0.1 go to this proxy, where nothing listens (port 9 is the
# discard service), so they fail at once on this machine.
DEAD_PROXY = "http://127.0.0.1:9"


def sdk_python() -> str:
    # abspath, not resolve(): a virtualenv's python is a symlink that must stay in the venv.
    return os.path.abspath(os.environ.get(SDK_PYTHON_VARIABLE) or sys.executable)


def installed_sdk_version(python: str) -> str | None:
    completed = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('wandb'))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.stdout.strip() if completed.returncode == 0 else None


@pytest.fixture(scope="session")
def sdk_version() -> str:
    python = sdk_python()
    version = installed_sdk_version(python)
    if version is None:
        skip_or_fail(
            f"the wandb SDK is not installed for {python}; install the test extras "
            f"(`.venv/bin/pip install -e '.[test]'`, which pins wandb=={PINNED_SDK}) or run "
            f"`make test` to run the SDK tests"
        )
    if python == sys.executable and version != PINNED_SDK:
        skip_or_fail(
            f"wandb {version} is installed, but these tests pin wandb=={PINNED_SDK}; run "
            f"`.venv/bin/pip install wandb=={PINNED_SDK}`"
        )
    return version


# Running the SDK -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one client scenario returned and printed."""

    result: dict
    stderr: str
    seconds: float = 0.0

    @property
    def warnings(self) -> list[str]:
        """The lines the SDK printed as warnings."""
        return [line for line in self.stderr.splitlines() if "WARNING" in line]


@dataclass
class SdkRunner:
    base_url: str
    tmp_path: Path
    python: str = field(default_factory=sdk_python)

    def environment(self, key: str | None) -> dict[str, str]:
        home = self.tmp_path / "home"
        folders = {
            "WANDB_DIR": "wandb",
            "WANDB_CACHE_DIR": "cache",
            "WANDB_CONFIG_DIR": "config",
            "WANDB_DATA_DIR": "data",
            "WANDB_ARTIFACT_DIR": "artifacts",
        }
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("WANDB_") and name.upper() not in _PROXY_VARIABLES
        }
        for variable, folder in folders.items():
            path = self.tmp_path / folder
            path.mkdir(parents=True, exist_ok=True)
            environment[variable] = str(path)
        home.mkdir(exist_ok=True)
        environment.update(
            {
                "HOME": str(home),
                "WANDB_BASE_URL": self.base_url,
                # Not WANDB_SILENT: it would hide the warnings that the tests read.
                "WANDB_QUIET": "true",
                "WANDB_ERROR_REPORTING": "false",
                "WANDB_DISABLE_CODE": "true",
                "WANDB_DISABLE_GIT": "true",
                "WANDB_HTTP_TIMEOUT": "10",
                "WANDB__GRAPHQL_RETRY_MAX": "1",
                "WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS": "1",
                "WANDB__FILE_TRANSFER_RETRY_MAX": "1",
                "HTTP_PROXY": DEAD_PROXY,
                "HTTPS_PROXY": DEAD_PROXY,
                "http_proxy": DEAD_PROXY,
                "https_proxy": DEAD_PROXY,
                "NO_PROXY": "127.0.0.1",
                "no_proxy": "127.0.0.1",
            }
        )
        if key is not None:
            environment["WANDB_API_KEY"] = key
        return environment

    def run(self, scenario: str, key: str | None, **arguments) -> Outcome:
        """Run one scenario of client.py and return its JSON result and its stderr."""
        started = time.monotonic()
        completed = subprocess.run(
            [self.python, str(CLIENT), scenario, json.dumps(arguments)],
            capture_output=True,
            text=True,
            env=self.environment(key),
            cwd=self.tmp_path,
            timeout=SCENARIO_TIMEOUT_SECONDS,
            check=False,
        )
        seconds = time.monotonic() - started
        lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
        output = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        assert completed.returncode == 0, f"client.py {scenario} failed.\n{output}"
        assert lines, f"client.py {scenario} printed no RESULT line.\n{output}"
        return Outcome(json.loads(lines[-1][len("RESULT ") :]), completed.stderr, seconds)


_PROXY_VARIABLES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}


@pytest.fixture
def sdk(sdk_version, live_server, tmp_path) -> SdkRunner:
    return SdkRunner(base_url=live_server.url, tmp_path=tmp_path)


# The world -----------------------------------------------------------------------------------


@dataclass
class World:
    users: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    contents: dict = field(default_factory=dict)
    registries: dict = field(default_factory=dict)
    collections: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    legacy: object = None
    nlp_team: object = None
    support: object = None

    def sha256_of(self, name: str) -> dict[str, str]:
        """The sha256 of each file of a logged version, by path."""
        return {path: hashlib.sha256(data).hexdigest() for path, data in self.contents[name]}


def _log(project, actor, name: str, contents: list[tuple[str, bytes]], metadata: dict):
    """Log a version with `contents` and upload every file, as a run would."""
    version = services.create_artifact_version(
        project=project,
        artifact_name=name,
        type="model",
        metadata=metadata,
        files=[
            services.FileEntry(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            for path, data in contents
        ],
        actor=actor,
    )
    for entry in version.files.all():
        data = dict(contents)[entry.path]
        files.store_file(entry=entry, stream=io.BytesIO(data), actor=actor)
    return version


def _contents(label: str) -> list[tuple[str, bytes]]:
    return [
        ("model.pkl", f"weights of {label}\n".encode() * 64),
        ("config/params.json", json.dumps({"label": label, "depth": 6}).encode()),
    ]


def build_world() -> World:
    world = World()
    acme = services.create_organization(name="acme", display_name="Acme Corp")
    globex = services.create_organization(name="globex")
    people = {
        "mike": (acme, OrgRole.MEMBER),
        "vera": (acme, OrgRole.VIEWER),
        "rita": (acme, OrgRole.MEMBER),
        "nadia": (acme, OrgRole.MEMBER),
        "olivia": (acme, OrgRole.ADMIN),
        "oscar": (globex, OrgRole.MEMBER),
    }
    for username, (organization, role) in people.items():
        user = make_user(username)
        org_services.add_org_member(organization=organization, user=user, role=role)
        world.users[username] = user
        _, world.keys[username] = org_services.create_api_key(user=user, name="sdk tests")

    fraud_team = org_services.create_team(organization=acme, name="fraud-team")
    org_services.add_team_member(team=fraud_team, user=world.users["mike"], role=TeamRole.MEMBER)
    model_registry = Registry.objects.get(organization=acme, name="model")
    services.add_member(
        registry=model_registry, member=fraud_team, role=Role.MEMBER, actor=world.users["olivia"]
    )
    mike = world.users["mike"]
    fraud = services.get_or_create_project(team=fraud_team, name="fraud", actor=mike)

    collection = services.create_collection(
        registry=model_registry,
        name="fraud-detector",
        type="model",
        description="Card **fraud** classifier.",
        tags=["fraud"],
        actor=mike,
    )
    world.collections["fraud-detector"] = collection
    for number in range(3):
        label = f"fraud-detector v{number}"
        world.contents[label] = _contents(label)
        version = _log(
            fraud, mike, "fraud-detector", world.contents[label], {"auc": (0.8, 0.85, 0.9)[number]}
        )
        world.versions[label] = version
        world.links[label] = services.link_version(
            collection=collection, version=version, actor=mike
        )
    services.set_alias(link=world.links["fraud-detector v1"], name="champion", actor=mike)
    services.add_tag(target=world.links["fraud-detector v1"], name="reviewed", actor=mike)
    world.registries["model"] = model_registry

    vision = services.create_registry(
        organization=acme,
        name="vision",
        visibility="restricted",
        accepted_types=["model"],
        actor=mike,
    )
    services.add_member(
        registry=vision, member=world.users["rita"], role=Role.RESTRICTED_VIEWER, actor=mike
    )
    eval_team = org_services.create_team(organization=acme, name="eval-team")
    org_services.add_team_member(team=eval_team, user=world.users["rita"], role=TeamRole.MEMBER)
    services.get_or_create_project(team=eval_team, name="eval", actor=world.users["rita"])
    world.contents["detector v0"] = _contents("detector v0")
    detector = _log(fraud, mike, "detector", world.contents["detector v0"], {"map": 0.5})
    world.versions["detector v0"] = detector
    vision_collection = services.create_collection(
        registry=vision, name="detector", type="model", actor=mike
    )
    services.link_version(collection=vision_collection, version=detector, actor=mike)
    world.registries["vision"] = vision

    olivia = world.users["olivia"]
    secret = services.create_registry(
        organization=acme,
        name="secret",
        visibility="restricted",
        accepted_types=["model"],
        actor=olivia,
    )
    secret_team = org_services.create_team(organization=acme, name="secret-team")
    org_services.add_team_member(team=secret_team, user=olivia, role=TeamRole.ADMIN)
    hidden = _log(
        services.get_or_create_project(team=secret_team, name="secret", actor=olivia),
        olivia,
        "hidden-model",
        _contents("hidden-model v0"),
        {},
    )
    hidden_collection = services.create_collection(
        registry=secret, name="hidden-model", type="model", actor=olivia
    )
    services.link_version(collection=hidden_collection, version=hidden, actor=olivia)
    world.registries["secret"] = secret

    _build_legacy(world, acme)
    return world


def _build_legacy(world: World, acme) -> None:
    nadia = world.users["nadia"]
    nlp_team = org_services.create_team(organization=acme, name="nlp-team")
    org_services.add_team_member(team=nlp_team, user=nadia, role=TeamRole.ADMIN)
    nlp = services.get_or_create_project(team=nlp_team, name="nlp", actor=nadia)
    legacy = legacy_services.ensure_legacy_registry(team=nlp_team)
    model = legacy_services.create_registered_model(
        legacy_registry=legacy, name="sentiment", description="Review sentiment.", actor=nadia
    )
    for number in range(2):
        label = f"sentiment v{number}"
        world.contents[label] = _contents(label)
        version = _log(nlp, nadia, "sentiment", world.contents[label], {"f1": (0.7, 0.8)[number]})
        world.versions[label] = version
        legacy_services.link_version(model=model, version=version, actor=nadia)
    legacy_version = model.versions.get(index=1)
    legacy_services.set_alias(legacy_version=legacy_version, name="production", actor=nadia)
    world.legacy = legacy
    world.nlp_team = nlp_team

    support = make_user("sue")
    support.user_permissions.add(Permission.objects.get(codename="support_console"))
    world.support = support


def migrate_nlp_team(world: World) -> Registry:
    """Migrate nlp-team's legacy registry now, with the support console's services."""
    plan = migration_services.schedule_migration(
        team=world.nlp_team,
        window_start=timezone.now() + timedelta(days=35),
        actor=world.support,
    )
    migration_services.start_migration(plan=plan, actor=world.support)
    run_copy(plan.pk)
    plan.refresh_from_db()
    assert plan.state == "completed", plan.failure
    return plan.target_registry


def _test_settings(storage_root: Path, base: dict) -> dict:
    return {
        "STORAGES": {
            **base["STORAGES"],
            "artifacts": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(storage_root)},
            },
        },
        # The migration's copy runs in the test's thread, where the test can wait for it.
        "MIGRATION_EAGER_THREAD": False,
        # One SDK download fetches a manifest and each file from the same address.
        "API_THROTTLE_RATES": {scope: "10000/min" for scope in base["API_THROTTLE_RATES"]},
    }


@pytest.fixture
def world(transactional_db, live_server, settings, tmp_path) -> World:
    """The world, committed, for the SDK's requests to the live server."""
    base = {"STORAGES": settings.STORAGES, "API_THROTTLE_RATES": settings.API_THROTTLE_RATES}
    for name, value in _test_settings(tmp_path / "storage", base).items():
        setattr(settings, name, value)
    cache.clear()
    return build_world()


@pytest.fixture(scope="module")
def graph_world(django_db_setup, django_db_blocker, tmp_path_factory) -> World:
    """The world for the test client, built once per module and rolled back after it.

    Each test runs in a transaction of its own inside this one, so its writes go away too.
    """
    from django.conf import settings

    base = {"STORAGES": settings.STORAGES, "API_THROTTLE_RATES": settings.API_THROTTLE_RATES}
    overrides = _test_settings(tmp_path_factory.mktemp("storage"), base)
    with django_db_blocker.unblock(), override_settings(**overrides), transaction.atomic():
        cache.clear()
        yield build_world()
        transaction.set_rollback(True)


def basic_auth(key: str) -> str:
    return "Basic " + base64.b64encode(f"api:{key}".encode()).decode()

"""The write pause of a migration: every write to either registry gets 423, none lands.

The burst is sent through the legacy pages, the registry pages (each plain and with htmx)
and the REST API. It is sent one request after the other on any database. On PostgreSQL it
is also sent at once from threads, each with its own connection, on committed data.
"""

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.core.exceptions import WritePaused
from apps.legacy import services as legacy_services
from apps.legacy.models import LegacyRegistry
from apps.migration import copy, services
from apps.migration.models import PlanState
from apps.migration.tasks import run_copy
from apps.orgs import services as org_services
from apps.registry import services as registry_services
from apps.registry.models import Collection, Registry
from tests.migration.conftest import dump_legacy, dump_target, schedule

TARGET = {"org": "acme", "registry": "nlp-team", "collection": "intent-classifier"}
LEGACY = {"org": "acme", "team": "nlp-team", "name": "intent-classifier"}
API = "/api/v1/orgs/acme/registries/nlp-team/collections"


def copy_until_verifying(plan) -> None:
    """Run the copy to its end, leaving the plan verifying: both registries still paused."""
    while (outcome := copy.copy_next_chunk(plan.pk)) is not copy.Outcome.FINISHED:
        assert outcome is not copy.Outcome.STOPPED


@pytest.fixture
def paused_plan(small_legacy, nlp_team, support, monkeypatch):
    plan = schedule(nlp_team, support)
    # The test drives the copy itself: the job that starting queues must not run it (it
    # would, at once, in tests whose transactions really commit).
    monkeypatch.setattr("apps.migration.tasks.enqueue_copy", lambda plan_id: None)
    services.start_migration(plan=plan, actor=support)
    copy_until_verifying(plan)
    plan.refresh_from_db()
    assert plan.state == PlanState.VERIFYING
    return plan


Send = Callable[[], object]


def page_writes(client: Client, htmx: bool) -> list[tuple[str, Send]]:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    version = {**TARGET, "index": 0}
    legacy_version = {**LEGACY, "index": 0}

    def post(name: str, kwargs: dict, data: dict) -> tuple[str, Send]:
        url = reverse(name, kwargs=kwargs)
        label = f"{'htmx ' if htmx else ''}{name}"
        return label, lambda: client.post(url, data, **headers)

    return [
        post("registry:collection_description", TARGET, {"text": "changed"}),
        post("registry:collection_tag_add", TARGET, {"name": "paused"}),
        post("registry:version_alias_set", version, {"name": "candidate"}),
        post("registry:version_tag_add", version, {"name": "paused"}),
        post("registry:version_description", version, {"text": "changed"}),
        post("legacy:model_description", LEGACY, {"text": "changed"}),
        post("legacy:model_tag_add", LEGACY, {"name": "paused"}),
        post("legacy:version_alias_set", legacy_version, {"name": "candidate"}),
        post("legacy:version_tag_add", legacy_version, {"name": "paused"}),
        post("legacy:version_description", legacy_version, {"text": "changed"}),
        post("legacy:model_create", {"org": "acme", "team": "nlp-team"}, {"name": "new-model"}),
    ]


def api_writes(client: Client, key: str, source_id: int) -> list[tuple[str, Send]]:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def send(method: str, url: str, body: dict | None = None) -> Send:
        call = getattr(client, method)
        payload = json.dumps(body or {})
        return lambda: call(url, payload, content_type="application/json", **auth)

    return [
        ("api create collection", send("post", f"{API}/", {"name": "fresh", "type": "model"})),
        (
            "api describe collection",
            send("patch", f"{API}/intent-classifier/", {"description": "changed"}),
        ),
        (
            "api link version",
            send("post", f"{API}/intent-classifier/versions/", {"version_id": source_id}),
        ),
        ("api move alias", send("put", f"{API}/intent-classifier/aliases/staging/", {"index": 2})),
        ("api unlink version", send("delete", f"{API}/intent-classifier/versions/0/")),
    ]


def in_thread(send: Send):
    try:
        return send()
    finally:
        connection.close()


def burst_in_threads(sends: list[tuple[str, Send]]) -> list[tuple[str, object]]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [(label, pool.submit(in_thread, send)) for label, send in sends]
        return [(label, future.result()) for label, future in futures]


def assert_all_paused(results) -> None:
    assert results
    for label, response in results:
        body = response.content.decode()
        assert response.status_code == 423, f"{label}: {response.status_code} {body[:300]}"
        assert int(response["Retry-After"]) >= 30, label
        assert "paused for writes" in body, label
        assert "being migrated to the registry" in body, label
        assert "expected to end at" in body, label


def clients_for(people: dict) -> tuple[Client, Client]:
    """A signed-in client for a team admin and one for a team member."""
    admin, member = Client(), Client()
    admin.force_login(people["nadia"])
    member.force_login(people["dave"])
    return admin, member


def sends_for(plan, people) -> list[tuple[str, Send]]:
    admin, member = clients_for(people)
    _, key = org_services.create_api_key(user=people["nadia"], name="burst")
    source_id = Collection.objects.get(registry=plan.target_registry, name="faq-retriever")
    source_id = source_id.links.order_by("index").first().version_id
    return [
        *page_writes(admin, htmx=False),
        *page_writes(member, htmx=True),
        *api_writes(admin, key, source_id),
    ]


def test_burst_during_pause_gets_423(paused_plan, small_legacy, nlp_people):
    target_before = dump_target(paused_plan.target_registry)
    legacy_before = dump_legacy(small_legacy)
    sends = sends_for(paused_plan, nlp_people)

    results = [(label, send()) for label, send in sends]

    assert len(results) == 27
    assert_all_paused(results)
    assert dump_target(paused_plan.target_registry) == target_before
    assert dump_legacy(small_legacy) == legacy_before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_burst_gets_423(paused_plan, small_legacy, nlp_people):
    target_before = dump_target(paused_plan.target_registry)
    legacy_before = dump_legacy(small_legacy)
    sends = sends_for(paused_plan, nlp_people) * 3

    results = burst_in_threads(sends)

    assert len(results) == 81
    assert_all_paused(results)
    assert dump_target(paused_plan.target_registry) == target_before
    assert dump_legacy(small_legacy) == legacy_before


def test_api_error_body_names_pause(paused_plan, nlp_people):
    _, key = org_services.create_api_key(user=nlp_people["nadia"], name="one")

    response = Client().patch(
        f"{API}/intent-classifier/",
        json.dumps({"description": "changed"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    error = response.json()["error"]
    assert response.status_code == 423
    assert error["code"] == "write_paused"
    assert "The registry 'nlp-team' is paused for writes" in error["message"]


def test_reads_continue_during_pause(paused_plan, nlp_people):
    admin, member = clients_for(nlp_people)

    registry_page = admin.get(reverse("registry:collection_detail", kwargs=TARGET))
    legacy_page = member.get(reverse("legacy:model_detail", kwargs=LEGACY))

    assert registry_page.status_code == 200
    assert "intent-classifier" in registry_page.content.decode()
    assert legacy_page.status_code == 200
    assert "intent-classifier" in legacy_page.content.decode()


def test_services_reject_during_copy(small_legacy, nlp_team, support, nlp_people, org_admin):
    """Mid-copy, only org admins see the target; their writes are rejected too."""
    plan = schedule(nlp_team, support)
    services.start_migration(plan=plan, actor=support)
    for _ in range(4):
        copy.copy_next_chunk(plan.pk)
    plan.refresh_from_db()
    collection = Collection.objects.get(registry=plan.target_registry, name="intent-classifier")

    with pytest.raises(WritePaused):
        registry_services.edit_description(target=collection, text="x", actor=org_admin)
    with pytest.raises(WritePaused):
        legacy_services.add_protected_alias(
            legacy_registry=small_legacy, name="gold", actor=nlp_people["nadia"]
        )
    collection.refresh_from_db()
    assert collection.description == "Routes **intents**."


def test_writes_open_after_completion(paused_plan, nlp_people, small_legacy):
    services.verify_migration(paused_plan.pk)
    admin, member = clients_for(nlp_people)

    registry_edit = admin.post(
        reverse("registry:collection_description", kwargs=TARGET), {"text": "After."}
    )
    legacy_edit = member.post(reverse("legacy:model_description", kwargs=LEGACY), {"text": "x"})

    assert registry_edit.status_code == 302
    assert Collection.objects.get(registry__name="nlp-team", name="intent-classifier").description
    assert legacy_edit.status_code == 403
    assert "acme/wandb-registry-nlp-team/intent-classifier" in legacy_edit.content.decode()
    assert Registry.objects.get(pk=paused_plan.target_registry_id).write_paused_since is None
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).read_only_since is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writes_racing_pause_start(small_legacy, nlp_team, support, nlp_people):
    """Writes sent while the pause starts either land before it (and are copied) or get 423."""
    plan = schedule(nlp_team, support)
    model = small_legacy.models.get(name="intent-classifier")
    admin = nlp_people["nadia"]

    def add_tag(number: int) -> str:
        try:
            legacy_services.add_tag(target=model, name=f"race-{number}", actor=admin)
        except WritePaused:
            return "paused"
        finally:
            connection.close()
        return "landed"

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(add_tag, number) for number in range(30)]
        services.start_migration(plan=plan, actor=support)
        outcomes = [future.result() for future in futures]

    run_copy(plan.pk)
    plan.refresh_from_db()
    landed = {f"race-{n}" for n, outcome in enumerate(outcomes) if outcome == "landed"}
    assert set(outcomes) <= {"landed", "paused"}
    assert set(model.tags.filter(name__startswith="race-").values_list("name", flat=True)) == landed
    assert plan.state == PlanState.COMPLETED, plan.failure
    copied = plan.target_registry.collections.get(name="intent-classifier")
    assert (
        set(copied.tags.filter(name__startswith="race-").values_list("name", flat=True)) == landed
    )

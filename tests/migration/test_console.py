"""The migration console: support only, schedule form, plan page, progress polling, actions."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.legacy.models import LegacyRegistry
from apps.migration import services
from apps.migration.models import MigrationPlan, PlanState
from apps.orgs.timezones import format_local, relative_phrase
from apps.registry import services as registry_services
from apps.registry.models import Registry
from tests.aria import described_by_ids, missing_described_by_ids
from tests.migration.conftest import run_plan, schedule

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def plan(small_legacy, nlp_team, support):
    return schedule(nlp_team, support)


@pytest.fixture
def support_client(client, support):
    client.force_login(support)
    return client


def console_urls(plan) -> list[str]:
    return [
        reverse("migration:plan_list"),
        reverse("migration:plan_create"),
        reverse("migration:plan_detail", args=[plan.pk]),
        reverse("migration:plan_progress", args=[plan.pk]),
        reverse("migration:plan_move", args=[plan.pk]),
        reverse("migration:plan_action", args=[plan.pk, "abort"]),
    ]


def future_day(days: int) -> date:
    return (timezone.now() + timedelta(days=days)).astimezone(BERLIN).date()


def last_sunday_of_march(year: int) -> date:
    day = date(year, 3, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def assert_no_inline_code(html: str) -> None:
    """The CSP allows no inline script or style, so pages must not carry any."""
    assert " style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None


@pytest.mark.parametrize("persona", ["org_admin", "member", "viewer", "outsider"])
def test_console_missing_for_others(client, plan, persona, request):
    client.force_login(request.getfixturevalue(persona))

    for url in console_urls(plan):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("migration:plan_action", args=[plan.pk, "abort"]))
    assert response.status_code == 404
    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.SCHEDULED


def test_console_missing_for_team_admin(client, plan, nlp_people):
    client.force_login(nlp_people["nadia"])

    assert client.get(reverse("migration:plan_detail", args=[plan.pk])).status_code == 404


def test_console_asks_anonymous_to_sign_in(client, plan):
    response = client.get(reverse("migration:plan_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_shows_plans(support_client, plan):
    response = support_client.get(reverse("migration:plan_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "acme / nlp-team" in html
    assert 'nlp-team <span class="muted">(Restricted)</span>' in html
    assert "Scheduled" in html
    assert relative_phrase(plan.window_start, timezone.now()) in html
    assert_no_inline_code(html)


def test_schedule_form_converts_time_zone(support_client, small_legacy, nlp_team):
    day = future_day(40)

    response = support_client.post(
        reverse("migration:plan_create"),
        {
            "team": nlp_team.pk,
            "time_zone": "Europe/Berlin",
            "window_start": f"{day.isoformat()} 10:00",
            "target_name": "",
            "target_visibility": "organization",
            "override_reason": "",
        },
    )

    plan = MigrationPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("migration:plan_detail", args=[plan.pk])
    expected = datetime.combine(day, time(10, 0), tzinfo=BERLIN)
    assert plan.window_start == expected
    assert plan.time_zone == "Europe/Berlin"
    assert plan.target_name == "nlp-team"
    assert plan.target_visibility == "organization"


def test_schedule_form_lists_only_migratable_teams(support_client, small_legacy, team, plan):
    response = support_client.get(reverse("migration:plan_create"))

    html = response.content.decode()
    assert "acme / nlp-team" not in html
    assert "acme / fraud-team" not in html
    assert_no_inline_code(html)


def test_schedule_form_reports_taken_name(support_client, small_legacy, nlp_team, org, org_admin):
    registry_services.create_registry(organization=org, name="NLP-team", actor=org_admin)

    response = support_client.post(
        reverse("migration:plan_create"),
        {
            "team": nlp_team.pk,
            "time_zone": "UTC",
            "window_start": f"{future_day(40).isoformat()} 10:00",
            "target_visibility": "restricted",
        },
    )

    assert response.status_code == 422
    assert "The registry name &#x27;nlp-team&#x27; is already taken" in response.content.decode()
    assert not MigrationPlan.objects.exists()


def test_schedule_form_requires_override(support_client, small_legacy, nlp_team):
    response = support_client.post(
        reverse("migration:plan_create"),
        {
            "team": nlp_team.pk,
            "time_zone": "UTC",
            "window_start": f"{future_day(10).isoformat()} 10:00",
            "target_visibility": "restricted",
        },
    )

    assert response.status_code == 422
    assert "less than 28 days" in response.content.decode()
    assert not MigrationPlan.objects.exists()


def test_schedule_form_rejects_skipped_hour(support_client, small_legacy, nlp_team):
    day = last_sunday_of_march(timezone.now().year + 1)

    response = support_client.post(
        reverse("migration:plan_create"),
        {
            "team": nlp_team.pk,
            "time_zone": "Europe/Berlin",
            "window_start": f"{day.isoformat()} 02:30",
            "target_visibility": "restricted",
        },
    )

    assert response.status_code == 422
    assert "does not exist in Europe/Berlin" in response.content.decode()
    assert not MigrationPlan.objects.exists()


def test_plan_page_shows_estimate_and_mapping(support_client, plan):
    response = support_client.get(reverse("migration:plan_detail", args=[plan.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Not started. About {plan.estimated_rows} rows to copy" in html
    assert "nlp-team/model-registry/NAME" in html
    assert "acme/wandb-registry-nlp-team/NAME" in html
    for name, role in (
        ("nadia", "Admin"),
        ("lara", "Admin"),
        ("dave", "Member"),
        ("vic", "Viewer"),
        ("nlp-bot", "Member"),
    ):
        assert re.search(rf'<th scope="row">{name}</th>\s*<td>[a-z ]+</td>\s*<td>{role}</td>', html)
    assert "legacy registry admin" in html
    assert "Start now" in html
    assert "Move the window" in html
    assert "Not verified yet" in html
    assert 'hx-trigger="every 2s"' not in html
    assert_no_inline_code(html)


def test_plan_page_warns_of_taken_name(support_client, plan, org, org_admin):
    registry_services.create_registry(organization=org, name="nlp-team", actor=org_admin)

    response = support_client.get(reverse("migration:plan_detail", args=[plan.pk]))

    assert "was created after this plan was scheduled" in response.content.decode()


def test_running_plan_polls_progress(support_client, plan, support):
    services.start_migration(plan=plan, actor=support)

    response = support_client.get(reverse("migration:plan_detail", args=[plan.pk]))

    html = response.content.decode()
    poll_url = reverse("migration:plan_progress", args=[plan.pk]) + "?state=running"
    assert f'hx-get="{poll_url}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert '<progress id="plan-progress-bar" value="0"' in html
    assert "Step: Target registry." in html
    assert_no_inline_code(html)


def test_progress_partial_swaps_in_place(support_client, plan, support):
    services.start_migration(plan=plan, actor=support)
    url = reverse("migration:plan_progress", args=[plan.pk])

    response = support_client.get(f"{url}?state=running", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<section id="plan-progress"' in html
    assert "<html" not in html
    assert 'hx-trigger="every 2s"' in html


def test_progress_reloads_page_when_state_changes(support_client, plan, support):
    plan = run_plan(plan, support)
    url = reverse("migration:plan_progress", args=[plan.pk])

    response = support_client.get(f"{url}?state=running", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"


def test_progress_without_htmx_goes_to_plan(support_client, plan):
    response = support_client.get(reverse("migration:plan_progress", args=[plan.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("migration:plan_detail", args=[plan.pk])


def test_completed_plan_shows_report_without_polling(support_client, plan, support):
    plan = run_plan(plan, support)

    response = support_client.get(reverse("migration:plan_detail", args=[plan.pk]))

    html = response.content.decode()
    assert "Every kind of row matches the legacy registry." in html
    assert 'hx-trigger="every 2s"' not in html
    assert f'value="{plan.rows_total}" max="{plan.rows_total}"' in html
    assert "100%" in html
    assert '<tr id="report-versions">' in html
    assert "Done. The write pause lasted" in html
    target_url = reverse("registry:registry_detail", kwargs={"org": "acme", "registry": "nlp-team"})
    assert f'href="{target_url}"' in html
    assert "Start now" not in html
    assert ">Abort<" not in html
    for action in ("scheduled", "started", "verifying", "completed"):
        assert f": {action}" in html


def test_start_now_asks_first(support_client, plan):
    url = reverse("migration:plan_action", args=[plan.pk, "start"])

    response = support_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Both the legacy registry and the new registry stop accepting writes" in html
    assert "Start the migration now" in html
    assert MigrationPlan.objects.get(pk=plan.pk).state == PlanState.SCHEDULED


def test_start_now_runs_plan(
    support_client, plan, small_legacy, django_capture_on_commit_callbacks
):
    url = reverse("migration:plan_action", args=[plan.pk, "start"])

    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(url)

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED, plan.failure
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).read_only_since is not None
    follow = support_client.get(response["Location"])
    assert "The migration started." in follow.content.decode()


def test_start_twice_reports_conflict(support_client, plan, support):
    services.start_migration(plan=plan, actor=support)

    response = support_client.post(reverse("migration:plan_action", args=[plan.pk, "start"]))

    assert response.status_code == 409
    assert "no longer scheduled" in response.content.decode()


def test_abort_from_console(support_client, plan, support, small_legacy):
    services.start_migration(plan=plan, actor=support)

    response = support_client.post(reverse("migration:plan_action", args=[plan.pk, "abort"]))

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == PlanState.ABORTED
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).write_paused_since is None


def test_unknown_action_missing(support_client, plan):
    response = support_client.get(reverse("migration:plan_action", args=[plan.pk, "explode"]))

    assert response.status_code == 404


def test_move_form_prefilled_in_plan_zone(support_client, small_legacy, nlp_team, support):
    day = future_day(40)
    start = datetime.combine(day, time(10, 0), tzinfo=BERLIN)
    plan = schedule(nlp_team, support, window_start=start, time_zone="Europe/Berlin")
    url = reverse("migration:plan_move", args=[plan.pk])

    page = support_client.get(url).content.decode()
    response = support_client.post(
        url,
        {"time_zone": "Europe/Berlin", "window_start": f"{day.isoformat()} 12:00"},
    )

    assert f'value="{day.isoformat()} 10:00"' in page
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.window_start == datetime.combine(day, time(12, 0), tzinfo=BERLIN)


def test_failed_plan_offers_retry(support_client, plan, support):
    services.start_migration(plan=plan, actor=support)
    services.fail_migration(plan.pk, reason="The database went away.")

    html = support_client.get(reverse("migration:plan_detail", args=[plan.pk])).content.decode()

    stopped = "The copy stopped in the step &#x27;Target registry&#x27;: The database went away."
    assert stopped in html
    assert "Retry" in html
    assert ">Abort<" in html
    assert 'hx-trigger="every 2s"' not in html


def test_target_link_follows_rename(support_client, plan, support, nlp_people):
    plan = run_plan(plan, support)
    registry = Registry.objects.get(pk=plan.target_registry_id)
    registry_services.update_registry(
        registry=registry, name="nlp-models", actor=nlp_people["nadia"]
    )

    html = support_client.get(reverse("migration:plan_detail", args=[plan.pk])).content.decode()

    assert "acme/wandb-registry-nlp-models/NAME" in html


@pytest.mark.parametrize("with_errors", [False, True])
@pytest.mark.parametrize("page", ["plan_create", "plan_move"])
def test_form_descriptions_point_at_existing_ids(support_client, plan, page, with_errors):
    url = reverse(f"migration:{page}", args=[] if page == "plan_create" else [plan.pk])

    if with_errors:
        response = support_client.post(url, {"window_start": "not a date"})
    else:
        response = support_client.get(url)
    html = response.content.decode()

    assert response.status_code == (422 if with_errors else 200)
    assert described_by_ids(html)
    assert missing_described_by_ids(html) == []
    assert ('_error"' in html) is with_errors
    assert "</label>" in html
    assert ":</label>" not in html


def facts_text(html: str) -> str:
    start = html.index('id="plan-facts-heading"')
    return html[start : html.index("</dl>", start)]


def test_completed_plan_drops_relative_window(support_client, plan, support):
    future_phrase = relative_phrase(plan.window_start, timezone.now())
    run_plan(plan, support)

    html = support_client.get(reverse("migration:plan_detail", args=[plan.pk])).content.decode()

    assert plan.window_start > timezone.now()
    assert future_phrase not in facts_text(html)
    assert "Pause began" in facts_text(html)


def test_aborted_plan_says_it_was_not_verified(support_client, plan, support):
    services.abort_migration(plan=plan, actor=support)

    html = support_client.get(reverse("migration:plan_detail", args=[plan.pk])).content.decode()

    assert "Not verified: the plan was aborted, so no copy was compared" in html
    assert "compared with the legacy registry when it ends" not in html
    assert "Planned window start" in facts_text(html)
    assert relative_phrase(plan.window_start, timezone.now()) not in facts_text(html)


def test_move_page_names_current_window_once(support_client, plan):
    html = support_client.get(reverse("migration:plan_move", args=[plan.pk])).content.decode()
    window = format_local(plan.window_start, ZoneInfo("UTC"))

    assert f"Current window start: {window}." in html
    assert "Now:" not in html
    assert html.count(window) == 1

"""Support runs a migration from the console in Chromium and watches it finish in place.

The copy runs in a background thread of the live server, as in the embedded default, in
chunks of 2 rows so that the progress bar moves while the page polls it.
"""

import re

import pytest
from playwright.sync_api import expect

from apps.legacy.models import LegacyRegistry
from apps.migration.models import MigrationPlan, PlanState
from tests.e2e.conftest import browser, browser_errors, finish_journey, page  # noqa: F401
from tests.e2e.test_journeys import sign_in
from tests.migration.conftest import schedule

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.mark.django_db(transaction=True)
def test_console_runs_migration(
    page,  # noqa: F811
    browser_errors,  # noqa: F811
    small_legacy,
    nlp_team,
    support,
    settings,
):
    settings.MIGRATION_EAGER_THREAD = True
    settings.MIGRATION_CHUNK_ROWS = 2
    plan = schedule(nlp_team, support)
    sign_in(page, support)

    page.goto("/support/migrations/")
    page.get_by_role("link", name="acme / nlp-team").click()
    expect(page.get_by_text("Not started. About")).to_be_visible()
    page.get_by_role("link", name="Start now").click()
    page.get_by_role("button", name="Start the migration now").click()

    expect(page.get_by_text("The migration started.")).to_be_visible()
    expect(page.get_by_text("Every kind of row matches the legacy registry.")).to_be_visible(
        timeout=60_000
    )
    expect(page.locator("#plan-state")).to_have_text("Completed")
    bar = page.locator("#plan-progress-bar")
    expect(bar).to_have_attribute("value", re.compile(r"^[1-9]\d*$"))
    assert bar.get_attribute("value") == bar.get_attribute("max")
    expect(page.locator("#plan-progress")).not_to_have_attribute("hx-trigger", re.compile("."))
    plan.refresh_from_db()
    assert plan.state == PlanState.COMPLETED
    assert LegacyRegistry.objects.get(pk=small_legacy.pk).read_only_since is not None
    assert MigrationPlan.objects.count() == 1
    finish_journey(page, browser_errors, "migration-console-completed")

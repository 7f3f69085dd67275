"""Keyboard focus after in-place htmx edits on the legacy Model Registry pages, in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.conftest import log_version
from tests.e2e.conftest import finish_journey
from tests.e2e.test_journeys import sign_in
from tests.legacy.conftest import (  # noqa: F401 (fixtures used by name)
    legacy_registry,
    legacy_versions,
    registered_model,
)

# Every test starts from `fraud-detector` with v0..v2 linked and `champion` on v1.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("legacy_versions")]

MODEL_PAGE = "/orgs/acme/teams/fraud-team/model-registry/fraud-detector/"
VERSION_PAGE = f"{MODEL_PAGE}versions/v1/"


def test_row_alias_remove_focuses_row_field(page, browser_errors, member):
    sign_in(page, member)
    page.goto(MODEL_PAGE)

    page.get_by_role("button", name="Remove the alias champion from v1").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#version-row-1")).not_to_contain_text("champion")
    expect(page.get_by_label("Alias to set on v1")).to_be_focused()
    finish_journey(page, browser_errors, "legacy-focus-row-alias-removed")


def test_row_alias_set_focuses_row_field(page, browser_errors, member):
    sign_in(page, member)
    page.goto(MODEL_PAGE)

    page.get_by_label("Alias to set on v0").fill("staging")
    page.keyboard.press("Enter")

    expect(page.locator("#version-row-0")).to_contain_text("staging")
    expect(page.get_by_label("Alias to set on v0")).to_be_focused()
    finish_journey(page, browser_errors, "legacy-focus-row-alias-set")


def test_unlink_focuses_versions_heading(page, browser_errors, member):
    sign_in(page, member)
    page.goto(MODEL_PAGE)

    page.locator("#version-row-2 summary").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Unlink v2", exact=True).last.focus()
    page.keyboard.press("Enter")

    expect(page.locator("#version-row-2")).to_have_count(0)
    expect(page.get_by_role("heading", name="Versions")).to_be_focused()
    finish_journey(page, browser_errors, "legacy-focus-unlinked")


def test_link_focuses_first_link_field(page, browser_errors, member, project):
    first = log_version(project, member)
    log_version(project, member)
    sign_in(page, member)
    page.goto(MODEL_PAGE)

    page.get_by_label("Source version").select_option(first.source_path)
    page.get_by_role("button", name="Link", exact=True).focus()
    page.keyboard.press("Enter")

    expect(page.locator("#version-row-3")).to_contain_text(first.source_path)
    expect(page.get_by_label("Source version")).to_be_focused()
    finish_journey(page, browser_errors, "legacy-focus-linked")


def test_last_link_focuses_versions_heading(page, browser_errors, member, project):
    only = log_version(project, member)
    sign_in(page, member)
    page.goto(MODEL_PAGE)

    page.get_by_label("Source version").select_option(only.source_path)
    page.get_by_role("button", name="Link", exact=True).focus()
    page.keyboard.press("Enter")

    expect(page.locator("#model-versions")).to_contain_text("is linked here already")
    expect(page.get_by_role("heading", name="Versions")).to_be_focused()
    finish_journey(page, browser_errors, "legacy-focus-linked-last")


def test_version_alias_remove_focuses_add_field(page, browser_errors, member):
    sign_in(page, member)
    page.goto(VERSION_PAGE)

    page.get_by_role("button", name="Remove the alias champion").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#version-aliases")).not_to_contain_text("champion")
    expect(page.get_by_label("Set or move an alias to v1")).to_be_focused()
    finish_journey(page, browser_errors, "legacy-focus-version-alias-removed")

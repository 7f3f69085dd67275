"""Keyboard focus after in-place htmx edits, and the header of the 404 page, in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import finish_journey, wait_for_htmx_settled
from tests.e2e.test_journeys import COLLECTION_PAGE, sign_in

pytestmark = pytest.mark.browser

VERSION_PAGE = f"{COLLECTION_PAGE}versions/v1/"


def test_alias_remove_focuses_add_field(page, browser_errors, member, linked):
    sign_in(page, member)
    page.goto(VERSION_PAGE)

    page.get_by_role("button", name="Remove the alias champion").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#version-aliases")).not_to_contain_text("champion")
    expect(page.get_by_label("Set or move an alias to v1")).to_be_focused()
    finish_journey(page, browser_errors, "focus-alias-removed")


def test_tag_remove_focuses_add_field(page, browser_errors, member, linked):
    sign_in(page, member)
    page.goto(VERSION_PAGE)
    page.locator("#version-tag-name").fill("nightly")
    page.keyboard.press("Enter")
    expect(page.locator("#version-tags .label-list")).to_contain_text("nightly")
    wait_for_htmx_settled(page)

    page.locator("#version-tags button[aria-label*='nightly']").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#version-tags")).not_to_contain_text("nightly")
    expect(page.locator("#version-tag-name")).to_be_focused()
    finish_journey(page, browser_errors, "focus-tag-removed")


def test_star_keeps_focus_on_star_button(page, browser_errors, member, linked):
    sign_in(page, member)

    page.get_by_role("button", name="Star the registry model").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name="Unstar the registry model")).to_be_focused()
    finish_journey(page, browser_errors, "focus-starred")


def test_visibility_confirm_focuses_confirm(
    page, browser_errors, registry_admin, secret_registry, member
):
    sign_in(page, registry_admin)
    page.goto("/orgs/acme/registries/secret-models/settings/")

    page.locator("#settings-visibility input[value=organization]").check()
    page.get_by_role("button", name="Change visibility").focus()
    page.keyboard.press("Enter")

    confirm = page.get_by_role("button", name="Confirm: make it visible to the organization")
    expect(confirm).to_be_focused()
    finish_journey(page, browser_errors, "focus-visibility-confirm")


def test_not_found_page_signs_out(page, browser_errors, member, linked):
    browser_errors.allow(r"status of 404")
    sign_in(page, member)

    page.goto("/orgs/acme/registries/no-such-registry/")
    expect(page.locator(".topbar-org")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finish_journey(page, browser_errors, "not-found-signed-out")

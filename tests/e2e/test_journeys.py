"""The main journeys of a registry member, end to end in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from apps.registry import services
from apps.registry.models import Alias
from tests.conftest import PASSWORD
from tests.e2e.conftest import finish_journey, save_screenshot

pytestmark = pytest.mark.browser

COLLECTION_PAGE = "/orgs/acme/registries/model/collections/fraud-detector/"
VERSION_URL = re.compile(re.escape(COLLECTION_PAGE) + r"versions/v(\d+)/$")


def sign_in(page, user) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user.username}")).to_be_visible()


def test_sign_in(page, browser_errors, member, linked):
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    save_screenshot(page, "sign-in-form")

    sign_in(page, member)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Registries", exact=True)).to_be_visible()
    registries = page.locator("table.data-table tbody th a")
    expect(registries).to_have_text(["model", "dataset"])
    finish_journey(page, browser_errors, "sign-in")


def test_wrong_password_stays_out(page, browser_errors, member):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    finish_journey(page, browser_errors, "sign-in-wrong-password")


def test_browse_home_to_version(page, browser_errors, member, linked):
    sign_in(page, member)
    save_screenshot(page, "browse-1-home")

    page.get_by_role("link", name="model", exact=True).click()
    expect(page.get_by_role("heading", name="model")).to_be_visible()
    expect(page.get_by_role("link", name="fraud-detector")).to_be_visible()
    save_screenshot(page, "browse-2-registry")

    page.get_by_role("link", name="fraud-detector").first.click()
    expect(page.get_by_role("heading", name="fraud-detector", exact=True)).to_be_visible()
    versions = page.locator("#collection-versions")
    for index in (0, 1, 2):
        expect(versions.get_by_role("link", name=f"v{index}", exact=True)).to_be_visible()
    expect(versions).to_contain_text("champion")
    expect(versions).to_contain_text("latest")
    expect(page.locator(".markdown strong")).to_have_text("fraud")
    save_screenshot(page, "browse-3-collection")

    versions.get_by_role("link", name="v1", exact=True).click()
    expect(page).to_have_url(VERSION_URL)
    expect(page.locator("#full-path")).to_have_text("acme/wandb-registry-model/fraud-detector:v1")
    expect(page.locator("#version-aliases")).to_contain_text("champion")
    expect(page.get_by_role("heading", name="Metadata")).to_be_visible()
    expect(page.get_by_text("model.pkl")).to_be_visible()
    finish_journey(page, browser_errors, "browse-4-version")


def test_search(page, browser_errors, member, linked):
    sign_in(page, member)

    page.get_by_role("searchbox").fill("champion")
    page.get_by_role("button", name="Search").click()

    results = page.locator("#search-results")
    expect(results).to_contain_text("Results for “champion”")
    expect(results.get_by_role("link", name="fraud-detector:v1")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?q=champion$"))
    save_screenshot(page, "search-alias")

    page.get_by_role("searchbox").fill("fraud")
    page.get_by_role("button", name="Search").click()
    expect(results).to_contain_text("Results for “fraud”")
    expect(results.get_by_role("link", name="fraud-detector", exact=True)).to_be_visible()

    page.get_by_role("searchbox").fill("no-such-thing")
    page.get_by_role("button", name="Search").click()
    expect(results).to_contain_text("Nothing you can see matches “no-such-thing”")
    finish_journey(page, browser_errors, "search")


def test_move_alias_in_place(page, browser_errors, member, linked):
    sign_in(page, member)
    page.goto(f"{COLLECTION_PAGE}versions/v2/")
    expect(page.locator("#version-aliases")).not_to_contain_text("champion")
    # A reload would lose this marker, so finding it afterwards proves the edit was in place.
    page.evaluate("window.unchangedDocument = true")

    page.get_by_label("Set or move an alias to v2").fill("champion")
    page.get_by_role("button", name="Set", exact=True).click()

    aliases = page.locator("#version-aliases")
    expect(aliases.locator(".label-list")).to_contain_text("champion")
    expect(page.locator("#status")).to_contain_text("now points at v2")
    assert page.evaluate("window.unchangedDocument") is True
    holder = Alias.objects.select_related("link").get(name="champion")
    assert holder.link.index == 2
    move = AuditEvent.objects.filter(action="alias.set").latest("pk")
    assert move.actor == member
    assert move.data["previous_index"] == 1
    save_screenshot(page, "alias-moved-version")

    page.get_by_role("link", name="fraud-detector").first.click()
    history = page.locator("#collection-history")
    expect(history).to_contain_text("champion")
    expect(history.locator("li").first).to_contain_text(member.username)
    finish_journey(page, browser_errors, "alias-moved-history")


def test_follow_path_link(page, browser_errors, member, linked):
    collection = linked[0].collection
    services.edit_description(
        target=collection,
        text="Serve [the champion](/path/acme/wandb-registry-model/fraud-detector:champion).",
        actor=member,
    )
    sign_in(page, member)
    page.goto(COLLECTION_PAGE)

    page.get_by_role("link", name="the champion").click()

    expect(page).to_have_url(VERSION_URL)
    assert VERSION_URL.search(page.url).group(1) == "1"
    expect(page.locator("#full-path")).to_have_text("acme/wandb-registry-model/fraud-detector:v1")
    save_screenshot(page, "path-link")

    # The browser reports the 404 status of the page below as a console error.
    browser_errors.allow(r"status of 404")
    page.goto("/path/acme/wandb-registry-model/no-such-model:v0")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("main")).to_contain_text("no-such-model")
    finish_journey(page, browser_errors, "path-not-found")


def test_sign_out(page, browser_errors, member, linked):
    sign_in(page, member)

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_text("Signed in as")).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile("Sign(ed)? (in|out)"))).to_be_visible()
    page.goto("/orgs/acme/registries/model/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    finish_journey(page, browser_errors, "sign-out")

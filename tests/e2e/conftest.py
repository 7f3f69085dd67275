"""A real Chromium, driven by Playwright, against pytest-django's live server.

The browser is Debian's /usr/bin/chromium, started once per session. Each test gets a fresh
browser context with its own cookies and storage, and fails when a page logs a console error
or throws an uncaught exception.
"""

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = PROJECT_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# What a browser needs to run headless as root in a container, without reaching any host
# other than the live server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright waits this long for a page or an element before failing the step.
STEP_TIMEOUT_MS = 15_000

# The live server listens on 127.0.0.1 rather than pytest-django's default of localhost.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


# Package scope: the browser, and with it Playwright's event loop in this thread, ends with
# the last test of this folder, so the ORM's async safety check is back for later tests.
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        skip_or_fail(
            f"Chromium is not installed at {CHROMIUM}; install Debian's `chromium` package "
            "(apt-get install chromium) to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed; run `make test` to install the test extras")

    # Playwright's synchronous API runs an event loop in this thread, and Django would
    # otherwise reject the tests' own ORM calls as made from async code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
            # Playwright starts the browser with a new, empty profile directory of its own.
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class BrowserErrors:
    """Console errors and uncaught exceptions of one test's pages."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern`, such as the 404 of a page meant to 404."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
def page(browser, live_server, browser_errors):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()

    def on_console(message):
        if message.type == "error":
            location = message.location.get("url", "")
            browser_errors.messages.append(f"console error: {message.text} at {location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: browser_errors.messages.append(f"page error: {error}"))
    yield page
    context.close()


def wait_for_htmx_settled(page) -> None:
    """Wait until htmx has finished every swap, including its settle step.

    htmx wires up the hx- attributes of swapped-in content only in the settle step, about
    20 ms after the new HTML appears. A key press in that window submits a form in the new
    content as a plain page load, which a person cannot do that fast but a test can.
    """
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def finish_journey(page, browser_errors: BrowserErrors, name: str) -> None:
    """Save a full-page screenshot of where the journey ended, then check for errors."""
    save_screenshot(page, name)
    assert browser_errors.unexpected() == []


def save_screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

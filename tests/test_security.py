"""Deployment checks, the Content-Security-Policy, sign-in throttling and secrets in logs."""

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# check --deploy -----------------------------------------------------------------------------


def test_check_deploy_reports_nothing(tmp_path):
    # A clean environment, so nothing of the test settings leaks into the production ones.
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "registry_site.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "registry.example.com",
        "SQLITE_PATH": str(tmp_path / "deploy-check.sqlite3"),
    }

    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_settings_refuse_to_start_without_secret_key(tmp_path):
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "registry_site.settings",
    }

    completed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode != 0
    assert "SECRET_KEY is not set" in completed.stderr


# Content-Security-Policy and inline code -----------------------------------------------------


def page_urls(linked) -> dict[str, str]:
    collection = linked[0].collection
    registry = collection.registry
    scope = {"org": registry.organization.name, "registry": registry.name}
    in_collection = {**scope, "collection": collection.name}
    return {
        "home": reverse("registry:home"),
        "search": reverse("registry:home") + "?q=fraud",
        "registry": reverse("registry:registry_detail", kwargs=scope),
        "collection": reverse("registry:collection_detail", kwargs=in_collection),
        "version": reverse("registry:version_detail", kwargs={**in_collection, "index": 1}),
        "not found": reverse("registry:registry_detail", kwargs={**scope, "registry": "nope"}),
        "unknown path": reverse(
            "registry:resolve_path", kwargs={"raw": "acme/wandb-registry-model/nope:v0"}
        ),
    }


CSP_PAGES = ["home", "search", "registry", "collection", "version", "not found", "unknown path"]


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_strict_csp(response):
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy header"
    policy = directives(header)
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# Attributes such as onclick= run inline code, which the policy blocks as well.
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def assert_no_inline_code(html: str, page: str):
    scripts = SCRIPT_TAG.findall(html)
    assert scripts, f"the {page} page loads no script at all"
    for attributes, body in scripts:
        assert re.search(r"\ssrc=", attributes), f"inline <script> on the {page} page"
        assert body.strip() == "", f"<script src> with a body on the {page} page"
    assert not EVENT_HANDLER.search(html), f"inline event handler on the {page} page"
    assert "<style" not in html.lower(), f"inline <style> on the {page} page"
    assert not STYLE_ATTRIBUTE.search(html), f"style= attribute on the {page} page"


@pytest.mark.parametrize("page", CSP_PAGES)
def test_page_has_strict_csp(member_client, linked, page):
    response = member_client.get(page_urls(linked)[page])

    assert_strict_csp(response)
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page", CSP_PAGES)
def test_page_has_no_inline_code(member_client, linked, page):
    response = member_client.get(page_urls(linked)[page])

    assert_no_inline_code(response.content.decode(), page)


def test_htmx_fragment_has_no_inline_code(member_client, linked):
    response = member_client.get(page_urls(linked)["registry"], headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "fraud-detector" in html
    assert "<script" not in html.lower()
    assert not EVENT_HANDLER.search(html)
    assert not STYLE_ATTRIBUTE.search(html)


def test_sign_in_page_has_strict_csp(client, db):
    response = client.get(reverse("login"))

    assert_strict_csp(response)
    assert_no_inline_code(response.content.decode(), "sign-in")


# Sign-in throttling ---------------------------------------------------------------------------


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_wrong_password_shows_error(client, member):
    response = sign_in(client, member.username, "wrong-password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_lock_out(client, member):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = sign_in(client, member.username, "wrong-password")
        assert "Please enter a correct username and password" in response.content.decode()

    locked = sign_in(client, member.username, "wrong-password")
    correct = sign_in(client, member.username, PASSWORD)

    for response in (locked, correct):
        html = response.content.decode()
        assert response.status_code == 429
        assert "Sign-in locked" in html
        assert f"locked after {limit} failed attempts" in html
        assert_strict_csp(response)
        assert_no_inline_code(html, "lock-out")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("registry:home")).status_code == 302


def test_lock_out_is_per_username(client, member, viewer):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, member.username, "wrong-password")

    response = sign_in(client, viewer.username, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("registry:home")


def test_success_before_limit_resets_count(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, member.username, "wrong-password")
    assert sign_in(client, member.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, member.username, "wrong-password")
    response = sign_in(client, member.username, PASSWORD)

    assert response.status_code == 302


# Secrets in logs ----------------------------------------------------------------------------


def test_password_never_logged(client, member, caplog):
    attempted = "Sup3r-secret-guess!"
    for name in ("", "django", "django.request", "django.security", "axes", "apps"):
        caplog.set_level(logging.DEBUG, logger=name)

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in(client, member.username, attempted)
    sign_in(client, member.username, PASSWORD)

    assert caplog.records, "nothing was logged, so the check below proves nothing"
    assert any("mike" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        message = record.getMessage()
        assert attempted not in message
        assert PASSWORD not in message
    for attempt in AccessAttempt.objects.all():
        assert attempted not in attempt.post_data
        assert PASSWORD not in attempt.post_data

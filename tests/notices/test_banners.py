"""Banners at the top of pages, and dismissing them with and without htmx."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.notices import services
from apps.notices.models import Audience, Dismissal, Severity
from apps.orgs import services as org_services
from tests.notices.conftest import T0

PAGE = "/profile/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        yield


def page_of(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def dismiss(client, notice, *, headers=None, **data):
    payload = {"revision": notice.revision, "next": PAGE, **data}
    return client.post(reverse("notices:dismiss", args=[notice.pk]), payload, headers=headers)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_banners_render_most_severe_first(write_notice, member):
    write_notice(message="Routine info", severity=Severity.INFO)
    write_notice(message="Urgent outage", severity=Severity.CRITICAL)
    write_notice(message="Slow uploads", severity=Severity.WARNING)

    html = page_of(signed_in(member))

    assert html.index("Urgent outage") < html.index("Slow uploads") < html.index("Routine info")
    assert 'class="notice notice-critical"' in html


def test_banner_message_is_sanitized_markdown(write_notice, member):
    write_notice(message="**Read** [the plan](https://example.com/plan) <script>alert(1)</script>")

    html = page_of(signed_in(member))

    assert "<strong>Read</strong>" in html
    assert 'href="https://example.com/plan"' in html
    assert "<script>alert(1)" not in html


def test_banner_shows_key_moment_in_person_zone(write_notice, member):
    org_services.set_time_zone(user=member, time_zone="America/New_York")
    write_notice(
        message="Maintenance ahead",
        event_at=T0 + timedelta(days=3, hours=1),
        event_label="Maintenance starts",
    )

    html = page_of(signed_in(member))

    # T0 + 3 days 1 hour is 2027-05-06 13:00 UTC, 09:00 in New York (EDT).
    assert "Maintenance starts:" in html
    assert "Thu 6 May 2027, 09:00 EDT" in html
    assert "(in 3 days)" in html


def test_banner_link(write_notice, member):
    write_notice(link_url="https://status.example.com/", link_label="Status page")

    html = page_of(signed_in(member))

    assert '<a href="https://status.example.com/" rel="noopener noreferrer">Status page</a>' in html


def test_banners_cost_fixed_queries(write_notice, member, team, org, django_assert_num_queries):
    request = RequestFactory().get(PAGE)
    request.user = member

    def render() -> str:
        return render_to_string("notices/partials/banners.html", request=request)

    write_notice(message="first")
    with django_assert_num_queries(2):  # the notices, then the person's zone
        assert "first" in render()

    for index in range(6):
        write_notice(message=f"team {index}", audience=Audience.TEAM, team=team)
        write_notice(message=f"org {index}", audience=Audience.ORGANIZATION, organization=org)
    services.dismiss_notice(notice=write_notice(message="dismissed"), user=member)
    request.user = type(member).objects.get(pk=member.pk)

    with django_assert_num_queries(2):
        html = render()
    assert html.count('class="notice notice-info"') == 13
    assert "dismissed" not in html


def test_page_query_count_does_not_grow_with_notices(write_notice, member, team):
    client = signed_in(member)
    write_notice(message="one")

    with CaptureQueriesContext(connection) as one_notice:
        page_of(client)
    for index in range(10):
        write_notice(message=f"more {index}", audience=Audience.TEAM, team=team)
    with CaptureQueriesContext(connection) as eleven_notices:
        html = page_of(client)

    assert html.count("<p>more ") == 10
    assert len(eleven_notices) == len(one_notice)


def test_signed_out_visitor_sees_everyone_notice_without_dismiss(write_notice):
    write_notice(message="Site maintenance tonight")
    request = RequestFactory().get("/accounts/login/")
    request.user = AnonymousUser()

    html = render_to_string("notices/partials/banners.html", request=request)

    assert "Site maintenance tonight" in html
    assert "Dismiss" not in html


# Dismissing ------------------------------------------------------------------------------------


def test_dismissal_lasts_across_sessions(write_notice, member):
    notice = write_notice(message="Planned maintenance")
    laptop, phone = signed_in(member), signed_in(member)
    assert "Planned maintenance" in page_of(phone)

    response = dismiss(laptop, notice)

    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert "Planned maintenance" not in page_of(laptop)
    assert "Planned maintenance" not in page_of(phone)
    assert "Planned maintenance" not in page_of(signed_in(member))


def test_dismiss_with_htmx_swaps_banner_out(write_notice, member):
    notice = write_notice(message="Planned maintenance")
    client = signed_in(member)
    html = page_of(client)
    assert f'hx-post="/notices/{notice.pk}/dismiss/"' in html
    assert f'hx-target="#notice-{notice.pk}"' in html

    response = dismiss(client, notice, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content == b""
    assert Dismissal.objects.filter(notice=notice, user=member, revision=1).exists()


def test_dismiss_does_not_hide_other_notices(write_notice, member):
    first = write_notice(message="First notice")
    write_notice(message="Second notice")
    client = signed_in(member)

    dismiss(client, first)

    html = page_of(client)
    assert "First notice" not in html
    assert "Second notice" in html


def test_dismissal_is_per_person(write_notice, member, viewer):
    notice = write_notice(message="Planned maintenance")

    dismiss(signed_in(member), notice)

    assert "Planned maintenance" in page_of(signed_in(viewer))


def test_changed_message_shows_again(write_notice, member, support):
    notice = write_notice(message="Maintenance on Saturday")
    client = signed_in(member)
    dismiss(client, notice)

    values = services.NoticeFields(
        message="Maintenance moved to Sunday",
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
    )
    notice = services.update_notice(notice=notice, values=values, actor=support)

    assert notice.revision == 2
    assert "Maintenance moved to Sunday" in page_of(client)


def test_changed_times_keep_dismissal(write_notice, member, support):
    notice = write_notice(message="Maintenance on Saturday")
    client = signed_in(member)
    dismiss(client, notice)

    values = services.NoticeFields(
        message=notice.message,
        starts_at=notice.starts_at - timedelta(hours=1),
        ends_at=notice.ends_at + timedelta(days=1),
    )
    notice = services.update_notice(notice=notice, values=values, actor=support)

    assert notice.revision == 1
    assert "Maintenance on Saturday" not in page_of(client)


def test_dismissing_an_old_revision_keeps_the_new_one(write_notice, member, support):
    notice = write_notice(message="Maintenance on Saturday")
    client = signed_in(member)
    values = services.NoticeFields(
        message="Maintenance moved to Sunday", starts_at=notice.starts_at, ends_at=notice.ends_at
    )
    services.update_notice(notice=notice, values=values, actor=support)

    # The page was rendered with revision 1 before the edit; its button posts revision 1.
    dismiss(client, notice, revision=1)

    assert "Maintenance moved to Sunday" in page_of(client)


def test_non_dismissible_notice_has_no_button_and_rejects_dismiss(write_notice, member):
    notice = write_notice(message="Writes are paused", dismissible=False)
    client = signed_in(member)

    html = page_of(client)
    assert "Writes are paused" in html
    assert f"/notices/{notice.pk}/dismiss/" not in html

    response = dismiss(client, notice)

    assert response.status_code == 403
    assert not Dismissal.objects.filter(notice=notice).exists()
    assert "Writes are paused" in page_of(client)


def test_dismiss_outside_audience_is_not_found(write_notice, team, bob):
    notice = write_notice(message="For fraud-team", audience=Audience.TEAM, team=team)

    response = dismiss(signed_in(bob), notice)

    assert response.status_code == 404
    assert not Dismissal.objects.exists()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)", ""]
)
def test_dismiss_redirects_only_to_this_site(write_notice, member, next_url):
    notice = write_notice()

    response = dismiss(signed_in(member), notice, next=next_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("registry:home")


def test_dismiss_needs_sign_in(write_notice, client):
    notice = write_notice()

    response = dismiss(client, notice)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Dismissal.objects.exists()


def test_dismiss_is_post_only(write_notice, member):
    notice = write_notice()

    response = signed_in(member).get(reverse("notices:dismiss", args=[notice.pk]))

    assert response.status_code == 405
    assert not Dismissal.objects.exists()


def test_dismiss_buttons_name_their_notice(write_notice, member):
    write_notice(message="Planned maintenance on **Saturday** from nine to noon in Berlin.")
    write_notice(message="New SSO provider & login page for acme.", severity=Severity.WARNING)

    html = page_of(signed_in(member))

    assert 'aria-label="Dismiss this notice: New SSO provider &amp; login page for acme."' in html
    assert (
        'aria-label="Dismiss this notice: Planned maintenance on Saturday from nine to noon …"'
        in html
    )

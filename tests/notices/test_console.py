"""The support console for notices: list, write, edit, end and preview."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from apps.notices.models import Audience, Notice, Severity
from apps.orgs import services as org_services
from tests.aria import described_by_ids, missing_described_by_ids
from tests.notices.conftest import T0


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def support_client(support) -> Client:
    client = Client()
    client.force_login(support)
    return client


def form_data(**overrides) -> dict:
    return {
        "message": "Upgrade on **Sunday**.",
        "severity": Severity.WARNING,
        "audience": Audience.EVERYONE,
        "time_zone": "UTC",
        "starts_at": "",
        "ends_at": "",
        "event_at": "",
        "event_label": "",
        "link_url": "",
        "link_label": "",
        "dismissible": "on",
        **overrides,
    }


CONSOLE_URLS = [
    ("get", "notices:support_list", False),
    ("get", "notices:support_create", False),
    ("post", "notices:support_create", False),
    ("get", "notices:support_edit", True),
    ("post", "notices:support_edit", True),
    ("post", "notices:support_end", True),
    ("get", "notices:support_preview", True),
]


@pytest.mark.parametrize(("method", "name", "needs_pk"), CONSOLE_URLS)
@pytest.mark.parametrize("persona", ["member", "org_admin", "outsider", None])
def test_console_is_not_found_for_non_support(
    request, write_notice, method, name, needs_pk, persona
):
    notice = write_notice(message="Scheduled upgrade")
    client = Client()
    if persona:
        client.force_login(request.getfixturevalue(persona))
    url = reverse(name, args=[notice.pk] if needs_pk else [])

    response = getattr(client, method)(url, form_data(message="Defaced"))

    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.message == "Scheduled upgrade"
    assert notice.ends_at == T0 + timedelta(days=1)
    assert Notice.objects.count() == 1


def test_list_shows_notices_in_support_zone(support_client, support, write_notice, team):
    org_services.set_time_zone(user=support, time_zone="Europe/Berlin")
    write_notice(message="Team upgrade", audience=Audience.TEAM, team=team)
    write_notice(message="Next week", starts_at=T0 + timedelta(weeks=1), ends_at=None)

    html = support_client.get(reverse("notices:support_list")).content.decode()

    assert "Team upgrade" in html
    assert "acme / fraud-team" in html
    # T0 is 12:00 UTC on 2027-05-03, 14:00 in Berlin (CEST).
    assert "Mon 3 May 2027, 14:00 CEST" in html
    assert "Mon 10 May 2027, 14:00 CEST" in html
    assert "in 7 days" in html
    assert "until ended" in html
    assert ">scheduled<" in html
    assert ">active<" in html


def test_list_renders_sanitized_markdown(support_client, write_notice):
    notice = write_notice(
        message=(
            "Upgrade on **Sunday**, see [the plan](https://example.com/plan). "
            "<script>alert(1)</script>[bad](javascript:alert(1))"
        )
    )

    html = support_client.get(reverse("notices:support_list")).content.decode()

    row = html[html.index(f'id="support-notice-{notice.pk}"') :]
    assert "<strong>Sunday</strong>" in row
    assert (
        '<a href="https://example.com/plan" rel="noopener noreferrer nofollow">the plan</a>' in row
    )
    assert "**Sunday**" not in row
    assert "<script>" not in html
    assert "javascript:" not in html


def test_list_shortens_long_notices(support_client, write_notice):
    notice = write_notice(message="**Start** " + "word " * 200 + "END-OF-TEXT")

    html = support_client.get(reverse("notices:support_list")).content.decode()

    row = html[html.index(f'id="support-notice-{notice.pk}"') :]
    summary = row[row.index('<div class="markdown notice-summary">') : row.index("</div>")]
    assert "<strong>Start</strong>" in summary
    assert "…</p>" in summary
    assert "END-OF-TEXT" not in row


def test_create_with_zone_and_date_only_end(support_client):
    response = support_client.post(
        reverse("notices:support_create"),
        form_data(
            time_zone="America/New_York",
            starts_at="2027-03-10 09:00",
            ends_at="2027-03-14",
            event_at="2027-03-14 10:00",
            event_label="Upgrade starts",
        ),
    )

    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.message == "Upgrade on **Sunday**."
    assert notice.severity == Severity.WARNING
    # 09:00 EST (UTC-5) before the change; the day ends at 23:59:59.999999 EDT (UTC-4).
    assert notice.starts_at == datetime(2027, 3, 10, 14, 0, tzinfo=UTC)
    assert notice.ends_at == datetime(2027, 3, 15, 3, 59, 59, 999999, tzinfo=UTC)
    assert notice.event_at == datetime(2027, 3, 14, 14, 0, tzinfo=UTC)
    assert notice.dismissible is True
    assert notice.created_by.username == "sam"


def test_create_defaults_to_support_zone(support_client, support):
    org_services.set_time_zone(user=support, time_zone="Europe/Berlin")

    html = support_client.get(reverse("notices:support_create")).content.decode()

    assert '<option value="Europe/Berlin" selected>' in html


def test_create_empty_start_means_now(support_client):
    support_client.post(reverse("notices:support_create"), form_data())

    notice = Notice.objects.get()
    assert notice.starts_at == T0
    assert notice.ends_at is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"message": "  "}, "This field is required."),
        ({"ends_at": "2027-05-01"}, "The end is not after the start"),
        ({"audience": Audience.TEAM}, "Choose the team for the audience"),
        (
            {"link_url": "javascript:alert(1)", "link_label": "Click"},
            "is neither an http or https URL",
        ),
        ({"link_url": "https://example.com/"}, "The link has no label"),
        ({"starts_at": "2027-03-14 02:30", "time_zone": "America/New_York"}, "does not exist"),
        ({"starts_at": "next monday"}, "is not a date or a date and time"),
        (
            {"event_label": "Upgrade starts"},
            "The key moment label &#x27;Upgrade starts&#x27; has no key moment; add the moment",
        ),
    ],
)
def test_create_rejects_invalid_input(support_client, overrides, message):
    response = support_client.post(reverse("notices:support_create"), form_data(**overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Notice.objects.exists()


def test_edit_in_support_zone(support_client, support, write_notice):
    org_services.set_time_zone(user=support, time_zone="America/New_York")
    notice = write_notice(message="Old text", ends_at=datetime(2027, 5, 5, 3, 59, tzinfo=UTC))
    url = reverse("notices:support_edit", args=[notice.pk])

    html = support_client.get(url).content.decode()
    assert 'value="2027-05-03 08:00"' in html  # T0 in New York (EDT)
    assert 'value="2027-05-04 23:59"' in html

    response = support_client.post(
        url,
        form_data(
            message="New text",
            time_zone="America/New_York",
            starts_at="2027-05-03 08:00",
            ends_at="2027-05-04",
        ),
    )

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.message == "New text"
    assert notice.revision == 2
    assert notice.ends_at == datetime(2027, 5, 5, 3, 59, 59, 999999, tzinfo=UTC)


def test_end_now(support_client, write_notice, member):
    notice = write_notice(message="Ongoing", starts_at=T0 - timedelta(hours=1), ends_at=None)

    response = support_client.post(reverse("notices:support_end", args=[notice.pk]))

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.ends_at == T0
    listing = support_client.get(reverse("notices:support_list")).content.decode()
    assert ">ended<" in listing


def test_end_scheduled_notice_cancels_it(support_client, write_notice):
    notice = write_notice(starts_at=T0 + timedelta(days=3), ends_at=T0 + timedelta(days=4))

    support_client.post(reverse("notices:support_end", args=[notice.pk]))

    notice.refresh_from_db()
    assert notice.status(T0 + timedelta(days=3)) == "cancelled"
    assert not notice.is_active(T0 + timedelta(days=3))


def test_preview_before_start_in_person_zone(support_client, write_notice, team, member):
    org_services.set_time_zone(user=member, time_zone="Asia/Tokyo")
    notice = write_notice(
        message="Team **upgrade**",
        audience=Audience.TEAM,
        team=team,
        starts_at=T0 + timedelta(weeks=2),
        ends_at=T0 + timedelta(weeks=3),
        event_at=T0 + timedelta(weeks=2),
        event_label="Upgrade starts",
    )
    url = reverse("notices:support_preview", args=[notice.pk])

    html = support_client.get(url, {"person": "mike", "time_zone": "UTC", "at": ""}).content
    html = html.decode()

    assert "As mike sees it on Mon 3 May 2027, 21:00 JST" in html
    assert "Asia/Tokyo" in html
    assert "no: it shows from Mon 17 May 2027, 21:00 JST until Mon 24 May 2027, 21:00 JST" in html
    assert "Team <strong>upgrade</strong>" in html
    assert "Mon 17 May 2027, 21:00 JST" in html
    assert "(in 2 weeks)" in html


def test_preview_at_a_later_moment(support_client, write_notice, team, member):
    notice = write_notice(
        message="Team upgrade",
        audience=Audience.TEAM,
        team=team,
        starts_at=T0 + timedelta(weeks=2),
        ends_at=T0 + timedelta(weeks=3),
        event_at=T0 + timedelta(weeks=2, days=1),
        event_label="Upgrade starts",
    )
    url = reverse("notices:support_preview", args=[notice.pk])

    html = support_client.get(
        url, {"person": "mike", "time_zone": "UTC", "at": "2027-05-17 12:00"}
    ).content.decode()

    assert "<dt>Shown then</dt><dd>yes</dd>" in html
    assert "(in 1 day)" in html


def test_preview_for_person_outside_audience(support_client, write_notice, team, bob):
    notice = write_notice(message="Team upgrade", audience=Audience.TEAM, team=team)
    url = reverse("notices:support_preview", args=[notice.pk])

    html = support_client.get(url, {"person": "bob", "time_zone": "UTC"}).content.decode()

    assert "no: bob is not in the audience “Members of a team”" in html


def test_preview_unknown_person(support_client, write_notice):
    notice = write_notice()
    url = reverse("notices:support_preview", args=[notice.pk])

    html = support_client.get(url, {"person": "nobody", "time_zone": "UTC"}).content.decode()

    assert "No user is named &#x27;nobody&#x27;." in html


def test_console_edits_are_audited(support_client, write_notice, org):
    from apps.audit.models import AuditEvent

    support_client.post(
        reverse("notices:support_create"),
        form_data(audience=Audience.ORGANIZATION, organization=org.pk),
    )
    notice = Notice.objects.get()
    support_client.post(reverse("notices:support_end", args=[notice.pk]))

    actions = list(
        AuditEvent.objects.filter(organization=org).order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["notice.created", "notice.ended"]


@pytest.mark.parametrize("with_errors", [False, True])
@pytest.mark.parametrize("page", ["support_create", "support_edit"])
def test_form_descriptions_point_at_existing_ids(support_client, write_notice, page, with_errors):
    args = [write_notice().pk] if page == "support_edit" else []
    url = reverse(f"notices:{page}", args=args)

    if with_errors:
        response = support_client.post(url, form_data(starts_at="next monday"))
    else:
        response = support_client.get(url)
    html = response.content.decode()

    assert described_by_ids(html)
    assert missing_described_by_ids(html) == []
    assert ('id="id_starts_at_error"' in html) is with_errors
    assert ":</label>" not in html


def test_form_says_everyone_includes_visitors(support_client):
    html = support_client.get(reverse("notices:support_create")).content.decode()

    assert ">Everyone, including visitors who are not signed in</option>" in html

"""The REST API of notices: GET /api/v1/me/notices/ and POST .../{id}/dismiss/."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.notices import services
from apps.notices.models import Audience, Dismissal, Severity
from apps.orgs import services as org_services
from tests.notices.conftest import T0

LIST = "/api/v1/me/notices/"


def dismiss_url(notice_id) -> str:
    return f"{LIST}{notice_id}/dismiss/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def api_client(user) -> APIClient:
    """Return a client that sends the user's API key, as scripts do."""
    _key, full_key = org_services.create_api_key(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {full_key}")
    return client


def listed(client, **params) -> list[dict]:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def messages_of(client) -> list[str]:
    return [notice["message"] for notice in listed(client)]


# Listing --------------------------------------------------------------------------------------


def test_list_needs_credentials(write_notice):
    write_notice(message="Site maintenance")

    response = APIClient().get(LIST)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_list_shows_every_field(write_notice, member):
    notice = write_notice(
        message="Upgrade on **Sunday** <script>alert(1)</script>[x](javascript:alert(1))",
        severity=Severity.WARNING,
        link_url="https://status.example.com/",
        link_label="Status page",
        event_at=T0 + timedelta(hours=6),
        event_label="Downtime",
    )

    (listed_notice,) = listed(api_client(member))

    assert listed_notice["id"] == notice.pk
    assert listed_notice["severity"] == "warning"
    assert listed_notice["message"] == notice.message
    assert "<strong>Sunday</strong>" in listed_notice["message_html"]
    assert "<script>" not in listed_notice["message_html"]
    assert "javascript:" not in listed_notice["message_html"]
    assert listed_notice["starts_at"] == "2027-05-03T12:00:00Z"
    assert listed_notice["ends_at"] == "2027-05-04T12:00:00Z"
    assert listed_notice["link"] == {"url": "https://status.example.com/", "label": "Status page"}
    assert listed_notice["event"] == {"label": "Downtime", "at": "2027-05-03T18:00:00Z"}
    assert listed_notice["dismissible"] is True
    assert listed_notice["revision"] == 1


def test_list_without_link_or_event_has_nulls(write_notice, member):
    write_notice(message="Plain notice")

    (listed_notice,) = listed(api_client(member))

    assert listed_notice["link"] is None
    assert listed_notice["event"] is None


def test_list_follows_audience_rules(write_notice, member, bob, org, team, other_team, org_admin):
    write_notice(message="For everyone")
    write_notice(message="For acme", audience=Audience.ORGANIZATION, organization=org)
    write_notice(message="For fraud-team", audience=Audience.TEAM, team=team)
    write_notice(message="For nlp-team", audience=Audience.TEAM, team=other_team)
    write_notice(message="For acme admins", audience=Audience.ORG_ADMINS, organization=org)
    write_notice(
        message="For nlp-team and admins", audience=Audience.TEAM_AND_ORG_ADMINS, team=other_team
    )

    assert sorted(messages_of(api_client(member))) == ["For acme", "For everyone", "For fraud-team"]
    assert sorted(messages_of(api_client(bob))) == [
        "For acme",
        "For everyone",
        "For nlp-team",
        "For nlp-team and admins",
    ]
    assert sorted(messages_of(api_client(org_admin))) == [
        "For acme",
        "For acme admins",
        "For everyone",
        "For nlp-team and admins",
    ]


def test_outsider_sees_only_everyone_notices(write_notice, org, outsider):
    write_notice(message="For everyone")
    write_notice(message="For acme", audience=Audience.ORGANIZATION, organization=org)

    assert messages_of(api_client(outsider)) == ["For everyone"]


def test_list_shows_only_active_notices(write_notice, member):
    write_notice(message="Active")
    write_notice(message="Ended", starts_at=T0 - timedelta(days=2), ends_at=T0)
    write_notice(message="Scheduled", starts_at=T0 + timedelta(hours=1))

    assert messages_of(api_client(member)) == ["Active"]


def test_list_puts_most_severe_first(write_notice, member):
    write_notice(message="info early", starts_at=T0 - timedelta(hours=2))
    write_notice(message="critical", severity=Severity.CRITICAL)
    write_notice(message="warning", severity=Severity.WARNING)
    write_notice(message="info late", starts_at=T0 - timedelta(hours=1))

    assert messages_of(api_client(member)) == ["critical", "warning", "info early", "info late"]


def test_list_pages_keep_severity_order(write_notice, member):
    write_notice(message="info")
    write_notice(message="critical", severity=Severity.CRITICAL)
    write_notice(message="warning", severity=Severity.WARNING)
    client = api_client(member)

    first = client.get(LIST, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [notice["message"] for notice in first["results"]] == ["critical", "warning"]
    assert [notice["message"] for notice in second["results"]] == ["info"]
    assert second["next"] is None


def test_list_query_count_constant(write_notice, member, team, org):
    client = api_client(member)
    write_notice(message="first")
    # The first request with a key also records when the key was last used.
    listed(client)
    with CaptureQueriesContext(connection) as one_notice:
        listed(client)

    for index in range(10):
        write_notice(message=f"team {index}", audience=Audience.TEAM, team=team)
        write_notice(message=f"org {index}", audience=Audience.ORGANIZATION, organization=org)
    with CaptureQueriesContext(connection) as many_notices:
        assert len(listed(client, page_size=50)) == 21

    assert len(many_notices) == len(one_notice)


def test_list_is_throttled(write_notice, member, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "key": "2/min"}
    client = api_client(member)

    statuses = [client.get(LIST).status_code for _ in range(3)]
    response = client.get(LIST)

    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_list_is_read_only(member):
    response = api_client(member).post(LIST, {"message": "Injected"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# Dismissing -----------------------------------------------------------------------------------


def test_dismiss_hides_notice(write_notice, member):
    notice = write_notice(message="Maintenance")
    other = write_notice(message="Other notice")
    client = api_client(member)

    response = client.post(dismiss_url(notice.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["notice"] == notice.pk
    assert body["revision"] == 1
    assert body["dismissed_at"] == "2027-05-03T12:00:00Z"
    assert messages_of(client) == ["Other notice"]
    assert Dismissal.objects.filter(notice=other).count() == 0


def test_dismiss_twice_changes_nothing(write_notice, member):
    notice = write_notice(message="Maintenance")
    client = api_client(member)

    first = client.post(dismiss_url(notice.pk))
    second = client.post(dismiss_url(notice.pk))

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json() == first.json()
    assert Dismissal.objects.filter(notice=notice, user=member).count() == 1


def test_dismissal_shared_with_banners(write_notice, member, client):
    notice = write_notice(message="Maintenance on Sunday")

    api_client(member).post(dismiss_url(notice.pk))

    client.force_login(member)
    assert "Maintenance on Sunday" not in client.get("/").content.decode()


def test_changed_notice_shows_again(write_notice, member, support):
    notice = write_notice(message="Maintenance on Saturday")
    client = api_client(member)
    client.post(dismiss_url(notice.pk))

    services.update_notice(
        notice=notice,
        values=services.NoticeFields(
            message="Maintenance moved to Sunday", starts_at=T0, ends_at=T0 + timedelta(days=1)
        ),
        actor=support,
    )

    (listed_notice,) = listed(client)
    assert listed_notice["message"] == "Maintenance moved to Sunday"
    assert listed_notice["revision"] == 2


def test_dismissing_old_revision_keeps_new(write_notice, member, support):
    notice = write_notice(message="Maintenance on Saturday")
    services.update_notice(
        notice=notice,
        values=services.NoticeFields(
            message="Maintenance moved to Sunday", starts_at=T0, ends_at=T0 + timedelta(days=1)
        ),
        actor=support,
    )
    client = api_client(member)

    response = client.post(dismiss_url(notice.pk), {"revision": 1}, format="json")

    assert response.status_code == 200
    assert response.json()["revision"] == 1
    assert messages_of(client) == ["Maintenance moved to Sunday"]


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        (2, "Revision 2 of this notice does not exist."),
        (0, "Ensure this value is greater than or equal to 1."),
        ("latest", "A valid integer is required."),
    ],
)
def test_dismiss_rejects_bad_revision(write_notice, member, revision, message):
    notice = write_notice(message="Maintenance")

    response = api_client(member).post(
        dismiss_url(notice.pk), {"revision": revision}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "revision"
    assert error["message"] == message
    assert not Dismissal.objects.exists()


def test_dismiss_rejects_pinned_notice(write_notice, member):
    notice = write_notice(message="Writes are paused", dismissible=False)
    client = api_client(member)

    response = client.post(dismiss_url(notice.pk))

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "not_dismissible",
        "message": f"The notice {notice.pk} cannot be dismissed; it stays until it ends.",
        "field": None,
    }
    assert not Dismissal.objects.exists()
    assert listed(client)[0]["dismissible"] is False


def test_dismiss_outside_audience_is_not_found(write_notice, team, bob):
    notice = write_notice(message="For fraud-team", audience=Audience.TEAM, team=team)

    response = api_client(bob).post(dismiss_url(notice.pk))

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": f"The notice {notice.pk} was not found among your notices.",
        "field": None,
    }
    assert not Dismissal.objects.exists()


@pytest.mark.parametrize("notice_id", ["999999", str(2**63)])
def test_dismiss_missing_notice_is_not_found(member, notice_id):
    response = api_client(member).post(dismiss_url(notice_id))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_dismiss_needs_credentials(write_notice):
    notice = write_notice(message="Maintenance")

    response = APIClient().post(dismiss_url(notice.pk))

    assert response.status_code == 401
    assert not Dismissal.objects.exists()


def test_dismiss_is_post_only(write_notice, member):
    notice = write_notice(message="Maintenance")

    response = api_client(member).get(dismiss_url(notice.pk))

    assert response.status_code == 405
    assert not Dismissal.objects.exists()


def test_session_dismiss_needs_csrf_token(write_notice, member):
    notice = write_notice(message="Maintenance")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member)

    response = client.post(dismiss_url(notice.pk))

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert not Dismissal.objects.exists()

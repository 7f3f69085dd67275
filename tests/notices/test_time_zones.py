"""People's time zones, entering local times, and how moments are written."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from apps.orgs import services as org_services
from apps.orgs.timezones import (
    end_of_local_day,
    format_local,
    local_to_utc,
    parse_local_input,
    relative_phrase,
    time_zone_name_for,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "phrase"),
    [
        (timedelta(weeks=5), "in 5 weeks"),
        (timedelta(weeks=5) - timedelta(seconds=10), "in 5 weeks"),
        (timedelta(weeks=6) - timedelta(seconds=1), "in 6 weeks"),
        (timedelta(weeks=5, days=3), "in 5 weeks"),
        (timedelta(weeks=5, days=4), "in 6 weeks"),
        (timedelta(days=3), "in 3 days"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=13, hours=11), "in 13 days"),
        (timedelta(days=13, hours=12), "in 2 weeks"),
        (timedelta(hours=-2), "2 hours ago"),
        (timedelta(hours=-1), "1 hour ago"),
        (timedelta(minutes=59, seconds=30), "in 1 hour"),
        (timedelta(minutes=45), "in 45 minutes"),
        (timedelta(seconds=89), "in 1 minute"),
        (timedelta(seconds=30), "in less than a minute"),
        (timedelta(seconds=-30), "less than a minute ago"),
        (timedelta(0), "less than a minute ago"),
        (timedelta(days=120), "in 4 months"),
        (timedelta(days=-800), "2 years ago"),
    ],
)
def test_relative_phrase(offset, phrase):
    assert relative_phrase(NOW + offset, NOW) == phrase


def test_format_local_names_zone_abbreviation():
    moment = datetime(2027, 3, 15, 3, 59, tzinfo=UTC)

    assert format_local(moment, NEW_YORK) == "Sun 14 Mar 2027, 23:59 EDT"
    assert format_local(moment, BERLIN) == "Mon 15 Mar 2027, 04:59 CET"
    assert format_local(moment, ZoneInfo("UTC")) == "Mon 15 Mar 2027, 03:59 UTC"


def test_date_only_end_across_new_york_dst_change():
    # Clocks in New York move from EST (UTC-5) to EDT (UTC-4) at 02:00 on 2027-03-14.
    before = parse_local_input("2027-03-13", NEW_YORK, date_only_means="end")
    on_the_day = parse_local_input("2027-03-14", NEW_YORK, date_only_means="end")

    assert before == datetime(2027, 3, 14, 4, 59, 59, 999999, tzinfo=UTC)
    assert on_the_day == datetime(2027, 3, 15, 3, 59, 59, 999999, tzinfo=UTC)
    # That local day had only 23 hours.
    assert on_the_day - before == timedelta(hours=23)


def test_date_only_end_across_berlin_dst_change():
    # Clocks in Berlin move from CET (UTC+1) to CEST (UTC+2) at 02:00 on 2027-03-28.
    before = parse_local_input("2027-03-27", BERLIN, date_only_means="end")
    on_the_day = parse_local_input("2027-03-28", BERLIN, date_only_means="end")

    assert before == datetime(2027, 3, 27, 22, 59, 59, 999999, tzinfo=UTC)
    assert on_the_day == datetime(2027, 3, 28, 21, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2027, 3, 28), BERLIN) == on_the_day


def test_date_only_start_is_local_midnight():
    start = parse_local_input("2027-03-14", NEW_YORK, date_only_means="start")

    assert start == datetime(2027, 3, 14, 5, 0, tzinfo=UTC)


def test_local_time_with_clock():
    assert parse_local_input("2027-03-28 18:30", BERLIN, date_only_means="end") == datetime(
        2027, 3, 28, 16, 30, tzinfo=UTC
    )
    assert parse_local_input("2027-03-28T9:05", BERLIN, date_only_means="start") == datetime(
        2027, 3, 28, 7, 5, tzinfo=UTC
    )


def test_skipped_local_time_is_rejected():
    with pytest.raises(ValidationError) as caught:
        local_to_utc(date(2027, 3, 14), time(2, 30), NEW_YORK)

    assert "does not exist in America/New_York" in caught.value.messages[0]


def test_repeated_local_time_means_first_occurrence():
    # 01:30 happens twice in New York on 2027-11-07; the first one is still EDT (UTC-4).
    assert local_to_utc(date(2027, 11, 7), time(1, 30), NEW_YORK) == datetime(
        2027, 11, 7, 5, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["14/03/2027", "2027-02-30", "2027-03-14 25:00", "soon"])
def test_invalid_local_input_is_rejected(text):
    with pytest.raises(ValidationError) as caught:
        parse_local_input(text, BERLIN, date_only_means="end")

    assert "2027-03-14" in caught.value.messages[0]


def test_person_zone_falls_back_to_organization_then_utc(org, member, org_admin):
    assert time_zone_name_for(member) == "UTC"

    org_services.set_organization_time_zone(
        organization=org, time_zone="Europe/Berlin", actor=org_admin
    )
    # The zone is kept on the user object, as in one request; the next request loads anew.
    member = get_user_model().objects.get(pk=member.pk)
    assert time_zone_name_for(member) == "Europe/Berlin"

    org_services.set_time_zone(user=member, time_zone="America/New_York")
    assert time_zone_name_for(member) == "America/New_York"

    org_services.set_time_zone(user=member, time_zone="")
    assert time_zone_name_for(member) == "Europe/Berlin"


def test_person_zone_costs_one_query(member, django_assert_num_queries):
    org_services.set_time_zone(user=member, time_zone="Asia/Tokyo")
    member = get_user_model().objects.get(pk=member.pk)

    with django_assert_num_queries(1):
        assert time_zone_name_for(member) == "Asia/Tokyo"
        assert time_zone_name_for(member) == "Asia/Tokyo"


def test_unknown_zone_is_rejected(member):
    with pytest.raises(ValidationError) as caught:
        org_services.set_time_zone(user=member, time_zone="Mars/Olympus_Mons")

    assert "'Mars/Olympus_Mons' is not a known time zone" in caught.value.messages[0]


def test_organization_zone_needs_an_admin(org, member):
    with pytest.raises(PermissionDenied):
        org_services.set_organization_time_zone(
            organization=org, time_zone="Europe/Berlin", actor=member
        )

    org.refresh_from_db()
    assert org.default_time_zone == ""

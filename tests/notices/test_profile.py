"""The profile page where a person picks the time zone they read times in."""

import pytest
import time_machine
from django.urls import reverse

from apps.orgs import services as org_services
from apps.orgs.models import Profile
from tests.aria import described_by_ids, missing_described_by_ids
from tests.notices.conftest import T0


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0, tick=False):
        yield


def test_profile_shows_organization_default(member_client, org, org_admin):
    org_services.set_organization_time_zone(
        organization=org, time_zone="Europe/Berlin", actor=org_admin
    )

    html = member_client.get(reverse("notices:profile")).content.decode()

    assert "Times are shown in Europe/Berlin: it is now Mon 3 May 2027, 14:00 CEST." in html
    assert '<option value="" selected>Organization default (Europe/Berlin)</option>' in html


def test_profile_sets_time_zone(member_client, member):
    response = member_client.post(reverse("notices:profile"), {"time_zone": "America/New_York"})

    assert response.status_code == 302
    assert Profile.objects.get(user=member).time_zone == "America/New_York"
    html = member_client.get(response["Location"]).content.decode()
    assert "Times are now shown in America/New_York." in html
    assert "it is now Mon 3 May 2027, 08:00 EDT" in html
    assert '<option value="America/New_York" selected>' in html


def test_profile_rejects_unknown_zone(member_client, member):
    response = member_client.post(reverse("notices:profile"), {"time_zone": "Mars/Base"})

    assert response.status_code == 200
    assert "Mars/Base is not one of the available choices" in response.content.decode()
    assert not Profile.objects.filter(user=member).exists()


def test_profile_needs_sign_in(client):
    response = client.get(reverse("notices:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("with_errors", [False, True])
def test_profile_descriptions_point_at_existing_ids(member_client, with_errors):
    url = reverse("notices:profile")

    if with_errors:
        response = member_client.post(url, {"time_zone": "Mars/Base"})
    else:
        response = member_client.get(url)
    html = response.content.decode()

    assert described_by_ids(html)
    assert missing_described_by_ids(html) == []
    assert ('id="id_time_zone_error"' in html) is with_errors
    assert ":</label>" not in html

"""The notice write services: input checks, permissions, upserts by key, ending, audit."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.notices import services
from apps.notices.models import Audience, Notice, Severity
from tests.notices.conftest import T0


def fields(**overrides) -> services.NoticeFields:
    values = {"message": "Maintenance", "starts_at": T0, "ends_at": T0 + timedelta(hours=2)}
    return services.NoticeFields(**{**values, **overrides})


@pytest.mark.parametrize(
    "url",
    ["https://status.example.com/", "http://example.com/a?b=c", "/orgs/acme/registries/model/"],
)
def test_link_accepts_http_and_site_paths(support, url):
    notice = services.create_notice(
        values=fields(link_url=url, link_label="Details"), actor=support
    )

    assert notice.link_url == url


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "//evil.example/", "ftp://example.com/", "data:text/html,x", "/\\x"],
)
def test_link_rejects_other_schemes(support, url):
    with pytest.raises(ValidationError) as caught:
        services.create_notice(values=fields(link_url=url, link_label="Details"), actor=support)

    assert "is neither an http or https URL nor a path on this site" in str(caught.value)
    assert not Notice.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"audience": Audience.TEAM}, "team", "Choose the team"),
        ({"audience": Audience.ORG_ADMINS}, "organization", "Choose the organization"),
        ({"audience": Audience.REGISTRY_ADMINS}, "registry", "Choose the registry"),
        ({"severity": "urgent"}, "severity", "'urgent' is not a severity"),
        ({"ends_at": T0}, "ends_at", "The end is not after the start"),
        ({"message": "x" * 5001}, "message", "shorten it to 5000"),
        ({"link_label": "Read more"}, "link_url", "The link label has no URL"),
    ],
)
def test_invalid_fields_are_rejected(support, overrides, field, message):
    with pytest.raises(ValidationError) as caught:
        services.create_notice(values=fields(**overrides), actor=support)

    assert message in " ".join(caught.value.message_dict[field])


def test_team_from_another_organization_is_rejected(support, other_org, team):
    with pytest.raises(ValidationError) as caught:
        services.create_notice(
            values=fields(audience=Audience.TEAM, team=team, organization=other_org),
            actor=support,
        )

    assert "not the one of the chosen team" in " ".join(caught.value.message_dict["organization"])


def test_team_audience_records_its_organization(support, team, org):
    notice = services.create_notice(values=fields(audience=Audience.TEAM, team=team), actor=support)

    assert notice.organization == org
    assert AuditEvent.objects.filter(organization=org, action="notice.created").count() == 1


def test_naive_time_is_a_programming_error(support):
    with pytest.raises(ValueError, match="must carry a time zone"):
        services.create_notice(values=fields(starts_at=T0.replace(tzinfo=None)), actor=support)


@pytest.mark.parametrize("persona", ["member", "org_admin"])
def test_only_support_writes_notices(request, persona, support):
    actor = request.getfixturevalue(persona)
    notice = services.create_notice(values=fields(), actor=support)

    with pytest.raises(PermissionDenied):
        services.create_notice(values=fields(), actor=actor)
    with pytest.raises(PermissionDenied):
        services.update_notice(notice=notice, values=fields(message="Changed"), actor=actor)
    with pytest.raises(PermissionDenied):
        services.end_notice(notice=notice, actor=actor)

    notice.refresh_from_db()
    assert notice.message == "Maintenance"
    assert notice.ends_at == T0 + timedelta(hours=2)


def test_upsert_creates_then_updates_by_key(team):
    key = "migration:3:reminder"
    first = services.upsert_notice(origin_key=key, values=fields(audience=Audience.TEAM, team=team))

    same = services.upsert_notice(origin_key=key, values=fields(audience=Audience.TEAM, team=team))
    moved = services.upsert_notice(
        origin_key=key,
        values=fields(audience=Audience.TEAM, team=team, starts_at=T0 + timedelta(hours=1)),
    )
    reworded = services.upsert_notice(
        origin_key=key,
        values=fields(
            audience=Audience.TEAM,
            team=team,
            message="Maintenance moved",
            severity=Severity.WARNING,
        ),
    )

    assert first.pk == same.pk == moved.pk == reworded.pk
    assert Notice.objects.count() == 1
    assert (first.revision, same.revision, moved.revision, reworded.revision) == (1, 1, 1, 2)
    assert reworded.message == "Maintenance moved"
    assert reworded.origin_label == "migration"


def test_upsert_needs_a_key(db):
    with pytest.raises(ValueError, match="needs an origin_key"):
        services.upsert_notice(origin_key="", values=fields())


def test_end_notices_by_prefix(team):
    for stage in ("announcement", "pause"):
        services.upsert_notice(origin_key=f"migration:4:{stage}", values=fields(ends_at=None))
    services.upsert_notice(origin_key="migration:40:pause", values=fields(ends_at=None))

    ended = services.end_notices(origin_key_prefix="migration:4:", at=T0 + timedelta(hours=1))
    again = services.end_notices(origin_key_prefix="migration:4:", at=T0 + timedelta(hours=1))

    assert (ended, again) == (2, 0)
    ends = dict(Notice.objects.values_list("origin_key", "ends_at"))
    assert ends == {
        "migration:4:announcement": T0 + timedelta(hours=1),
        "migration:4:pause": T0 + timedelta(hours=1),
        "migration:40:pause": None,
    }


def test_sync_rejects_keys_outside_prefix(db):
    with pytest.raises(ValueError, match="do not start with the prefix"):
        services.sync_notices(
            origin_key_prefix="migration:5:", values_by_key={"migration:6:pause": fields()}, at=T0
        )


def test_support_notice_keys_may_repeat_empty(support):
    services.create_notice(values=fields(), actor=support)
    services.create_notice(values=fields(), actor=support)

    assert Notice.objects.filter(origin_key="").count() == 2


def test_dismiss_rejects_unknown_revision(support, member):
    notice = services.create_notice(values=fields(), actor=support)

    with pytest.raises(ValidationError, match="Revision 2 of this notice does not exist"):
        services.dismiss_notice(notice=notice, user=member, revision=2)


def test_dismiss_twice_keeps_one_row(support, member):
    notice = services.create_notice(values=fields(), actor=support)

    first = services.dismiss_notice(notice=notice, user=member)
    second = services.dismiss_notice(notice=notice, user=member)

    assert first.pk == second.pk
    assert notice.dismissals.count() == 1

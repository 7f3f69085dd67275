"""Reads of notices: the banners a person gets now, and a preview at another moment."""

from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.safestring import SafeString

from apps.notices.models import Dismissal, Notice
from apps.notices.querysets import NoticeQuerySet
from apps.orgs.timezones import format_local, relative_phrase, time_zone_name_for, zone_for


@dataclass(frozen=True)
class Banner:
    """A notice as one reader sees it: its times written in the reader's zone."""

    notice: Notice
    message_html: SafeString
    event_label: str
    event_local: str
    event_relative: str
    dismissible: bool


def make_banner(notice: Notice, *, zone: tzinfo, now: datetime, can_dismiss: bool) -> Banner:
    event_local = event_relative = ""
    if notice.event_at is not None:
        event_local = format_local(notice.event_at, zone)
        event_relative = relative_phrase(notice.event_at, now)
    return Banner(
        notice=notice,
        message_html=notice.message_html,
        event_label=notice.event_label,
        event_local=event_local,
        event_relative=event_relative,
        dismissible=notice.dismissible and can_dismiss,
    )


def active_notices(user, *, now: datetime | None = None) -> NoticeQuerySet:
    """Return the notices shown to the user at `now`, minus dismissed ones, in no order.

    The banners and the REST API both start here, so they apply the same audience rules.
    """
    now = now or timezone.now()
    return Notice.objects.visible_to(user).active_at(now).undismissed_by(user)


def active_notices_for(user, *, now: datetime | None = None) -> list[Notice]:
    """Return the notices shown to the user at `now`, most severe first, minus dismissed ones.

    One query, whatever the number of notices, teams and organizations.
    """
    return list(active_notices(user, now=now).by_severity())


def active_banners_for(user, *, now: datetime | None = None) -> list[Banner]:
    """Return the banners at the top of the user's pages, in at most two queries."""
    now = now or timezone.now()
    notices = active_notices_for(user, now=now)
    if not notices:
        return []
    zone = zone_for(user)
    signed_in = getattr(user, "is_authenticated", False)
    return [make_banner(n, zone=zone, now=now, can_dismiss=signed_in) for n in notices]


@dataclass(frozen=True)
class Preview:
    """A notice as one person would see it at one moment, and whether it is shown to them."""

    banner: Banner
    person: object
    time_zone: str
    at: datetime
    in_audience: bool
    active: bool
    dismissed: bool

    @property
    def shown(self) -> bool:
        return self.in_audience and self.active and not self.dismissed


def preview_notice(notice: Notice, *, person, at: datetime | None = None) -> Preview:
    """Render the notice as `person` would see it at `at` (now by default), started or not."""
    at = at or timezone.now()
    zone = zone_for(person)
    in_audience = Notice.objects.visible_to(person).filter(pk=notice.pk).exists()
    dismissed = (
        notice.dismissible
        and Dismissal.objects.filter(notice=notice, user=person, revision=notice.revision).exists()
    )
    return Preview(
        banner=make_banner(notice, zone=zone, now=at, can_dismiss=True),
        person=person,
        time_zone=time_zone_name_for(person),
        at=at,
        in_audience=in_audience,
        active=notice.is_active(at),
        dismissed=dismissed,
    )

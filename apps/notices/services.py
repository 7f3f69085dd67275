"""Every write to notices and dismissals.

The support console calls create_notice, update_notice and end_notice, which check the
support permission. Other apps, such as the migration, call upsert_notice, end_notices and
sync_notices with keys of their own. Those calls check no permission because the calling
service checked its own, and a background job may make them with no actor at all.
"""

import logging
from dataclasses import dataclass, fields, replace
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit.services import record_event
from apps.notices.models import AUDIENCE_TARGETS, Audience, Dismissal, Notice, Severity
from apps.orgs.models import Organization, Team
from apps.orgs.support import is_support
from apps.registry.models import Registry

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 5000
# A change to any of these changes what the banner shows, so the notice appears again to
# people who dismissed an earlier revision. Times and the audience are not among them.
CONTENT_FIELDS = ("message", "severity", "link_url", "link_label", "event_at", "event_label")


@dataclass(frozen=True)
class NoticeFields:
    """The text, times and audience of a notice: the input of every notice write."""

    message: str
    starts_at: datetime
    ends_at: datetime | None
    audience: str = Audience.EVERYONE
    severity: str = Severity.INFO
    organization: Organization | None = None
    team: Team | None = None
    registry: Registry | None = None
    link_url: str = ""
    link_label: str = ""
    dismissible: bool = True
    event_at: datetime | None = None
    event_label: str = ""


# Validation -----------------------------------------------------------------------------------


def clean_notice_fields(values: NoticeFields) -> NoticeFields:
    """Check the fields and fill in the organization of a team or registry audience.

    Raises ValidationError with a message per field.
    """
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    message = values.message.strip()
    if not message:
        fail("message", "The message is empty; write what people need to know.")
    elif len(message) > MAX_MESSAGE_LENGTH:
        fail(
            "message",
            f"The message has {len(message)} characters; shorten it to {MAX_MESSAGE_LENGTH}.",
        )
    if values.severity not in Severity.values:
        fail("severity", f"'{values.severity}' is not a severity; use info, warning or critical.")

    for name in ("starts_at", "ends_at", "event_at"):
        moment = getattr(values, name)
        if moment is not None and timezone.is_naive(moment):
            raise ValueError(f"{name} must carry a time zone, got the naive {moment!r}")
    if values.ends_at is not None and values.ends_at <= values.starts_at:
        fail("ends_at", "The end is not after the start; move the end later.")

    organization = _clean_audience(values, fail)

    link_url = values.link_url.strip()
    link_label = values.link_label.strip()
    if link_url:
        if not _is_link(link_url):
            fail(
                "link_url",
                f"'{link_url}' is neither an http or https URL nor a path on this site "
                "(starting with /).",
            )
        if not link_label:
            fail("link_label", "The link has no label; write the words people click.")
    elif link_label:
        fail("link_url", "The link label has no URL; add the URL or clear the label.")

    event_label = values.event_label.strip()
    if values.event_at is not None and not event_label:
        event_label = "When"
    elif values.event_at is None and event_label:
        # Banners show the label only next to its moment, so a label alone would never show.
        fail(
            "event_label",
            f"The key moment label '{event_label}' has no key moment; add the moment or "
            "clear the label.",
        )
    if errors:
        raise ValidationError(errors)
    return replace(
        values,
        message=message,
        organization=organization,
        link_url=link_url,
        link_label=link_label,
        event_label=event_label if values.event_at is not None else "",
    )


def _is_link(url: str) -> bool:
    """Return whether `url` is an absolute http(s) URL or a path on this site (/orgs/acme/)."""
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return not any(character.isspace() or ord(character) < 32 for character in url)
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return False
    return True


def _clean_audience(values: NoticeFields, fail) -> Organization | None:
    if values.audience not in Audience.values:
        fail("audience", f"'{values.audience}' is not an audience.")
        return None
    targets = AUDIENCE_TARGETS[values.audience]
    label = Audience(values.audience).label.lower()
    organization = values.organization
    if "team" in targets:
        if values.team is None:
            fail("team", f"Choose the team for the audience '{label}'.")
            return organization
        organization = values.team.organization
    if "registry" in targets:
        if values.registry is None:
            fail("registry", f"Choose the registry for the audience '{label}'.")
            return organization
        organization = values.registry.organization
    if "organization" in targets and organization is None:
        fail("organization", f"Choose the organization for the audience '{label}'.")
    if values.organization is not None and organization != values.organization:
        fail("organization", "The organization is not the one of the chosen team or registry.")
    if values.team is not None and "team" not in targets:
        fail("team", f"The audience '{label}' does not take a team; clear it.")
    if values.registry is not None and "registry" not in targets:
        fail("registry", f"The audience '{label}' does not take a registry; clear it.")
    if not targets:
        return None
    return organization


# Writes ---------------------------------------------------------------------------------------


def _require_support(actor) -> None:
    if not is_support(actor):
        raise PermissionDenied("Only support staff can write notices.")


def _apply(notice: Notice, values: NoticeFields) -> bool:
    """Copy the fields onto the notice; return whether a reader would see a change."""
    content_changed = any(getattr(notice, name) != getattr(values, name) for name in CONTENT_FIELDS)
    for field in fields(NoticeFields):
        setattr(notice, field.name, getattr(values, field.name))
    return content_changed


def _audit(notice: Notice, action: str, actor, **data) -> None:
    # An audit row belongs to an organization, so notices for everyone are only logged.
    logger.info(
        "Notice %s %s by user %s (origin %r, revision %s)",
        notice.pk,
        action,
        getattr(actor, "pk", None),
        notice.origin_key,
        notice.revision,
    )
    if notice.organization_id is None:
        return
    record_event(
        organization_id=notice.organization_id,
        actor=actor,
        action=f"notice.{action}",
        target=f"notice {notice.pk}",
        registry_id=notice.registry_id,
        data={"revision": notice.revision, "origin_key": notice.origin_key, **data},
    )


@transaction.atomic
def create_notice(*, values: NoticeFields, actor) -> Notice:
    _require_support(actor)
    values = clean_notice_fields(values)
    notice = Notice(created_by=actor)
    _apply(notice, values)
    notice.save()
    _audit(notice, "created", actor)
    return notice


@transaction.atomic
def update_notice(*, notice: Notice, values: NoticeFields, actor) -> Notice:
    """Save the support console's edit; a changed text shows again to those who dismissed it."""
    _require_support(actor)
    values = clean_notice_fields(values)
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if _apply(notice, values):
        notice.revision += 1
    notice.save()
    _audit(notice, "updated", actor)
    return notice


@transaction.atomic
def end_notice(*, notice: Notice, actor, at: datetime | None = None) -> Notice:
    """End the notice at `at` (now by default); one that has not started never shows."""
    _require_support(actor)
    at = at or timezone.now()
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.ends_at is None or notice.ends_at > at:
        notice.ends_at = at
        notice.save(update_fields=["ends_at", "updated_at"])
        _audit(notice, "ended", actor, ends_at=at.isoformat())
    return notice


@transaction.atomic
def upsert_notice(*, origin_key: str, values: NoticeFields, actor=None) -> Notice:
    """Create the notice keyed `origin_key`, or bring the existing one in line with `values`.

    For other apps' services, which check their own permissions; `actor` is recorded only.
    Changing what a reader sees raises the revision, so it shows again to those who
    dismissed it. Calling it twice with the same values changes nothing.
    """
    if not origin_key:
        raise ValueError("upsert_notice needs an origin_key; use create_notice for support notices")
    values = clean_notice_fields(values)
    notice = Notice.objects.select_for_update().filter(origin_key=origin_key).first()
    if notice is None:
        try:
            with transaction.atomic():
                notice = Notice(origin_key=origin_key, created_by=actor)
                _apply(notice, values)
                notice.save()
        except IntegrityError:
            # Another transaction created the same key in between; update that row instead.
            notice = Notice.objects.select_for_update().get(origin_key=origin_key)
        else:
            _audit(notice, "created", actor)
            return notice

    before = {field.name: getattr(notice, field.name) for field in fields(NoticeFields)}
    if _apply(notice, values):
        notice.revision += 1
    after = {field.name: getattr(notice, field.name) for field in fields(NoticeFields)}
    if before != after:
        notice.save()
        _audit(notice, "updated", actor)
    return notice


@transaction.atomic
def end_notices(*, origin_key_prefix: str, at: datetime, actor=None) -> int:
    """End every notice whose key starts with the prefix and is still live at `at`.

    A notice that had not started by then never shows. Returns how many were ended.
    """
    if not origin_key_prefix:
        raise ValueError("end_notices needs a non-empty origin_key_prefix")
    notices = list(
        Notice.objects.select_for_update()
        .filter(origin_key__startswith=origin_key_prefix)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    )
    for notice in notices:
        notice.ends_at = at
        notice.save(update_fields=["ends_at", "updated_at"])
        _audit(notice, "ended", actor, ends_at=at.isoformat())
    return len(notices)


@transaction.atomic
def sync_notices(
    *,
    origin_key_prefix: str,
    values_by_key: dict[str, NoticeFields],
    at: datetime,
    actor=None,
) -> list[Notice]:
    """Make the notices under a prefix exactly `values_by_key`: upsert those, end the rest.

    Every key must start with the prefix. Notices under the prefix that are not in the
    mapping end at `at`, so a plan that drops a stage also drops its banner.
    """
    stray = [key for key in values_by_key if not key.startswith(origin_key_prefix)]
    if stray:
        raise ValueError(f"keys {stray} do not start with the prefix {origin_key_prefix!r}")
    notices = [
        upsert_notice(origin_key=key, values=values, actor=actor)
        for key, values in values_by_key.items()
    ]
    others = (
        Notice.objects.select_for_update()
        .filter(origin_key__startswith=origin_key_prefix)
        .exclude(origin_key__in=list(values_by_key))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    )
    for notice in others:
        notice.ends_at = at
        notice.save(update_fields=["ends_at", "updated_at"])
        _audit(notice, "ended", actor, ends_at=at.isoformat())
    return notices


class NoticeNotDismissible(PermissionDenied):
    """Raised for a dismissal of a notice that stays until it ends, such as a write pause."""


def dismiss_notice(*, notice: Notice, user, revision: int | None = None) -> Dismissal:
    """Hide one revision of a notice from the user, on every device, until it changes.

    `revision` is the one the user saw (the current one by default): dismissing a banner that
    changed in the meantime does not hide the new text. Raises NoticeNotDismissible, a
    PermissionDenied, for a notice that cannot be dismissed.
    """
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in to dismiss notices.")
    if not notice.dismissible:
        raise NoticeNotDismissible(
            f"The notice {notice.pk} cannot be dismissed; it stays until it ends."
        )
    revision = notice.revision if revision is None else revision
    if not 1 <= revision <= notice.revision:
        raise ValidationError(f"Revision {revision} of this notice does not exist.")
    dismissal, _ = Dismissal.objects.get_or_create(notice=notice, user=user, revision=revision)
    return dismissal

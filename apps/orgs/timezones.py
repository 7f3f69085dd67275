"""Time zones of people and organizations, and how a moment is written for a person.

Every instant is stored in UTC. A person reads and enters times in their own zone: the one on
their profile, else the default of their organization, else UTC. Zones are IANA names
("Europe/Berlin") resolved with the standard library's zoneinfo.
"""

import functools
import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

DEFAULT_TIME_ZONE = "UTC"
# The last representable instant of a local day: a date-only end means "until the day is over".
END_OF_DAY = time(23, 59, 59, 999999)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LOCAL_INPUT = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2})?))?$"
)


# Zone names -----------------------------------------------------------------------------------


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Area/Location zone names known to this machine's tz database, plus UTC, sorted."""
    names = {name for name in available_timezones() if "/" in name and not name.startswith("Etc/")}
    # "posix/..." and "right/..." are copies of the database under other rules, not zones.
    names = {name for name in names if not name.startswith(("posix/", "right/"))}
    return (DEFAULT_TIME_ZONE, *sorted(names))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


def validate_time_zone(name: str) -> None:
    """Reject anything that is not an IANA zone name; blank passes (it means "not set")."""
    if not name:
        return
    if name not in time_zone_names():
        raise ValidationError(
            f"'{name}' is not a known time zone; use an IANA name such as Europe/Berlin or "
            "America/New_York.",
            code="invalid_time_zone",
        )


def get_zone(name: str | None) -> ZoneInfo:
    """Return the zone with this name, or UTC for a blank or unknown name."""
    if not name:
        return ZoneInfo(DEFAULT_TIME_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A stored name can disappear from the tz database after an upgrade.
        logger.warning("Unknown time zone %r stored; showing times in UTC", name)
        return ZoneInfo(DEFAULT_TIME_ZONE)


# The zone of a person -------------------------------------------------------------------------

_CACHE_ATTRIBUTE = "_time_zone_name"


def time_zone_name_for(user) -> str:
    """Return the zone a person reads times in: their profile's, their organization's, or UTC.

    Costs one query per user object, then the name is kept on that object. A person in
    several organizations gets the default of the first one they joined that has a default.
    """
    if not getattr(user, "is_authenticated", False):
        return DEFAULT_TIME_ZONE
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    own_name, organization_name = time_zone_settings_of(user)
    name = own_name or organization_name or DEFAULT_TIME_ZONE
    remember_time_zone_name(user, name)
    return name


def time_zone_settings_of(user) -> tuple[str, str]:
    """Read the zone on the person's profile and their organization's default ("" if unset)."""
    from django.contrib.auth import get_user_model
    from django.db.models import OuterRef, Subquery

    from apps.orgs.models import OrgMembership, Profile

    own = Profile.objects.filter(user=OuterRef("pk")).values("time_zone")[:1]
    organization_default = (
        OrgMembership.objects.filter(user=OuterRef("pk"))
        .exclude(organization__default_time_zone="")
        .order_by("pk")
        .values("organization__default_time_zone")[:1]
    )
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(own=Subquery(own), organization_default=Subquery(organization_default))
        .values_list("own", "organization_default")
        .first()
    )
    own_name, organization_name = row or (None, None)
    return own_name or "", organization_name or ""


def remember_time_zone_name(user, name: str) -> None:
    """Keep `name` on the user object, so later lookups in the same request cost nothing."""
    setattr(user, _CACHE_ATTRIBUTE, name)


def forget_time_zone_name(user) -> None:
    """Drop the name kept on the user object, so the next lookup reads the database."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def zone_for(user) -> ZoneInfo:
    return get_zone(time_zone_name_for(user))


# Entering times -------------------------------------------------------------------------------


def local_to_utc(day: date, at: time, zone: tzinfo) -> datetime:
    """Convert a wall-clock time in `zone` to its UTC instant.

    A time that occurs twice (clocks turned back) means its first occurrence. A time that
    does not occur (clocks turned forward) raises ValidationError.
    """
    local = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            f"{day.isoformat()} {at:%H:%M} does not exist in {zone} because the clocks skip "
            "it for daylight saving time; choose a time outside the skipped hour.",
            code="nonexistent_time",
        )
    return moment


def end_of_local_day(day: date, zone: tzinfo) -> datetime:
    """Return the UTC instant of 23:59:59.999999 on `day` in `zone`."""
    return datetime.combine(day, END_OF_DAY).replace(tzinfo=zone).astimezone(UTC)


def start_of_local_day(day: date, zone: tzinfo) -> datetime:
    """Return the UTC instant of the first moment of `day` in `zone`."""
    return datetime.combine(day, time(0)).replace(tzinfo=zone).astimezone(UTC)


def parse_local_input(text: str, zone: tzinfo, *, date_only_means: str) -> datetime:
    """Parse "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]" entered in `zone` into a UTC instant.

    A date without a time means the start of that local day when `date_only_means` is
    "start", and its end (23:59:59.999999) when it is "end".
    """
    if date_only_means not in ("start", "end"):
        raise ValueError(f"date_only_means must be 'start' or 'end', not {date_only_means!r}")
    match = _LOCAL_INPUT.match(text.strip())
    if match is None:
        raise ValidationError(
            f"'{text}' is not a date or a date and time; write 2027-03-14 or 2027-03-14 18:30.",
            code="invalid_datetime",
        )
    try:
        day = date.fromisoformat(match.group("date"))
        clock = time.fromisoformat(_pad_hour(match.group("time"))) if match.group("time") else None
    except ValueError:
        raise ValidationError(
            f"'{text}' is not a valid date or time; write a real date such as 2027-03-14 and "
            "a time from 00:00 to 23:59.",
            code="invalid_datetime",
        ) from None
    if clock is not None:
        return local_to_utc(day, clock, zone)
    if date_only_means == "end":
        return end_of_local_day(day, zone)
    return start_of_local_day(day, zone)


def _pad_hour(clock: str) -> str:
    return clock if len(clock.split(":")[0]) == 2 else f"0{clock}"


# Reading times --------------------------------------------------------------------------------


def format_local(moment: datetime, zone: tzinfo) -> str:
    """Write a moment as date, time and zone abbreviation: "Sun 14 Mar 2027, 23:59 EDT".

    Written without the locale so the words do not depend on the server's settings.
    """
    local = moment.astimezone(zone)
    weekday = _WEEKDAYS[local.weekday()]
    month = _MONTHS[local.month - 1]
    return f"{weekday} {local.day} {month} {local.year}, {local:%H:%M} {local.tzname()}"


def format_input_value(moment: datetime, zone: tzinfo) -> str:
    """Write a moment in `zone` as parse_local_input reads it back: "2027-03-14 18:30"."""
    local = moment.astimezone(zone)
    if local.second or local.microsecond:
        return f"{local:%Y-%m-%d %H:%M:%S}"
    return f"{local:%Y-%m-%d %H:%M}"


_UNITS = (
    # (unit name, seconds per unit, smallest count written in the next unit instead)
    ("minute", 60, 60),
    ("hour", 3600, 24),
    ("day", 86400, 14),
    ("week", 7 * 86400, 13),
    ("month", 30 * 86400, 24),
)


def relative_phrase(moment: datetime, now: datetime) -> str:
    """Write how far `moment` is from `now`: "in 5 weeks", "in 3 days", "2 hours ago".

    Counts are rounded to the nearest whole unit, half up, in the first unit whose count stays
    below its limit: under 60 minutes, under 24 hours, under 14 days, under 13 weeks, under
    24 months of 30 days, else years of 365 days. So 6 weeks less a second reads "in 6 weeks".
    """
    span = moment - now
    future = span > timedelta(0)
    seconds = abs(span.total_seconds())
    if seconds < 60:
        return "in less than a minute" if future else "less than a minute ago"

    count, unit = int(seconds / (365 * 86400) + 0.5), "year"
    for name, unit_seconds, limit in _UNITS:
        rounded = int(seconds / unit_seconds + 0.5)
        if rounded < limit:
            count, unit = rounded, name
            break
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if future else f"{words} ago"

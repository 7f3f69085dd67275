"""Moments written for the signed-in person: `{% local_time m %}` and `{% relative_time m %}`."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from apps.orgs.timezones import format_local, relative_phrase, zone_for

register = template.Library()


@register.simple_tag(takes_context=True)
def local_time(context, moment: datetime | None) -> str:
    """Render a <time> element with the moment in the zone of the request's user."""
    if moment is None:
        return ""
    request = context.get("request")
    zone = zone_for(getattr(request, "user", None))
    iso = moment.astimezone(UTC).isoformat()
    return format_html('<time datetime="{}">{}</time>', iso, format_local(moment, zone))


@register.simple_tag
def relative_time(moment: datetime | None) -> str:
    """Return how far the moment is from now: "in 3 days", "2 hours ago"."""
    if moment is None:
        return ""
    return relative_phrase(moment, timezone.now())

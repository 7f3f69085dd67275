"""Filters of the registry pages: URLs of objects, Markdown, history lines, code literals."""

import json
from datetime import datetime, timedelta

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.audit.models import AuditEvent
from apps.core.markdown import render_markdown
from apps.registry import pages

register = template.Library()


@register.filter
def registry_url(registry) -> str:
    return pages.registry_url(registry)


@register.filter
def collection_url(collection) -> str:
    return pages.collection_url(collection)


@register.filter
def version_url(link) -> str:
    return pages.version_url(link)


@register.filter
def markdown(text: str) -> SafeString:
    return render_markdown(text)


@register.filter
def timestamp(value: datetime | None) -> str:
    """A <time> element in UTC, the zone every instant is stored in."""
    if value is None:
        return ""
    return format_html(
        '<time datetime="{}">{} UTC</time>', value.isoformat(), value.strftime("%Y-%m-%d %H:%M")
    )


@register.filter
def python_string(text: str) -> str:
    """A Python string literal of the text (JSON's escapes are valid Python escapes)."""
    return json.dumps(text, ensure_ascii=False)


@register.filter
def json_value(value) -> str:
    """A metadata value: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def minutes(value: timedelta | None) -> str:
    if value is None:
        return ""
    total = max(1, round(value.total_seconds() / 60))
    return f"{total} minute" if total == 1 else f"{total} minutes"


def _version(index) -> str:
    return f"v{index}" if index is not None else "a version"


@register.filter
def event_summary(event: AuditEvent) -> str:
    """One line of a collection's history, such as "moved champion from v1 to v2"."""
    data = event.data or {}
    action = event.action
    if action == "alias.set":
        if data.get("previous_index") is None:
            return f"set the alias {data.get('alias')} on {_version(data.get('index'))}"
        return (
            f"moved the alias {data.get('alias')} from {_version(data.get('previous_index'))} "
            f"to {_version(data.get('index'))}"
        )
    if action == "alias.removed":
        return f"removed the alias {data.get('alias')} from {_version(data.get('index'))}"
    if action == "version.linked":
        return f"linked {_version(data.get('index'))} from {data.get('source', 'a source version')}"
    if action == "version.unlinked":
        return f"unlinked {_version(data.get('index'))}"
    if action == "tag.added":
        return f"added the tag {data.get('tag')} to {event.target}"
    if action == "tag.removed":
        return f"removed the tag {data.get('tag')} from {event.target}"
    if action == "description.edited":
        return f"edited the description of {event.target}"
    if action == "index.reserved":
        return f"reserved the numbers up to {_version(data.get('index'))}, so they stay unused"
    if action == "collection.created":
        return "created the collection"
    return _registry_event_summary(event, data)


def _role_label(slug) -> str:
    return slug.replace("_", " ").title() if isinstance(slug, str) else "a role"


def _registry_event_summary(event: AuditEvent, data: dict) -> str:
    """Summarize an event of a registry's settings or members in one line of its activity."""
    action = event.action
    if action == "registry.created":
        return f"created the registry with {data.get('visibility', 'its')} visibility"
    if action == "registry.updated":
        return f"edited the registry's {', '.join(data.get('fields', [])) or 'settings'}"
    if action == "registry.visibility_changed":
        return f"switched the visibility to {data.get('to')}"
    if action == "registry.owner_changed":
        return f"made {data.get('owner')} the owner"
    if action == "registry.deleted":
        return "deleted the registry"
    if action == "member.added":
        return f"added {data.get('member')} with the {_role_label(data.get('role'))} role"
    if action == "member.role_changed":
        return (
            f"changed the role of {data.get('member')} from {_role_label(data.get('from'))} "
            f"to {_role_label(data.get('to'))}"
        )
    if action == "member.removed":
        return f"removed {data.get('member')}"
    if action == "protected_alias.added":
        return f"protected the alias {data.get('alias')}"
    if action == "protected_alias.removed":
        return f"stopped protecting the alias {data.get('alias')}"
    if action == "collection.deleted":
        return "deleted the collection"
    return f"{action.replace('.', ' ').replace('_', ' ')}: {event.target}"

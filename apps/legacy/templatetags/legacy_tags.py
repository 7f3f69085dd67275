"""Template filters and tags of the legacy Model Registry pages, and its navigation entry."""

from django import template

from apps.legacy import pages
from apps.legacy.models import LegacyEvent, LegacyRegistry

register = template.Library()


@register.filter
def legacy_registry_url(legacy_registry) -> str:
    return pages.registry_url(legacy_registry)


@register.filter
def legacy_model_url(model) -> str:
    return pages.model_url(model)


@register.filter
def legacy_version_url(legacy_version) -> str:
    return pages.version_url(legacy_version)


def _version(index) -> str:
    return f"v{index}" if index is not None else "a version"


def _on(data: dict) -> str:
    on = data.get("on")
    return "the model" if on in (None, "model") else on


@register.filter
def legacy_event_summary(event: LegacyEvent) -> str:
    """Describe one history entry, such as "moved the alias champion from v1 to v2"."""
    data = event.data or {}
    action = event.action
    if action == "model.created":
        return "created the registered model"
    if action == "version.linked":
        return f"linked {_version(data.get('index'))} from {data.get('source', 'a source version')}"
    if action == "version.unlinked":
        return f"unlinked {_version(data.get('index'))}"
    if action == "index.reserved":
        return f"kept the indices up to {_version(data.get('index'))} from being used"
    if action == "alias.set":
        if data.get("previous_index") is None:
            return f"set the alias {data.get('alias')} on {_version(data.get('index'))}"
        return (
            f"moved the alias {data.get('alias')} from {_version(data.get('previous_index'))} "
            f"to {_version(data.get('index'))}"
        )
    if action == "alias.removed":
        return f"removed the alias {data.get('alias')} from {_version(data.get('index'))}"
    if action == "tag.added":
        return f"added the tag {data.get('tag')} to {_on(data)}"
    if action == "tag.removed":
        return f"removed the tag {data.get('tag')} from {_on(data)}"
    if action == "description.edited":
        return f"edited the description of {_on(data)}"
    return action.replace(".", " ").replace("_", " ")


@register.inclusion_tag("legacy/partials/nav.html", takes_context=True)
def legacy_nav(context) -> dict:
    """Links to the legacy registries of the user's teams, while they are not hidden.

    base.html renders it on every full page, in one query for a signed-in person and none for
    a visitor. htmx partials do not extend base.html, so they cost nothing.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    registries = []
    if user is not None and user.is_authenticated:
        registries = list(
            LegacyRegistry.objects.in_navigation_of(user)
            .select_related("team__organization")
            .order_by("team__organization__name", "team__name")
        )
    return {"legacy_registries": registries}

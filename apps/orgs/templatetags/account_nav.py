"""Links that depend on who is signed in: the support console and team integrations."""

from django import template
from django.contrib.auth.models import Permission
from django.db.models import Q

from apps.orgs import selectors
from apps.orgs.models import Organization, Team
from apps.orgs.support import SUPPORT_PERMISSION, is_support

register = template.Library()


@register.simple_tag(takes_context=True)
def shows_support_link(context) -> bool:
    """Tell whether the top bar links to the support console, in at most one query.

    Support staff are staff accounts holding the support permission, so accounts without
    `is_staff` cost no query. The result is cached on the user for the rest of the request.
    NOTE: a non-staff account that holds the permission can open the console but sees no link.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.is_staff:
        return False
    cached = getattr(user, "_shows_support_link", None)
    if cached is None:
        if hasattr(user, "_perm_cache"):
            # has_perm ran earlier in this request, so asking it again is free.
            cached = is_support(user)
        else:
            app_label, codename = SUPPORT_PERMISSION.split(".")
            granted = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
            cached = granted.filter(Q(user=user) | Q(group__user=user)).exists()
        user._shows_support_link = cached
    return cached


@register.simple_tag(takes_context=True)
def administered_teams(context, organization=None) -> list[Team]:
    """List the teams the signed-in person is an admin of, in the organization if given."""
    request = context.get("request")
    return selectors.administered_teams(getattr(request, "user", None), organization)


@register.simple_tag(takes_context=True)
def sole_organization(context) -> Organization | None:
    """Return the signed-in person's organization when they belong to exactly one.

    Pages without an object of their own (the error pages) show it as the top bar's badge.
    """
    request = context.get("request")
    return selectors.sole_organization(getattr(request, "user", None))

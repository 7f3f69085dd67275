"""Puts the signed-in person's active banners in every template context, as `site_notices`.

The list is built on first use only, so responses that never render the banners (htmx
partials, redirects, JSON) cost no query.
"""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.notices.selectors import active_banners_for


def site_notices(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"site_notices": SimpleLazyObject(lambda: active_banners_for(user))}

"""Request rates: one budget per API key (or signed-in user) and one per anonymous address.

The rates are read from settings.API_THROTTLE_RATES on each request, so a deployment or a
test can change them without reloading the classes. A throttled request gets 429 with a
Retry-After header in seconds.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.orgs.models import ApiKey


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        # The rate is resolved per request rather than once at construction.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ApiKeyRateThrottle(_SettingsRateThrottle):
    """One budget per API key; a browser session counts against its user."""

    scope = "key"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            return f"throttle:key:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"throttle:user:{request.user.pk}"
        return None


class AnonymousRateThrottle(_SettingsRateThrottle):
    """One budget per client address for requests without credentials."""

    scope = "anonymous"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return f"throttle:anonymous:{self.get_ident(request)}"


class SignedDownloadRateThrottle(_SettingsRateThrottle):
    """One budget per client address for signed downloads, which carry no credentials.

    It is separate from the anonymous budget because a client fetching a version with many
    files sends one request per file.
    """

    scope = "download"

    def get_cache_key(self, request, view) -> str:
        return f"throttle:download:{self.get_ident(request)}"

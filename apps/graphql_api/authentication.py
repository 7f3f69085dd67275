"""HTTP Basic authentication with an API key, as the wandb SDK sends it.

The SDK sends `Authorization: Basic base64("api:KEY")`: the user name is always `api` and
the password is an API key of apps.orgs. Only this scheme is read, never a session cookie,
so the endpoint needs no CSRF token.
"""

import base64
import binascii

from rest_framework import authentication, exceptions

from apps.orgs.services import authenticate_api_key

BASIC_USER = "api"


class BasicApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Basic CREDENTIALS' with base64 of 'api:KEY'."
            )
        try:
            decoded = base64.b64decode(header[1], validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed(
                "The Basic credentials are not base64 of 'api:KEY'; send the user name 'api' "
                "and your API key as the password."
            ) from None
        username, _, raw_key = decoded.partition(":")
        if username != BASIC_USER:
            raise exceptions.AuthenticationFailed(
                f"The user name must be '{BASIC_USER}', with your API key as the password."
            )
        key = authenticate_api_key(raw_key)
        if key is None:
            # The same message for a revoked, unknown or malformed key tells an attacker nothing.
            raise exceptions.AuthenticationFailed(
                "The API key is invalid or revoked; create a new one under /api/v1/me/api-keys/."
            )
        return key.user, key

    def authenticate_header(self, request) -> str:
        return 'Basic realm="api"'

"""`Authorization: Bearer KEY` authentication with the API keys of apps.orgs."""

from rest_framework import authentication, exceptions

from apps.orgs.services import authenticate_api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer KEY' with one key and no spaces in it."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The API key contains characters that no key has; copy it again."
            ) from None
        key = authenticate_api_key(raw)
        if key is None:
            # One message for revoked, unknown and malformed keys reveals nothing to an attacker.
            raise exceptions.AuthenticationFailed(
                "The API key is invalid or revoked; create a new one under /api/v1/me/api-keys/."
            )
        return key.user, key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'

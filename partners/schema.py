"""How the API key scheme appears in the OpenAPI document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "partners.authentication.PartnerKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Your partner key in the `Authorization` header, after the `Api-Key ` prefix (the word "
                "`Api-Key`, one space, then the key): `Authorization: Api-Key <prefix>.<secret>`. Not a "
                "bearer token: a generated client must send this exact prefix (in openapi-python-client, "
                '`AuthenticatedClient(token=key, prefix="Api-Key")`; in openapi-generator, set the API key '
                'prefix to "Api-Key"). A missing or unknown key is a 401 with `WWW-Authenticate: Api-Key`.'
            ),
        }

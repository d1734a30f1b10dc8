"""How the OpenAPI schema describes the rater's credential."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class RaterAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "voting.authentication.RaterAuthentication"
    name = "raterToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Rater TOKEN`: the seat's token from its card (the link's last part).",
        }

"""LTI Dynamic Registration 1.0: check the platform's configuration, describe the tool.

Pure: the fetched configuration in, the registration request out, the platform's answer parsed.
The HTTP calls are in ``lti.registrations`` (``fetch_platform_configuration``,
``register_with_platform``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lti import ags, nrps
from lti.claims import DEEP_LINKING_REQUEST
from lti.errors import DynamicRegistrationFailed

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
TOOL_SCOPES = (*ags.SCOPES, nrps.SCOPE)
TOOL_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")


@dataclass(frozen=True)
class PlatformConfiguration:
    """What the tool needs from a platform's OpenID configuration."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None = None
    scopes_supported: tuple[str, ...] | None = None
    product_family_code: str = ""
    messages_supported: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _required_url(config: dict[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise DynamicRegistrationFailed(f"the platform's configuration has no {name}")
    return value


def check_configuration(config_url: str, config: Any) -> PlatformConfiguration:
    """The platform configuration, if it is one this tool can register with.

    The issuer must be on the host the configuration was fetched from (LTI DR §3.5.1), so a
    registration link cannot make us trust keys for someone else's issuer.
    """
    if not isinstance(config, dict):
        raise DynamicRegistrationFailed("the platform's configuration is not a JSON object")
    issuer = _required_url(config, "issuer")
    if urlsplit(issuer).hostname != urlsplit(config_url).hostname:
        raise DynamicRegistrationFailed(
            "the platform's issuer is not on the host its configuration was fetched from"
        )
    methods = config.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise DynamicRegistrationFailed("the platform does not support private_key_jwt")
    algs = config.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and "RS256" not in algs:
        raise DynamicRegistrationFailed("the platform does not sign id_tokens with RS256")
    lti = config.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        raise DynamicRegistrationFailed(
            "the configuration has no LTI platform configuration; is this an LTI platform?"
        )
    messages = (
        lti.get("messages_supported") if isinstance(lti.get("messages_supported"), list) else []
    )
    scopes = config.get("scopes_supported")
    audience = config.get("authorization_server")
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=_required_url(config, "authorization_endpoint"),
        token_endpoint=_required_url(config, "token_endpoint"),
        jwks_uri=_required_url(config, "jwks_uri"),
        registration_endpoint=_required_url(config, "registration_endpoint"),
        authorization_server=audience if isinstance(audience, str) and audience else None,
        scopes_supported=tuple(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else None,
        product_family_code=str(lti.get("product_family_code") or ""),
        messages_supported=tuple(
            m["type"] for m in messages if isinstance(m, dict) and isinstance(m.get("type"), str)
        ),
        raw=config,
    )


def registration_request(
    base_url: str, platform: PlatformConfiguration, tool_name: str
) -> dict[str, Any]:
    """The tool's client registration (LTI DR §3.6), asking only for scopes the platform has."""
    base = base_url.rstrip("/")
    launch = base + "/lti/launch"
    scopes = [
        s
        for s in TOOL_SCOPES
        if platform.scopes_supported is None or s in platform.scopes_supported
    ]
    messages = []
    if not platform.messages_supported or DEEP_LINKING_REQUEST in platform.messages_supported:
        messages.append(
            {"type": DEEP_LINKING_REQUEST, "target_link_uri": launch, "label": tool_name}
        )
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + "/lti/login",
        "redirect_uris": [launch],
        "client_name": tool_name,
        "jwks_uri": base + "/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            # Moodle requires the domain to equal host[:port] of target_link_uri.
            "domain": urlsplit(base).netloc,
            "target_link_uri": launch,
            "description": f"{tool_name}: learning records and objectives",
            "claims": list(TOOL_CLAIMS),
            "messages": messages,
        },
    }


def parse_registration_response(body: Any) -> tuple[str, str | None]:
    """The ``client_id`` the platform assigned and the ``deployment_id``, when it sent one."""
    if not isinstance(body, dict):
        raise DynamicRegistrationFailed("the platform's registration answer is not JSON")
    client_id = body.get("client_id")
    if not isinstance(client_id, str | int) or str(client_id) == "":
        raise DynamicRegistrationFailed("the platform's registration answer has no client_id")
    tool = body.get(TOOL_CONFIGURATION)
    deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
    if isinstance(deployment, int):
        deployment = str(deployment)
    return str(client_id), deployment if isinstance(deployment, str) and deployment else None

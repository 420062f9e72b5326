"""Validating an LTI 1.3 id_token as ordered single checks (LTI Core 1.3 §5; Security 1.0 §5.1.3).

Pure: the platform's keys and the record of used nonces come in as callables, the clock as a
number. Each check raises its own ``LaunchError`` subclass, so a platform developer, an LMS
administrator and the 1EdTech certification suite each see which rule a token broke. The order
matters: nothing from the token is trusted before its signature is verified, and the state
binding (checked before this module runs, see ``lti.launches.bind_state``) tells which
registration and nonce to expect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti import claims as c
from lti import jose
from lti.errors import (
    BadSignature,
    ForeignTargetLink,
    InvalidClaim,
    MissingClaim,
    MissingKid,
    NonceMismatch,
    NonceReplayed,
    NotAnLtiMessage,
    TokenExpired,
    TokenNotYetValid,
    UnknownDeployment,
    UnknownKid,
    UnsupportedAlgorithm,
    UnsupportedMessageType,
    WrongAudience,
    WrongAuthorizedParty,
    WrongIssuer,
    WrongVersion,
)

#: ``keys(kid, refresh)``: the platform's public JWK with this kid, or None. With
#: ``refresh=True`` the key set is fetched again first (a platform rotated its key).
KeyLookup = Callable[[str, bool], dict[str, Any] | None]


@dataclass(frozen=True)
class Expected:
    """What a launch must match: the registration and the nonce of the login it answers."""

    issuer: str
    client_id: str
    deployment_ids: frozenset[str]
    nonce: str
    own_origins: tuple[str, ...]


def check_algorithm(header: dict[str, Any]) -> None:
    """RS256 only: ``none`` would skip the signature, HS* would make a public key a secret."""
    alg = header.get("alg")
    if alg != jose.ALGORITHM:
        raise UnsupportedAlgorithm(
            f"the id_token is signed with alg {alg!r}; LTI 1.3 requires RS256"
        )


def check_kid(header: dict[str, Any]) -> str:
    """The ``kid`` that names the platform key (required by the 1EdTech Security Framework)."""
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MissingKid("the id_token header has no kid, so no platform key can be chosen")
    return kid


def find_key(kid: str, keys: KeyLookup) -> dict[str, Any]:
    """The platform key with this kid, fetching the key set once more if it is not cached."""
    key = keys(kid, False)
    if key is None:
        key = keys(kid, True)
    if key is None:
        raise UnknownKid(f"the platform's key set has no key with kid {kid!r}")
    return key


def check_signature(token: str, key: dict[str, Any]) -> dict[str, Any]:
    """The token's claims if its RS256 signature verifies with ``key``."""
    claims = jose.verify(token, key)
    if not isinstance(claims, dict):
        raise BadSignature("the id_token payload is not a JSON object")
    return claims


def check_issuer(claims: dict[str, Any], issuer: str) -> None:
    if claims.get("iss") != issuer:
        raise WrongIssuer(
            f"iss {claims.get('iss')!r} is not the issuer of this registration ({issuer!r})"
        )


def check_audience(claims: dict[str, Any], client_id: str) -> None:
    """``aud`` is or contains our client id; with several audiences, ``azp`` must be ours."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise WrongAudience("aud must be a string or an array of strings")
    if client_id not in audiences:
        raise WrongAudience(f"aud does not contain this tool's client id {client_id!r}")
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise WrongAuthorizedParty("aud has several entries, so azp is required")
    if azp is not None and azp != client_id:
        raise WrongAuthorizedParty(f"azp {azp!r} is not this tool's client id")


#: The end of year 9999 in seconds since the epoch: later times are no times a token can mean,
#: and milliseconds derived from them would not fit the BIGINT columns that store them.
MAX_NUMERIC_DATE = 253_402_300_799


def _number(claims: dict[str, Any], name: str, required: bool) -> float | None:
    """A NumericDate claim (RFC 7519 §2): seconds since the epoch, from 0 to year 9999."""
    value = claims.get(name)
    if value is None:
        if required:
            raise MissingClaim(name)
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_NUMERIC_DATE
    ):
        raise InvalidClaim(
            name, "must be a number of seconds since the epoch, before the year 10000"
        )
    return float(value)


def check_times(claims: dict[str, Any], now: float, leeway: float) -> None:
    """``exp`` in the future and ``iat``/``nbf`` not in the future, within ``leeway`` seconds."""
    exp = _number(claims, "exp", required=True)
    iat = _number(claims, "iat", required=True)
    nbf = _number(claims, "nbf", required=False)
    assert exp is not None and iat is not None
    if exp + leeway < now:
        raise TokenExpired(f"the id_token expired {int(now - exp)} s ago")
    if iat - leeway > now:
        raise TokenNotYetValid("the id_token was issued in the future (iat); check clocks")
    if nbf is not None and nbf - leeway > now:
        raise TokenNotYetValid("the id_token is not valid yet (nbf); check clocks")


def check_nonce(claims: dict[str, Any], expected: str, nonce_used: Callable[[str], bool]) -> str:
    """The nonce was never used by an accepted launch and is the one issued at login."""
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise MissingClaim("nonce")
    if nonce_used(nonce):
        raise NonceReplayed("this id_token's nonce was already used: the launch is a replay")
    if nonce != expected:
        raise NonceMismatch("the id_token's nonce is not the one issued with this login")
    return nonce


def check_is_lti_message(claims: dict[str, Any]) -> None:
    """The token carries LTI claims (an OpenID id_token alone is not a launch)."""
    if not any(name.startswith("https://purl.imsglobal.org/spec/lti") for name in claims):
        raise NotAnLtiMessage("the id_token has no LTI claims: it is not an LTI message")


def check_version(claims: dict[str, Any]) -> None:
    version = claims.get(c.VERSION)
    if version is None:
        raise WrongVersion("the id_token has no LTI version claim; this tool speaks 1.3.0")
    if version != c.LTI_VERSION:
        raise WrongVersion(f"LTI version {version!r} is not supported; this tool speaks 1.3.0")


def check_message_type(claims: dict[str, Any]) -> str:
    message_type = claims.get(c.MESSAGE_TYPE)
    if message_type is None:
        raise UnsupportedMessageType("the id_token has no message_type claim")
    if message_type not in c.MESSAGE_TYPES:
        raise UnsupportedMessageType(
            f"message_type {message_type!r} is not handled; this tool accepts "
            + " and ".join(sorted(c.MESSAGE_TYPES))
        )
    return message_type


def check_deployment(claims: dict[str, Any], deployment_ids: frozenset[str]) -> None:
    """The launch's deployment is one of the registration's.

    A registration with none yet (a dynamic registration whose platform sent no deployment id,
    as Canvas does) accepts the first: the id_token is signed by the platform's key, and the
    launch records the deployment (``launches.learn_first_deployment``).
    """
    deployment_id = claims.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise MissingClaim("deployment_id")
    if deployment_ids and deployment_id not in deployment_ids:
        raise UnknownDeployment(
            f"deployment {deployment_id!r} is not registered for this platform; an "
            "administrator adds it on Learnloop's connection check page of this LMS"
        )


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    scheme = parts.scheme.lower()
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def check_target_link_uri(claims: dict[str, Any], own_origins: tuple[str, ...]) -> None:
    target = claims.get(c.TARGET_LINK_URI)
    if not isinstance(target, str) or not target:
        raise MissingClaim("target_link_uri")
    try:
        target_origin = origin(target)
    except ValueError:
        raise InvalidClaim("target_link_uri", "is not a URL") from None
    if target_origin not in own_origins:
        raise ForeignTargetLink(f"target_link_uri {target!r} is not a URL of this tool")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def check_required_claims(claims: dict[str, Any], message_type: str) -> None:
    """The claims each message type needs (LTI Core §5.3 and §5.4; Deep Linking 2.0 §4.4)."""
    if _has_nul(claims):
        raise InvalidClaim("claims", "must not contain NUL characters")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise MissingClaim("sub", "anonymous launches cannot be recorded as learning")
    if len(sub) > 255:
        raise InvalidClaim("sub", "must be at most 255 characters")
    if c.ROLES not in claims:
        raise MissingClaim("roles")
    roles = claims[c.ROLES]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidClaim("roles", "must be an array of role URIs")
    for name in (c.CONTEXT, c.CUSTOM, c.LAUNCH_PRESENTATION, c.TOOL_PLATFORM):
        if name in claims and not isinstance(claims[name], dict):
            raise InvalidClaim(name.rsplit("/", 1)[-1], "must be a JSON object")
    context = claims.get(c.CONTEXT)
    if context is not None and (not isinstance(context.get("id"), str) or not context["id"]):
        raise InvalidClaim("context", "must have an id")
    if context is not None and len(context["id"]) > 255:
        raise InvalidClaim("context.id", "must be at most 255 characters")
    if message_type == c.SUBMISSION_REVIEW_REQUEST:
        for_user = claims.get(c.FOR_USER)
        user_id = for_user.get("user_id") if isinstance(for_user, dict) else None
        if not isinstance(user_id, str) or not user_id:
            raise MissingClaim("for_user.user_id", "a submission review names its learner")
        if len(user_id) > 255:
            raise InvalidClaim("for_user.user_id", "must be at most 255 characters")
    if message_type in (c.RESOURCE_LINK_REQUEST, c.SUBMISSION_REVIEW_REQUEST):
        link = claims.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise MissingClaim("resource_link.id")
        if len(link["id"]) > 255:
            raise InvalidClaim("resource_link.id", "must be at most 255 characters")
    if message_type == c.DEEP_LINKING_REQUEST:
        settings = claims.get(c.DL_SETTINGS)
        if not isinstance(settings, dict):
            raise MissingClaim("deep_linking_settings")
        if not isinstance(settings.get("deep_link_return_url"), str):
            raise MissingClaim("deep_linking_settings.deep_link_return_url")
        accept = settings.get("accept_types")
        if not isinstance(accept, list):
            raise MissingClaim("deep_linking_settings.accept_types")
    ags = claims.get(c.AGS_ENDPOINT)
    if ags is not None:
        scopes = ags.get("scope", []) if isinstance(ags, dict) else None
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise InvalidClaim("endpoint", "the AGS claim must be an object with a scope array")
        for name in ("lineitems", "lineitem"):
            if not isinstance(ags.get(name, ""), str):
                raise InvalidClaim(f"endpoint.{name}", "must be a URL")
    nrps = claims.get(c.NRPS_SERVICE)
    if nrps is not None and (
        not isinstance(nrps, dict) or not isinstance(nrps.get("context_memberships_url"), str)
    ):
        raise InvalidClaim("namesroleservice", "must carry context_memberships_url")


def validate_id_token(
    token: str,
    expected: Expected,
    keys: KeyLookup,
    nonce_used: Callable[[str], bool],
    now: float,
    leeway: float,
) -> c.LaunchMessage:
    """Run every check in order and return the launch; the first failing check raises."""
    header = jose.read_header(token)
    check_algorithm(header)
    kid = check_kid(header)
    key = find_key(kid, keys)
    claims = check_signature(token, key)
    check_issuer(claims, expected.issuer)
    check_audience(claims, expected.client_id)
    check_times(claims, now, leeway)
    check_nonce(claims, expected.nonce, nonce_used)
    check_is_lti_message(claims)
    check_version(claims)
    message_type = check_message_type(claims)
    check_deployment(claims, expected.deployment_ids)
    check_target_link_uri(claims, expected.own_origins)
    check_required_claims(claims, message_type)
    return c.LaunchMessage(claims)

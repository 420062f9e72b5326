"""Errors of the LTI tool. Each rejection has its own class, status and code.

A platform, an LMS administrator or a learner sees the code and the message, so each says what
was wrong and what to do. The messages never contain a token, a secret or a platform's response
body. ``LaunchError`` and its subclasses are rendered as an HTML page on the browser-facing LTI
endpoints (JSON when the client asks for it); everything else goes through the LRS's JSON error
handler.
"""

from __future__ import annotations

from lrs.errors import FieldError, LrsError
from lrs.errors import UnsafeUrl as UnsafeUrl  # raised by lrs.outbound for every outbound call


class LtiError(LrsError):
    """Base of every error of the LTI tool."""

    status = 400
    code = "lti_error"


class LaunchError(LtiError):
    """A login or launch was rejected; subclasses name the one check that failed."""

    code = "launch_rejected"


# ---- OIDC login initiation ------------------------------------------------------------------


class MissingLoginParameter(LaunchError):
    """The login initiation lacks ``iss``, ``login_hint`` or ``target_link_uri``."""

    code = "missing_login_parameter"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the login initiation request has no {name!r} parameter",
            [FieldError(name, "required")],
        )


class UnknownRegistration(LaunchError):
    """No registration for this issuer (and client id)."""

    status = 400
    code = "unknown_registration"


class AmbiguousRegistration(LaunchError):
    """The issuer has several registrations and the platform sent no ``client_id``."""

    code = "ambiguous_registration"


class ForeignTargetLink(LaunchError):
    """``target_link_uri`` points outside this tool (an open redirect otherwise)."""

    code = "foreign_target_link_uri"


# ---- state binding ------------------------------------------------------------------------------


class MissingLaunchParameter(LaunchError):
    """The launch POST lacks ``id_token`` or ``state``."""

    code = "missing_launch_parameter"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the launch request has no {name!r} form field", [FieldError(name, "required")]
        )


class PlatformReportedError(LaunchError):
    """The platform answered the authentication request with an OAuth error."""

    code = "platform_error"


class UnknownState(LaunchError):
    """The ``state`` was never issued by this tool."""

    code = "unknown_state"


class StateExpired(LaunchError):
    """The login started too long ago."""

    status = 401
    code = "state_expired"


class StateReused(LaunchError):
    """The ``state`` was already used by an earlier launch (a resubmitted or replayed form)."""

    status = 401
    code = "state_reused"


class StateNotBound(LaunchError):
    """Neither the state cookie nor platform storage ties this launch to the browser."""

    status = 401
    code = "state_not_bound"


class StateMismatch(LaunchError):
    """The state cookie or the platform-storage value differs from the posted ``state``."""

    status = 401
    code = "state_mismatch"


# ---- the id_token -------------------------------------------------------------------------------


class MalformedToken(LaunchError):
    """The id_token is not a compact JWS with a JSON header and payload."""

    code = "malformed_token"


class UnsupportedAlgorithm(LaunchError):
    """The JWT ``alg`` is not RS256 (``none`` and HS* are refused)."""

    status = 401
    code = "unsupported_alg"


class MissingKid(LaunchError):
    """The JWT header has no ``kid``."""

    status = 401
    code = "missing_kid"


class UnknownKid(LaunchError):
    """The platform's key set has no key with this ``kid``, even after fetching it again."""

    status = 401
    code = "unknown_kid"


class JwksUnavailable(LaunchError):
    """The platform's key set could not be fetched or read (the platform's fault, hence 502)."""

    status = 502
    code = "jwks_unavailable"


class BadSignature(LaunchError):
    """The signature does not verify with the platform's key."""

    status = 401
    code = "bad_signature"


class WrongIssuer(LaunchError):
    """``iss`` is not the issuer of the registration the login started with."""

    status = 401
    code = "wrong_issuer"


class WrongAudience(LaunchError):
    """``aud`` does not contain this tool's client id."""

    status = 401
    code = "wrong_audience"


class WrongAuthorizedParty(LaunchError):
    """``aud`` has several entries and ``azp`` is missing or is not this tool's client id."""

    status = 401
    code = "wrong_azp"


class TokenExpired(LaunchError):
    """``exp`` is in the past (beyond the clock-skew leeway)."""

    status = 401
    code = "token_expired"


class TokenNotYetValid(LaunchError):
    """``iat`` or ``nbf`` is in the future (beyond the clock-skew leeway)."""

    status = 401
    code = "token_not_yet_valid"


class NonceReplayed(LaunchError):
    """The ``nonce`` was already used by an accepted launch."""

    status = 401
    code = "nonce_replayed"


class NonceMismatch(LaunchError):
    """The ``nonce`` is not the one issued with this login's state."""

    status = 401
    code = "nonce_mismatch"


class NotAnLtiMessage(LaunchError):
    """A valid JWT from the platform, but with no LTI claims at all."""

    code = "not_an_lti_message"


class WrongVersion(LaunchError):
    """The LTI ``version`` claim is missing or is not 1.3.0."""

    code = "unsupported_lti_version"


class UnsupportedMessageType(LaunchError):
    """The ``message_type`` claim is missing or is not a message this tool handles."""

    code = "unsupported_message_type"


class UnknownDeployment(LaunchError):
    """The ``deployment_id`` is not one of the registration's deployments."""

    code = "unknown_deployment"


class MissingClaim(LaunchError):
    """A claim the message type requires is absent."""

    code = "missing_claim"

    def __init__(self, claim: str, why: str = "") -> None:
        super().__init__(
            f"the id_token has no {claim} claim" + (f"; {why}" if why else ""),
            [FieldError(claim, "required")],
        )
        self.claim = claim


class InvalidClaim(LaunchError):
    """A claim is present but has the wrong shape or value."""

    code = "invalid_claim"

    def __init__(self, claim: str, message: str) -> None:
        super().__init__(f"{claim}: {message}", [FieldError(claim, message)])
        self.claim = claim


# ---- after the launch ---------------------------------------------------------------------------


class LaunchTokenInvalid(LaunchError):
    """The signed launch token of a page after the launch is missing, forged or expired."""

    status = 401
    code = "launch_token_invalid"


class NotAllowed(LaunchError):
    """The launched user's roles do not allow this page or action."""

    status = 403
    code = "not_allowed"


class DeepLinkingRejected(LaunchError):
    """The instructor's selection cannot be returned to the platform as it asked."""

    code = "deep_linking_rejected"


# ---- registrations, dynamic registration, outbound calls ------------------------------------
# A URL the tool may not call is ``UnsafeUrl`` (400, ``unsafe_url``), imported from lrs.errors.


class InviteInvalid(LtiError):
    """The dynamic registration link is unknown, expired or already used."""

    status = 403
    code = "invite_invalid"


class DynamicRegistrationFailed(LtiError):
    """The platform's configuration or registration answer is unusable."""

    code = "dynamic_registration_failed"


class PlatformServiceError(LtiError):
    """A call to the platform (token, AGS, NRPS, registration, key set) failed.

    ``upstream_status`` is the platform's HTTP status (0 when it could not be reached); the
    platform's body is logged at debug level, never returned.
    """

    status = 502
    code = "platform_service_error"

    def __init__(self, message: str, upstream_status: int = 0) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status


class ServiceNotGranted(LtiError):
    """The launch did not grant the AGS/NRPS service or scope a call needs."""

    status = 409
    code = "service_not_granted"


class InvalidScore(LtiError):
    """A score to send to the gradebook breaks the AGS Score rules."""

    code = "invalid_score"

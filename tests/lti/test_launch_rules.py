"""Every check of id_token validation, one rule at a time (LTI Core 1.3 §5; Security 1.0 §5.1.3).

The cases of the 1EdTech certification's "known bad payloads" are marked [1EdTech]; each must be
a 4xx with its own reason. Pure: keys and used nonces are in-memory stand-ins for the key-set
cache and the nonce table.
"""

import time

import pytest

from lti import claims as c
from lti import errors
from lti.launch import Expected, validate_id_token
from tests.lti.support import (
    CLIENT_ID,
    DEPLOYMENT,
    ISSUER,
    TOOL,
    PlatformKeys,
    launch_claims,
    unsigned,
)

KEYS = PlatformKeys()
NOW = int(time.time())
EXPECTED = Expected(
    issuer=ISSUER,
    client_id=CLIENT_ID,
    deployment_ids=frozenset({DEPLOYMENT, "2"}),
    nonce="nonce-1",
    own_origins=(TOOL,),
)


class Keys:
    """A platform key set as the cache sees it; ``after_refetch`` is what a refetch returns."""

    def __init__(self, current, after_refetch=None):
        self.current = {k["kid"]: k for k in current}
        self.after_refetch = after_refetch
        self.calls = []

    def __call__(self, kid, refresh):
        self.calls.append((kid, refresh))
        if refresh and self.after_refetch is not None:
            self.current = {k["kid"]: k for k in self.after_refetch}
        return self.current.get(kid)


def validate(token, used=(), keys=None, expected=EXPECTED, now=NOW):
    return validate_id_token(
        token, expected, keys or Keys([KEYS.public_jwk]), lambda n: n in used, now, 60
    )


def signed(**overrides):
    return KEYS.sign(launch_claims(now=NOW, **overrides))


OTHER = PlatformKeys(kid=KEYS.kid)  # same kid, different key: a forged signature

BAD = {
    # name: (token, used nonces, expected error, status)
    "no kid in the header [1EdTech]": (
        KEYS.sign(launch_claims(now=NOW), header={"alg": "RS256"}), (),
        errors.MissingKid, 401,
    ),
    "incorrect kid [1EdTech]": (
        KEYS.sign(launch_claims(now=NOW), header={"alg": "RS256", "kid": "nope"}), (),
        errors.UnknownKid, 401,
    ),
    "wrong LTI version [1EdTech]": (signed(version="1.2.0"), (), errors.WrongVersion, 400),
    "missing LTI version [1EdTech]": (signed(version=None), (), errors.WrongVersion, 400),
    "a JWT that is not an LTI message [1EdTech]": (
        KEYS.sign({k: v for k, v in launch_claims(now=NOW).items() if not k.startswith("http")}),
        (), errors.NotAnLtiMessage, 400,
    ),
    "missing message_type [1EdTech]": (
        signed(message_type=None), (), errors.UnsupportedMessageType, 400,
    ),
    "unknown message_type": (
        signed(message_type="LtiStartProctoring"), (), errors.UnsupportedMessageType, 400,
    ),
    "missing roles [1EdTech]": (signed(roles=None), (), errors.MissingClaim, 400),
    "roles not an array": (signed(roles="Learner"), (), errors.InvalidClaim, 400),
    "missing deployment_id [1EdTech]": (signed(deployment_id=None), (), errors.MissingClaim, 400),
    "missing resource_link.id [1EdTech]": (
        signed(resource_link={"title": "x"}), (), errors.MissingClaim, 400,
    ),
    "missing user sub [1EdTech]": (signed(sub=None), (), errors.MissingClaim, 400),
    "expired [1EdTech]": (
        KEYS.sign(launch_claims(now=NOW - 3600)), (), errors.TokenExpired, 401,
    ),
    "issued in the future [1EdTech]": (
        KEYS.sign(launch_claims(now=NOW + 600)), (), errors.TokenNotYetValid, 401,
    ),
    "missing exp": (signed(exp=None), (), errors.MissingClaim, 400),
    "wrong aud [1EdTech]": (signed(aud="someone-else"), (), errors.WrongAudience, 401),
    "several audiences without azp": (
        signed(aud=[CLIENT_ID, "other"]), (), errors.WrongAuthorizedParty, 401,
    ),
    "azp of another client": (signed(azp="other"), (), errors.WrongAuthorizedParty, 401),
    "replayed nonce [1EdTech]": (signed(), ("nonce-1",), errors.NonceReplayed, 401),
    "nonce of another login": (signed(nonce="nonce-2"), (), errors.NonceMismatch, 401),
    "missing nonce": (signed(nonce=None), (), errors.MissingClaim, 400),
    "unknown deployment [1EdTech]": (
        signed(deployment_id="99"), (), errors.UnknownDeployment, 400,
    ),
    "alg none [1EdTech]": (unsigned(launch_claims(now=NOW)), (), errors.UnsupportedAlgorithm, 401),
    "HS256 keyed with the public key": (
        KEYS.sign_hs256_with_public_key(launch_claims(now=NOW)), (),
        errors.UnsupportedAlgorithm, 401,
    ),
    "signature by another key": (
        OTHER.sign(launch_claims(now=NOW)), (), errors.BadSignature, 401,
    ),
    "wrong iss": (signed(iss="https://evil.example"), (), errors.WrongIssuer, 401),
    "not a JWT": ("abc.def", (), errors.MalformedToken, 400),
    "target_link_uri elsewhere": (
        signed(target_link_uri="https://evil.example/steal"), (), errors.ForeignTargetLink, 400,
    ),
    "deep linking request without settings": (
        signed(message_type="LtiDeepLinkingRequest"), (), errors.MissingClaim, 400,
    ),
    "context without id": (signed(context={"title": "x"}), (), errors.InvalidClaim, 400),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_payload_is_rejected_with_its_own_4xx_and_reason(case):
    token, used, error, status = BAD[case]
    with pytest.raises(error) as raised:
        validate(token, used)
    assert raised.value.status == status
    assert 400 <= raised.value.status < 500
    assert raised.value.message


def test_every_bad_payload_has_a_distinct_reason():
    reasons = {}
    for case, (token, used, _, _) in BAD.items():
        with pytest.raises(errors.LaunchError) as raised:
            validate(token, used)
        reasons.setdefault((raised.value.code, raised.value.message), []).append(case)
    assert [cases for cases in reasons.values() if len(cases) > 1] == []


def test_every_launch_error_class_has_its_own_code():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    codes = [cls.code for cls in subclasses(errors.LtiError)]
    assert len(codes) == len(set(codes))


def test_missing_claims_name_the_claim():
    for claim, token in (("roles", signed(roles=None)), ("sub", signed(sub=None))):
        with pytest.raises(errors.MissingClaim) as raised:
            validate(token)
        assert raised.value.errors[0].path == claim


def test_an_unknown_kid_fetches_the_key_set_once_more_then_succeeds_after_rotation():
    rotated = PlatformKeys(kid="platform-key-2")
    keys = Keys([KEYS.public_jwk], after_refetch=[KEYS.public_jwk, rotated.public_jwk])
    message = validate(rotated.sign(launch_claims(now=NOW)), keys=keys)
    assert message.sub == "moodle-user-7"
    assert keys.calls == [("platform-key-2", False), ("platform-key-2", True)]


def test_an_unknown_kid_is_fetched_again_only_once():
    keys = Keys([KEYS.public_jwk], after_refetch=[KEYS.public_jwk])
    with pytest.raises(errors.UnknownKid):
        validate(KEYS.sign(launch_claims(now=NOW), header={"alg": "RS256", "kid": "x"}), keys=keys)
    assert keys.calls == [("x", False), ("x", True)]


def test_clock_skew_within_the_leeway_is_accepted():
    assert validate(KEYS.sign(launch_claims(now=NOW + 50))).sub
    expired_recently = launch_claims(now=NOW - 330)  # exp 30 s ago
    assert validate(KEYS.sign(expired_recently)).sub


def test_nothing_but_the_signature_is_checked_before_verification():
    # A token with a wrong issuer *and* a bad signature is reported as a bad signature: an
    # attacker learns nothing about which claims we would accept.
    with pytest.raises(errors.BadSignature):
        validate(OTHER.sign(launch_claims(now=NOW, iss="https://evil.example")))


@pytest.mark.parametrize(
    "roles, teaching",
    [
        ([c.INSTRUCTOR], True),
        ([c.LEARNER], False),
        (
            [
                c.LEARNER,
                c.MENTOR,
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff",
            ],
            False,
        ),
        (["Instructor"], True),
        (["Learner", "urn:lti:role:ims/lis/Instructor/TeachingAssistant"], True),
        (["http://example.com/roles#Unknown"], False),
        ([], False),
    ],
)
def test_valid_launches_with_teacher_student_multiple_short_and_unknown_roles(roles, teaching):
    message = validate(signed(roles=roles))
    assert message.is_teaching is teaching
    assert message.message_type == c.RESOURCE_LINK_REQUEST
    assert all(":" in role for role in message.roles)


def test_a_launch_without_a_course_is_valid():
    message = validate(signed(context=None))
    assert message.context_id is None and message.resource_link_id == "rl-42"


def test_a_deep_linking_request_needs_no_resource_link():
    settings = {
        "deep_link_return_url": "https://platform.example.edu/dl",
        "accept_types": ["ltiResourceLink"],
    }
    message = validate(
        signed(message_type="LtiDeepLinkingRequest", resource_link=None, dl_settings=settings)
    )
    assert message.deep_linking_settings["deep_link_return_url"].endswith("/dl")


def test_aud_may_be_an_array_with_azp():
    assert validate(signed(aud=[CLIENT_ID, "other"], azp=CLIENT_ID)).sub

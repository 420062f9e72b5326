"""multipart/mixed parsing and building, and attachment matching (Communication 1.5.2)."""

import hashlib

import pytest

from lrs.core.attachments import match_parts, require_file_urls
from lrs.core.multipart import boundary_of, build, parse
from lrs.errors import BadRequest


def test_boundary_parameter_quoted_or_not():
    assert boundary_of('multipart/mixed; boundary="abc def"') == "abc def"
    assert boundary_of("multipart/mixed;boundary=xyz") == "xyz"
    with pytest.raises(BadRequest):
        boundary_of("multipart/mixed")


def test_parse_keeps_binary_content_exact_and_allows_a_preamble():
    content = b"\x00\xff\r\n--notquite\r\n"
    body = (
        b"preamble\r\n--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\n"
        b"Content-Type:application/octet-stream\r\nX-Experience-API-Hash: h\r\n\r\n"
        + content
        + b"\r\n--b--\r\nepilogue"
    )
    first, second = parse(body, "b")
    assert first.content_type == "application/json" and bytes(first.content) == b"{}"
    assert second.headers["x-experience-api-hash"] == "h"
    assert bytes(second.content) == content


@pytest.mark.parametrize(
    "body", [b"no boundary here", b"--b\r\nContent-Type: a\r\n\r\nunterminated"]
)
def test_broken_bodies_are_bad_requests(body):
    with pytest.raises(BadRequest):
        parse(body, "b")


def test_build_round_trips():
    body, content_type = build('{"a":1}', [("text/plain", "h1", b"one")])
    parts = parse(body, boundary_of(content_type))
    assert [bytes(p.content) for p in parts] == [b'{"a":1}', b"one"]
    assert parts[1].headers["content-transfer-encoding"] == "binary"


def attachment(content, **extra):
    return dict(
        {
            "usageType": "http://example.com/u",
            "display": {"en-US": "a"},
            "contentType": "text/plain",
            "length": len(content),
            "sha2": hashlib.sha256(content).hexdigest(),
        },
        **extra,
    )


def part(content, **headers):
    from lrs.core.multipart import Part

    base = {
        "content-type": "text/plain",
        "content-transfer-encoding": "binary",
        "x-experience-api-hash": hashlib.sha256(content).hexdigest(),
    }
    base.update(headers)
    return Part(base, memoryview(content))


def test_parts_match_attachments_by_sha2_only():
    statements = [{"attachments": [attachment(b"x")]}, {"attachments": [attachment(b"x")]}]
    found = match_parts(statements, ["statements[0]", "statements[1]"], [part(b"x")])
    assert list(found) == [hashlib.sha256(b"x").hexdigest()]


def test_sha384_and_sha512_hashes_are_recognised():
    content = b"data"
    for algorithm in (hashlib.sha384, hashlib.sha512, hashlib.sha224):
        digest = algorithm(content).hexdigest()
        statements = [{"attachments": [attachment(content, sha2=digest)]}]
        found = match_parts(
            statements, ["statement"], [part(content, **{"x-experience-api-hash": digest})]
        )
        assert digest in found


def test_file_url_is_required_without_multipart():
    with pytest.raises(BadRequest) as err:
        require_file_urls([{"attachments": [attachment(b"x")]}], ["statement"])
    assert err.value.errors[0].path == "statement.attachments[0]"
    require_file_urls(
        [{"attachments": [attachment(b"x", fileUrl="http://example.com/x")]}], ["statement"]
    )

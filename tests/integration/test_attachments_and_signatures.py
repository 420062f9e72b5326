"""Attachments over multipart/mixed and signed statements (Data 2.4.11, 2.6; Communication 1.5).

Runs on SQLite and real PostgreSQL. Signatures are made here with fresh RSA keys.
"""

import base64
import datetime as dt
import functools
import hashlib
import json
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from lrs import vocabulary as v
from lrs.core import multipart

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
BOUNDARY = "abcABC0123'()+_,-./:=?"


def statement(**extra):
    base = {
        "actor": {"mbox": "mailto:ann@example.com"},
        "verb": {"id": v.COMPLETED},
        "object": {"id": "http://example.com/essay"},
    }
    base.update(extra)
    return base


def attachment(
    content: bytes, content_type="text/plain", usage="http://example.com/usage/essay", **extra
):
    att = {
        "usageType": usage,
        "display": {"en-US": "Essay"},
        "contentType": content_type,
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
    }
    att.update(extra)
    return att


def multipart_body(statements, parts, first_type="application/json", boundary=BOUNDARY):
    chunks = [
        f"--{boundary}\r\nContent-Type: {first_type}\r\n\r\n".encode(),
        json.dumps(statements).encode(),
    ]
    for headers, content in parts:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        chunks.append(f"\r\n--{boundary}\r\n{head}\r\n".encode())
        chunks.append(content)
    chunks.append(f"\r\n--{boundary}--".encode())
    return b"".join(chunks)


def part_headers(content: bytes, content_type="text/plain"):
    return {
        "Content-Type": content_type,
        "Content-Transfer-Encoding": "binary",
        "X-Experience-API-Hash": hashlib.sha256(content).hexdigest(),
    }


def post_multipart(lrs, body, boundary=BOUNDARY, content_type="multipart/mixed"):
    return lrs.post(
        "/statements", data=body, headers={"Content-Type": f'{content_type}; boundary="{boundary}"'}
    )


class TestAttachments:
    def test_raw_attachment_round_trips_through_multipart(self, lrs):
        # Communication 1.5.2: first part the statements, then one part per attachment.
        essay = b"An essay\r\n--with a line that looks like a boundary\x00\xff"
        body = multipart_body(
            statement(attachments=[attachment(essay)]), [(part_headers(essay), essay)]
        )
        response = post_multipart(lrs, body)
        assert response.status_code == 200, response.get_json()
        (sid,) = response.get_json()
        got = lrs.get(f"/statements?statementId={sid}&attachments=true")
        assert got.mimetype == "multipart/mixed"
        parts = multipart.parse(got.data, multipart.boundary_of(got.headers["Content-Type"]))
        assert json.loads(bytes(parts[0].content))["id"] == sid
        assert bytes(parts[1].content) == essay
        assert parts[1].headers["x-experience-api-hash"] == hashlib.sha256(essay).hexdigest()

    def test_attachments_false_returns_plain_json(self, lrs):
        essay = b"text"
        post_multipart(
            lrs,
            multipart_body(
                statement(attachments=[attachment(essay)]), [(part_headers(essay), essay)]
            ),
        )
        response = lrs.get("/statements?attachments=false")
        assert response.mimetype == "application/json"
        assert response.get_json()["statements"][0]["attachments"][0]["length"] == 4

    def test_statement_result_with_attachments_is_multipart(self, lrs):
        one, two = b"first", b"second"
        body = multipart_body(
            [
                statement(attachments=[attachment(one)]),
                statement(attachments=[attachment(two), attachment(one)]),
            ],
            [(part_headers(one), one), (part_headers(two), two)],
        )
        assert post_multipart(lrs, body).status_code == 200
        got = lrs.get("/statements?attachments=true")
        parts = multipart.parse(got.data, multipart.boundary_of(got.headers["Content-Type"]))
        assert len(json.loads(bytes(parts[0].content))["statements"]) == 2
        assert sorted(bytes(p.content) for p in parts[1:]) == [b"first", b"second"]  # once each

    def test_file_url_attachments_need_no_part(self, lrs):
        # Communication 1.5.1: application/json with fileUrl-only attachments is accepted.
        att = attachment(b"remote", fileUrl="http://example.com/essay.txt")
        assert lrs.post("/statements", json=statement(attachments=[att])).status_code == 200
        assert (
            post_multipart(lrs, multipart_body(statement(attachments=[att]), [])).status_code == 200
        )

    def test_raw_attachment_in_application_json_is_400(self, lrs):
        response = lrs.post("/statements", json=statement(attachments=[attachment(b"x")]))
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["path"] == "statement.attachments[0]"

    @pytest.mark.parametrize(
        "defect",
        [
            "missing part",
            "hash mismatch",
            "no hash header",
            "no transfer encoding",
            "extra part",
            "first part not json",
            "form-data",
            "no boundary",
        ],
    )
    def test_broken_multipart_requests_are_400_and_store_nothing(self, lrs, defect):
        # XAPI-00127/00128 and Communication 1.5.2 requirements.
        essay = b"essay"
        headers = part_headers(essay)
        parts = [(headers, essay)]
        first_type, content_type = "application/json", "multipart/mixed"
        if defect == "missing part":
            parts = []
        elif defect == "hash mismatch":
            parts = [
                (
                    dict(
                        headers, **{"X-Experience-API-Hash": hashlib.sha256(b"other").hexdigest()}
                    ),
                    essay,
                )
            ]
        elif defect == "no hash header":
            parts = [({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary"}, essay)]
        elif defect == "no transfer encoding":
            parts = [
                (
                    {
                        "Content-Type": "text/plain",
                        "X-Experience-API-Hash": headers["X-Experience-API-Hash"],
                    },
                    essay,
                )
            ]
        elif defect == "extra part":
            parts.append((part_headers(b"extra"), b"extra"))
        elif defect == "first part not json":
            first_type = "text/plain"
        elif defect == "form-data":
            content_type = "multipart/form-data"
        body = multipart_body(statement(attachments=[attachment(essay)]), parts, first_type)
        if defect == "no boundary":
            response = lrs.post(
                "/statements", data=body, headers={"Content-Type": "multipart/mixed"}
            )
        else:
            response = post_multipart(lrs, body, content_type=content_type)
        assert response.status_code == 400
        assert response.get_json()["message"]
        assert lrs.get("/statements").get_json()["statements"] == []


def make_key_and_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Learnloop test signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(payload: dict, key, alg="RS256", cert=None) -> bytes:
    header = {"alg": alg}
    if cert is not None:
        header["x5c"] = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    digest = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}.get(
        alg, hashes.SHA256
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), digest())
    return f"{signing_input}.{b64url(signature)}".encode()


@functools.cache
def shared_signer():
    """One RSA key and certificate for the whole module (key generation is slow)."""
    return make_key_and_certificate()


class TestSignedStatements:
    @pytest.fixture
    def signer(self):
        return shared_signer()

    def post_signed(self, lrs, body_statement, jws):
        signed = dict(
            body_statement, attachments=[attachment(jws, "application/octet-stream", SIGNATURE)]
        )
        headers = part_headers(jws, "application/octet-stream")
        return post_multipart(lrs, multipart_body(signed, [(headers, jws)]))

    @pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
    def test_valid_signatures_are_accepted_and_kept(self, lrs, signer, alg):
        # Data 2.6 (XAPI-00117): RS256/384/512 accepted; the signature stays with the statement.
        key, cert = signer
        body = statement(id=str(uuid.uuid4()))
        jws = sign(body, key, alg, cert)
        response = self.post_signed(lrs, body, jws)
        assert response.status_code == 200, response.get_json()
        got = lrs.get(f"/statements?statementId={body['id']}&attachments=true")
        parts = multipart.parse(got.data, multipart.boundary_of(got.headers["Content-Type"]))
        assert bytes(parts[1].content) == jws

    def test_other_algorithms_are_rejected(self, lrs, signer):
        body = statement()
        header = b64url(json.dumps({"alg": "HS256"}).encode())
        jws = f"{header}.{b64url(json.dumps(body).encode())}.c2ln".encode()
        response = self.post_signed(lrs, body, jws)
        assert response.status_code == 400
        assert "RS256" in response.get_json()["message"]

    def test_payload_must_match_the_statement(self, lrs, signer):
        key, cert = signer
        jws = sign(statement(verb={"id": "http://example.com/verbs/other"}), key, "RS256", cert)
        response = self.post_signed(lrs, statement(), jws)
        assert response.status_code == 400
        assert "does not match" in response.get_json()["message"]

    def test_a_signature_that_does_not_verify_with_x5c_is_rejected(self, lrs, signer):
        _, cert = signer
        other_key, _ = make_key_and_certificate()
        jws = sign(statement(), other_key, "RS256", cert)
        assert self.post_signed(lrs, statement(), jws).status_code == 400

    def test_not_a_jws_is_rejected(self, lrs):
        assert self.post_signed(lrs, statement(), b"this is not a jws").status_code == 400

    def test_duration_compared_to_a_hundredth_under_2_0(self, lrs, signer):
        # 9274.1.1 §4.2.7 (CTS 4.2.7 Duration): payload 0.12S, statement 0.1237S.
        key, cert = signer
        jws = sign(statement(result={"duration": "PT0.12S"}), key, "RS256", cert)
        body = statement(result={"duration": "PT0.1237S"})
        assert self.post_signed(lrs, body, jws).status_code == 200
        lrs.version = "1.0.3"
        assert self.post_signed(lrs, body, jws).status_code == 400

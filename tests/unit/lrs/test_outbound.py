"""The outbound guard (issue 13): no spelling of an inside address, no rebinding, a deadline.

Issue 13: "The outbound URL check is bypassed by host names that are numbers or other
spellings of an address (decimal, hex, octal, short forms, ``localhost``) ... Outbound calls
have a per-read timeout but no total deadline: a slow key-set URL held a worker 80 s."

The pure rules first, then the transport against real sockets on 127.0.0.1: peers that count
their connections (a refused call must never reach them), a TLS peer that records the name
the client asked for, and peers that dribble.
"""

import datetime as dt
import ipaddress
import socket
import ssl
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lrs.errors import OutboundFailed, UnsafeUrl
from lrs.outbound import (
    LOOPBACK_NETWORKS,
    Deadline,
    GuardedAdapter,
    Limits,
    OutboundGuard,
    numeric_address,
    parse_networks,
    refusal,
    send,
)
from tests.support.peers import Peer, answer_ok

#: Every spelling issue 13 names, and the networks it names, each with what it really is.
INSIDE = [
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("[::1]", "::1"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
    ("169.254.169.254", "169.254.169.254"),
    ("10.0.0.1", "10.0.0.1"),
    ("0.0.0.0", "0.0.0.0"),
    ("0x7f.1", "127.0.0.1"),
    ("0300.0250.0.1", "192.168.0.1"),
    ("3232235521", "192.168.0.1"),
    ("[fe80::1]", "fe80::1"),
    ("224.0.0.1", "224.0.0.1"),
    ("100.64.0.1", "100.64.0.1"),
    ("240.0.0.1", "240.0.0.1"),
    ("[64:ff9b::a00:1]", "64:ff9b::a00:1"),
    ("[2002:7f00:1::]", "2002:7f00:1::"),
]
PUBLIC = "93.184.216.34"


def nowhere(host, port):
    raise AssertionError(f"{host} should not have been resolved")


def answering(table):
    """A resolver that knows the names in ``table`` and no others (like an NXDOMAIN)."""

    def resolve(host, port):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return table[host]

    return resolve


# ==== pure rules =================================================================================


@pytest.mark.parametrize("spelling, address", INSIDE)
def test_every_spelling_of_an_inside_address_is_read_as_that_address_and_refused(spelling, address):
    assert numeric_address(spelling) == ipaddress.ip_address(address)
    assert refusal([numeric_address(spelling)]) is not None


@pytest.mark.parametrize("name", ["moodle.example.edu", "1e100.net", "256.1.1.1", "1.2.3.4.5"])
def test_names_are_not_mistaken_for_addresses(name):
    assert numeric_address(name) is None


def test_refusal_says_which_address_and_why():
    assert refusal([ipaddress.ip_address(PUBLIC)]) is None
    assert refusal([ipaddress.ip_address("2606:4700::1111")]) is None
    assert refusal([ipaddress.ip_address("127.0.0.1")]) == "127.0.0.1 is a loopback address"
    assert "link-local" in refusal([ipaddress.ip_address("169.254.169.254")])
    assert "carries 127.0.0.1, a loopback address" in refusal(
        [ipaddress.ip_address("::ffff:127.0.0.1")]
    )
    # any address inside refuses the host, wherever it is in the list
    assert "10.1.2.3" in refusal([ipaddress.ip_address(PUBLIC), ipaddress.ip_address("10.1.2.3")])
    assert refusal([]) == "the host has no address"


def test_an_operator_may_allow_a_network_and_only_that_network():
    allowed = parse_networks("10.2.0.0/16, 192.168.7.5")
    assert refusal([ipaddress.ip_address("10.2.9.9")], allowed) is None
    assert refusal([ipaddress.ip_address("192.168.7.5")], allowed) is None
    assert refusal([ipaddress.ip_address("10.3.0.1")], allowed) is not None
    assert refusal([ipaddress.ip_address("127.0.0.1")], allowed) is not None
    with pytest.raises(ValueError, match="intranet"):
        parse_networks("10.0.0.0/8, intranet")


@pytest.mark.parametrize("spelling, _", INSIDE)
def test_a_given_url_with_an_inside_address_is_refused_naming_the_field(spelling, _):
    with pytest.raises(UnsafeUrl) as raised:
        OutboundGuard(resolver=nowhere).check_url(f"https://{spelling}/jwks", "key_set_url")
    assert raised.value.status == 400
    assert [e.path for e in raised.value.errors] == ["key_set_url"]
    assert raised.value.message.startswith("key_set_url: ")


def test_a_name_that_resolves_inside_is_refused():
    guard = OutboundGuard(resolver=answering({"lms.inside.test": ["93.184.216.34", "127.0.0.1"]}))
    with pytest.raises(UnsafeUrl, match="127.0.0.1 is a loopback address"):
        guard.check_url("https://lms.inside.test/jwks", "key_set_url")
    with pytest.raises(UnsafeUrl, match="loopback"):
        OutboundGuard().check_url("https://localhost/jwks", "key_set_url")  # the system's hosts


def test_public_names_pass_and_a_name_that_does_not_resolve_yet_is_left_to_the_connection():
    guard = OutboundGuard(resolver=answering({"moodle.example.edu": [PUBLIC]}))
    assert guard.check_url("https://moodle.example.edu/jwks", "key_set_url")
    assert guard.check_url("https://later.example.edu/jwks", "key_set_url")


def test_plain_http_only_to_the_networks_that_allow_it():
    local = OutboundGuard(
        http_networks=LOOPBACK_NETWORKS,
        resolver=answering({"localhost": ["127.0.0.1", "::1"], "lms.example": [PUBLIC]}),
    )
    assert local.check_url("http://127.0.0.1:8000/jwks", "key_set_url")
    assert local.check_url("http://localhost:8000/jwks", "key_set_url")
    for url in ("http://lms.example/jwks", "http://10.0.0.1/jwks", "http://0.0.0.0:8000/"):
        with pytest.raises(UnsafeUrl):
            local.check_url(url, "key_set_url")
    with pytest.raises(UnsafeUrl, match="https"):
        OutboundGuard().check_url("http://127.0.0.1:8000/jwks", "key_set_url")


# ==== peers on 127.0.0.1 =========================================================================


@pytest.fixture
def peer():
    server = Peer(answer_ok)
    yield server
    server.close()


def local_guard(resolver=nowhere):
    return OutboundGuard(http_networks=LOOPBACK_NETWORKS, resolver=resolver)


def test_a_call_to_an_allowed_local_peer_is_answered(peer):
    reply = send(local_guard(), Limits(), "GET", f"http://127.0.0.1:{peer.port}/x", name="peer")
    assert (reply.status, reply.body) == (200, b"ok")
    assert peer.connections == 1


@pytest.mark.parametrize(
    "spelling", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]"]
)
def test_the_connection_refuses_an_inside_address_and_never_connects(peer, spelling):
    """The transport alone (no check before it) refuses, whatever the URL's spelling."""
    session = requests.Session()
    deadline = Deadline(5)
    adapter = GuardedAdapter(OutboundGuard(resolver=nowhere), deadline, "key set")
    session.mount("https://", adapter)
    try:
        with pytest.raises(UnsafeUrl, match="loopback"):
            session.get(f"https://{spelling}:{peer.port}/jwks", timeout=5)
    finally:
        deadline.cancel()
        session.close()
    assert peer.connections == 0


def test_a_name_that_resolves_public_first_and_loopback_later_is_refused_when_connecting(peer):
    """DNS rebinding: the check where the URL is given passes, the connection still refuses."""
    answers = [[PUBLIC], ["127.0.0.1"]]
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    guard = OutboundGuard(resolver=rebinding)
    url = f"https://rebind.example:{peer.port}/jwks"
    assert guard.check_url(url, "key_set_url") == url
    with pytest.raises(UnsafeUrl, match="127.0.0.1 is a loopback address"):
        send(guard, Limits(), "GET", url, name="platform's key set")
    assert peer.connections == 0
    assert asked == ["rebind.example", "rebind.example"]  # once per check, never twice a call


def test_the_connection_goes_to_the_checked_address_with_the_name_kept_for_tls(
    tmp_path, monkeypatch
):
    """The resolver is asked once; TLS verifies the URL's name (SNI, certificate), not the IP."""
    ca, context = _tls_for("lms.test", tmp_path)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = Peer(answer_ok, tls=context)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    asked = []

    def resolve(host, port):
        asked.append(host)
        return ["127.0.0.1"]

    guard = OutboundGuard(allowed_networks=parse_networks("127.0.0.1"), resolver=resolve)
    try:
        reply = send(guard, Limits(), "GET", f"https://lms.test:{server.port}/jwks", name="peer")
        assert (reply.status, reply.body) == (200, b"ok")
        assert names == ["lms.test"] and asked == ["lms.test"]
        assert f"Host: lms.test:{server.port}" in server.seen["request"]
        other = OutboundGuard(
            allowed_networks=parse_networks("127.0.0.1"),
            resolver=answering({"other.test": ["127.0.0.1"]}),
        )
        with pytest.raises(OutboundFailed, match="could not be reached"):  # wrong certificate
            send(other, Limits(), "GET", f"https://other.test:{server.port}/", name="peer")
    finally:
        server.close()


def _tls_for(name, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


# ==== the total deadline =========================================================================


def dribble_body(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        conn.sendall(b"x")
        time.sleep(0.05)


def dribble_headers(conn):
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
        conn.sendall(bytes([byte]))
        time.sleep(0.05)


@pytest.mark.parametrize("handler", [dribble_body, dribble_headers])
def test_a_peer_that_dribbles_is_cut_at_the_total_deadline(handler):
    """Each byte comes well within the read timeout; the whole answer would take 50 s."""
    server = Peer(handler)
    limits = Limits(read_timeout=5, total_timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(OutboundFailed, match="did not answer completely within 1 s"):
            send(local_guard(), limits, "GET", f"http://127.0.0.1:{server.port}/", name="peer")
        assert time.monotonic() - started < 4  # cut near 1 s, not after 20 s or more
    finally:
        server.close()


def test_a_deadline_shuts_down_sockets_watched_after_it_passed():
    deadline = Deadline(0.01)
    time.sleep(0.05)
    left, right = socket.socketpair()
    try:
        deadline.watch(left)
        assert deadline.passed() and left.recv(1) == b""
    finally:
        deadline.cancel()
        left.close()
        right.close()

"""SMTP as operators set it up: STARTTLS with a login, implicit TLS, and what doctor says.

aiosmtpd with a certificate made here for 127.0.0.1 (its CA file is LEARNLOOP_SMTP_CA_FILE);
no database involved.
"""

from __future__ import annotations

import datetime as dt
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from learnloop.doctor import FAIL, OK, Report, _email
from notifications.mail import Letter, Mailer, SendFailed, build_message
from notifications.settings import MailConfig
from tests.notifications.smtp import Mailbox, free_port, parts

PASSWORD = "s3cret-smtp-password"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return str(folder / "cert.pem"), context


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"learnloop" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def starttls(certificate):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=certificate[1],
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    yield mailbox, port
    controller.stop()


def letter():
    return Letter("Ann", "ann@acme.test", "Hi", "plain", "<p>html</p>", "https://l/unsubscribe/t")


def test_starttls_and_a_login_carry_the_message_and_doctor_says_so(starttls, certificate):
    mailbox, port = starttls
    env = {
        "LEARNLOOP_SMTP_HOST": "127.0.0.1",
        "LEARNLOOP_SMTP_PORT": str(port),
        "LEARNLOOP_SMTP_USERNAME": "learnloop",
        "LEARNLOOP_SMTP_PASSWORD": PASSWORD,
        "LEARNLOOP_SMTP_FROM_ADDRESS": "learnloop@acme.test",
        "LEARNLOOP_SMTP_CA_FILE": certificate[0],
    }
    report = Report()
    _email(report, env)
    [finding] = report.findings
    assert finding.level == OK and "STARTTLS, logged in" in finding.found
    mailer = Mailer(MailConfig.from_env(env))
    mailer.send(build_message(letter(), "learnloop@acme.test"))
    mailer.close()
    [message] = mailbox.messages
    assert parts(message) == {"text/plain": "plain", "text/html": "<p>html</p>"}

    report = Report()
    # aiosmtpd answers smtplib's second mechanism after a refusal by silence: 1 s is enough.
    _email(
        report, {**env, "LEARNLOOP_SMTP_PASSWORD": "wrong-password", "LEARNLOOP_SMTP_TIMEOUT": "1"}
    )
    [finding] = report.findings
    assert finding.level == FAIL and "refused the login" in finding.found
    assert "wrong-password" not in finding.found + finding.fix


def test_an_untrusted_certificate_or_a_server_without_starttls_fails_in_words(starttls):
    _, port = starttls
    config = MailConfig(host="127.0.0.1", port=port, from_address="l@acme.test")
    with pytest.raises(SendFailed, match="TLS with 127.0.0.1"):
        Mailer(config).send(build_message(letter(), "l@acme.test"))
    plain = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    plain.start()
    try:
        report = Report()
        _email(
            report,
            {
                "LEARNLOOP_SMTP_HOST": "127.0.0.1",
                "LEARNLOOP_SMTP_PORT": str(plain.port),
                "LEARNLOOP_SMTP_FROM_ADDRESS": "l@acme.test",
            },
        )
        assert report.findings[0].level == FAIL
        assert "does not offer STARTTLS" in report.findings[0].found
    finally:
        plain.stop()


def test_implicit_tls(certificate):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=certificate[1])
    controller.start()
    try:
        config = MailConfig(
            host="127.0.0.1",
            port=port,
            security="tls",
            from_address="l@acme.test",
            ca_file=certificate[0],
        )
        mailer = Mailer(config)
        mailer.send(build_message(letter(), "l@acme.test"))
        mailer.close()
        assert len(mailbox.messages) == 1
    finally:
        controller.stop()


def test_doctor_says_email_is_off_when_no_host_is_set():
    report = Report()
    _email(report, {})
    assert report.findings[0].level == OK and "not set up" in report.findings[0].found

"""E-mail over SMTP: the message every notification becomes, sending it, and the doctor's check.

Every message is ``multipart/alternative`` (plain text, then HTML) and carries the RFC 8058
one-click unsubscribe: ``List-Unsubscribe: <https://…/unsubscribe/TOKEN>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, so a mail client's "unsubscribe" button
turns that kind off with one POST and no sign-in.

A ``Mailer`` keeps one SMTP connection per process and opens it again when the server closed it
(a worker sends many messages in a row: a digest run is thousands). Failures say whether trying
again can help: a 5xx answer (a refused recipient, a refused sender) cannot.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import uuid
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr

from notifications.settings import MailConfig


@dataclass(frozen=True)
class Letter:
    """What one e-mail says, before it is a MIME message."""

    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str


#: Header lines up to SMTP's limit: a long List-Unsubscribe URL stays on its header's line.
UNFOLDED = compat32.clone(max_line_length=998)


def _header(value: str, name: str) -> str | Header:
    """A header value, as RFC 2047 words when it is not ASCII."""
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def build_message(letter: Letter, from_address: str) -> Message:
    """The MIME message of a letter: both parts, the one-click unsubscribe headers.

    Built with the classic ``email.mime`` classes: the header registry of ``EmailMessage``
    parses every header it is given, a third of the cost of a digest run.
    """
    message = MIMEMultipart("alternative", policy=UNFOLDED)
    name, address = parseaddr(from_address)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = formataddr((letter.to_name, letter.to_address), charset="utf-8")
    message["Subject"] = _header(letter.subject, "Subject")
    message["Date"] = formatdate(usegmt=True)
    domain = address.rpartition("@")[2] or "learnloop.invalid"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(MIMEText(letter.text, "plain", "utf-8", policy=UNFOLDED))
    message.attach(MIMEText(letter.html, "html", "utf-8", policy=UNFOLDED))
    return message


class SendFailed(Exception):
    """An SMTP attempt that did not hand the message over; ``permanent`` when retrying cannot help.

    ``message`` is in words an administrator can act on and never holds a credential.
    """

    def __init__(self, message: str, status: int = 0, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.permanent = permanent


def _tls_context(config: MailConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.ca_file or None)


def connect(config: MailConfig) -> smtplib.SMTP:
    """An SMTP session after EHLO, STARTTLS (or implicit TLS) and login, as configured."""
    smtp = _open(config)
    try:
        return _secure(smtp, config)
    except BaseException:
        smtp.close()
        raise


def _open(config: MailConfig) -> smtplib.SMTP:
    if config.security == "tls":
        return smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=_tls_context(config)
        )
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


def _secure(smtp: smtplib.SMTP, config: MailConfig) -> smtplib.SMTP:
    smtp.ehlo()
    if config.security == "starttls":
        if not smtp.has_extn("starttls"):
            raise SendFailed(
                f"{config.host}:{config.port} does not offer STARTTLS; set "
                "LEARNLOOP_SMTP_SECURITY=tls for implicit TLS, or none for a local relay",
                permanent=True,
            )
        smtp.starttls(context=_tls_context(config))
        smtp.ehlo()
    if config.username:
        try:
            smtp.login(config.username, config.password)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPServerDisconnected) as error:
            raise SendFailed(
                f"{config.host}:{config.port} refused the login (LEARNLOOP_SMTP_USERNAME/PASSWORD)",
                getattr(error, "smtp_code", 535),
            ) from None
    return smtp


def explain(error: BaseException, config: MailConfig) -> SendFailed:
    """An SMTP or network error as a SendFailed (5xx answers are permanent)."""
    where = f"{config.host}:{config.port}"
    if isinstance(error, SendFailed):
        return error
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return SendFailed(
            f"{where} refused the login (LEARNLOOP_SMTP_USERNAME/PASSWORD)", error.smtp_code
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()))[0] if error.recipients else 550
        return SendFailed(f"{where} refused the recipient ({code})", code, permanent=code >= 500)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return SendFailed(f"{where} answered {code}", code, permanent=500 <= code < 600)
    if isinstance(error, ssl.SSLError):
        return SendFailed(f"TLS with {where} failed ({error.reason or 'certificate'})")
    if isinstance(error, smtplib.SMTPException | OSError):
        return SendFailed(f"{where} could not be reached ({type(error).__name__})")
    raise error


class Mailer:
    """Sends messages over one SMTP connection per process, reopened when it was closed."""

    def __init__(self, config: MailConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        """Hand one message over; raises SendFailed."""
        with self._lock:
            for attempt in (1, 2):
                fresh = self._smtp is None
                try:
                    if self._smtp is None:
                        self._smtp = connect(self.config)
                    self._smtp.send_message(message)
                    return
                except smtplib.SMTPServerDisconnected as error:
                    self._drop()
                    if fresh or attempt == 2:  # a new connection that fails: not a stale one
                        raise explain(error, self.config) from None
                except (smtplib.SMTPException, OSError, SendFailed) as error:
                    self._drop()
                    raise explain(error, self.config) from None

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            if self._smtp is not None:
                try:
                    self._smtp.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self._smtp = None


def check(config: MailConfig) -> str:
    """Connect, EHLO, STARTTLS and log in as configured, then quit; what the server is.

    Raises SendFailed. Used by ``learnloop doctor``.
    """
    try:
        smtp = connect(config)
    except (smtplib.SMTPException, OSError) as error:
        raise explain(error, config) from None
    try:
        tls = (
            "implicit TLS"
            if config.security == "tls"
            else ("STARTTLS" if config.security == "starttls" else "no TLS")
        )
        login = ", logged in" if config.username else ""
        return f"{config.host}:{config.port} answers ({tls}{login})"
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass

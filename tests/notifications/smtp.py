"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message that arrives.

``answers`` scripts the replies to DATA (``"451 4.3.0 try again later"``), then it accepts;
``answers_for`` does the same for one recipient's messages.
"""

from __future__ import annotations

import email
import email.policy
import socket
import time

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """The server's handler: every accepted message, parsed, with its envelope."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.answers: list[str] = []
        #: Replies to DATA for one recipient's messages only, by address.
        self.answers_for: dict[str, list[str]] = {}

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        if self.answers:
            return self.answers.pop(0)
        for address in envelope.rcpt_tos:
            if self.answers_for.get(address):
                return self.answers_for[address].pop(0)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0):
        """The messages to ``address`` once there are ``count`` (a server in another process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"no {count} message(s) to {address}: {[m['To'] for m in self.messages]}"
        )


class SmtpServer:
    """``with SmtpServer() as smtp:`` a server on a free port; ``smtp.mailbox`` what arrived."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def parts(message) -> dict[str, str]:
    """The text of each part of a multipart/alternative message, by content type."""
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    return {
        part.get_content_type(): part.get_content().replace("\r\n", "\n")
        for part in message.iter_parts()
    }

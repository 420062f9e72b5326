"""Team events to Slack and Microsoft Teams incoming webhooks, through the outbound guard.

Slack: ``{"text": …, "blocks": [section]}`` with ``<url|label>`` links (api.slack.com,
"Sending messages using incoming webhooks"). Teams: a ``message`` with one Adaptive Card
attachment (``application/vnd.microsoft.card.adaptive``, version 1.4), the form Teams'
"Post to a channel when a webhook request is received" workflow takes. Each post is a ``chat``
job: the queue retries it with backoff and every attempt is a row of the delivery log.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from lrs import deliveries, queue
from lrs.db import read_transaction, write_transaction
from lrs.errors import OutboundFailed, UnsafeUrl
from lrs.outbound import Limits, OutboundGuard, send
from notifications.models import ChatHook
from notifications.services import chat_box

#: The worker's job that posts one message to one hook.
CHAT = "chat"
#: Its channel in the delivery log (``lrs.deliveries``).
CHANNEL = "chat"
ATTEMPTS = 8


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(text: str, url: str) -> dict:
    """Slack's incoming-webhook message: a fallback ``text`` and one mrkdwn section."""
    line = f"{_slack_escape(text)} <{url}|Open in Learnloop>"
    return {
        "text": f"{text} {url}",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}],
    }


def teams_payload(text: str, url: str) -> dict:
    """Teams' incoming-webhook message: one Adaptive Card with the line and a button."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": text, "wrap": True}],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open in Learnloop", "url": url}
                    ],
                },
            }
        ],
    }


PAYLOADS = {"slack": slack_payload, "teams": teams_payload}


@dataclass(frozen=True)
class Posted:
    ok: bool
    status: int
    message: str
    #: Trying again cannot help (the guard refused the address): given up at once.
    refused: bool = False


def post(
    flavor: str, url: str, text: str, link: str, guard: OutboundGuard, limits: Limits
) -> Posted:
    """POST one message; never raises for the peer's failures."""
    body = json.dumps(PAYLOADS[flavor](text, link), ensure_ascii=False).encode()
    try:
        reply = send(
            guard,
            limits,
            "POST",
            url,
            name="chat webhook",
            headers={"Content-Type": "application/json", "User-Agent": "Learnloop-Chat/1"},
            data=body,
        )
    except UnsafeUrl:  # its message repeats the URL, which is the hook's secret
        return Posted(False, 0, "the outbound guard refused the chat webhook's address", True)
    except OutboundFailed as failure:  # names the chat webhook, never its URL
        return Posted(False, getattr(failure, "upstream_status", 0), failure.message)
    if 200 <= reply.status < 300:
        return Posted(True, reply.status, f"accepted ({reply.status})")
    return Posted(False, reply.status, f"the chat webhook answered {reply.status}")


def enqueue_post(session, hook: ChatHook, kind: str, text: str, link: str, now_ms: int) -> None:
    queue.enqueue(
        session,
        hook.store_id,
        CHAT,
        f"chat:{hook.id}:{uuid.uuid4().hex}",
        {"hook": hook.id, "kind": kind, "text": text, "link": link},
        now_ms=now_ms,
    )


def deliver(job: queue.ClaimedJob, master_key: str, guard, limits, sessions, clock) -> None:
    """The ``chat`` job: post to the hook, log the attempt; JobFailed to retry with backoff."""
    payload = job.payload
    with read_transaction(sessions) as session:
        hook = session.get(ChatHook, int(payload.get("hook", 0)))
        if hook is None or not hook.active:
            return
        url = chat_box(master_key).open(hook.url_sealed, f"chat:{hook.id}")
        flavor, store_id, hook_id = hook.flavor, hook.store_id, hook.id
    posted = post(flavor, url, payload["text"], payload["link"], guard, limits)
    last = posted.refused or job.attempts >= ATTEMPTS
    outcome = "delivered" if posted.ok else ("failed" if last else "retrying")
    with write_transaction(sessions) as session:
        deliveries.record(
            session,
            store_id,
            CHANNEL,
            hook_id,
            clock(),
            deliveries.Attempt(
                outcome,
                posted.status,
                job.attempts,
                1,
                posted.message + ("; given up" if outcome == "failed" else ""),
                event_id=job.key[:100],
                event_type=payload.get("kind"),
            ),
        )
    if not posted.ok:
        raise queue.JobFailed(posted.message, permanent=last)

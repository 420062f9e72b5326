"""Failed credential checks, counted in the database so every worker and machine agrees.

Issue 13: "passwords on `/sign-in` and `/api/tokens` and Basic secrets on `/xapi` can be guessed
at the full request rate; every wrong secret costs a scrypt hash". Each check names the counters
it is subject to (per account or key, per account or key *from one address*, per address); a
counter that reached its limit within its window refuses further checks with 429 and
``Retry-After`` before any scrypt runs, until the window ends. A success clears the counters of
that account or key from that address, so a person who mistyped is not held back.

A key locked for everyone would let anyone stop an LMS sending statements by guessing its
secret; so the per-key limit is high (a distributed guess), and the tight limit is per key and
address. Fixed windows, one row per counter; the write is an upsert, safe under concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from lrs.db import read_transaction, write_transaction
from lrs.sql import marks, run
from schemas.errors import LrsError


@dataclass(frozen=True)
class Limit:
    failures: int
    window_seconds: int


#: What one counter allows: "<scope>:..." -> its limit. Per address counts every secret tried.
LIMITS = {
    "who": Limit(100, 900),  # an account or key, from anywhere
    "who+address": Limit(10, 900),  # an account or key, from one client address
    "address": Limit(50, 900),  # every failure from one client address
}


class TooManyAttempts(LrsError):
    """Too many failed credential checks (429); ``retry_after`` seconds until the window ends."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-in attempts; try again in {retry_after} seconds")
        self.retry_after = retry_after


def counters(kind: str, who: str, address: str | None) -> dict[str, Limit]:
    """The counters a check of ``who`` (an account or a key) from ``address`` is subject to."""
    names = {f"who:{kind}:{who}"[:400]: LIMITS["who"]}
    if address:
        names[f"who+address:{kind}:{who}:{address}"[:400]] = LIMITS["who+address"]
        names[f"address:{address}"[:400]] = LIMITS["address"]
    return names


class Throttle:
    """Checks and counts failures in the ``auth_failures`` table."""

    def __init__(self, sessions: sessionmaker[Session], clock) -> None:
        self.sessions = sessions
        self.clock = clock  # milliseconds since the epoch

    def check(self, names: dict[str, Limit]) -> None:
        """TooManyAttempts if any counter is at its limit within its window (reads only)."""
        now = self.clock()
        with read_transaction(self.sessions) as session:
            rows = run(
                session,
                "SELECT name, window_start_ms, failures FROM auth_failures "
                f"WHERE name IN ({marks(len(names))})",
                list(names),
            ).all()
        waits = [
            (start + names[name].window_seconds * 1000 - now)
            for name, start, failures in rows
            if failures >= names[name].failures and now - start < names[name].window_seconds * 1000
        ]
        if waits:
            raise TooManyAttempts(max(1, -(-max(waits) // 1000)))

    def failed(self, names: dict[str, Limit]) -> None:
        """Count one failure on each counter (a window that has ended starts again)."""
        now = self.clock()
        with write_transaction(self.sessions) as session:
            for name, limit in names.items():
                window = limit.window_seconds * 1000
                run(
                    session,
                    "INSERT INTO auth_failures (name, window_start_ms, failures) VALUES (?, ?, 1) "
                    "ON CONFLICT (name) DO UPDATE SET "
                    "failures = CASE WHEN ? - auth_failures.window_start_ms >= ? THEN 1 "
                    "ELSE auth_failures.failures + 1 END, "
                    "window_start_ms = CASE WHEN ? - auth_failures.window_start_ms >= ? THEN ? "
                    "ELSE auth_failures.window_start_ms END",
                    [name, now, now, window, now, window, now],
                )

    def succeeded(self, names: dict[str, Limit]) -> None:
        """Forget the failures of this account or key from this address."""
        personal = [n for n in names if n.startswith("who+address:")]
        if not personal:
            return
        with read_transaction(self.sessions) as session:  # usually none: no write lock then
            personal = list(
                run(
                    session,
                    f"SELECT name FROM auth_failures WHERE name IN ({marks(len(personal))})",
                    personal,
                ).scalars()
            )
        if not personal:
            return
        with write_transaction(self.sessions) as session:
            run(
                session,
                f"DELETE FROM auth_failures WHERE name IN ({marks(len(personal))})",
                personal,
            )

"""``learnloop doctor``: is this installation ready, and if not, what to do about it.

Each check says what it found and, when something is wrong, what to fix, in the operator's
words. It reads the same settings ``serve`` reads and the same state ``/health/ready``
reports, so doctor and the running server never disagree. Nothing is written.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import click

OK, WARN, FAIL = "ok", "warning", "FAIL"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
MIN_SECRET_KEY_LENGTH = 32


@dataclass
class Finding:
    """One check's result: its level, what was found, and (unless all is well) what to do."""

    check: str
    level: str
    found: str
    fix: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, check: str, level: str, found: str, fix: str = "") -> None:
        self.findings.append(Finding(check, level, found, fix))

    @property
    def failed(self) -> bool:
        return any(f.level == FAIL for f in self.findings)


def examine(environ: dict[str, str] | None = None, *, probe: Callable | None = None) -> Report:
    """Every check, in the order an operator would fix them (a later one may need an earlier)."""
    environ = dict(os.environ if environ is None else environ)
    report = Report()
    config = _configuration(report, environ)
    if config is None:
        return report
    engine = _database(report, config)
    if engine is not None:
        try:
            _queue(report, engine, environ)
        finally:
            engine.dispose()
    _public_url(report, config, probe or _probe)
    _secret_key(report, config)
    _email(report, environ)
    return report


def _configuration(report: Report, environ: dict[str, str]):
    from learnloop import settings
    from learnloop.config import Config

    found = settings.problems(environ)
    if found:
        for problem in found:
            report.add("configuration", FAIL, problem, "correct the variable and run doctor again")
        return None
    report.add("configuration", OK, "every LEARNLOOP_* setting reads")
    return Config.from_env(environ)


def _database(report: Report, config):
    from sqlalchemy.exc import SQLAlchemyError

    from learnloop.cli_errors import explain, shown_url
    from learnloop.schema import code_heads, database_heads
    from lrs.db import make_engine

    where = shown_url(config.database_url)
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            found = database_heads(connection)
    except SQLAlchemyError as error:
        engine.dispose()
        message = explain(error, config.database_url).splitlines()
        report.add("database", FAIL, message[0], " ".join(message[1:]))
        return None
    report.add("database", OK, f"{where} answers")
    expected = code_heads()
    if found == expected:
        report.add("migrations", OK, f"at revision {', '.join(sorted(found))}, as the code")
        return engine
    state = "has no Learnloop tables" if not found else f"is at {', '.join(sorted(found))}"
    report.add(
        "migrations",
        FAIL,
        f"the database {state}; the code needs {', '.join(sorted(expected))}",
        "run `learnloop db upgrade` (back up first: `learnloop backup FILE`)",
    )
    engine.dispose()
    return None


def _queue(report: Report, engine, environ: dict[str, str]) -> None:
    from sqlalchemy.orm import Session

    from learnloop.health import max_lag_seconds, queue_state

    with Session(engine) as session:
        state = queue_state(session, int(time.time() * 1000))
    limit = max_lag_seconds(environ)
    failed = sum(n for (_, job_state), n in state.jobs.items() if job_state == "failed")
    found = f"{state.due} job(s) due, the oldest waiting {state.lag_seconds:.0f} s"
    if limit and state.lag_seconds > limit:
        report.add(
            "queue",
            FAIL,
            found + f" (more than LEARNLOOP_READY_MAX_LAG_SECONDS, {limit:.0f} s)",
            "start a worker: `learnloop serve` runs one, or run `learnloop worker`",
        )
    else:
        report.add("queue", OK, found)
    if failed:
        report.add(
            "queue",
            WARN,
            f"{failed} job(s) failed for good (grades, progress)",
            "their reasons are on the admin pages (LMS connection check) and in the worker log",
        )


def _probe(url: str) -> str | None:
    """None when ``url`` answers 200, else why not."""
    import requests

    try:
        answer = requests.get(url, timeout=3, allow_redirects=False)
    except requests.RequestException as error:
        return type(error).__name__
    return None if answer.status_code == 200 else f"HTTP {answer.status_code}"


def _public_url(report: Report, config, probe: Callable) -> None:
    url = config.public_url
    host = urlsplit(url).hostname or ""
    if host in LOOPBACK_HOSTS:
        report.add(
            "public URL",
            WARN,
            f"{url} is reachable from this machine only: an LMS cannot launch Learnloop",
            "set LEARNLOOP_PUBLIC_URL to the https:// address people and LMSs use",
        )
    elif not url.startswith("https://"):
        report.add(
            "public URL",
            WARN,
            f"{url} is not https: LMSs refuse http tools and browsers send no Secure cookies",
            "serve behind a TLS proxy and set LEARNLOOP_PUBLIC_URL to its https:// address",
        )
    else:
        report.add("public URL", OK, url)
    why = probe(url + "/health/live")
    if why is None:
        report.add("public URL", OK, f"{url}/health/live answers")
    else:
        report.add(
            "public URL",
            WARN,
            f"{url}/health/live does not answer ({why})",
            "start `learnloop serve`, or check the proxy in front of it",
        )


def _secret_key(report: Report, config) -> None:
    if config.secret_key:
        if len(config.secret_key) < MIN_SECRET_KEY_LENGTH:
            report.add(
                "secret key",
                FAIL,
                f"LEARNLOOP_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters",
                "set a random one: python3 -c 'import secrets; print(secrets.token_hex(32))'"
                " (then `learnloop lti reseal-keys` and the other reseal commands)",
            )
        else:
            report.add("secret key", OK, "LEARNLOOP_SECRET_KEY is set")
        return
    path = os.path.join(os.path.abspath(config.instance_path), "secret_key")
    if not os.path.exists(path):
        report.add(
            "secret key",
            WARN,
            f"no LEARNLOOP_SECRET_KEY and no {path} yet: the first start makes one",
            "if you restored a backup, put back the secret_key it was made with first",
        )
        return
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        report.add(
            "secret key",
            FAIL,
            f"{path} can be read by other users (mode {mode:o})",
            f"chmod 600 {path}",
        )
        return
    report.add(
        "secret key",
        OK,
        f"kept in {path}; set LEARNLOOP_SECRET_KEY instead when several machines serve",
    )


def _email(report: Report, environ: dict[str, str]) -> None:
    """Connect to the SMTP server as the worker would: EHLO, STARTTLS or TLS, login, quit."""
    from notifications.mail import SendFailed, check
    from notifications.settings import MailConfig

    config = MailConfig.from_env(environ)
    if not config.configured:
        report.add(
            "e-mail",
            OK,
            "not set up: nobody is e-mailed (people read their notifications in Learnloop)",
        )
        return
    try:
        report.add("e-mail", OK, check(config))
    except SendFailed as failure:
        report.add(
            "e-mail",
            FAIL,
            failure.message,
            "correct LEARNLOOP_SMTP_HOST, _PORT, _SECURITY (starttls, tls, none), _USERNAME "
            "and _PASSWORD, or unset LEARNLOOP_SMTP_HOST to send no e-mail",
        )


def print_report(report: Report) -> None:
    """One line per finding; what to do indented under each that needs it."""
    width = max(len(f.check) for f in report.findings)
    for finding in report.findings:
        mark = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}[finding.level]
        click.echo(f"{mark}  {finding.check:<{width}}  {finding.found}")
        if finding.fix:
            click.echo(f"      {'':<{width}}  to fix: {finding.fix}")
    fails = sum(f.level == FAIL for f in report.findings)
    warns = sum(f.level == WARN for f in report.findings)
    if fails:
        click.echo(f"{fails} problem(s) to fix before serving, {warns} warning(s).")
    elif warns:
        click.echo(f"Ready to serve, with {warns} warning(s).")
    else:
        click.echo("Ready to serve.")


@click.command("doctor")
def doctor_command() -> None:
    """Check the installation and say what to fix; exit 1 when something must be fixed.

    Checked: every LEARNLOOP_* setting, the database and its migrations, the queue's lag,
    the public URL (https, and whether it answers), the secret key, and the SMTP server.
    """
    report = examine()
    print_report(report)
    if report.failed:
        raise SystemExit(1)

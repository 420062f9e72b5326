"""What a Learnloop user has at hand: the `learnloop` command and its output, HTTP, the README.

Nothing here imports the code under test. IRIs, ids, names and credentials come from where a
user reads them: the command's output, an API answer, a page, the README.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests

LEARNLOOP = Path(sys.executable).parent / "learnloop"
REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
START_TIMEOUT = 90  # seconds: migrate, seed the sample organisation, start gunicorn
STOP_TIMEOUT = 15
HTTP_TIMEOUT = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def instance_environment(instance: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a user who points Learnloop at one instance folder.

    Any LEARNLOOP_* configuration of the test run itself is left out, so the instance folder
    alone decides where the data lives (SQLite in it) unless ``database_url`` names a database
    (LEARNLOOP_DATABASE_URL, e.g. PostgreSQL). Unbuffered output, as on a terminal.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")}
    env["LEARNLOOP_INSTANCE_PATH"] = str(instance)
    if database_url:
        env["LEARNLOOP_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ---- the demo's printed output -----------------------------------------------------------------


@dataclass
class DemoOutput:
    """What `learnloop demo` tells a newcomer before it serves."""

    xapi_endpoint: str
    key: str
    secret: str
    sign_in_url: str
    organisation: str
    accounts: list[str]
    password: str


def read_demo_output(text: str) -> DemoOutput:
    """Parse the lines a newcomer reads: the endpoint, the credential, where and how to sign in."""
    endpoint = re.search(r"serving xAPI .* at (http://\S+/xapi/)", text)
    credential = re.search(r"Demo credential .*key (\S+), secret (\S+)", text)
    pages = re.search(r"Pages: (http://\S+/sign-in)\s+organisation (\S+?), (.*)", text)
    if not (endpoint and credential and pages):
        raise AssertionError(
            f"the demo did not print its endpoint, credential and account:\n{text}"
        )
    accounts_and_password = pages.group(3)
    password = re.search(r"password (\S+)", accounts_and_password)
    if not password:
        raise AssertionError(f"the demo did not print a password:\n{text}")
    return DemoOutput(
        xapi_endpoint=endpoint.group(1),
        key=credential.group(1),
        secret=credential.group(2),
        sign_in_url=pages.group(1),
        organisation=pages.group(2),
        accounts=re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", accounts_and_password),
        password=password.group(1),
    )


# ---- a running demo ---------------------------------------------------------------------------


@dataclass
class Demo:
    """A `learnloop demo` process serving one instance folder on a free port.

    Its data lives in the instance folder (SQLite), or in ``database_url`` when one is given.
    """

    instance: Path
    port: int
    database_url: str | None = None
    process: subprocess.Popen | None = None
    printed: DemoOutput | None = None
    logs: Path = field(init=False)

    def __post_init__(self) -> None:
        self.logs = self.instance.parent / f"{self.instance.name}-logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        """The instance's environment; its public URL is where it serves (set by the operator
        who runs it on a port other than 8080, so that printed URLs point at it)."""
        return {
            **instance_environment(self.instance, self.database_url),
            "LEARNLOOP_PUBLIC_URL": self.base_url,
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Demo:
        """Run `learnloop demo --host 127.0.0.1 --port PORT`; wait until it prints and answers."""
        stdout = open(self.logs / "stdout", "w")
        stderr = open(self.logs / "stderr", "w")
        with stdout, stderr:
            self.process = subprocess.Popen(
                [str(LEARNLOOP), "demo", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # its own process group: gunicorn's workers stop with it
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"`learnloop demo` exited with {self.process.returncode}:\n{self.output()}"
                    f"\n{self.errors()}"
                )
            if "Pages:" in self.output() and self._answers():
                self.printed = read_demo_output(self.output())
                return self
            time.sleep(0.2)
        self.stop()
        raise AssertionError(
            f"`learnloop demo` did not answer within {START_TIMEOUT} s:\n{self.output()}\n"
            f"{self.errors()}"
        )

    def _answers(self) -> bool:
        try:
            requests.get(self.base_url + "/sign-in", timeout=2)
        except requests.RequestException:
            return False
        return True

    def output(self) -> str:
        return (self.logs / "stdout").read_text()

    def errors(self) -> str:
        return (self.logs / "stderr").read_text()[-4000:]

    def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after a bounded wait."""
        if self.process is None or self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers that outlived their master would still hold the group; make sure none remain.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def learnloop(self, *args: str, input: str | None = None) -> str:
        """Run `learnloop ARGS` against this instance, as its user would; return what it printed."""
        done = subprocess.run(
            [str(LEARNLOOP), *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"`learnloop {' '.join(args)}` failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done.stdout


# ---- the README ----------------------------------------------------------------------------


def readme_code_blocks(language: str = "sh") -> list[str]:
    text = README.read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def readme_first_command() -> str:
    """The first line of the README's first shell block, without its comment."""
    first = readme_code_blocks()[0].strip().splitlines()[0]
    return first.split("#", 1)[0].strip()


@dataclass
class CurlRequest:
    method: str
    url: str
    user: tuple[str, str] | None
    headers: dict[str, str]
    body: str | None


def readme_curl(containing: str = "-d") -> CurlRequest:
    """The README's curl command (the first whose text contains ``containing``), parsed."""
    for block in readme_code_blocks():
        if block.lstrip().startswith("curl") and containing in block:
            return parse_curl(block)
    raise AssertionError(f"README.md has no curl command with {containing!r}")


def parse_curl(command: str) -> CurlRequest:
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl", words
    user, headers, body, url, method = None, {}, None, None, None
    items = iter(words[1:])
    for word in items:
        if word in ("-u", "--user"):
            name, _, password = next(items).partition(":")
            user = (name, password)
        elif word in ("-H", "--header"):
            name, _, value = next(items).partition(":")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data", "--data-raw"):
            body = next(items)
        elif word in ("-X", "--request"):
            method = next(items)
        elif word.startswith("-"):
            raise AssertionError(f"the README's curl uses {word}, which this reader does not know")
        else:
            url = word
    assert url, command
    return CurlRequest(method or ("POST" if body is not None else "GET"), url, user, headers, body)


def rebase(url: str, documented_base: str, actual_base: str) -> str:
    """The README's URL on the server actually running (its own host and port)."""
    assert url.startswith(documented_base), (url, documented_base)
    return urljoin(actual_base, url[len(documented_base) :])


# ---- the JSON API ------------------------------------------------------------------------


class Api:
    """The /api JSON API as an account uses it: a bearer token from POST /api/tokens."""

    def __init__(self, base_url: str, organisation: str, email: str, password: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        response = self.http.post(
            base_url + "/api/tokens",
            json={"store": organisation, "email": email, "password": password},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 201, response.text
        self.http.headers["Authorization"] = "Bearer " + response.json()["token"]

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=HTTP_TIMEOUT)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.http.post(self.base_url + path, json=body, timeout=HTTP_TIMEOUT)

    def patch(self, path: str, body: dict) -> requests.Response:
        return self.http.patch(self.base_url + path, json=body, timeout=HTTP_TIMEOUT)

    def close(self) -> None:
        self.http.close()


def printed_admin(demo: Demo) -> str:
    """The printed account that administers: each one asks /api/me, as a newcomer would."""
    printed = demo.printed
    for email in printed.accounts:
        api = Api(demo.base_url, printed.organisation, email, printed.password)
        try:
            if api.get("/api/me").json()["is_admin"]:
                return email
        finally:
            api.close()
    raise AssertionError(f"none of the printed accounts {printed.accounts} is an admin")


# ---- the pages in a browser ----------------------------------------------------------------


def sign_in(page, sign_in_url: str, organisation: str, email: str, password: str) -> None:
    """Fill the sign-in form as printed by the demo and wait to be taken somewhere."""
    page.goto(sign_in_url)
    if page.get_by_label("Organisation").count():  # asked only when several stores exist
        page.get_by_label("Organisation").fill(organisation)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    page.wait_for_load_state()

"""Serving over HTTP: gunicorn's web workers and, beside them, a queue worker process.

``run_gunicorn`` binds the listening socket itself before gunicorn starts, so a port in use is
one line (a ``click.ClickException``) instead of gunicorn's five seconds of retries, and hands
gunicorn the bound socket (``fd://``), so gunicorn never binds or retries. ``on_ready`` (the
banner) is called from gunicorn's ``when_ready`` hook: only once the server listens.

Metrics across processes: a fresh private directory is made for ``PROMETHEUS_MULTIPROC_DIR``
before any worker forks; every worker and the queue worker write their samples there, a scrape
of ``/metrics`` sums them (``learnloop.metrics``), a dead worker's live gauges are dropped
(``child_exit``), and the directory is removed when the server stops.

Logs: JSON lines on stderr (``learnloop.logs``), gunicorn's own error log included; gunicorn's
access log stays off, since ``learnloop.observe`` writes one line per request with its id.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable

import click

from learnloop.logs import JsonFormatter, configure_logging
from lrs.metrics import MULTIPROC_DIR
from schemas.errors import ConfigError

log = logging.getLogger("learnloop.serving")


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening), as gunicorn would bind it.

    Raises ``click.ClickException`` with one line: the port out of range, the address in use,
    the host unknown or not local, the port not allowed.
    """
    if not 1 <= port <= 65535:
        raise click.ClickException(f"cannot listen on port {port}: a port is 1 to 65535")
    where = f"{host}:{port}"
    # As gunicorn reads a bind address: IPv6 for a literal with a colon, else IPv4.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as error:
        raise click.ClickException(f"cannot listen on {where}: unknown host ({error})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"cannot listen on {where}: address already in use; stop what is using it or "
                "choose another --port"
            ) from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise click.ClickException(
                f"cannot listen on {where}: {host} is not an address of this machine"
            ) from None
        if error.errno == errno.EACCES:
            raise click.ClickException(
                f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
            ) from None
        raise click.ClickException(f"cannot listen on {where}: {error.strerror}") from None
    return sock


def _json_error_log(logger_class):
    """Gunicorn's logger, writing its error log as JSON lines like the rest of Learnloop."""

    class JsonLogger(logger_class):
        def setup(self, cfg):
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    return JsonLogger


def run_gunicorn(
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    *,
    queue_worker: bool = True,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve with gunicorn, and a ``learnloop worker`` process beside it (``queue_worker``).

    The socket is bound before anything else starts (``bind_listener``: a busy port is one
    line). ``on_ready()`` is called once the server listens. The queue worker lives as long as
    the server: started before the web workers, stopped when gunicorn exits.
    """
    import subprocess

    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from learnloop import settings
    from learnloop.app import create_app
    from learnloop.schema import code_heads

    try:  # read here too, so that a bad one is one line rather than each worker failing to boot
        settings.check()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    # Bound before anything starts; gunicorn takes the descriptor over (and closes it).
    listener_fd = bind_listener(host, port).detach()
    configure_logging("info")
    code_heads()  # read once here, before the workers fork, rather than in each worker
    metrics_dir = tempfile.mkdtemp(prefix="learnloop-metrics-")  # mode 0700: this user's only
    os.environ[MULTIPROC_DIR] = metrics_dir
    master = os.getpid()
    spawned: list[subprocess.Popen] = []

    def start_worker(_server) -> None:
        if queue_worker:
            spawned.append(subprocess.Popen([sys.executable, "-m", "learnloop.cli", "worker"]))

    def ready(server) -> None:
        count = server.cfg.workers
        log.info(
            "listening on %s:%s with %s web worker%s%s",
            host,
            port,
            count,
            "" if count == 1 else "s",
            " and a queue worker" if queue_worker else "",
        )
        if on_ready is not None:
            on_ready()

    def child_exit(_server, worker) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)

    def stop_worker(_server) -> None:
        from prometheus_client import multiprocess

        for process in spawned:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            multiprocess.mark_process_dead(process.pid, metrics_dir)

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", [f"fd://{listener_fd}"])
            self.cfg.set("workers", workers or os.cpu_count() or 1)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", None)  # learnloop.access writes one line per request
            self.cfg.set("logger_class", _json_error_log(Logger))
            self.cfg.set("loglevel", "warning")  # boots and exits are ours to say (``ready``)
            self.cfg.set("timeout", 120)
            # Gunicorn's control socket is one path per user (~/.gunicorn/gunicorn.ctl): a second
            # instance would take it from the first. Learnloop is stopped with signals instead.
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 24 and later
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("on_starting", start_worker)
            self.cfg.set("when_ready", ready)
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("on_exit", stop_worker)

        def load(self):
            return create_app()

    try:
        _App().run()
    finally:
        # Gunicorn's workers are forks of this frame: only the master removes the directory.
        if os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_DIR, None)

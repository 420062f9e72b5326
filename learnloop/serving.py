"""Serving over HTTP: gunicorn's web workers and, beside them, a queue worker process."""

from __future__ import annotations

import os
import sys


def run_gunicorn(
    host: str, port: int, workers: int | None, threads: int, *, queue_worker: bool = True
) -> None:
    """Serve with gunicorn, and a ``learnloop worker`` process beside it (``queue_worker``).

    The queue worker lives as long as the server: started before the web workers, stopped
    when gunicorn exits.
    """
    import subprocess

    from gunicorn.app.base import BaseApplication

    from learnloop.app import create_app

    spawned: list[subprocess.Popen] = []

    def start_worker(_server) -> None:
        if queue_worker:
            spawned.append(subprocess.Popen([sys.executable, "-m", "learnloop.cli", "worker"]))

    def stop_worker(_server) -> None:
        for process in spawned:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or os.cpu_count() or 1)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 120)
            # Gunicorn's control socket is one path per user (~/.gunicorn/gunicorn.ctl): a second
            # instance would take it from the first. Learnloop is stopped with signals instead.
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 24 and later
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("on_starting", start_worker)
            self.cfg.set("on_exit", stop_worker)

        def load(self):
            return create_app()

    _App().run()

"""The ceiling: the least work a Flask endpoint can do for the benchmark's requests.

``bench_statements.py`` measures Learnloop and then this app, with the same client, the same
gunicorn workers and the same database engine, and prints Learnloop's figure as a ratio of this
one (issue 18). Here a POST parses the JSON and stores the batch with one multi-row insert into
one table with the same three lookup indexes (actor, verb, activity), committed durably
(SQLite WAL with synchronous=FULL, PostgreSQL's default commit) before the answer; a GET reads
ten rows through one of the indexes, newest first. No validation, no authentication check, no
versions, no conflicts, no queue: what is left between this and Learnloop is the price of
being an LRS.

    python bench/ceiling.py --database-url URL --port 8081 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid

from flask import Flask, Response, request

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ceiling_statements ("
    " seq {serial} PRIMARY KEY, id VARCHAR(36) NOT NULL, actor VARCHAR(400) NOT NULL,"
    " verb VARCHAR(400) NOT NULL, activity VARCHAR(400) NOT NULL, stored BIGINT NOT NULL,"
    " payload TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ceiling_actor ON ceiling_statements (actor, seq)",
    "CREATE INDEX IF NOT EXISTS ceiling_verb ON ceiling_statements (verb, seq)",
    "CREATE INDEX IF NOT EXISTS ceiling_activity ON ceiling_statements (activity, seq)",
)
FILTERS = {"agent": "actor", "verb": "verb", "activity": "activity"}


class Database:
    """One DBAPI connection per worker process, opened on first use (after gunicorn forks)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.marker = "?" if self.sqlite else "%s"
        self._connection = None
        self._pid = None

    def connection(self):
        if self._connection is None or self._pid != os.getpid():
            if self.sqlite:
                import sqlite3

                path = self.url.split("///", 1)[1]
                self._connection = sqlite3.connect(path, timeout=30, isolation_level=None)
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA synchronous=FULL")
            else:
                import psycopg

                self._connection = psycopg.connect(self.url.replace("+psycopg", ""))
            self._pid = os.getpid()
        return self._connection

    def create(self) -> None:
        connection = self.connection()
        serial = "INTEGER" if self.sqlite else "BIGSERIAL"
        for statement in SCHEMA:
            connection.execute(statement.format(serial=serial))
        if not self.sqlite:
            connection.commit()

    def insert(self, rows: list[tuple]) -> None:
        connection = self.connection()
        values = ", ".join(["(" + ", ".join([self.marker] * 6) + ")"] * len(rows))
        flat = [value for row in rows for value in row]
        sql = (
            "INSERT INTO ceiling_statements (id, actor, verb, activity, stored, payload) VALUES "
            + values
        )
        if self.sqlite:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(sql, flat)
            connection.execute("COMMIT")
        else:
            connection.execute(sql, flat)
            connection.commit()

    def newest(self, column: str, value: str, limit: int) -> list[str]:
        connection = self.connection()
        sql = (
            f"SELECT payload FROM ceiling_statements WHERE {column} = {self.marker} "  # noqa: S608
            f"ORDER BY seq DESC LIMIT {int(limit)}"
        )
        rows = connection.execute(sql, [value]).fetchall()
        if not self.sqlite:
            connection.commit()
        return [row[0] for row in rows]


def _actor_key(actor: dict) -> str:
    return actor.get("mbox") or json.dumps(actor.get("account"), sort_keys=True)


def create_app(database_url: str) -> Flask:
    app = Flask("ceiling")
    database = Database(database_url)

    @app.post("/xapi/statements")
    def post():
        body = json.loads(request.get_data())
        statements = body if isinstance(body, list) else [body]
        now = int(time.time() * 1000)
        rows, ids = [], []
        for statement in statements:
            statement_id = statement.get("id") or str(uuid.uuid4())
            ids.append(statement_id)
            rows.append(
                (
                    statement_id,
                    _actor_key(statement["actor"]),
                    statement["verb"]["id"],
                    statement["object"]["id"],
                    now,
                    json.dumps(statement),
                )
            )
        database.insert(rows)
        return Response(json.dumps(ids), mimetype="application/json")

    @app.get("/xapi/statements")
    def get():
        for name, column in FILTERS.items():
            if name in request.args:
                value = request.args[name]
                if name == "agent":
                    value = _actor_key(json.loads(value))
                rows = database.newest(column, value, int(request.args.get("limit", 10)))
                body = '{"statements":[' + ",".join(rows) + '],"more":""}'
                return Response(body, mimetype="application/json")
        return Response('{"statements":[],"more":""}', mimetype="application/json")

    @app.get("/xapi/about")
    def about():
        return {"version": ["2.0.0"]}

    database.create()
    database._connection = None  # each worker opens its own after the fork
    return app


def serve(database_url: str, host: str, port: int, workers: int) -> None:
    """Serve with gunicorn's sync workers, as ``learnloop serve`` does by default."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "sync")
            self.cfg.set("accesslog", None)
            self.cfg.set("loglevel", "warning")
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return create_app(database_url)

    _App().run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    serve(options.database_url, options.host, options.port, options.workers)

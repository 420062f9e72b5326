"""A database of its own for a test that must not share the module's (keys, sealing keys)."""

import contextlib
import uuid


@contextlib.contextmanager
def fresh_database(request, backend, tmp_path):
    """An empty database of the same kind as ``backend``: a SQLite file, or a new PostgreSQL
    database on the test server (dropped afterwards; dispose engines on it first)."""
    if backend.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / ('fresh-' + uuid.uuid4().hex[:8] + '.sqlite3')}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)

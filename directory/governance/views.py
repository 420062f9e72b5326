"""``GET /api/people/<id>/archive``: a person's data as JSON (GDPR art. 20), streamed.

A route of the /api blueprint (``objectives.views.api``), declared in ``objectives.openapi``;
it lives here because the archive reads the directory's tables too. Admins of the store and the
person themselves may download it; anyone else gets the same 404 as for a missing person.
"""

from __future__ import annotations

from flask import Response, stream_with_context

from directory.governance.archive import archive_parts
from lrs.catalogue import M_
from lrs.db import read_transaction
from lrs.people.services import get_person
from lrs.runtime import lrs_runtime
from objectives.errors import Hidden
from objectives.views import _viewer, api


@api.get("/people/<int:person_id>/archive")
def person_archive(person_id: int):
    """Everything of one person as one JSON document, written as it is read."""
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = _viewer(db)  # refused before anything streams
        if not (viewer.is_admin or viewer.person_id == person_id):
            raise Hidden(M_("no person %(id)s visible to this account", id=person_id))
        get_person(db, viewer.store_id, person_id)
        store_id = viewer.store_id

    def body():
        with read_transaction(runtime.sessions) as db:
            yield from archive_parts(db, store_id, person_id)

    response = Response(stream_with_context(body()), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="person-{person_id}-archive.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response

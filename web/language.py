"""The signed-in person's choice of language for the pages (``Account.locale``).

Inside an LMS the launch's locale still wins (``web.i18n.select_locale``): the learner chose
their language there.
"""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _

from lrs.db import write_transaction
from lrs.errors import BadRequest
from lrs.runtime import lrs_runtime
from objectives.accounts import set_locale
from web.blueprint import pages, signed_in
from web.i18n import supported
from web.security import check_csrf


@pages.post("/settings/language")
def set_language():
    """Keep the chosen language (``language``: ``de``, ``fr``…, or empty for the browser's).

    Raises BadRequest (400) for a language the pages are not offered in.
    """
    check_csrf()
    chosen = request.form.get("language", "").strip()
    if chosen and supported(chosen) != chosen:
        raise BadRequest(_("Learnloop's pages are not offered in that language."))
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        set_locale(db, viewer.account_id, chosen or None)
    return redirect(url_for("web.preferences", done="language"), 303)

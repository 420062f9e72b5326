"""Revoking every OAuth 2.0 token of a credential from the credentials page (admins only).

For a token that leaked while the key and secret did not: the client buys a new token at once.
Revoking the credential itself (the Revoke button beside it) ends its tokens too.
"""

from __future__ import annotations

from flask import redirect, session, url_for
from flask_babel import gettext as _

from lrs.db import write_transaction
from lrs.errors import NotFound
from lrs.models import Credential
from lrs.oauth import revoke_credential_tokens
from lrs.runtime import lrs_runtime
from web.blueprint import pages, signed_in_admin
from web.security import check_csrf

#: Where the credentials page finds what was just revoked, to say so once.
REVOKED = "oauth_tokens_revoked"


@pages.post("/admin/credentials/<int:credential_id>/revoke-tokens")
def revoke_credential_tokens_page(credential_id: int):
    check_csrf()
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        credential = db.get(Credential, credential_id)
        if credential is None or credential.store_id != viewer.store_id:
            raise NotFound(_("no credential %(id)s in this store", id=credential_id))
        _tokens, count = revoke_credential_tokens(
            db, viewer.store_id, credential.key, runtime.clock()
        )
        session[REVOKED] = {"key": credential.key, "count": count}
    runtime.authenticator.forget()  # this process refuses them at once; others within 15 s
    return redirect(url_for("web.admin") + "#credentials")

"""the LTI tool's private keys are sealed at rest

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00.000000

Issue 13: "Secrets at rest: the LTI tool's private keys are stored in plaintext while
connector secrets are sealed." From this revision on, ``lti_tool_keys.private_jwk`` holds the
private JWK sealed like connector secrets (``lrs.sealing``: ``v1.`` and AES-256-GCM under a key
derived from the instance secret, the kid as associated data).

The sealing key is the shell's configuration (``LEARNLOOP_SECRET_KEY``, else the key file of
the instance directory), which a migration cannot read: ``learnloop db upgrade`` gives Alembic
only the database URL. So the rows are not sealed here. A stored value marks itself: a sealed
one starts with ``v1.``, one written before this revision is the JWK itself (``{...}``). Every
row still in plain text is sealed when Learnloop starts (``create_app`` -> ``lti.install`` ->
``lti.keys.seal_stored_keys``: ``serve``, ``demo``, ``worker``), and by
``learnloop lti rotate-keys`` and ``reseal-keys``; nothing reads a plain key after this
revision (opening one is refused). Downgrading leaves the sealed values as they are: run
revision 0011's code only with keys it can read, i.e. rotate to new keys after downgrading.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SEALED = "private RSA JWK (JSON), AES-GCM sealed under LEARNLOOP_SECRET_KEY (lti.keys)"
PLAIN = "private RSA JWK, JSON"


def _comment(comment: str, existing: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps no column comments; nothing to change
    op.alter_column("lti_tool_keys", "private_jwk", comment=comment, existing_comment=existing)


def upgrade() -> None:
    _comment(SEALED, PLAIN)


def downgrade() -> None:
    _comment(PLAIN, SEALED)

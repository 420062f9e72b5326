"""``learnloop statements export``: a store's statements as NDJSON or CSV, streamed.

Takes the filters of GET /xapi/statements as options (``--agent`` also takes a bare email) and
writes to stdout, or with ``--output FILE`` to a file that appears only once it is complete.
The statements are read a chunk at a time (``lrs.statements.export``), so memory stays flat
however many there are.
"""

from __future__ import annotations

import os
import sys

import click

#: Option name -> GET /statements parameter (and back, to name a bad value's option).
OPTIONS = {
    "agent": "agent",
    "verb": "verb",
    "activity": "activity",
    "registration": "registration",
    "since": "since",
    "until": "until",
    "statement_format": "statement_format",
}


@click.group("statements")
def statements_cli() -> None:
    """The store's statements: export them as NDJSON or CSV."""


@statements_cli.command("export")
@click.option("--store", "store_name", required=True, help="The organisation (store).")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["ndjson", "csv"]),
    default="ndjson",
    show_default=True,
    help="ndjson: one statement per line; csv: flat columns and the statement's JSON last.",
)
@click.option("--agent", default=None, help="An Agent as xAPI JSON, or an email address.")
@click.option("--verb", default=None, help="A verb IRI.")
@click.option("--activity", default=None, help="An Activity IRI.")
@click.option("--registration", default=None, help="A registration UUID.")
@click.option("--related-activities", is_flag=True, help="--activity anywhere in a statement.")
@click.option("--related-agents", is_flag=True, help="--agent anywhere in a statement.")
@click.option("--since", default=None, help="Stored after this time (xAPI timestamp).")
@click.option("--until", default=None, help="Stored at or before this time (xAPI timestamp).")
@click.option("--ascending", is_flag=True, help="Oldest first (default: newest first).")
@click.option(
    "--statement-format",
    type=click.Choice(["exact", "ids", "canonical"]),
    default="exact",
    show_default=True,
    help="The statements as GET /statements?format= returns them.",
)
@click.option("--language", default=None, help="Languages for canonical, best first: en-GB,en.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write here instead of stdout (replaced only when the export is complete).",
)
def export_command(store_name, kind, output, language, **options) -> None:
    """Export every statement that matches, newest first unless --ascending."""
    from lrs.auth import require_store
    from lrs.core.formats import parse_accept_language
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command
    from lrs.statements import export

    params = {"format": kind}
    for name in OPTIONS:
        value = options.get(name)
        if value:
            params[name] = value
    for flag in ("related_activities", "related_agents", "ascending"):
        if options[flag]:
            params[flag] = "true"
    agent = params.get("agent")
    if agent and not agent.lstrip().startswith("{"):
        import json

        mbox = agent if agent.startswith("mailto:") else "mailto:" + agent
        params["agent"] = json.dumps({"mbox": mbox})
    try:
        parsed = export.parse_export(params)
    except LrsError as exc:
        name = exc.errors[0].path.split(".")[0].split("[")[0] if exc.errors else ""
        raise click.BadParameter(
            exc.message.split(": ", 1)[-1], param_hint="--" + name.replace("_", "-")
        ) from None
    languages = parse_accept_language(language)
    count = 0

    def counted(chunks):
        nonlocal count
        for chunk in chunks:
            count += len(chunk)
            yield chunk

    with read_transaction(for_command().sessions) as session:
        store_id = require_store(session, store_name).id
        statements = counted(export.iter_statements(session, store_id, parsed.query, languages))
        lines = export.csv_chunks if parsed.kind == "csv" else export.ndjson_chunks
        _write(lines(statements), output)
    click.echo(f"exported {count} statements" + (f" to {output}" if output else ""), err=True)


def _write(texts, output: str | None) -> None:
    """To stdout, to a device or pipe as given, or to a file replaced once it is complete."""
    if output is None or (os.path.exists(output) and not os.path.isfile(output)):
        out = sys.stdout if output is None else open(output, "w", encoding="utf-8", newline="")
        try:
            for text in texts:
                out.write(text)
            out.flush()
        finally:
            if out is not sys.stdout:
                out.close()
        return
    partial = f"{output}.partial"
    try:
        with open(partial, "w", encoding="utf-8", newline="") as file:
            for text in texts:
                file.write(text)
        os.replace(partial, output)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise

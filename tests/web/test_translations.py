"""The pages' catalogues: German and French complete, nothing a page shows left out of them.

``scripts/translations`` extracts, merges and compiles; these tests fail when someone adds page
text without running it (or without translating what it brought).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
COMPLETE = ("de", "fr")
#: Every template: the pages (web and LTI) and the e-mails. Plain-text e-mails are checked as
#: templates too: they have no tags, so every line counts.
TRANSLATED_TEMPLATES = sorted(
    [
        *(ROOT / "web" / "templates").glob("*.html"),
        *(ROOT / "lti" / "templates" / "lti").glob("*.html"),
        *(ROOT / "notifications" / "templates" / "email").glob("*.*"),
    ]
)


def test_every_template_is_checked():
    """Nothing is left out of the check below: a new page is in the list by being a file."""
    names = {p.name for p in TRANSLATED_TEMPLATES}
    assert {"admin.html", "statements.html", "registered.html", "digest.txt"} <= names
    assert len(TRANSLATED_TEMPLATES) > 70


def catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def _key(message_id):
    return tuple(message_id) if isinstance(message_id, list | tuple) else message_id


def _done(text) -> bool:
    return bool(text) and (isinstance(text, str) or all(text))


def ids(messages) -> set:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in messages if m.id}


@pytest.mark.parametrize("lang", COMPLETE)
def test_german_and_french_have_no_untranslated_or_fuzzy_string(lang):
    messages = [m for m in catalogue(lang) if m.id]
    untranslated = [
        m.id
        for m in messages
        if not m.string or (isinstance(m.string, tuple) and not all(m.string))
    ]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert len(messages) > 150
    assert (untranslated, fuzzy) == ([], [])


@pytest.mark.parametrize("lang", COMPLETE)
def test_translations_keep_every_placeholder(lang):
    """A translation that drops or renames ``%(name)s`` would raise or lie on the page."""
    for m in catalogue(lang):
        if not m.id:
            continue
        source = " ".join(m.id) if isinstance(m.id, tuple) else m.id
        wanted = set(re.findall(r"%\(\w+\)s", source))
        for text in m.string if isinstance(m.string, tuple) else (m.string,):
            assert set(re.findall(r"%\(\w+\)s", text)) <= wanted, (m.id, text)
            assert set(re.findall(r"%\(\w+\)s", text)) >= wanted - {"%(count)s"}, (m.id, text)


def test_the_committed_catalogues_hold_every_string_the_code_has(tmp_path):
    """Re-extract as ``scripts/translations`` does: the committed template and every language
    must hold exactly those strings, and the compiled .mo files must match the .po files."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "M_",
            "-k",
            "Term:2",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with open(pot, "rb") as f:
        extracted = ids(read_po(f))
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        committed = ids(read_po(f))
    assert extracted - committed == set(), "run scripts/translations and translate"
    assert committed - extracted == set(), "run scripts/translations"
    for lang_dir in sorted(TRANSLATIONS.glob("*/LC_MESSAGES")):
        lang = lang_dir.parent.name
        po = catalogue(lang)
        assert ids(po) == extracted, lang
        with open(lang_dir / "messages.mo", "rb") as f:
            mo = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id and _done(m.string)}
        translated = {
            _key(m.id): _key(m.string) for m in po if m.id and _done(m.string) and not m.fuzzy
        }
        assert {k: mo.get(k) for k in translated} == translated, (
            f"{lang}: run scripts/translations (the .mo is stale)"
        )


JINJA = re.compile(
    r"\{#.*?#\}|\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}|\{%.*?%\}|\{\{.*?\}\}", re.S
)
WORD = re.compile(r"[A-Za-z]{2,}")
#: Names that are the same in every language.
NAMES = {"Learnloop", "(Open Badges 3.0)"}


def visible_text(template: str) -> list[str]:
    """What a template shows that no gettext call covers: text between tags and the values of
    the attributes people read (aria-label, title, placeholder, alt)."""
    bare = re.sub(r"&\w+;", " ", JINJA.sub(" ", template))
    found = []
    for value in re.findall(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"', bare):
        if WORD.search(value) and "://" not in value:
            found.append(value.strip())
    without_tags = re.sub(
        r"<[^>]*>", " ", re.sub(r"<(script|style|code|pre)\b.*?</\1>", " ", bare, flags=re.S)
    )
    found += [chunk.strip() for chunk in re.split(r"\s{2,}|\n", without_tags) if WORD.search(chunk)]
    return [text for text in found if text.strip("·› ") not in NAMES]


@pytest.mark.parametrize("path", TRANSLATED_TEMPLATES, ids=lambda p: p.name)
def test_no_user_visible_text_outside_the_catalogue(path):
    assert visible_text(path.read_text()) == []


def test_the_check_finds_plain_text():
    """The check above can fail: plain words and a readable attribute are found."""
    sample = (
        '<p>{{ _("Fine") }}</p><h2 title="Hello there">Plain words</h2>{% trans %}ok{% endtrans %}'
    )
    assert visible_text(sample) == ["Hello there", "Plain words"]

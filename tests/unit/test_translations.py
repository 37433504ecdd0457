"""The shipped catalogs are complete, consistent with the code, and compiled.

Fails when someone wraps a string and forgets ``make translations``, when a shipped language
lacks a translation, when a translation drops or renames a ``%(name)s`` placeholder or a link,
when plural forms do not match the language's rule, or when a committed .mo is older than its
.po. Each failure names the message and the command that fixes it (docs/translating.md).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "lti_app" / "translations"
SHIPPED = ("es", "de", "fr")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]")
MARKUP = re.compile(r"</?[a-z]+\b|%\(\w+\)s")
FIX = "run `make translations` and translate the new entries (docs/translating.md)"


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def template() -> Catalog:
    return read(TRANSLATIONS / "messages.pot")


def catalog(language: str) -> Catalog:
    return read(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", locale=language)


def ids(messages: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in messages if message.id}


def strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def sources(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


def test_the_template_holds_every_wrapped_string(tmp_path: Path) -> None:
    """Extraction now gives exactly the committed messages.pot's messages."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    extracted, committed = ids(read(fresh)), ids(template())
    assert extracted - committed == set(), f"strings not in messages.pot: {FIX}"
    assert committed - extracted == set(), f"messages.pot holds strings no longer used: {FIX}"


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_is_translated(language: str) -> None:
    translated = catalog(language)
    assert ids(template()) - ids(translated) == set(), f"{language}: {FIX}"
    for message in translated:
        if not message.id:
            continue
        assert not message.fuzzy, f"{language}: fuzzy (unchecked) translation of {message.id!r}"
        assert all(text.strip() for text in strings(message)), (
            f"{language}: no translation for {message.id!r}: {FIX}"
        )
    assert not translated.obsolete, f"{language}: obsolete entries left: {FIX}"


@pytest.mark.parametrize("language", SHIPPED)
def test_translations_keep_placeholders_and_links(language: str) -> None:
    for message in catalog(language):
        if not message.id:
            continue
        wanted = {name for text in sources(message) for name in PLACEHOLDER.findall(text)}
        markup = sorted(MARKUP.findall(sources(message)[-1]))
        for text in strings(message):
            assert set(PLACEHOLDER.findall(text)) == wanted, (
                f"{language}: {message.id!r} must use exactly the placeholders {sorted(wanted)}, "
                f"got {text!r}"
            )
            assert sorted(MARKUP.findall(text)) == markup, (
                f"{language}: {message.id!r} must keep its links and placeholders, got {text!r}"
            )


@pytest.mark.parametrize("language", SHIPPED)
def test_plural_forms_follow_the_language(language: str) -> None:
    translated = catalog(language)
    rule = get_plural(language)
    assert translated.num_plurals == rule.num_plurals
    assert translated.plural_expr == rule.plural_expr
    plurals = [message for message in translated if isinstance(message.id, tuple)]
    assert plurals, "the catalog has plural messages (points, hours, credits)"
    for message in plurals:
        assert len(strings(message)) == rule.num_plurals, message.id


def compiled_messages(mo: bytes) -> dict[object, object]:
    """What a compiled catalog answers: each msgid (and plural pair) to its translation(s)."""
    return {
        tuple(m.id) if isinstance(m.id, list | tuple) else m.id: m.string
        for m in read_mo(io.BytesIO(mo))
        if m.id
    }


@pytest.mark.parametrize("language", SHIPPED)
def test_committed_mo_files_are_compiled_from_the_po_files(language: str) -> None:
    """The .mo answers exactly what its .po says (compiled anew; the header's dates aside)."""
    fresh = io.BytesIO()
    write_mo(fresh, catalog(language), use_fuzzy=False)
    committed = (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert compiled_messages(committed) == compiled_messages(fresh.getvalue()), (
        f"{language}: messages.mo is stale: {FIX}"
    )
    header = read_mo(io.BytesIO(committed))
    assert header.plural_forms == catalog(language).plural_forms


def test_shipped_languages_are_the_ones_the_app_offers() -> None:
    from lti_app.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES

    on_disk = {path.name for path in TRANSLATIONS.iterdir() if path.is_dir()}
    assert on_disk == set(SHIPPED) == set(SUPPORTED_LOCALES) - {"en"}
    for code in SUPPORTED_LOCALES:
        assert Locale.parse(code).language == code and code in LANGUAGE_NAMES

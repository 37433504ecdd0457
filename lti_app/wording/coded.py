"""A coded message: what a text column stores instead of an English sentence.

A history note or a delivery's last error is written by Stint once and read later by people in
several languages, so the column holds ``{"code": "...", "values": {...}}`` (JSON) and the page
words it in its reader's language (``lti_app.wording.stored``). A column may also hold text that
is not Stint's to translate (an instructor's note, a row written before codes); :func:`decode`
tells the two apart, so that text is shown as it is.

The values are exact strings and counts ("19.58", 3), written by the code that knows them and
formatted for the reader only when shown (:class:`Values`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import flask_babel

from lti_app.formatting import format_number, precise_percent

# What a coded message may name: a number written exactly, a count, a flag or a person's text.
Value = str | int | bool


@dataclass(frozen=True)
class Coded:
    """A decoded message: its code and its values as stored."""

    code: str
    values: Mapping[str, Value]


def encode(code: StrEnum | str, /, **values: Value | Decimal | None) -> str:
    """The text a column stores for ``code`` with ``values`` (Decimals written exactly).

    ``None`` values are left out; keys are sorted so the same message is the same text.
    """
    kept: dict[str, Value] = {}
    for name, value in values.items():
        if value is None:
            continue
        kept[name] = format(value, "f") if isinstance(value, Decimal) else value
    return json.dumps(
        {"code": str(code), "values": kept},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def decode(text: str | None) -> Coded | None:
    """The coded message ``text`` holds, or None for any other text (shown as it is).

    Only an object with exactly a string ``code`` and an object of ``values`` counts: an LMS's
    JSON answer stored before codes existed is not mistaken for one.
    """
    if not text or not text.startswith('{"code":'):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"code", "values"}:
        return None
    code, values = data["code"], data["values"]
    if not isinstance(code, str) or not isinstance(values, dict):
        return None
    return Coded(code, {str(name): _value(value) for name, value in values.items()})


def _value(value: object) -> Value:
    return value if isinstance(value, str | int | bool) else str(value)


def gettext(string: str, **variables: object) -> str:
    """Flask-Babel's ``gettext``, typed as the str it returns (the wording modules' ``_``)."""
    return str(flask_babel.gettext(string, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """Flask-Babel's ``ngettext``, typed as the str it returns."""
    return str(flask_babel.ngettext(singular, plural, num, **variables))


class Values:
    """A message's values, each formatted the way the reader's language writes it.

    Used by the wording functions only; a value the message lacks reads as "" (or 0), so an
    older row with fewer values still shows a sentence rather than an error.
    """

    def __init__(self, values: Mapping[str, Value] | tuple[tuple[str, object], ...]) -> None:
        self._values: dict[str, object] = dict(values)

    def text(self, name: str) -> str:
        """The value as it was stored (a title, an email address, an LMS's answer)."""
        value = self._values.get(name, "")
        return "" if value is None else str(value)

    def number(self, name: str) -> str:
        """A number in the reader's notation: "19.58", "19,58"."""
        value = self._values.get(name)
        if value is None or value == "" or isinstance(value, bool):
            return ""
        return format_number(str(value))

    def percent(self, name: str) -> str:
        """A percentage stored as its number ("59.99") in the reader's notation: "59,99 %"."""
        value = self._values.get(name)
        if value is None or value == "" or isinstance(value, bool):
            return ""
        try:
            return precise_percent(Decimal(str(value)) / 100)
        except ArithmeticError:
            return str(value)

    def count(self, name: str) -> int:
        value = self._values.get(name)
        if isinstance(value, bool):
            return int(value)
        try:
            return int(str(value))
        except ValueError:
            return 0

    def flag(self, name: str) -> bool:
        return self._values.get(name) is True

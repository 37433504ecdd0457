"""Why a grade is what it is, as data: a code and the values it names, never a sentence.

A grade's reasons are stored with it (``Grade.computed``) and read later by people in their own
language: an instructor in Berlin, a student in Lyon. A stored English sentence could only ever
be shown in English, so this package keeps a :class:`Reason` (what happened, and the numbers as
exact strings) and ``lti_app.wording.grading`` words it for the reader when a page shows it.

Rows stored before reasons were data hold English sentences; :func:`reason_from_json` gives those
back as the string they are, so an old grade still explains itself (in English).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A value a reason names: a number written exactly (``"19.58"``), a count, or a person's text.
ReasonValue = str | int


class ReasonCode(StrEnum):
    """What a reason says; the values each code carries are listed beside it (the two score
    codes: points, maximum, pass_mark, threshold)."""

    SCORE_MEETS_PASS_MARK = "score_meets_pass_mark"  # noqa: S105 (a code, not a password)
    SCORE_BELOW_PASS_MARK = "score_below_pass_mark"  # noqa: S105 (a code, not a password)
    OVERRIDE = "override"  # reason: the instructor's own words, shown as typed
    COMPUTED_SCORE_WAS = "computed_score_was"  # percent
    WAITING_FOR = "waiting_for"  # component: a weighted component without a value yet
    MISSING = "missing"  # component: absent, but an override decides the grade
    WAITING_FOR_HOURS = "waiting_for_hours"
    HOURS_CONFIRMED = "hours_confirmed"  # hours, required
    DELIVERABLES_SUBMITTED = "deliverables_submitted"  # submitted, required
    CAPPED = "capped"  # points, percent: lowered because a pass requirement was not met


def _frozen(values: Mapping[str, ReasonValue]) -> tuple[tuple[str, ReasonValue], ...]:
    return tuple(sorted(values.items()))


@dataclass(frozen=True)
class Reason:
    """One reason: its code and its values (percentages are percent, truncated: ``"59.99"``)."""

    code: ReasonCode
    values: tuple[tuple[str, ReasonValue], ...] = ()

    @classmethod
    def of(cls, code: ReasonCode, **values: ReasonValue) -> Reason:
        return cls(code, _frozen(values))

    def value(self, name: str) -> ReasonValue:
        """The value called ``name`` ("" when the reason has none by that name)."""
        return dict(self.values).get(name, "")

    def to_json(self) -> dict[str, Any]:
        return {"code": str(self.code), "values": dict(self.values)}


# A reason as stored: data, or the English sentence a grade approved before held.
StoredReason = Reason | str


def reason_from_json(item: object) -> StoredReason:
    """A stored reason back: a :class:`Reason`, or an old row's sentence as it was written.

    Anything else (an unknown code from a newer version) is kept as its text rather than lost.
    """
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        code = item.get("code")
        values = item.get("values")
        if isinstance(code, str) and code in ReasonCode._value2member_map_:
            found = values if isinstance(values, Mapping) else {}
            return Reason(
                ReasonCode(code),
                _frozen(
                    {
                        str(name): value if isinstance(value, int | str) else str(value)
                        for name, value in found.items()
                    }
                ),
            )
        return str(code or "")
    return str(item)

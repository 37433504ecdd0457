"""Grading policy of one activity: how component scores are weighted, rounded and judged.

A policy is plain, frozen data so it can be stored as JSON with the activity, compared, and handed
to :func:`grading.compute.compute_grade` by views, jobs and the CLI alike. Bad policies are reported
as a list of :class:`PolicyProblem` (like rubric validation) so a form can show every mistake at
once instead of a stack trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from grading._numbers import GRADING_CONTEXT, ONE, ZERO, fixed, is_finite_decimal, plain
from grading.credits import CreditRounding

POLICY_FORMAT_VERSION = 1
MAX_PLACES = 6


class Component(StrEnum):
    SUPERVISOR = "supervisor"
    INSTRUCTOR = "instructor"
    DELIVERABLES = "deliverables"


class RoundingMode(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    UP = "up"
    DOWN = "down"


# Points are never negative, so "up"/"down" (away from / towards zero) are also ceiling/floor.
_DECIMAL_ROUNDING: Mapping[RoundingMode, str] = MappingProxyType(
    {
        RoundingMode.HALF_UP: ROUND_HALF_UP,
        RoundingMode.HALF_EVEN: ROUND_HALF_EVEN,
        RoundingMode.UP: ROUND_UP,
        RoundingMode.DOWN: ROUND_DOWN,
    }
)


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy or grade input; ``path`` names the field for the form.

    ``message`` is English for developers (a JSON import's log, a failing test); people read
    the problem worded from ``code`` and ``values`` in their language
    (``lti_app.wording.policy``). A code of "" has no wording of its own."""

    path: str
    message: str
    code: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PolicyInvalid(ValueError):  # noqa: N818 -- name fixed by the public API
    """Raised by :func:`policy_from_dict` and :func:`grading.compute.compute_grade`.

    It carries every problem, not just the first, so the caller can show them all.
    """

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Rounding:
    """How points are rounded, applied exactly once, after scaling to the line item maximum."""

    mode: str = RoundingMode.HALF_UP
    places: int = 2

    def apply(self, value: Decimal) -> Decimal:
        step = ONE.scaleb(-self.places)
        return value.quantize(
            step, rounding=_DECIMAL_ROUNDING[RoundingMode(self.mode)], context=GRADING_CONTEXT
        )

    def describe(self) -> str:
        unit = "decimal" if self.places == 1 else "decimals"
        return f"{self.mode} to {self.places} {unit}"


@dataclass(frozen=True)
class GradingPolicy:
    """Weights (fractions adding up to 1), pass rules, rounding and credit rules of an activity.

    Components left out of ``weights`` weigh 0 and are never waited for; the mapping is copied
    into a read-only one listing all three components so two equal policies compare equal.
    """

    weights: Mapping[Component, Decimal]
    pass_threshold: Decimal
    required_hours: Decimal
    rounding: Rounding = field(default_factory=Rounding)
    hours_per_credit: Decimal = Decimal(45)
    credit_step: Decimal = Decimal("0.1")
    max_credits: Decimal | None = None
    credit_rounding: str = CreditRounding.DOWN
    # When set (a fraction of the maximum), a student who reaches the pass mark but misses
    # another requirement (hours, deliverables) gets at most this score, so the gradebook never
    # shows a passing score for a placement Stint calls "not passed". None: off.
    failed_requirement_cap: Decimal | None = None
    # A pass needs every required deliverable handed in: a good score made of the supervisor's
    # part alone must not pass a student who submitted half the work. On unless turned off.
    require_all_deliverables: bool = True

    def __post_init__(self) -> None:
        normalized: dict[Any, Any] = {
            component: self.weights.get(component, ZERO) for component in Component
        }
        for key, value in self.weights.items():
            if key not in normalized:  # unknown component: kept so validation can name it
                normalized[key] = value
        object.__setattr__(self, "weights", MappingProxyType(normalized))

    def __hash__(self) -> int:
        weights = tuple(sorted((str(key), value) for key, value in self.weights.items()))
        return hash(
            (
                weights,
                self.pass_threshold,
                self.required_hours,
                self.rounding,
                self.hours_per_credit,
                self.credit_step,
                self.max_credits,
                self.credit_rounding,
                self.failed_requirement_cap,
                self.require_all_deliverables,
            )
        )


DEFAULT_POLICY = GradingPolicy(
    weights={
        Component.SUPERVISOR: Decimal("0.8"),
        Component.INSTRUCTOR: Decimal(0),
        Component.DELIVERABLES: Decimal("0.2"),
    },
    pass_threshold=Decimal("0.5"),
    required_hours=Decimal(45),
    rounding=Rounding(RoundingMode.HALF_UP, 2),
    hours_per_credit=Decimal(45),
    credit_step=Decimal("0.1"),
)


# --- validation --------------------------------------------------------------------------------


def _check_fraction(value: object, path: str) -> list[PolicyProblem]:
    if not is_finite_decimal(value):
        return [PolicyProblem(path, "must be a decimal number between 0 and 1", "between_0_and_1")]
    assert isinstance(value, Decimal)
    if not ZERO <= value <= ONE:
        return [
            PolicyProblem(path, f"must be between 0 and 1, not {plain(value)}", "between_0_and_1")
        ]
    return []


def _check_weights(weights: Mapping[Any, object], *, check_sum: bool = True) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    known = ", ".join(component.value for component in Component)
    for key, value in weights.items():
        if key not in set(Component):
            problems.append(
                PolicyProblem(
                    f"weights.{key}",
                    f"unknown component; expected one of {known}",
                    "unknown_choice",
                    (("expected", known),),
                )
            )
            continue
        problems.extend(_check_fraction(value, f"weights.{Component(key).value}"))
    if problems or not check_sum:
        return problems
    with localcontext(GRADING_CONTEXT):
        total = sum((value for value in weights.values() if isinstance(value, Decimal)), ZERO)
    if total != ONE:
        problems.append(
            PolicyProblem(
                "weights",
                f"must add up to 1; they add up to {plain(total)}",
                "weights_sum",
                (("total", plain(total)),),
            )
        )
    return problems


def _check_non_negative(value: object, path: str) -> list[PolicyProblem]:
    if not is_finite_decimal(value):
        return [PolicyProblem(path, "must be a decimal number, 0 or more", "at_least_0")]
    assert isinstance(value, Decimal)
    if value < ZERO:
        return [PolicyProblem(path, f"must be 0 or more, not {plain(value)}", "at_least_0")]
    return []


def _check_positive(value: object, path: str) -> list[PolicyProblem]:
    if not is_finite_decimal(value):
        return [PolicyProblem(path, "must be a decimal number greater than 0", "above_0")]
    assert isinstance(value, Decimal)
    if value <= ZERO:
        return [PolicyProblem(path, f"must be greater than 0, not {plain(value)}", "above_0")]
    return []


def _check_rounding(rounding: object) -> list[PolicyProblem]:
    if not isinstance(rounding, Rounding):
        return [PolicyProblem("rounding", "must be a rounding rule", "not_rounding")]
    problems: list[PolicyProblem] = []
    modes = ", ".join(mode.value for mode in RoundingMode)
    if rounding.mode not in set(RoundingMode):
        problems.append(
            PolicyProblem(
                "rounding.mode",
                f"unknown rounding mode; expected one of {modes}",
                "unknown_choice",
                (("expected", modes),),
            )
        )
    places = rounding.places
    if isinstance(places, bool) or not isinstance(places, int):
        problems.append(PolicyProblem("rounding.places", "must be a whole number", "whole_number"))
    elif not 0 <= places <= MAX_PLACES:
        problems.append(
            PolicyProblem(
                "rounding.places",
                f"must be between 0 and {MAX_PLACES}, not {places}",
                "places_range",
                (("maximum", str(MAX_PLACES)),),
            )
        )
    return problems


def _check_max_credits(value: object) -> list[PolicyProblem]:
    if value is None:
        return []
    return _check_non_negative(value, "max_credits")


def _check_credit_rounding(value: object) -> list[PolicyProblem]:
    if isinstance(value, str) and value in {mode.value for mode in CreditRounding}:
        return []
    modes = ", ".join(mode.value for mode in CreditRounding)
    return [
        PolicyProblem(
            "credit_rounding",
            f"unknown credit rounding; expected one of {modes}",
            "unknown_choice",
            (("expected", modes),),
        )
    ]


def _check_cap(value: object, pass_threshold: object) -> list[PolicyProblem]:
    """A cap at or above the pass mark would still show a passing score: refused."""
    if value is None:
        return []
    problems = _check_fraction(value, "failed_requirement_cap")
    if (
        not problems
        and is_finite_decimal(pass_threshold)
        and isinstance(value, Decimal)
        and isinstance(pass_threshold, Decimal)
        and value >= pass_threshold
    ):
        problems.append(
            PolicyProblem(
                "failed_requirement_cap",
                f"must be below the pass mark ({plain(pass_threshold * 100)}%), "
                f"not {plain(value * 100)}%",
                "cap_below_pass",
                (("pass_mark", plain(pass_threshold * 100)),),
            )
        )
    return problems


def validate_policy(policy: GradingPolicy) -> list[PolicyProblem]:
    """Every problem with ``policy``; an empty list means it can grade."""
    return [
        *_check_weights(policy.weights),
        *_check_fraction(policy.pass_threshold, "pass_threshold"),
        *_check_non_negative(policy.required_hours, "required_hours"),
        *_check_rounding(policy.rounding),
        *_check_positive(policy.hours_per_credit, "hours_per_credit"),
        *_check_positive(policy.credit_step, "credit_step"),
        *_check_max_credits(policy.max_credits),
        *_check_credit_rounding(policy.credit_rounding),
        *_check_cap(policy.failed_requirement_cap, policy.pass_threshold),
        *(
            []
            if isinstance(policy.require_all_deliverables, bool)
            else [
                PolicyProblem("require_all_deliverables", "must be true or false", "true_or_false")
            ]
        ),
    ]


# --- JSON-safe dictionaries --------------------------------------------------------------------

_MISSING = object()
_WHOLE_NUMBER = re.compile(r"\s*\d+\s*")
_TOP_LEVEL_KEYS = frozenset(
    {
        "version",
        "weights",
        "pass_threshold",
        "required_hours",
        "rounding",
        "hours_per_credit",
        "credit_step",
        "max_credits",
        "credit_rounding",
        "failed_requirement_cap",
        "require_all_deliverables",
    }
)


def _parse_decimal(raw: object, path: str, problems: list[PolicyProblem]) -> Decimal | None:
    """Read a number typed by a person or stored as JSON.

    Floats are accepted through ``repr`` because ``json.loads`` turns a typed ``0.6`` into a float
    whose repr is again ``0.6``; the Decimal is built from the digits the person wrote.
    """
    if isinstance(raw, bool):
        problems.append(PolicyProblem(path, "must be a number, not true/false", "not_a_number"))
        return None
    value: Decimal | None
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            value = None
    else:
        value = None
    if value is None or not value.is_finite():
        problems.append(PolicyProblem(path, f"must be a number, not {raw!r}", "not_a_number"))
        return None
    return value


def _parse_places(raw: object, problems: list[PolicyProblem]) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw):
        return int(raw)
    problems.append(
        PolicyProblem("rounding.places", f"must be a whole number, not {raw!r}", "whole_number")
    )
    return None


def _parse_weights(raw: object, problems: list[PolicyProblem]) -> dict[Any, Decimal] | None:
    if not isinstance(raw, Mapping):
        problems.append(PolicyProblem("weights", "must map components to weights", "not_mapping"))
        return None
    weights: dict[Any, Decimal] = {}
    parse_failed = False
    for key, value in raw.items():
        parsed = _parse_decimal(value, f"weights.{key}", problems)
        if parsed is None:
            parse_failed = True
        else:
            weights[key] = parsed
    # With a weight unreadable, the sum of the others would be a misleading complaint.
    weight_problems = _check_weights(weights, check_sum=not parse_failed)
    problems.extend(weight_problems)
    return None if parse_failed or weight_problems else weights


def _parse_rounding(raw: object, problems: list[PolicyProblem]) -> Rounding | None:
    if raw is _MISSING:
        return Rounding()
    if not isinstance(raw, Mapping):
        problems.append(
            PolicyProblem("rounding", "must give a mode and a number of places", "not_rounding")
        )
        return None
    unknown = set(raw) - {"mode", "places"}
    problems.extend(
        PolicyProblem(f"rounding.{key}", "unknown setting", "unknown_setting")
        for key in sorted(map(str, unknown))
    )
    mode = raw.get("mode", RoundingMode.HALF_UP.value)
    if not isinstance(mode, str):
        problems.append(PolicyProblem("rounding.mode", f"must be text, not {mode!r}", "not_text"))
        mode = None
    places = _parse_places(raw.get("places", 2), problems)
    # Checked with stand-ins for unreadable parts so every remaining mistake is still reported.
    candidate = Rounding(
        RoundingMode.HALF_UP if mode is None else mode.strip(), 0 if places is None else places
    )
    rounding_problems = _check_rounding(candidate)
    problems.extend(rounding_problems)
    if mode is None or places is None or rounding_problems:
        return None
    return candidate


def _parse_checked(
    data: Mapping[str, object],
    key: str,
    check: Callable[[object, str], list[PolicyProblem]],
    problems: list[PolicyProblem],
    default: Decimal | None = None,
) -> Decimal | None:
    raw = data.get(key, _MISSING)
    if raw is _MISSING:
        if default is None:
            problems.append(PolicyProblem(key, "is required", "required"))
        return default
    value = _parse_decimal(raw, key, problems)
    if value is None:
        return None
    found = check(value, key)
    problems.extend(found)
    return None if found else value


def policy_from_dict(data: Mapping[str, Any]) -> GradingPolicy:
    """Build a policy from stored JSON or a submitted form; raise :class:`PolicyInvalid` if bad.

    Optional settings fall back to :data:`DEFAULT_POLICY`'s; weights left out weigh 0.
    """
    if not isinstance(data, Mapping):
        raise PolicyInvalid(
            [PolicyProblem("", "a grading policy must be a JSON object", "not_an_object")]
        )
    problems: list[PolicyProblem] = []
    problems.extend(
        PolicyProblem(str(key), "unknown setting", "unknown_setting")
        for key in sorted(map(str, set(data) - _TOP_LEVEL_KEYS))
    )
    version = data.get("version", POLICY_FORMAT_VERSION)
    if version != POLICY_FORMAT_VERSION or isinstance(version, bool):
        problems.append(
            PolicyProblem(
                "version", f"unsupported version {version!r}; expected 1", "unsupported_version"
            )
        )

    weights: dict[Any, Decimal] | None = None
    if "weights" in data:
        weights = _parse_weights(data["weights"], problems)
    else:
        problems.append(PolicyProblem("weights", "is required", "required"))
    pass_threshold = _parse_checked(data, "pass_threshold", _check_fraction, problems)
    required_hours = _parse_checked(data, "required_hours", _check_non_negative, problems)
    rounding = _parse_rounding(data.get("rounding", _MISSING), problems)
    hours_per_credit = _parse_checked(
        data, "hours_per_credit", _check_positive, problems, DEFAULT_POLICY.hours_per_credit
    )
    credit_step = _parse_checked(
        data, "credit_step", _check_positive, problems, DEFAULT_POLICY.credit_step
    )
    max_credits: Decimal | None = None
    raw_max_credits = data.get("max_credits")
    if raw_max_credits is not None:
        max_credits = _parse_checked(data, "max_credits", _check_non_negative, problems)
    credit_rounding = data.get("credit_rounding", DEFAULT_POLICY.credit_rounding)
    if isinstance(credit_rounding, str):
        credit_rounding = credit_rounding.strip()
    problems.extend(_check_credit_rounding(credit_rounding))
    cap: Decimal | None = None
    if data.get("failed_requirement_cap") is not None:
        cap = _parse_checked(data, "failed_requirement_cap", _check_fraction, problems)
        if cap is not None and pass_threshold is not None:
            problems.extend(_check_cap(cap, pass_threshold))
    # Left out (a policy stored before the rule existed): on, like a new policy.
    require_all_deliverables = data.get("require_all_deliverables", True)
    if not isinstance(require_all_deliverables, bool):
        problems.append(
            PolicyProblem("require_all_deliverables", "must be true or false", "true_or_false")
        )

    if problems:
        raise PolicyInvalid(problems)
    assert weights is not None and pass_threshold is not None and required_hours is not None
    assert rounding is not None and hours_per_credit is not None and credit_step is not None
    return GradingPolicy(
        weights=weights,
        pass_threshold=pass_threshold,
        required_hours=required_hours,
        rounding=rounding,
        hours_per_credit=hours_per_credit,
        credit_step=credit_step,
        max_credits=max_credits,
        credit_rounding=str(credit_rounding),
        failed_requirement_cap=cap,
        require_all_deliverables=require_all_deliverables,
    )


def policy_to_dict(policy: GradingPolicy) -> dict[str, Any]:
    """JSON-safe form of ``policy``: Decimals become strings so no digit is lost to float."""
    return {
        "version": POLICY_FORMAT_VERSION,
        "weights": {str(component): fixed(weight) for component, weight in policy.weights.items()},
        "pass_threshold": fixed(policy.pass_threshold),
        "required_hours": fixed(policy.required_hours),
        "rounding": {"mode": str(policy.rounding.mode), "places": policy.rounding.places},
        "hours_per_credit": fixed(policy.hours_per_credit),
        "credit_step": fixed(policy.credit_step),
        "max_credits": None if policy.max_credits is None else fixed(policy.max_credits),
        "credit_rounding": str(policy.credit_rounding),
        "failed_requirement_cap": None
        if policy.failed_requirement_cap is None
        else fixed(policy.failed_requirement_cap),
        "require_all_deliverables": policy.require_all_deliverables,
    }

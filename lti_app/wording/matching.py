"""Why the matching left a student unplaced (and what is wrong with its input), in the reader's
language, projects named by title.

``lti_app.matching`` (pure) explains an unplaced student as data (``Unplaced``: a code and the
project ids it names); a run is stored and may be reviewed by another instructor, in another
language, before it is published. The run's page words each reason here. A run stored before
reasons were data holds English sentences with project ids; those keep their words and get
the projects' titles (``matching.name_projects``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lti_app.formatting import list_text
from lti_app.matching import (
    MatchingProblem,
    ProblemCode,
    Unplaced,
    UnplacedCode,
    name_projects,
    unplaced_from_json,
)
from lti_app.wording.coded import gettext as _
from lti_app.wording.coded import ngettext


def _projects(ids: Sequence[str], titles: Mapping[str, str]) -> str:
    """Projects as people know them: “Bakery dashboard”, “Zine” (an unknown id by its number)."""
    return list_text(
        [
            _("“%(title)s”", title=titles[pid]) if pid in titles else _("project %(id)s", id=pid)
            for pid in ids
        ]
    )


def _filled(why: Unplaced, titles: Mapping[str, str]) -> str:
    if why.code == UnplacedCode.ONLY_PROJECT_FILLED:
        project = _projects(why.filled, titles)
        if why.lottery:
            return _(
                "the only ranked project (%(project)s) was filled by students with higher "
                "lottery priority",
                project=project,
            )
        return _(
            "the only ranked project (%(project)s) was filled by students with higher priority",
            project=project,
        )
    if why.lottery:
        return ngettext(
            "the %(count)s ranked project was filled by students with higher lottery priority",
            "all %(count)s ranked projects were filled by students with higher lottery priority",
            len(why.filled),
            count=len(why.filled),
        )
    return ngettext(
        "the %(count)s ranked project was filled by students with higher priority",
        "all %(count)s ranked projects were filled by students with higher priority",
        len(why.filled),
        count=len(why.filled),
    )


def _no_seat(why: Unplaced, titles: Mapping[str, str]) -> str:
    parts = []
    if why.filled:
        projects = _projects(why.filled, titles)
        if why.lottery:
            parts.append(
                ngettext(
                    "%(count)s filled by students with higher lottery priority (%(projects)s)",
                    "%(count)s filled by students with higher lottery priority (%(projects)s)",
                    len(why.filled),
                    count=len(why.filled),
                    projects=projects,
                )
            )
        else:
            parts.append(
                ngettext(
                    "%(count)s filled by students with higher priority (%(projects)s)",
                    "%(count)s filled by students with higher priority (%(projects)s)",
                    len(why.filled),
                    count=len(why.filled),
                    projects=projects,
                )
            )
    if why.no_seats:
        parts.append(
            _("offered with no seats: %(projects)s", projects=_projects(why.no_seats, titles))
        )
    if why.not_offered:
        parts.append(_("not offered: %(projects)s", projects=_projects(why.not_offered, titles)))
    return ngettext(
        "the %(count)s ranked project had no seat: %(parts)s",
        "none of the %(count)s ranked projects had a seat: %(parts)s",
        why.ranked,
        count=why.ranked,
        parts="; ".join(parts),
    )


def unplaced_text(reason: object, titles: Mapping[str, str] | None = None) -> str:
    """Why a student was left unplaced, in the reader's language (``reason`` as the run stores
    it: data, or an old run's sentence); ``titles`` maps project ids to titles."""
    titles = titles or {}
    why = reason if isinstance(reason, Unplaced) else unplaced_from_json(reason)
    if isinstance(why, str):
        return name_projects(why, titles)
    if why.code == UnplacedCode.RANKED_NONE:
        return _("ranked no projects")
    if why.code == UnplacedCode.ONLY_NOT_OFFERED:
        return _(
            "ranked only projects not offered: %(projects)s",
            projects=_projects(why.not_offered, titles),
        )
    if why.code in (UnplacedCode.ONLY_PROJECT_FILLED, UnplacedCode.ALL_FILLED):
        return _filled(why, titles)
    if why.code == UnplacedCode.NO_SEAT:
        return _no_seat(why, titles)
    if why.code == UnplacedCode.UNASSIGNED_BY_INSTRUCTOR:
        return _("unassigned by the instructor")
    if why.code == UnplacedCode.FREE_AFTER_CHANGES:
        return _(
            "not placed, although ranked %(projects)s with seats free after the instructor's "
            "changes",
            projects=_projects(why.free, titles),
        )
    return _("not placed")


def _student(sid: str, names: Mapping[str, str]) -> str:
    return names.get(sid) or _("student %(id)s", id=sid)


def problem_text(
    problem: MatchingProblem,
    titles: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """What is wrong with a matching's input (or an instructor's changes to a run), in the
    reader's language; ``titles`` and ``names`` map project and student ids to what people
    call them."""
    titles, names = titles or {}, names or {}
    project = _projects([problem.project], titles) if problem.project else ""
    student = _student(problem.student, names) if problem.student else ""
    if problem.code == ProblemCode.UNKNOWN_STUDENT:
        return _("%(student)s is not part of this matching.", student=student)
    if problem.code == ProblemCode.PROJECT_NOT_OFFERED:
        return _("%(project)s is not offered in this matching.", project=project)
    if problem.code == ProblemCode.OVER_CAPACITY:
        return ngettext(
            "%(project)s has %(count)s seat, but the changes would place %(students)s students "
            "on it.",
            "%(project)s has %(count)s seats, but the changes would place %(students)s students "
            "on it.",
            problem.limit,
            project=project,
            count=problem.limit,
            students=problem.count,
        )
    if problem.code == ProblemCode.RANK_LIMIT:
        return _("The ranking limit must be at least 1 (it is %(limit)s).", limit=problem.limit)
    if problem.code == ProblemCode.SEVERAL_RANKINGS:
        return _(
            "%(student)s has %(count)s rankings; each student may submit only one.",
            student=student,
            count=problem.count,
        )
    if problem.code == ProblemCode.TOO_MANY_RANKED:
        return _(
            "%(student)s ranked %(count)s projects; at most %(limit)s may be ranked.",
            student=student,
            count=problem.count,
            limit=problem.limit,
        )
    if problem.code == ProblemCode.RANKED_TWICE:
        return _(
            "%(student)s ranked %(project)s %(count)s times; each project may appear only once.",
            student=student,
            project=project,
            count=problem.count,
        )
    if problem.code == ProblemCode.PROJECT_LISTED_TWICE:
        return _(
            "%(project)s is listed %(count)s times; list each project once with its total "
            "capacity.",
            project=project,
            count=problem.count,
        )
    if problem.code == ProblemCode.NEGATIVE_CAPACITY:
        return _(
            "%(project)s has capacity %(capacity)s; capacity must be 0 or more.",
            project=project,
            capacity=problem.limit,
        )
    return _(
        "%(student)s appears %(count)s times in the priority order; list each student once.",
        student=student,
        count=problem.count,
    )

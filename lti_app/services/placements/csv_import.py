"""Placing a whole class from a CSV file, all rows or none."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, ActivityProject, Membership, Placement, User
from lti_app.services.catalog.csv_import import read_csv
from lti_app.services.catalog.offers import STATUS_WORDS, taken_seats
from lti_app.services.placements.placing import assign
from lti_app.services.placements.queries import offered_projects
from lti_app.services.placements.status import Actor
from lti_app.wording.notes import Note, history_note


@dataclass
class CsvPlacementRow:
    line: int
    student: str
    project: str
    problems: list[str] = field(default_factory=list)


@dataclass
class PlacementImport:
    rows: list[CsvPlacementRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    placed: int = 0

    @property
    def ok(self) -> bool:
        return not self.file_problems and bool(self.rows) and all(not r.problems for r in self.rows)

    @property
    def bad_rows(self) -> list[CsvPlacementRow]:
        return [r for r in self.rows if r.problems]


def import_placements_csv(activity: Activity, data: bytes, actor: Actor) -> PlacementImport:
    """Place students from a CSV (``student``: email or LMS user id; ``project``: id or title).

    All rows or none: one wrong name in a class list is usually a sign the file is the wrong one,
    and a partial import would leave the instructor guessing who is placed.
    """
    report = PlacementImport()
    header, rows, problems = read_csv(data)
    report.file_problems = problems
    if header and not {"student", "project"} <= set(header):
        report.file_problems.append(
            _(
                "The file needs the columns “%(student)s” (email or LMS user id) and "
                "“%(project)s” (project id or exact title).",
                student="student",
                project="project",
            )
        )
    if report.file_problems:
        return report

    learners = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == activity.course_id)
    ).all()
    by_key: dict[str, tuple[User, Membership]] = {}
    for user, membership in learners:
        by_key[f"sub:{user.sub}"] = (user, membership)
        if user.email:
            by_key.setdefault(f"email:{user.email.lower()}", (user, membership))
    offers = offered_projects(activity)
    by_project: dict[str, list[ActivityProject]] = {}
    for offer in offers:
        by_project.setdefault(f"id:{offer.project_id}", []).append(offer)
        by_project.setdefault(f"title:{offer.project.title.lower()}", []).append(offer)
    existing = {
        p.user_id: p
        for p in db.session.scalars(select(Placement).where(Placement.activity_id == activity.id))
    }
    taken = Counter(taken_seats(activity.id))
    seen_students: dict[int, int] = {}
    plan: list[tuple[User, ActivityProject]] = []

    for number, row in enumerate(rows, start=2):
        item = CsvPlacementRow(number, row.get("student", ""), row.get("project", ""))
        report.rows.append(item)
        key = item.student.lower()
        match = by_key.get(f"email:{key}") if "@" in key else None
        match = match or by_key.get(f"sub:{item.student}")
        if not item.student:
            item.problems.append(_("The student is empty."))
        elif match is None:
            item.problems.append(
                _("No student “%(student)s” in this course.", student=item.student)
            )
        offer_key = (
            f"id:{item.project}" if item.project.isdigit() else f"title:{item.project.lower()}"
        )
        candidates = by_project.get(offer_key, [])
        if not item.project:
            item.problems.append(_("The project is empty."))
        elif not candidates:
            item.problems.append(
                _("No project “%(project)s” is offered in this activity.", project=item.project)
            )
        elif len(candidates) > 1:
            item.problems.append(
                _(
                    "Several offered projects are called “%(project)s”; use the project id.",
                    project=item.project,
                )
            )
        if match is None or len(candidates) != 1:
            continue
        user, membership = match
        offer = candidates[0]
        if not membership.is_learner:
            item.problems.append(
                _("%(name)s is not a student in this course.", name=user.display_name)
            )
        elif membership.status != "active":
            item.problems.append(_("%(name)s has left the course.", name=user.display_name))
        if user.id in seen_students:
            item.problems.append(
                _(
                    "%(name)s is also on line %(line)s.",
                    name=user.display_name,
                    line=seen_students[user.id],
                )
            )
        seen_students.setdefault(user.id, number)
        current = existing.get(user.id)
        if current is not None and current.status != "withdrawn":
            item.problems.append(
                _(
                    "%(name)s is already placed on “%(title)s”.",
                    name=user.display_name,
                    title=current.project.title,
                )
            )
        if offer.project.status != "open":
            item.problems.append(
                _(
                    "“%(title)s” is %(status)s.",
                    title=offer.project.title,
                    status=STATUS_WORDS.get(offer.project.status, offer.project.status),
                )
            )
        taken[offer.project_id] += 1
        if taken[offer.project_id] > offer.capacity:
            item.problems.append(
                ngettext(
                    "“%(title)s” would exceed its %(count)s seat.",
                    "“%(title)s” would exceed its %(count)s seats.",
                    offer.capacity,
                    title=offer.project.title,
                    count=offer.capacity,
                )
            )
        if not item.problems:
            plan.append((user, offer))
    if not report.ok:
        return report
    for user, offer in plan:
        assign(activity, user.id, offer.project_id, actor, history_note(Note.PLACED_FROM_CSV))
        report.placed += 1
    return report

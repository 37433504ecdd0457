"""Project selection: the window in which students rank the offered projects, and their rankings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Preference
from lti_app.models.base import utcnow
from lti_app.services.locks import lock_row
from lti_app.services.placements.queries import active_learner, offered_projects, placement_of
from lti_app.services.placements.status import PlacementError
from lti_app.services.student_emails import queue_selection_opened

MAX_STATEMENT = 2000


def open_selection(activity: Activity, deadline: datetime | None, max_choices: int) -> int:
    """Open the ranking window and email the students who have no project yet (once each per
    activity: a re-open emails nobody again). Returns how many emails were queued."""
    if not 1 <= max_choices <= 20:
        raise PlacementError(_("Students may rank between 1 and 20 projects."), 400)
    if deadline is not None and deadline <= utcnow():
        raise PlacementError(_("The deadline must be in the future."), 400)
    if not offered_projects(activity, open_only=True):
        raise PlacementError(
            _("Offer at least one open project in this activity before opening selection."), 409
        )
    lock_row(Activity, activity.id)  # two opens at once: the second sees the first's emails
    activity.selection_open = True
    activity.selection_deadline = deadline
    activity.max_choices = max_choices
    return queue_selection_opened(activity)


def close_selection(activity: Activity) -> None:
    activity.selection_open = False


def selection_is_open(activity: Activity) -> bool:
    deadline = activity.selection_deadline
    return activity.selection_open and (deadline is None or utcnow() < deadline)


def save_ranking(
    activity: Activity, user_id: int, ranked_project_ids: Sequence[int], statement: str
) -> Preference:
    """Record a student's ranking (replacing an earlier one) while selection is open."""
    if not selection_is_open(activity):
        raise PlacementError(_("Project selection is closed for this activity."), 409)
    user, _membership = active_learner(activity, user_id)
    current = placement_of(activity, user.id)
    if current is not None and current.status != "withdrawn" and current.published:
        raise PlacementError(_("You already have a project in this activity."), 409)
    ranked = [pid for pid in ranked_project_ids if pid]
    if not ranked:
        raise PlacementError(_("Choose at least your first choice."), 400)
    if len(ranked) != len(set(ranked)):
        raise PlacementError(_("Each project can appear only once in your ranking."), 400)
    if len(ranked) > activity.max_choices:
        raise PlacementError(_("Rank at most %(count)s projects.", count=activity.max_choices), 400)
    offered = {o.project_id for o in offered_projects(activity, open_only=True)}
    if any(pid not in offered for pid in ranked):
        raise PlacementError(_("Rank only projects offered in this activity."), 400)
    if len(statement) > MAX_STATEMENT:
        raise PlacementError(
            _("Keep the statement under %(count)s characters.", count=MAX_STATEMENT), 400
        )
    preference = db.session.scalar(
        select(Preference).where(
            Preference.activity_id == activity.id, Preference.user_id == user.id
        )
    )
    if preference is None:
        preference = Preference(activity_id=activity.id, user_id=user.id)
        db.session.add(preference)
    preference.ranked_project_ids = list(ranked)
    preference.statement = statement.strip()
    preference.submitted_at = utcnow()
    return preference

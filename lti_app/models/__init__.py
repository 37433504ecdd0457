"""SQLAlchemy 2 typed models, one module per aggregate; imported here so Alembic sees them all."""

from lti_app.models.activity import Activity
from lti_app.models.audit import AuditEvent
from lti_app.models.catalog import Partner, Project, ProjectDeliverable
from lti_app.models.certificate import Certificate
from lti_app.models.course import Course, Membership, User
from lti_app.models.drift import ScoreCheck, ScoreDrift
from lti_app.models.grade import Grade, ScoreSync
from lti_app.models.outbox import OutboxEmail
from lti_app.models.placement import (
    ActivityProject,
    MatchRun,
    Placement,
    PlacementEvent,
    Preference,
)
from lti_app.models.platform import Deployment, Platform, RegistrationInvite, ToolKey
from lti_app.models.review import (
    DisclosureEvent,
    Evaluation,
    ReplacedReviewToken,
    ReviewInvitation,
)
from lti_app.models.rubric import Rubric
from lti_app.models.single_use import SpentMarker
from lti_app.models.student_state import StudentState
from lti_app.models.work import HoursEntry, Submission, SubmissionFile, SubmissionLink

__all__ = [
    "Activity",
    "ActivityProject",
    "AuditEvent",
    "Certificate",
    "Course",
    "Deployment",
    "DisclosureEvent",
    "Evaluation",
    "Grade",
    "HoursEntry",
    "MatchRun",
    "Membership",
    "OutboxEmail",
    "Partner",
    "Placement",
    "PlacementEvent",
    "Platform",
    "Preference",
    "Project",
    "ProjectDeliverable",
    "RegistrationInvite",
    "ReplacedReviewToken",
    "ReviewInvitation",
    "Rubric",
    "ScoreCheck",
    "ScoreDrift",
    "ScoreSync",
    "SpentMarker",
    "StudentState",
    "Submission",
    "SubmissionFile",
    "SubmissionLink",
    "ToolKey",
    "User",
]

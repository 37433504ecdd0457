"""SQLAlchemy 2 typed models, one module per aggregate; imported here so Alembic sees them all."""

from lti_app.models.activity import Activity
from lti_app.models.course import Course, Membership, User
from lti_app.models.platform import Deployment, Platform, ToolKey

__all__ = ["Activity", "Course", "Deployment", "Membership", "Platform", "ToolKey", "User"]

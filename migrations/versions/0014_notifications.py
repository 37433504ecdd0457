"""notifications: an email's once-only event key, a score's delivery-failure alert time

Revision ID: 0014_notifications
Revises: 0013_course_timezone
Create Date: 2026-12-03 14:30:00

"""

import sqlalchemy as sa
from alembic import op

from lti_app.models.base import UTCDateTime

revision = "0014_notifications"
down_revision = "0013_course_timezone"
branch_labels = None
depends_on = None


def upgrade():
    # One email per event (selection opened for a student, a placement published): the unique
    # key refuses a second one whatever the caller does.
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(200), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_outbox_email_dedupe_key"), ["dedupe_key"])
    # When the instructors were told a score cannot be delivered (one email per episode).
    with op.batch_alter_table("score_sync", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerted_at", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("score_sync", schema=None) as batch_op:
        batch_op.drop_column("alerted_at")
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_outbox_email_dedupe_key"), type_="unique")
        batch_op.drop_column("dedupe_key")

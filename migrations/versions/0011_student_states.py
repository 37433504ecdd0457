"""student states: each learner's dashboard states, kept by the writes and counted in one GROUP BY

Revision ID: 0011_student_states
Revises: 0010_score_drift
Create Date: 2026-12-03 14:30:00

"""

import sqlalchemy as sa
from alembic import op

from lti_app.models.base import UTCDateTime

revision = "0011_student_states"
down_revision = "0010_score_drift"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "student_state",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("member_status", sa.String(length=20), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=True),
        sa.Column("ranked", sa.Boolean(), nullable=False),
        sa.Column("work", sa.Integer(), nullable=True),
        sa.Column("required_in", sa.Boolean(), nullable=False),
        sa.Column("link_expires_at", UTCDateTime(), nullable=True),
        sa.Column("link_created_at", UTCDateTime(), nullable=True),
        sa.Column("evaluation", sa.String(length=20), nullable=True),
        sa.Column("grade", sa.String(length=20), nullable=True),
        sa.Column("sync", sa.String(length=20), nullable=True),
        sa.Column("certificate", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_student_state_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"],
            name=op.f("fk_student_state_user_id_user_account"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "user_id", name=op.f("pk_student_state")),
    )  # fmt: skip
    # Back-filled by the newest migration that adds a column to the rows (0018_student_stage):
    # the back-fill runs today's statement, which writes columns this revision does not have yet.


def downgrade():
    op.drop_table("student_state")

"""grades that differ in the LMS from the released ones, and each activity's last check

Revision ID: 0010_score_drift
Revises: 0009_student_results
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from lti_app.models.base import UTCDateTime

revision = "0010_score_drift"
down_revision = "0009_student_results"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "score_drift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("score_sync_id", sa.Integer(), nullable=True),
        sa.Column("stint_score", sa.Numeric(12, 4), nullable=True),
        sa.Column("stint_maximum", sa.Numeric(12, 4), nullable=True),
        sa.Column("lms_score", sa.Numeric(12, 4), nullable=True),
        sa.Column("lms_maximum", sa.Numeric(12, 4), nullable=True),
        sa.Column("lms_comment", sa.Text(), nullable=False),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("kept_at", UTCDateTime(), nullable=True),
        sa.Column("kept_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_score_drift_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placement.id"],
            name=op.f("fk_score_drift_placement_id_placement"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["score_sync_id"], ["score_sync.id"],
            name=op.f("fk_score_drift_score_sync_id_score_sync"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["kept_by_id"], ["user_account.id"],
            name=op.f("fk_score_drift_kept_by_id_user_account"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_drift")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_score_drift_placement_id")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_score_drift_activity_id"), "score_drift", ["activity_id"], unique=False
    )
    op.create_table(
        "score_check",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("differing", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"],
            name=op.f("fk_score_check_activity_id_activity"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_score_check")),
    )  # fmt: skip


def downgrade():
    op.drop_table("score_check")
    op.drop_index(op.f("ix_score_drift_activity_id"), table_name="score_drift")
    op.drop_table("score_drift")

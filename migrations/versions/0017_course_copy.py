"""course copy: a course's history and start, an activity's copy origin and the answer

Revision ID: 0017_course_copy
Revises: 0016_user_locale
Create Date: 2026-12-04 10:00:00

"""

import sqlalchemy as sa
from alembic import op

from lti_app.models.base import UTCDateTime

revision = "0017_course_copy"
down_revision = "0016_user_locale"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("context_history", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("starts_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("deployment_id", sa.String(length=255), nullable=True))
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_hint_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("copied_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("copy_decided", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_copy_hint_id_activity"),
            "activity",
            ["copy_hint_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_copied_from_id_activity"),
            "activity",
            ["copied_from_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activity_copied_from_id_activity"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_activity_copy_hint_id_activity"), type_="foreignkey")
        batch_op.drop_column("copy_decided")
        batch_op.drop_column("copied_from_id")
        batch_op.drop_column("copy_hint_id")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("deployment_id")
        batch_op.drop_column("starts_at")
        batch_op.drop_column("context_history")

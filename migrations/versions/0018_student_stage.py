"""student stage: each learner's states as one indexed key, and a revision per recomputed row

Revision ID: 0018_student_stage
Revises: 0017_course_copy
Create Date: 2026-12-04 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018_student_stage"
down_revision = "0017_course_copy"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("student_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=240), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            "ix_student_state_stage",
            ["activity_id", "stage", "link_expires_at", "link_created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_student_state_link_expires", ["activity_id", "link_expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_student_state_link_created", ["activity_id", "link_created_at"], unique=False
        )
        batch_op.create_index("ix_student_state_sync", ["activity_id", "sync"], unique=False)
        batch_op.create_index(
            "ix_student_state_member_status", ["activity_id", "member_status"], unique=False
        )
    # Back-fill with the statement the writes use (one source of truth for every state rule),
    # as 0011 did: every row is computed again, with its stage and a revision.
    from lti_app.read_models.dashboard.student_states import rebuild

    rebuild(op.get_bind())


def downgrade():
    with op.batch_alter_table("student_state", schema=None) as batch_op:
        batch_op.drop_index("ix_student_state_member_status")
        batch_op.drop_index("ix_student_state_sync")
        batch_op.drop_index("ix_student_state_link_created")
        batch_op.drop_index("ix_student_state_link_expires")
        batch_op.drop_index("ix_student_state_stage")
        batch_op.drop_column("revision")
        batch_op.drop_column("stage")

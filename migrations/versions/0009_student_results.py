"""student results: comments shown to students, the SIS person id, the credit rule's step

Revision ID: 0009_student_results
Revises: 0008_audit_retention
Create Date: 2026-12-01 10:00:00

"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009_student_results"
down_revision = "0008_audit_retention"
branch_labels = None
depends_on = None


def upgrade():
    # The result page shows the supervisor's comments unless the instructor turns it off.
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "show_comments_to_students",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )
    # The LMS's SIS identifier of a person (LTI lis claim person_sourcedid, NRPS
    # lis_person_sourcedid): the registrar export's key.
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sis_person_id", sa.String(255), nullable=False, server_default="")
        )
    # Policies saved before the credit rule could be set carry the old default step (half a
    # credit, rounded down), which the policy page never showed: a passed 20-hour placement at
    # 45 hours per credit earned 0. They get the new default step, as policies never saved do.
    # Grades already approved keep the credits they state.
    activity = sa.table("activity", sa.column("id", sa.Integer), sa.column("grading_policy", sa.JSON))
    bind = op.get_bind()
    for activity_id, policy in bind.execute(sa.select(activity.c.id, activity.c.grading_policy)):
        if isinstance(policy, str):
            policy = json.loads(policy)
        if not isinstance(policy, dict) or "credit_rounding" in policy:
            continue
        if str(policy.get("credit_step")) in ("0.5", "0.50"):
            policy = {**policy, "credit_step": "0.1", "credit_rounding": "down"}
            bind.execute(
                activity.update().where(activity.c.id == activity_id).values(grading_policy=policy)
            )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("sis_person_id")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_column("show_comments_to_students")

"""audit log (append-only) and a retention policy per platform

Revision ID: 0008_audit_retention
Revises: 0007_spent_markers
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

import lti_app.models.base
from lti_app.models.audit import GUARDS

revision = "0008_audit_retention"
down_revision = "0007_spent_markers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", lti_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_activity_at", ["activity_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_platform_id"), ["platform_id"], unique=False
        )
    # Append-only, enforced by the database too (see lti_app/models/audit.py).
    for statement in GUARDS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    # Days after a course ends before its student data is purged; 1825 days is five years.
    with op.batch_alter_table("platform", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_days", sa.Integer(), nullable=False, server_default="1825")
        )


def downgrade():
    with op.batch_alter_table("platform", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_guard ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_guard()")
    op.drop_table("audit_events")

"""single-use markers (OIDC states, launch tickets) kept in the database across cache restarts

Revision ID: 0006_spent_markers
Revises: 0005_override_points
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_spent_markers"
down_revision = "0005_override_points"
branch_labels = None
depends_on = None


def upgrade():
    # The primary key is the unique constraint that lets only the first use of a value through.
    op.create_table(
        "spent_marker",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_spent_marker")),
    )
    op.create_index(
        op.f("ix_spent_marker_expires_at"), "spent_marker", ["expires_at"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_spent_marker_expires_at"), table_name="spent_marker")
    op.drop_table("spent_marker")

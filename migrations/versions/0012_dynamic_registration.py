"""LTI Dynamic Registration: one-time invites, how each platform was registered, granted scopes

Revision ID: 0012_dynamic_registration
Revises: 0011_student_states
Create Date: 2026-12-03 14:30:00

"""

import sqlalchemy as sa
from alembic import op

from lti_app.models.base import UTCDateTime

revision = "0012_dynamic_registration"
down_revision = "0011_student_states"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("platform") as batch:
        batch.add_column(
            sa.Column(
                "registration_method", sa.String(20), nullable=False, server_default="manual"
            )
        )
        batch.add_column(sa.Column("granted_scopes", sa.JSON(), nullable=True))
    op.create_table(
        "registration_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("lms", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"],
            name=op.f("fk_registration_invite_platform_id_platform"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_registration_invite_code_hash")),
    )


def downgrade():
    op.drop_table("registration_invite")
    with op.batch_alter_table("platform") as batch:
        batch.drop_column("granted_scopes")
        batch.drop_column("registration_method")

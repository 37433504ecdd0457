"""platforms may widen what teaching assistants and designers may do

Revision ID: 0006_platform_permissions
Revises: 0005_override_points
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_platform_permissions"
down_revision = "0005_override_points"
branch_labels = None
depends_on = None


def upgrade():
    # NULL: the defaults of lti_app/services/permissions.py apply unchanged.
    with op.batch_alter_table("platform", schema=None) as batch_op:
        batch_op.add_column(sa.Column("permissions", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("platform", schema=None) as batch_op:
        batch_op.drop_column("permissions")

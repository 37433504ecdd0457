"""grade overrides keep the points the instructor typed and the maximum they were out of

Revision ID: 0005_override_points
Revises: 0004_review_link_secrets
Create Date: 2026-11-28 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005_override_points"
down_revision = "0004_review_link_secrets"
branch_labels = None
depends_on = None


def upgrade():
    # override_fraction keeps 6 places: 88 of 90 is 0.977778, and 0.977778 * 90 = 88.00002, which
    # "always up" rounds to 88.01. The typed points are used while the maximum is unchanged.
    with op.batch_alter_table("grade", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_points", sa.Numeric(10, 4), nullable=True))
        batch_op.add_column(sa.Column("override_score_maximum", sa.Numeric(10, 2), nullable=True))


def downgrade():
    with op.batch_alter_table("grade", schema=None) as batch_op:
        batch_op.drop_column("override_score_maximum")
        batch_op.drop_column("override_points")

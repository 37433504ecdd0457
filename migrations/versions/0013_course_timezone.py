"""each course's time zone: the one its LMS sent and the one its instructor chose

Revision ID: 0013_course_timezone
Revises: 0012_dynamic_registration
Create Date: 2026-12-03 14:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_course_timezone"
down_revision = "0012_dynamic_registration"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course") as batch:
        batch.add_column(sa.Column("lms_timezone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("course") as batch:
        batch.drop_column("timezone")
        batch.drop_column("lms_timezone")

"""languages: the course's language (from instructor launches) and each review link's

Revision ID: 0015_languages
Revises: 0014_notifications
Create Date: 2026-12-03 14:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015_languages"
down_revision = "0014_notifications"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("review_invitation") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("review_invitation") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("course") as batch:
        batch.drop_column("language")

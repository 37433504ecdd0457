"""user locale: the language of each person's last launch, to email them in

Revision ID: 0016_user_locale
Revises: 0015_languages
Create Date: 2026-12-03 15:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_user_locale"
down_revision = "0015_languages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("locale")

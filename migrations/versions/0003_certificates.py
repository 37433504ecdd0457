"""certificates: the student's consent to show details, and one valid certificate per placement

Revision ID: 0003_certificates
Revises: 0002_domain
Create Date: 2026-11-26 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003_certificates"
down_revision = "0002_domain"
branch_labels = None
depends_on = None

VALID_ONLY = sa.text("revoked_at IS NULL")


def upgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("show_details", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # A partial unique index: two concurrent releases cannot both leave a valid certificate.
    op.create_index(
        "uq_certificate_valid_placement",
        "certificate",
        ["placement_id"],
        unique=True,
        sqlite_where=VALID_ONLY,
        postgresql_where=VALID_ONLY,
    )


def downgrade():
    op.drop_index("uq_certificate_valid_placement", table_name="certificate")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_column("show_details")

"""review links: the emailed URL kept encrypted until delivery; tokens a reminder replaced

Revision ID: 0004_review_link_secrets
Revises: 0003_certificates
Create Date: 2026-11-27 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004_review_link_secrets"
down_revision = "0003_certificates"
branch_labels = None
depends_on = None


def upgrade():
    # The review URL of a queued email, Fernet-encrypted; cleared once the email is sent or
    # given up on, so a copy of the database opens no review.
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_link", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("review_invitation_id", sa.Integer(), nullable=True))
    # SHA-256 hashes of tokens a reminder replaced: an old email's link then says "replaced".
    op.create_table(
        "replaced_review_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["review_invitation.id"],
            name=op.f("fk_replaced_review_token_invitation_id_review_invitation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_replaced_review_token")),
    )
    op.create_index(
        op.f("ix_replaced_review_token_invitation_id"),
        "replaced_review_token",
        ["invitation_id"],
        unique=False,
    )


def downgrade():
    op.drop_index(
        op.f("ix_replaced_review_token_invitation_id"), table_name="replaced_review_token"
    )
    op.drop_table("replaced_review_token")
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_column("review_invitation_id")
        batch_op.drop_column("secret_link")

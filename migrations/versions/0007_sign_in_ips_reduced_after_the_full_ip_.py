"""sign-in IPs reduced after the full-IP period

Sign-in IP addresses are kept in full for SIGNIN_IP_FULL_DAYS, then `privacy purge` reduces
them to their network; `ip_reduced` marks the rows it has reduced.

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-25 16:48:47.309529
"""

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip_reduced', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_column('ip_reduced')

"""every IP address follows one retention rule

The audit of changes and the policy acknowledgements store IP addresses too; like sign-ins,
`privacy purge` reduces them to their network after SIGNIN_IP_FULL_DAYS and removes them after
SIGNIN_RETENTION_DAYS, and `ip_reduced` marks the rows it has reduced.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-29 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLES = ('audit_event', 'policy_acknowledgement')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('ip_reduced', sa.Boolean(), server_default=sa.false(), nullable=False)
            )
    # The daily purge looks addresses up by their time.
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_event_at'), table_name='audit_event')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('ip_reduced')

"""privacy requests indexed by status and due date, for the staff queue

The staff queue counts requests per status and pages through one status soonest due first;
with the index both read only the rows they show or count, however many requests accumulate.

Revision ID: 0014
Revises: 0008
Create Date: 2026-11-29 14:40:00.000000
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inquiry_status_due', 'inquiry', ['status', 'due_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inquiry_status_due', table_name='inquiry')

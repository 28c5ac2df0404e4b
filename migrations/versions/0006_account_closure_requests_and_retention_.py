"""account closure requests and retention holds

A person's request to close their account, staff's decision, and the holds that keep some
data past erasure; the request record itself outlives the account (see the data map).

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25 16:50:20.970611
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


import webapp.crypto

revision = '0006'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decline_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('erase_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('retained_items', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('closure_request', schema=None) as batch_op:
        batch_op.create_index('ix_closure_request_open', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_closure_request_user_id'), ['user_id'], unique=False)

    op.create_table('retention_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['closure_request.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retention_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_hold_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retention_hold_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('retention_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_hold_user_id'))
        batch_op.drop_index(batch_op.f('ix_retention_hold_request_id'))

    op.drop_table('retention_hold')
    with op.batch_alter_table('closure_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closure_request_user_id'))
        batch_op.drop_index('ix_closure_request_open')

    op.drop_table('closure_request')

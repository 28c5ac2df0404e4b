"""profile fields, saved cards and email changes

The profile fields live on `user` so the profile page needs no join; the new NOT NULL
columns get server defaults so existing rows stay valid. Cards hold brand, last four
digits and expiry only; pending email changes back the confirm and "this wasn't me" links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:51:41.637770
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brand', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last4', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=False),
    sa.Column('exp_year', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_card_user_id'), ['user_id'], unique=False)

    op.create_table('pending_email_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('old_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('new_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pending_email_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_email_change_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_email_change_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_name', sqlmodel.sql.sqltypes.AutoString(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('address_line1', sqlmodel.sql.sqltypes.AutoString(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('address_line2', sqlmodel.sql.sqltypes.AutoString(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), server_default='', nullable=False))
        batch_op.add_column(sa.Column('profile_version', sa.Integer(), server_default='1', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('profile_version')
        batch_op.drop_column('country')
        batch_op.drop_column('postcode')
        batch_op.drop_column('region')
        batch_op.drop_column('city')
        batch_op.drop_column('address_line2')
        batch_op.drop_column('address_line1')
        batch_op.drop_column('phone')
        batch_op.drop_column('preferred_name')

    with op.batch_alter_table('pending_email_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_email_change_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_email_change_created_at'))

    op.drop_table('pending_email_change')
    with op.batch_alter_table('payment_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_card_user_id'))

    op.drop_table('payment_card')

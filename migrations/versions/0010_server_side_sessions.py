"""server-side sessions and back-channel logout replay protection

Each signed-in browser is a user_session row; the cookie holds only a random reference whose
SHA-256 is stored here. seen_logout_token remembers used back-channel logout tokens (`jti`).
Cookie sessions from before this revision carry no reference, so they are signed out.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-29 14:50:00
"""

import sqlalchemy as sa
import sqlmodel
import webapp.crypto
from alembic import op


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sign_in_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_active_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ip', webapp.crypto.Sealed(length=400), nullable=True),
    sa.Column('ip_reduced', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('provider_sid', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('auth_time', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('id_token', webapp.crypto.Sealed(), nullable=True),
    sa.Column('staff', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('generation', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['sign_in_id'], ['sign_in.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_provider_sid'), ['provider_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_session_sign_in_id'), ['sign_in_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('seen_logout_token',
    sa.Column('jti_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('jti_hash')
    )
    with op.batch_alter_table('seen_logout_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_logout_token_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seen_logout_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_logout_token_seen_at'))
    op.drop_table('seen_logout_token')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_sign_in_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_provider_sid'))
    op.drop_table('user_session')

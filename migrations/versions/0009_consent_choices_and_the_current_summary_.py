"""consent choices and the current summary on the user row

Every choice a signed-in person makes about analytics, personalisation and research is a
consent_choice row (the history, exported); user.consent_summary holds the choices in force
so pages know them without a query of their own.

Revision ID: 0009
Revises: 0002
Create Date: 2026-11-25 16:53:12.842130
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consent_choice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_choice', schema=None) as batch_op:
        batch_op.create_index('ix_consent_choice_user_purpose_at', ['user_id', 'purpose', 'at'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_summary', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('consent_summary')

    with op.batch_alter_table('consent_choice', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_choice_user_purpose_at')

    op.drop_table('consent_choice')

"""time zone preference on the person

Pages and emails show times in the zone the person chose (Pacific/Auckland unless they chose
another); existing people start with the default.

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-29 14:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'time_zone',
                sqlmodel.sql.sqltypes.AutoString(length=64),
                server_default='Pacific/Auckland',
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('time_zone')

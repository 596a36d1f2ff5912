"""incidents remember each service's state: the map of an incident with many alerts is drawn without reading them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for the incidents stored before: their states are read from their alerts.
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_impacts', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('service_impacts')

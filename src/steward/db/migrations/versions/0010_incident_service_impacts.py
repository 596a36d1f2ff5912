"""incidents keep their alert count and each service's state: an incident with many alerts is shown without counting them

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
        batch_op.add_column(sa.Column('alert_count', sa.Integer(), server_default='0',
                                      nullable=False))
    op.execute("UPDATE incidents SET alert_count = (SELECT COUNT(*) FROM alerts "
               "WHERE alerts.incident_id = incidents.id)")


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('alert_count')
        batch_op.drop_column('service_impacts')

"""alerts: index by integration and key instead of by integration alone

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:00:00
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_integration_key', ['integration_id', 'dedup_key'],
                              unique=False)
        batch_op.drop_index('ix_alerts_integration_id')


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_integration_id', ['integration_id'], unique=False)
        batch_op.drop_index('ix_alerts_integration_key')

"""incidents at any size: the timeline's entries other than alerts, an incident's alerts by time, alerts' signatures

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# ``timeline_summary.signature`` at the time of this migration, for the alerts stored
# before it: every digit made '#', then runs of '#' shortened.
DIGITS = "0123456789"


def _signature_sql(column: str) -> str:
    out = column
    for digit in DIGITS:
        out = f"REPLACE({out}, '{digit}', '#')"
    for run in ("####", "###", "##"):
        out = f"REPLACE({out}, '{run}', '#')"
    return out


def upgrade() -> None:
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.create_index('ix_incident_timeline_events', ['incident_id', 'at', 'id'], unique=False, sqlite_where=sa.text("kind != 'alert'"), postgresql_where=sa.text("kind != 'alert'"))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_incident_first_seen', ['incident_id', 'first_seen', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_alerts_incident_id'))
        batch_op.add_column(sa.Column('signature', sa.String(length=1024), server_default='', nullable=False))
    op.execute(f"UPDATE alerts SET signature = {_signature_sql('summary')} WHERE summary != ''")


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('signature')
        batch_op.create_index(batch_op.f('ix_alerts_incident_id'), ['incident_id'], unique=False)
        batch_op.drop_index('ix_alerts_incident_first_seen')
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_timeline_events')

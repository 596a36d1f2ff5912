"""incidents keep their alerts counted by service and signature: an incident's alert groups are read without reading its alerts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 03:00:00
"""

import hashlib

import sqlalchemy as sa
from alembic import op

import steward.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

RANKS = ("critical", "error", "warning", "info")  # as steward.incidents.severity has them


def upgrade() -> None:
    op.create_table('incident_alert_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('signature_key', sa.String(length=40), nullable=False),
    sa.Column('signature', sa.String(length=1024), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('first_seen', steward.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen', steward.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('worst', sa.Integer(), nullable=True),
    sa.Column('first_alert_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_alert_groups_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_incident_alert_groups_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_alert_groups'))
    )
    with op.batch_alter_table('incident_alert_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_alert_groups_service_id'), ['service_id'], unique=False)
        batch_op.create_index('uq_incident_alert_groups_key', ['incident_id', 'service_id', 'signature_key'], unique=True)
    # The alerts stored before, counted once (the signature's digest in Python: neither
    # database has the same hash built in).
    rank = sa.case({level: n for n, level in enumerate(RANKS)}, value=sa.column('severity'),
                   else_=len(RANKS))
    alerts = sa.table('alerts', sa.column('incident_id'), sa.column('service_id'),
                      sa.column('signature'), sa.column('status'), sa.column('count'),
                      sa.column('first_seen', steward.db.UTCDateTime()),
                      sa.column('last_seen', steward.db.UTCDateTime()),
                      sa.column('severity'), sa.column('id'))
    groups = sa.table('incident_alert_groups', *(sa.column(name) for name in (
        'incident_id', 'service_id', 'signature_key', 'signature', 'alerts', 'active',
        'events', 'worst', 'first_alert_id')),
        sa.column('first_seen', steward.db.UTCDateTime()),
        sa.column('last_seen', steward.db.UTCDateTime()))
    c = alerts.c
    rows = op.get_bind().execute(
        sa.select(c.incident_id, c.service_id, c.signature, sa.func.count(),
                  sa.func.sum(sa.case((c.status != 'resolved', 1), else_=0)),
                  sa.func.sum(c.count), sa.func.min(c.first_seen), sa.func.max(c.last_seen),
                  sa.func.min(rank), sa.func.min(c.id))
        .where(c.incident_id.is_not(None))
        .group_by(c.incident_id, c.service_id, c.signature)).all()
    batch: list[dict[str, object]] = []
    for (incident_id, service_id, signature, count, active, events, first, last, worst,
         first_id) in rows:
        batch.append({'incident_id': incident_id, 'service_id': service_id,
                      'signature_key': hashlib.sha1((signature or '').encode('utf-8')).hexdigest(),
                      'signature': signature or '', 'alerts': count, 'active': active or 0,
                      'events': events or 0, 'first_seen': first, 'last_seen': last,
                      'worst': worst, 'first_alert_id': first_id})
        if len(batch) >= 1000:
            op.get_bind().execute(groups.insert(), batch)
            batch = []
    if batch:
        op.get_bind().execute(groups.insert(), batch)


def downgrade() -> None:
    with op.batch_alter_table('incident_alert_groups', schema=None) as batch_op:
        batch_op.drop_index('uq_incident_alert_groups_key')
        batch_op.drop_index(batch_op.f('ix_incident_alert_groups_service_id'))
    op.drop_table('incident_alert_groups')

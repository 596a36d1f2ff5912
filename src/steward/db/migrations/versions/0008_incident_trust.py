"""incidents: responding teams, recurrences, an alert's reported time, timeline by time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import steward.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_teams',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('added_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_teams_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incident_teams_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'team_id', name=op.f('pk_incident_teams'))
    )
    with op.batch_alter_table('incident_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_teams_team_id'), ['team_id'], unique=False)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recurrence_of_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_incidents_recurrence_of_id'), ['recurrence_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incidents_recurrence_of_id_incidents'), 'incidents', ['recurrence_of_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_at', steward.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.create_index('ix_incident_timeline_incident_at', ['incident_id', 'at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_timeline_incident_at')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('reported_at')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_recurrence_of_id_incidents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_incidents_recurrence_of_id'))
        batch_op.drop_column('recurrence_of_id')
    op.drop_table('incident_teams')

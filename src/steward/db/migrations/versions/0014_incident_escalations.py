"""escalation: each incident's escalation state, and every page its steps sent (for the on-call KPIs)

Revision ID: 0014
Revises: 0011, 0013
Create Date: 2026-12-10 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import steward.db

revision = '0014'
# Escalation needs on-call's tables (0011) and the timers and notifications (0012, 0013),
# written side by side after 0009: this revision joins both lines.
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_escalations',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('run_start', sa.Integer(), nullable=False),
    sa.Column('levels', sa.Integer(), nullable=False),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('stopped_by', sa.String(length=200), nullable=False),
    sa.Column('next_key', sa.String(length=200), nullable=True),
    sa.Column('next_step_at', steward.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paged_in_cycle', sa.Integer(), nullable=False),
    sa.Column('started_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_escalations_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['escalation_policies.id'], name=op.f('fk_incident_escalations_policy_id_escalation_policies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incident_escalations_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_incident_escalations'))
    )
    with op.batch_alter_table('incident_escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_escalations_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_escalations_team_id'), ['team_id'], unique=False)
    op.create_table('escalation_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('paged_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('out_of_hours', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_escalation_pages_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_escalation_pages_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_escalation_pages_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_pages')),
    sa.UniqueConstraint('incident_id', 'cycle', 'level', 'user_id', name='uq_escalation_pages_step_user')
    )
    with op.batch_alter_table('escalation_pages', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_pages_team_paged', ['team_id', 'paged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_pages_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('escalation_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_pages_user_id'))
        batch_op.drop_index('ix_escalation_pages_team_paged')
    op.drop_table('escalation_pages')
    with op.batch_alter_table('incident_escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_escalations_team_id'))
        batch_op.drop_index(batch_op.f('ix_incident_escalations_policy_id'))
    op.drop_table('incident_escalations')

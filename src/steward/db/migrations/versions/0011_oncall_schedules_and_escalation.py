"""on-call: schedules with layers, members and overrides; escalation policies with levels and targets

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-08 00:10:00
"""

import sqlalchemy as sa
from alembic import op

import steward.db

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('created_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('repeat_count >= 0', name=op.f('ck_escalation_policies_repeat_not_negative')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_escalation_policies_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies')),
    sa.UniqueConstraint('team_id', name=op.f('uq_escalation_policies_team_id'))
    )
    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_schedules_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    sa.UniqueConstraint('team_id', 'name', name='uq_schedules_team_name')
    )
    op.create_table('escalation_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('timeout_minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('level >= 1', name=op.f('ck_escalation_levels_level_positive')),
    sa.CheckConstraint('timeout_minutes >= 1', name=op.f('ck_escalation_levels_timeout_positive')),
    sa.ForeignKeyConstraint(['policy_id'], ['escalation_policies.id'], name=op.f('fk_escalation_levels_policy_id_escalation_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_levels')),
    sa.UniqueConstraint('policy_id', 'level', name='uq_escalation_levels_policy_level')
    )
    op.create_table('schedule_layers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('starts', sa.DateTime(), nullable=False),
    sa.Column('handoff_interval_hours', sa.Integer(), nullable=False),
    sa.Column('restrict_start', sa.String(length=5), nullable=True),
    sa.Column('restrict_end', sa.String(length=5), nullable=True),
    sa.Column('restrict_weekdays', sa.JSON(), nullable=True),
    sa.CheckConstraint('handoff_interval_hours >= 1', name=op.f('ck_schedule_layers_interval_positive')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_layers_schedule_id_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_layers'))
    )
    with op.batch_alter_table('schedule_layers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_layers_schedule_id'), ['schedule_id'], unique=False)
    op.create_table('schedule_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_schedule_overrides_ends_after_start')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_overrides_schedule_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_overrides_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_overrides'))
    )
    with op.batch_alter_table('schedule_overrides', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_overrides_schedule_time', ['schedule_id', 'ends_at', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_schedule_overrides_user_id'), ['user_id'], unique=False)
    op.create_table('escalation_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('schedule', 'user', 'team')", name=op.f('ck_escalation_targets_kind_known')),
    sa.CheckConstraint('(CASE WHEN schedule_id IS NULL THEN 0 ELSE 1 END + CASE WHEN user_id IS NULL THEN 0 ELSE 1 END + CASE WHEN team_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_escalation_targets_one_target')),
    sa.ForeignKeyConstraint(['level_id'], ['escalation_levels.id'], name=op.f('fk_escalation_targets_level_id_escalation_levels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_escalation_targets_schedule_id_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_escalation_targets_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_escalation_targets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_targets'))
    )
    with op.batch_alter_table('escalation_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_targets_level_id'), ['level_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_targets_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_targets_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_targets_user_id'), ['user_id'], unique=False)
    op.create_table('layer_members',
    sa.Column('layer_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['layer_id'], ['schedule_layers.id'], name=op.f('fk_layer_members_layer_id_schedule_layers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_layer_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('layer_id', 'position', name=op.f('pk_layer_members'))
    )
    with op.batch_alter_table('layer_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_layer_members_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('layer_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_layer_members_user_id'))
    op.drop_table('layer_members')
    with op.batch_alter_table('escalation_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_targets_user_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_targets_team_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_targets_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_escalation_targets_level_id'))
    op.drop_table('escalation_targets')
    with op.batch_alter_table('schedule_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_overrides_user_id'))
        batch_op.drop_index('ix_schedule_overrides_schedule_time')
    op.drop_table('schedule_overrides')
    with op.batch_alter_table('schedule_layers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_layers_schedule_id'))
    op.drop_table('schedule_layers')
    op.drop_table('escalation_levels')
    op.drop_table('schedules')
    op.drop_table('escalation_policies')

"""dashboard accounts, and the PDSA cycle fields the dashboard records

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

`users`: dashboard logins (coordinator: every centre; team: one centre). `pdsa_cycles`
gains what a change team writes down (the change, prediction, Plan/Do/Study/Act notes,
decision, status, baseline) and who wrote it and when. Existing cycles keep their rows:
the new text columns start empty and their status is `running`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

NOW = sa.text("CURRENT_TIMESTAMP")
PDSA_TEXTS = ('change', 'prediction', 'plan_notes', 'do_notes', 'study_notes', 'act_notes')


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('center_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role <> 'team' OR center_id IS NOT NULL",
                           name=op.f('ck_users_team_has_center')),
        sa.ForeignKeyConstraint(['center_id'], ['centers.id'],
                                name=op.f('fk_users_center_id_centers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
        sa.UniqueConstraint('username', name=op.f('uq_users_username')),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_center_id'), ['center_id'], unique=False)

    with op.batch_alter_table('pdsa_cycles', schema=None) as batch_op:
        for name in PDSA_TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('area', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default='running'))
        batch_op.add_column(sa.Column('baseline', sa.String(length=16), nullable=True))
        for name in ('created_by', 'updated_by'):
            batch_op.add_column(sa.Column(name, sa.String(length=120), nullable=False,
                                          server_default=''))
        for name in ('created_at', 'updated_at'):
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=False,
                                          server_default=NOW))


def downgrade() -> None:
    with op.batch_alter_table('pdsa_cycles', schema=None) as batch_op:
        for name in ('updated_at', 'created_at', 'updated_by', 'created_by', 'baseline',
                     'status', 'decision', 'area', *reversed(PDSA_TEXTS)):
            batch_op.drop_column(name)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_center_id'))
    op.drop_table('users')

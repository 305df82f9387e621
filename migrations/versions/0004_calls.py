"""outbound survey calls

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`calls`: each call Kuma places (an invitation by call, a call back to a mother who called
the voice number): provider and its call id, contact, centre, flow, invitation, status,
attempts and the next one, and the end-of-call duration and cost. A new table only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'calls',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=True),
        sa.Column('provider_call_id', sa.String(length=128), nullable=True),
        sa.Column('contact_id', BIG_ID, nullable=False),
        sa.Column('center_id', sa.Integer(), nullable=True),
        sa.Column('flow_id', sa.String(length=100), nullable=True),
        sa.Column('invitation_id', BIG_ID, nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('duration_s', sa.Integer(), nullable=True),
        sa.Column('cost', sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column('currency', sa.String(length=8), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['center_id'], ['centers.id'],
                                name=op.f('fk_calls_center_id_centers')),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                                name=op.f('fk_calls_contact_id_contacts')),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'],
                                name=op.f('fk_calls_invitation_id_invitations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_calls_dedupe_key')),
        sa.UniqueConstraint('provider', 'provider_call_id',
                            name=op.f('uq_calls_provider_provider_call_id')),
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_invitation_id'), ['invitation_id'],
                              unique=False)
        batch_op.create_index('ix_calls_status_next_attempt_at', ['status', 'next_attempt_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_calls_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_calls_contact_id'))
    op.drop_table('calls')

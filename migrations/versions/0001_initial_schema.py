"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Every table of the first release. Written out once from the models and reviewed;
types are spelled with plain SQLAlchemy types so that this file never changes when
gateway.models does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# 64-bit ids for the big tables on PostgreSQL; SQLite's rowid needs plain INTEGER.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('centers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=200), nullable=False),
    sa.Column('ussd_extension', sa.String(length=16), nullable=True),
    sa.Column('sms_keyword', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centers')),
    sa.UniqueConstraint('code', name=op.f('uq_centers_code')),
    sa.UniqueConstraint('ussd_extension', name=op.f('uq_centers_ussd_extension'))
    )
    op.create_table('contacts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('phone_encrypted', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_contacts_center_id_centers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('phone_hash', name=op.f('uq_contacts_phone_hash'))
    )
    op.create_table('pdsa_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=100), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_pdsa_cycles_center_id_centers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdsa_cycles'))
    )
    with op.batch_alter_table('pdsa_cycles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdsa_cycles_center_id'), ['center_id'], unique=False)

    op.create_table('outbound_messages',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('contact_id', BIG_ID, nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('encoding', sa.String(length=8), nullable=False),
    sa.Column('cost_estimate', sa.String(length=32), nullable=True),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('send_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_outbound_messages_center_id_centers')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_outbound_messages_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbound_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_messages_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_messages_provider_message_id'), ['provider_message_id'], unique=False)
        batch_op.create_index('ix_outbound_messages_status_send_after', ['status', 'send_after'], unique=False)

    op.create_table('staff_phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', BIG_ID, nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_staff_phones_center_id_centers')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_staff_phones_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_phones')),
    sa.UniqueConstraint('center_id', 'contact_id', name=op.f('uq_staff_phones_center_id_contact_id'))
    )
    with op.batch_alter_table('staff_phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_phones_contact_id'), ['contact_id'], unique=False)

    op.create_table('summary_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', BIG_ID, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_summary_recipients_center_id_centers')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_summary_recipients_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_recipients')),
    sa.UniqueConstraint('center_id', 'contact_id', 'role', name=op.f('uq_summary_recipients_center_id_contact_id_role'))
    )
    op.create_table('survey_sessions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('flow_id', sa.String(length=100), nullable=False),
    sa.Column('flow_version', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', BIG_ID, nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_survey_sessions_center_id_centers')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_survey_sessions_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_sessions')),
    sa.UniqueConstraint('key', name=op.f('uq_survey_sessions_key'))
    )
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_sessions_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_survey_sessions_week_center_id', ['week', 'center_id'], unique=False)

    op.create_table('answers',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('session_id', BIG_ID, nullable=False),
    sa.Column('step_id', sa.String(length=100), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('top_box', sa.Boolean(), nullable=True),
    sa.Column('dimension', sa.String(length=100), nullable=True),
    sa.Column('area', sa.String(length=100), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_answers_center_id_centers')),
    sa.ForeignKeyConstraint(['session_id'], ['survey_sessions.id'], name=op.f('fk_answers_session_id_survey_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('session_id', 'step_id', name=op.f('uq_answers_session_id_step_id'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_week_center_id_dimension', ['week', 'center_id', 'dimension'], unique=False)

    op.create_table('invitations',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', BIG_ID, nullable=False),
    sa.Column('flow_id', sa.String(length=100), nullable=False),
    sa.Column('visit_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', BIG_ID, nullable=True),
    sa.ForeignKeyConstraint(['center_id'], ['centers.id'], name=op.f('fk_invitations_center_id_centers')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_invitations_contact_id_contacts')),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_messages.id'], name=op.f('fk_invitations_message_id_outbound_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_invitations_status_send_at', ['status', 'send_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_status_send_at')
        batch_op.drop_index(batch_op.f('ix_invitations_contact_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_week_center_id_dimension')

    op.drop_table('answers')
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_sessions_week_center_id')
        batch_op.drop_index(batch_op.f('ix_survey_sessions_contact_id'))

    op.drop_table('survey_sessions')
    op.drop_table('summary_recipients')
    with op.batch_alter_table('staff_phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_phones_contact_id'))

    op.drop_table('staff_phones')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_status_send_after')
        batch_op.drop_index(batch_op.f('ix_outbound_messages_provider_message_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_messages_contact_id'))

    op.drop_table('outbound_messages')
    with op.batch_alter_table('pdsa_cycles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdsa_cycles_center_id'))

    op.drop_table('pdsa_cycles')
    op.drop_table('contacts')
    op.drop_table('centers')
    op.drop_table('api_tokens')

"""index answers by centre then week, for one centre's run chart

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

The (week, centre, dimension) index serves one week across all centres; a centre's
52-week series read every answer of the year without this one (bench/reports.py:
~300 ms before, ~3 ms after, on 2 million answers).
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_answers_center_id_week', 'answers', ['center_id', 'week'])


def downgrade() -> None:
    op.drop_index('ix_answers_center_id_week', table_name='answers')

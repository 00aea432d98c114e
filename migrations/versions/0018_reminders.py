"""Reminders: a delivery's reminder delays, quiet hours and silent-learner pause; a course's
reminder lead-in; when an enrollment was last resumed; the index of sent questions the reminder planner scans. Enrollments gain the
status `paused_silent` (a value of the existing column).

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-08 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

ASKED = sa.text("question_id IS NOT NULL AND sent_at IS NOT NULL")


def upgrade():
    # Existing deliveries get the defaults a new one gets.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_after_minutes', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[120]'")))
        batch_op.add_column(sa.Column('reminder_quiet_hours', sa.String(length=11), nullable=True,
                                      server_default='21:00-08:00'))
        batch_op.add_column(sa.Column('pause_after_silent_days', sa.Integer(), nullable=False,
                                      server_default='3'))
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_lead_in', sa.Text(), nullable=True))
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resumed_at', sa.DateTime(), nullable=True))
    op.create_index('ix_messages_asked', 'messages', ['delivery_id', 'sent_at'],
                    postgresql_where=ASKED, sqlite_where=ASKED)


def downgrade():
    op.drop_index('ix_messages_asked', table_name='messages')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('resumed_at')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('reminder_lead_in')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('pause_after_silent_days')
        batch_op.drop_column('reminder_quiet_hours')
        batch_op.drop_column('reminder_after_minutes')

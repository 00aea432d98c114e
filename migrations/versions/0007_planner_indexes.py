"""planner indexes: students by (group, timezone); drop the redundant messages.enrollment_id index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:25:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.create_index('ix_students_group_timezone', ['group_id', 'timezone'], unique=False)
    # (enrollment_id, day_number, part) is unique, so that index already serves enrollment_id.
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_enrollment_id')


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_enrollment_id', ['enrollment_id'], unique=False)
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_index('ix_students_group_timezone')

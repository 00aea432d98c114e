"""outbox states instead of claim-time joins: `waiting` and `held` messages, messages.hold_reason

Pause, a later part of a learner's day, a removed learner are states of the message rows now,
so the claim reads only `pending` rows through the partial claim index (unchanged). Existing
rows are moved to the states the old claim computed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reason', sa.String(length=16), nullable=True))
    # What the old claim held back at every claim, as states once.
    op.execute("UPDATE messages SET status = 'cancelled' WHERE status = 'pending' AND enrollment_id IN "
               "(SELECT id FROM enrollments WHERE student_id IS NULL)")
    op.execute("UPDATE messages SET status = 'held', hold_reason = 'paused' WHERE status = 'pending' "
               "AND delivery_id IN (SELECT id FROM deliveries WHERE status = 'paused')")
    op.execute("UPDATE messages SET status = 'cancelled' WHERE status = 'pending' "
               "AND delivery_id IN (SELECT id FROM deliveries WHERE status = 'stopped')")
    op.execute("UPDATE messages SET hold_reason = CASE (SELECT status FROM deliveries "
               "WHERE deliveries.id = messages.delivery_id) WHEN 'paused' THEN 'paused' "
               "WHEN 'stopped' THEN 'stopped' END WHERE status = 'sending'")
    op.execute("UPDATE messages SET status = 'waiting' WHERE status = 'pending' AND EXISTS "
               "(SELECT 1 FROM messages AS earlier WHERE earlier.enrollment_id = messages.enrollment_id "
               "AND earlier.day_number = messages.day_number AND earlier.sequence < messages.sequence "
               "AND earlier.status IN ('pending', 'sending', 'held'))")


def downgrade():
    op.execute("UPDATE messages SET status = 'pending' WHERE status IN ('waiting', 'held')")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('hold_reason')

"""outbox for bulk planning: partial claim/lease/sid indexes, one per-row foreign key,
no messages.student_id, enrollments without the unused due index and with room for HOT updates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:10:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
SENDING = sa.text("status = 'sending'")
HAS_SID = sa.text("provider_sid IS NOT NULL")


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('fk_messages_enrollment_id_enrollments', type_='foreignkey')
        batch_op.drop_constraint('fk_messages_student_id_students', type_='foreignkey')
        batch_op.drop_constraint('fk_messages_question_id_questions', type_='foreignkey')
        batch_op.drop_index('ix_messages_student_id')
        batch_op.drop_column('student_id')
        batch_op.drop_constraint('uq_messages_provider_sid', type_='unique')
        batch_op.drop_index('ix_messages_claim')
        batch_op.drop_index('ix_messages_lease')
    op.create_index('uq_messages_provider_sid', 'messages', ['provider_sid'], unique=True,
                    postgresql_where=HAS_SID, sqlite_where=HAS_SID)
    op.create_index('ix_messages_claim', 'messages', ['next_attempt_at', 'id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index('ix_messages_lease', 'messages', ['lease_until'],
                    postgresql_where=SENDING, sqlite_where=SENDING)
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_due')
    if op.get_bind().dialect.name == 'postgresql':
        # Applies to pages written from now on (the planner's next rewrite of each row).
        op.execute('ALTER TABLE enrollments SET (fillfactor = 50)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE enrollments RESET (fillfactor)')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_due', ['status', 'next_due_at'], unique=False)
    op.drop_index('ix_messages_lease', table_name='messages')
    op.drop_index('ix_messages_claim', table_name='messages')
    op.drop_index('uq_messages_provider_sid', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_lease', ['status', 'lease_until'], unique=False)
        batch_op.create_index('ix_messages_claim', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_unique_constraint('uq_messages_provider_sid', ['provider_sid'])
        batch_op.add_column(sa.Column('student_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_messages_student_id', ['student_id'], unique=False)
        batch_op.create_foreign_key('fk_messages_student_id_students', 'students', ['student_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_messages_question_id_questions', 'questions', ['question_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_messages_enrollment_id_enrollments', 'enrollments',
                                    ['enrollment_id'], ['id'], ondelete='CASCADE')
    op.execute('UPDATE messages SET student_id = (SELECT student_id FROM enrollments '
               'WHERE enrollments.id = messages.enrollment_id)')

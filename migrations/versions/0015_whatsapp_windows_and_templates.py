"""WhatsApp's customer-service window and templates: whatsapp_windows, messages.content_sid and
content_variables (template sends), a course's own WhatsApp content sids

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-05 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'whatsapp_windows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('sender', sa.String(length=64), nullable=False),
        sa.Column('last_inbound_at', sa.DateTime(), nullable=False),
        sa.Column('open_until', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_windows')),
        sa.UniqueConstraint('phone', 'sender', name=op.f('uq_whatsapp_windows_phone_sender')),
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sid', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('content_variables', sa.Text(), nullable=True))
    # A `window_closed` row waits for the learner's next message: found by phone.
    op.create_index('ix_messages_window_closed', 'messages', ['to_phone'],
                    postgresql_where=sa.text("hold_reason = 'window_closed'"),
                    sqlite_where=sa.text("hold_reason = 'window_closed'"))
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whatsapp_opener_content_sid', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('whatsapp_quick_replies', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('whatsapp_quick_replies')
        batch_op.drop_column('whatsapp_opener_content_sid')
    op.drop_index('ix_messages_window_closed', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('content_variables')
        batch_op.drop_column('content_sid')
    op.drop_table('whatsapp_windows')

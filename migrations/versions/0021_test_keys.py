"""Test keys: partners, the students they enrol, their messages, opt-outs, replies and webhook
endpoints carry `livemode` (true for everything that exists: all of it is live). Opt-outs and the
once-a-day help text are kept per mode, so a test phone that is also a live learner's never
changes what the live learner gets.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-15 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

LIVE_TABLES = ('partners', 'students', 'messages', 'webhook_endpoints', 'inbound_messages', 'opt_outs')


def upgrade():
    for table in LIVE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('livemode', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('opt_outs', schema=None) as batch_op:
        batch_op.drop_constraint('uq_opt_outs_phone_channel', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_opt_outs_phone_channel_livemode'),
                                          ['phone', 'channel', 'livemode'])
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_inbound_messages_from_phone_channel_help_day', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_inbound_messages_from_phone_channel_livemode_help_day'),
                                          ['from_phone', 'channel', 'livemode', 'help_day'])


def downgrade():
    for table, old, new, columns in (
            ('inbound_messages', 'uq_inbound_messages_from_phone_channel_livemode_help_day',
             'uq_inbound_messages_from_phone_channel_help_day', ['from_phone', 'channel', 'help_day']),
            ('opt_outs', 'uq_opt_outs_phone_channel_livemode', 'uq_opt_outs_phone_channel',
             ['phone', 'channel'])):
        op.execute(sa.text(f"DELETE FROM {table} WHERE NOT livemode"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(old, type_='unique')
            batch_op.create_unique_constraint(new, columns)
    for table in reversed(LIVE_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('livemode')

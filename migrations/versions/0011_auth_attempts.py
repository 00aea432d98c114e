"""auth attempts: failed author logins and reset mails, counted for the rate limits

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auth_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=254), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_attempts'))
    )
    op.create_index('ix_auth_attempts_key', 'auth_attempts', ['kind', 'key', 'attempted_at'])
    op.create_index('ix_auth_attempts_kind_attempted_at', 'auth_attempts', ['kind', 'attempted_at'])


def downgrade():
    op.drop_index('ix_auth_attempts_kind_attempted_at', table_name='auth_attempts')
    op.drop_index('ix_auth_attempts_key', table_name='auth_attempts')
    op.drop_table('auth_attempts')

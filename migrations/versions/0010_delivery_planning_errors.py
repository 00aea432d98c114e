"""deliveries remember why the planner last failed on them: planning_error, planning_failed_at

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 22:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planning_error', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('planning_failed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('planning_failed_at')
        batch_op.drop_column('planning_error')

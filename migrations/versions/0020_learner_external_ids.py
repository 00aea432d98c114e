"""Learner accounts: the partner's own id for each (`external_id`), unique per partner; the key
the bulk import (`POST /api/partner/students/bulk`) matches rows by.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-10 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_learner_accounts_partner_id_external_id'),
                                          ['partner_id', 'external_id'])


def downgrade():
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_learner_accounts_partner_id_external_id'), type_='unique')
        batch_op.drop_column('external_id')

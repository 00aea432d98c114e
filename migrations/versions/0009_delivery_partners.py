"""delivery_partners: the deliveries an author shares with a partner

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00

Nothing is backfilled: a partner's earlier coupon batches do not share a delivery with it.
Authors share their deliveries (POST /api/delivery/<id>/partners) before those coupons
enrol learners again.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_partners',
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('shared_by_id', sa.Integer(), nullable=True),
    sa.Column('shared_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_partners_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_delivery_partners_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shared_by_id'], ['authors.id'], name=op.f('fk_delivery_partners_shared_by_id_authors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('delivery_id', 'partner_id', name=op.f('pk_delivery_partners'))
    )
    with op.batch_alter_table('delivery_partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_partners_partner_id'), ['partner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('delivery_partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_partners_partner_id'))
    op.drop_table('delivery_partners')

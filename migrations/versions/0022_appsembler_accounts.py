"""Open edX-style learner accounts (username, is_active, profile) and set-password links

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-10 10:00:00

Existing accounts keep no username (the Appsembler API shows their login id instead), are
active, and have an empty profile.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('is_active', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('profile', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.create_unique_constraint(batch_op.f('uq_learner_accounts_partner_id_username'),
                                          ['partner_id', 'username'])
        batch_op.create_index('ix_learner_accounts_partner_joined', ['partner_id', 'created_at'],
                              unique=False)
    op.create_table('learner_password_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['learner_accounts.id'], name=op.f('fk_learner_password_links_account_id_learner_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_password_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_learner_password_links_token_hash'))
    )
    with op.batch_alter_table('learner_password_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_password_links_account_id'), ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('learner_password_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_password_links_account_id'))
    op.drop_table('learner_password_links')
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_learner_accounts_partner_joined')
        batch_op.drop_constraint(batch_op.f('uq_learner_accounts_partner_id_username'), type_='unique')
        batch_op.drop_column('profile')
        batch_op.drop_column('is_active')
        batch_op.drop_column('username')

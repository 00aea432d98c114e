"""partners: keys, learner accounts and sessions, coupons, certificates

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:50:42.555906

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('access_key', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('access_key', name=op.f('uq_partners_access_key'))
    )
    op.create_table('learner_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.String(length=254), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('idp_user_id', sa.String(length=36), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'whatsapp')", name=op.f('ck_learner_accounts_channel')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_learner_accounts_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_accounts')),
    sa.UniqueConstraint('idp_user_id', name=op.f('uq_learner_accounts_idp_user_id')),
    sa.UniqueConstraint('partner_id', 'login_id', name=op.f('uq_learner_accounts_partner_id_login_id'))
    )
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_accounts_partner_id'), ['partner_id'], unique=False)

    op.create_table('learner_login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('login_id', sa.String(length=254), nullable=False),
    sa.Column('failed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_learner_login_failures_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_login_failures'))
    )
    with op.batch_alter_table('learner_login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_learner_login_failures_key', ['partner_id', 'login_id', 'failed_at'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('learner_name', sa.String(length=200), nullable=False),
    sa.Column('course_name', sa.String(length=200), nullable=False),
    sa.Column('is_forced', sa.Boolean(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['learner_accounts.id'], name=op.f('fk_certificates_account_id_learner_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_certificates_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('account_id', 'course_id', name=op.f('uq_certificates_account_id_course_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificates_serial'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_course_id'), ['course_id'], unique=False)

    op.create_table('learner_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['learner_accounts.id'], name=op.f('fk_learner_sessions_account_id_learner_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_sessions')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_learner_sessions_access_token_hash'))
    )
    with op.batch_alter_table('learner_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('coupon_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['authors.id'], name=op.f('fk_coupon_batches_author_id_authors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_coupon_batches_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_coupon_batches_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_batches'))
    )
    with op.batch_alter_table('coupon_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_batches_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_batches_partner_id'), ['partner_id'], unique=False)

    op.create_table('coupons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('available', 'used', 'cancelled')", name=op.f('ck_coupons_state')),
    sa.ForeignKeyConstraint(['batch_id'], ['coupon_batches.id'], name=op.f('fk_coupons_batch_id_coupon_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_coupons_student_id_students'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['used_by_id'], ['learner_accounts.id'], name=op.f('fk_coupons_used_by_id_learner_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('code', name=op.f('uq_coupons_code'))
    )
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupons_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_student_id'), ['student_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_used_by_id'), ['used_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupons_used_by_id'))
        batch_op.drop_index(batch_op.f('ix_coupons_student_id'))
        batch_op.drop_index(batch_op.f('ix_coupons_batch_id'))

    op.drop_table('coupons')
    with op.batch_alter_table('coupon_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_batches_partner_id'))
        batch_op.drop_index(batch_op.f('ix_coupon_batches_delivery_id'))

    op.drop_table('coupon_batches')
    with op.batch_alter_table('learner_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_sessions_account_id'))

    op.drop_table('learner_sessions')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_course_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('learner_login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_learner_login_failures_key')

    op.drop_table('learner_login_failures')
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_accounts_partner_id'))

    op.drop_table('learner_accounts')
    op.drop_table('partners')

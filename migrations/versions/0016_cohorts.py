"""cohorts: funded-programme intakes, their agreement templates, invited students (enrollments),
uploaded documents (files in the document store) and verification decisions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('program_type', sa.String(length=40), nullable=False),
    sa.Column('sponsor_email', sa.String(length=254), nullable=False),
    sa.Column('sponsor_company_name', sa.String(length=200), nullable=False),
    sa.Column('student_count', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('local_send_time', sa.String(length=8), nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=True),
    sa.Column('default_timezone', sa.String(length=64), nullable=False),
    sa.Column('default_channel', sa.String(length=16), nullable=False),
    sa.Column('required_uploads', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('sponsor_key', sa.String(length=22), nullable=False),
    sa.Column('sponsor_link_expires_at', sa.DateTime(), nullable=True),
    sa.Column('sponsor_signature', sa.LargeBinary(), nullable=True),
    sa.Column('sponsor_initials', sa.LargeBinary(), nullable=True),
    sa.Column('sponsor_signed_at', sa.DateTime(), nullable=True),
    sa.Column('admin_signed_at', sa.DateTime(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('finalised_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("default_channel IN ('sms', 'whatsapp')", name=op.f('ck_cohorts_default_channel')),
    sa.CheckConstraint("state IN ('draft', 'active', 'finalised', 'cancelled')", name=op.f('ck_cohorts_state')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_cohorts_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_cohorts_delivery_id_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_cohorts_group_id_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['authors.id'], name=op.f('fk_cohorts_owner_id_authors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts')),
    sa.UniqueConstraint('sponsor_key', name=op.f('uq_cohorts_sponsor_key')),
    sa.UniqueConstraint('uuid', name=op.f('uq_cohorts_uuid'))
    )
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohorts_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohorts_owner_id'), ['owner_id'], unique=False)

    op.create_table('cohort_enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('link_key', sa.String(length=22), nullable=False),
    sa.Column('link_expires_at', sa.DateTime(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=False),
    sa.Column('last_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('gender', sa.String(length=60), nullable=True),
    sa.Column('race', sa.String(length=60), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('disability', sa.String(length=60), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('verification_state', sa.String(length=16), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('signed_name', sa.String(length=200), nullable=True),
    sa.Column('signature', sa.LargeBinary(), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('agreement_status', sa.String(length=16), nullable=False),
    sa.Column('sponsor_signed_at', sa.DateTime(), nullable=True),
    sa.Column('agreement_key', sa.String(length=100), nullable=True),
    sa.Column('agreement_sha256', sa.String(length=64), nullable=True),
    sa.Column('profile_saved_at', sa.DateTime(), nullable=True),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("agreement_status IN ('unsigned', 'signed', 'approved', 'rejected')", name=op.f('ck_cohort_enrollments_agreement_status')),
    sa.CheckConstraint("channel IN ('sms', 'whatsapp')", name=op.f('ck_cohort_enrollments_channel')),
    sa.CheckConstraint("state IN ('waiting', 'in_progress', 'complete', 'rejected', 'revoked')", name=op.f('ck_cohort_enrollments_state')),
    sa.CheckConstraint("verification_state IN ('unverified', 'pending', 'verified', 'rejected')", name=op.f('ck_cohort_enrollments_verification_state')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_enrollments_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_enrollments')),
    sa.UniqueConstraint('cohort_id', 'email', name=op.f('uq_cohort_enrollments_cohort_id_email')),
    sa.UniqueConstraint('link_key', name=op.f('uq_cohort_enrollments_link_key')),
    sa.UniqueConstraint('uuid', name=op.f('uq_cohort_enrollments_uuid'))
    )
    with op.batch_alter_table('cohort_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_enrollments_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('cohort_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('main', 'supporting')", name=op.f('ck_cohort_templates_kind')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_templates_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_templates')),
    sa.UniqueConstraint('cohort_id', 'position', name=op.f('uq_cohort_templates_cohort_id_position')),
    sa.UniqueConstraint('uuid', name=op.f('uq_cohort_templates_uuid'))
    )
    op.create_table('cohort_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('uploaded', 'approved', 'rejected')", name=op.f('ck_cohort_documents_status')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['cohort_enrollments.id'], name=op.f('fk_cohort_documents_enrollment_id_cohort_enrollments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_documents')),
    sa.UniqueConstraint('enrollment_id', 'document_type', name=op.f('uq_cohort_documents_enrollment_id_document_type'))
    )
    op.create_table('cohort_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('document_type', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("action IN ('approved', 'rejected')", name=op.f('ck_cohort_verifications_action')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['cohort_enrollments.id'], name=op.f('fk_cohort_verifications_enrollment_id_cohort_enrollments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_verifications'))
    )
    with op.batch_alter_table('cohort_verifications', schema=None) as batch_op:
        batch_op.create_index('ix_cohort_verifications_enrollment', ['enrollment_id'], unique=False)



def downgrade():
    with op.batch_alter_table('cohort_verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_cohort_verifications_enrollment')

    op.drop_table('cohort_verifications')
    op.drop_table('cohort_documents')
    op.drop_table('cohort_templates')
    with op.batch_alter_table('cohort_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_enrollments_cohort_id'))

    op.drop_table('cohort_enrollments')
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohorts_owner_id'))
        batch_op.drop_index(batch_op.f('ix_cohorts_course_id'))

    op.drop_table('cohorts')

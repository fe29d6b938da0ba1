"""insights: PL specialists' assigned schools and district success indicators

Revision ID: 7a3c1e5b9d20
Revises: 815c230d9b60
Create Date: 2026-12-02 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c1e5b9d20'
down_revision = '815c230d9b60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('specialist_schools',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['orgs.id'], name=op.f('fk_specialist_schools_school_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_specialist_schools_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'school_id', name=op.f('pk_specialist_schools'))
    )
    with op.batch_alter_table('specialist_schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specialist_schools_school_id'), ['school_id'], unique=False)

    op.create_table('success_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('measure_key', sa.String(length=40), nullable=False),
    sa.Column('target_percent', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('set_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_success_indicators_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_success_indicators_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_success_indicators'))
    )
    with op.batch_alter_table('success_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_success_indicators_org_id'), ['org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('success_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_success_indicators_org_id'))
    op.drop_table('success_indicators')
    with op.batch_alter_table('specialist_schools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specialist_schools_school_id'))
    op.drop_table('specialist_schools')

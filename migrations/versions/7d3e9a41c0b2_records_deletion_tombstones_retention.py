"""records deletion: tombstones, the retention list and users.deactivated_at

Revision ID: 7d3e9a41c0b2
Revises: 9d7c71bdcb89
Create Date: 2026-12-02 05:20:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3e9a41c0b2'
down_revision = "9d7c71bdcb89"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))
    # Accounts deactivated before this column existed: their retention period counts from
    # the upgrade (the moment is unknown; never guess one in the past).
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    users = sa.table('users', sa.column('active', sa.Boolean), sa.column('deactivated_at', sa.DateTime))
    op.execute(users.update().where(users.c.active == sa.false()).values(deactivated_at=now))

    op.create_table('record_deletions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('school_name', sa.String(length=160), nullable=False),
    sa.Column('district_name', sa.String(length=160), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('receipt_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('receipt_made_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_record_deletions_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['orgs.id'], name=op.f('fk_record_deletions_school_id_orgs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_deletions'))
    )
    with op.batch_alter_table('record_deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_deletions_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_deletions_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_deletions_school_id'), ['school_id'], unique=False)

    op.create_table('retention_due',
    sa.Column('learner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('listed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_retention_due_learner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('learner_id', name=op.f('pk_retention_due'))
    )


def downgrade():
    op.drop_table('retention_due')
    with op.batch_alter_table('record_deletions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_deletions_school_id'))
        batch_op.drop_index(batch_op.f('ix_record_deletions_deleted_at'))
        batch_op.drop_index(batch_op.f('ix_record_deletions_actor_id'))
    op.drop_table('record_deletions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')

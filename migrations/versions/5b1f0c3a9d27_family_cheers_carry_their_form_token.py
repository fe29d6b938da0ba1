"""family cheers carry their form's token, so a resent form is the same cheer

Revision ID: 5b1f0c3a9d27
Revises: b95c701ef7cd
Create Date: 2026-12-01 23:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1f0c3a9d27'
down_revision = 'b95c701ef7cd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('family_cheers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_family_cheers_token'), ['token'])


def downgrade():
    with op.batch_alter_table('family_cheers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_family_cheers_token'), type_='unique')
        batch_op.drop_column('token')

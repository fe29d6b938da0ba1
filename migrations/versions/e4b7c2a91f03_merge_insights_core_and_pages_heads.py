"""merge the insights heads: precomputed facts (core) and PL specialists / success
indicators (pages)

Revision ID: e4b7c2a91f03
Revises: 815c230d9b60, 7a3c1e5b9d20
Create Date: 2026-12-02 05:50:00.000000

"""


# revision identifiers, used by Alembic.
revision = 'e4b7c2a91f03'
down_revision = ('815c230d9b60', '7a3c1e5b9d20')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

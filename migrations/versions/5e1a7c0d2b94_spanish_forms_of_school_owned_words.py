"""Spanish forms of school-owned words: scale levels, strategies, family wording

Revision ID: 5e1a7c0d2b94
Revises: dcb13a380e62
Create Date: 2026-12-01 23:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c0d2b94'
down_revision = 'dcb13a380e62'
branch_labels = None
depends_on = None

# The default scale as shipped (portal.targets.models.DEFAULT_LEVELS and _ES), copied here
# so this revision never changes when the code does.
DEFAULT_LEVELS = [
    (1, "Beginning", "I am just starting to learn this.",
     "Inicial", "Apenas estoy empezando a aprender esto."),
    (2, "Developing", "I can do some of it with help.",
     "En desarrollo", "Puedo hacer una parte con ayuda."),
    (3, "Proficient", "I can do it on my own.",
     "Competente", "Puedo hacerlo por mi cuenta."),
    (4, "Extending", "I can use it in new ways and teach others.",
     "Avanzado", "Puedo usarlo de maneras nuevas y enseñárselo a otros."),
]


def upgrade():
    with op.batch_alter_table('mastery_levels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label_es', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('description_es', sa.Text(), nullable=True))

    with op.batch_alter_table('strategies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_es', sa.String(length=200), nullable=True))

    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_statement_es', sa.Text(), nullable=True))

    # Schools still on the default scale get its Spanish too; edited levels stay English
    # until the school writes its own Spanish.
    levels = sa.table(
        'mastery_levels',
        sa.column('value', sa.Integer), sa.column('label', sa.String),
        sa.column('description', sa.Text), sa.column('label_es', sa.String),
        sa.column('description_es', sa.Text),
    )
    for value, label, description, label_es, description_es in DEFAULT_LEVELS:
        op.execute(
            levels.update()
            .where(levels.c.value == value, levels.c.label == label)
            .values(label_es=label_es)
        )
        op.execute(
            levels.update()
            .where(levels.c.value == value, levels.c.description == description)
            .values(description_es=description_es)
        )


def downgrade():
    # Plain columns: a native DROP COLUMN (SQLite 3.35+, PostgreSQL) keeps the tables, so
    # rows that reference them (goals on targets, levels on scales) stay valid.
    op.drop_column('targets', 'family_statement_es')
    op.drop_column('strategies', 'text_es')
    op.drop_column('mastery_levels', 'description_es')
    op.drop_column('mastery_levels', 'label_es')

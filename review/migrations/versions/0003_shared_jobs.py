"""Jobs shared by several Rasa servers run once per interval between them (issue 13)"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bc_koersler',
    sa.Column('navn', sa.String(length=32), nullable=False),
    sa.Column('sidst', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('navn')
    )


def downgrade() -> None:
    op.drop_table('bc_koersler')

"""HR's learning messages: the separate consent and the messages it lends (issue 12)"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bc_samtaler', schema=None) as batch_op:
        batch_op.add_column(sa.Column('laering', sa.String(length=8), nullable=False, server_default='nej'))
    op.create_table('bc_laeringsbeskeder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('samtale_id', sa.String(length=32), nullable=False),
    sa.Column('nr', sa.Integer(), nullable=False),
    sa.Column('tidspunkt', sa.DateTime(), nullable=False),
    sa.Column('tekst', sa.Text(), nullable=False),
    sa.Column('gruppe', sa.String(length=500), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('tillid', sa.Float(), nullable=True),
    sa.Column('naestbedste', sa.String(length=64), nullable=True),
    sa.Column('naestbedste_tillid', sa.Float(), nullable=True),
    sa.Column('hoert', sa.Text(), nullable=False),
    sa.Column('grunde', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('maerke_intent', sa.String(length=64), nullable=True),
    sa.Column('maerke_hensyn', sa.Text(), nullable=True),
    sa.Column('maerket_af', sa.String(length=255), nullable=True),
    sa.Column('maerket_tid', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['samtale_id'], ['bc_samtaler.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bc_laeringsbeskeder', schema=None) as batch_op:
        batch_op.create_index('ix_bc_laeringsbeskeder_samtale_id', ['samtale_id'], unique=False)
        batch_op.create_index('ix_bc_laeringsbeskeder_tidspunkt', ['tidspunkt'], unique=False)
        batch_op.create_index('ix_bc_laeringsbeskeder_gruppe', ['gruppe'], unique=False)
        batch_op.create_index('ix_bc_laeringsbeskeder_status', ['status'], unique=False)
        batch_op.create_index('ux_bc_laeringsbeskeder_samtale_nr', ['samtale_id', 'nr'], unique=True)


def downgrade() -> None:
    op.drop_table('bc_laeringsbeskeder')
    with op.batch_alter_table('bc_samtaler', schema=None) as batch_op:
        batch_op.drop_column('laering')

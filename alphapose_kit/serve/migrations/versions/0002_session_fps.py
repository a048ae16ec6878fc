"""Sessions get a frame rate: an edge device gives its own (an upload's comes from its video)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add sessions.fps (NULL for the sessions made before)."""
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("fps", sa.Float, nullable=True))


def downgrade() -> None:
    """Drop sessions.fps."""
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("fps")

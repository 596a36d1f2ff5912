"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import steward.models
from steward.db import migrate


def test_migrations_match_models(db) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, steward.models.metadata)
    assert differences == []
    assert migrate.current_revision(db) == migrate.head_revision(db)

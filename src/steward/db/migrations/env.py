"""Alembic environment: runs on the connection Steward hands it."""

from alembic import context
from sqlalchemy import Connection, create_engine

from steward.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no connection given and no sqlalchemy.url set")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        # SQLite changes a table by copying it into a new one and dropping the old: with
        # foreign keys enforced, dropping it would set every reference to it to NULL (an
        # incident's alerts would lose their incident). The pragma only takes effect
        # outside a transaction, hence on the driver's connection, before the
        # migrations' transaction begins (and after it ends).
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            _configure_and_run(connection)
            if connection.in_transaction():
                connection.commit()
        except BaseException:
            if connection.in_transaction():
                connection.rollback()
            raise
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
        return
    _configure_and_run(connection)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

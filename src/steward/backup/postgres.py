"""PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, found on PATH.

A backup exports a snapshot, counts the rows in it and has pg_dump dump that
very snapshot, so the counts printed are the counts in the file, however busy
the servers are. A restore runs ``pg_restore --clean --if-exists`` in one
transaction: it either replaces everything or changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from steward.backup import BackupProblem

T = TypeVar("T")
MAGIC = b"PGDMP"


def is_dump_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupProblem(f"{name} is not on PATH: install the PostgreSQL client tools "
                            "of the server's major version (Debian and Ubuntu: "
                            "postgresql-client-NN) and put them on PATH")
    return path


def tool_major(path: str) -> int:
    """The major version of a PostgreSQL client program (``pg_dump (PostgreSQL) 15.20``)."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False,
                         timeout=30).stdout
    found = re.search(r"\)\s+(\d+)", out)
    if found is None:
        raise BackupProblem(f"cannot tell the version of {path} from {out.strip()!r}")
    return int(found.group(1))


def server_major(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def check_versions(program: str, connection: Connection) -> None:
    """pg_dump refuses a server newer than itself; say so before it starts."""
    client, server = tool_major(program), server_major(connection)
    if client < server:
        name = Path(program).name
        raise BackupProblem(f"{name} {client} ({program}) cannot work with PostgreSQL "
                            f"{server}: install the client tools of version {server} or "
                            "later and put them first on PATH")


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for the client programs, and their environment: the password
    goes in PGPASSWORD, not on a command line other users can read."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}"
        raise BackupProblem(f"{what} failed: {detail}")
    return done.stdout


def backup(connection: Connection, url: URL, target: Path,
           inspect: Callable[[Connection], T]) -> T:
    """Dump the database into ``target`` (a new file, owner-only); returns what ``inspect``
    found in the very snapshot dumped."""
    pg_dump = tool("pg_dump")
    check_versions(pg_dump, connection)
    connection.rollback()  # the snapshot's transaction must be the connection's first
    dsn, env = libpq(url)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    snapshot_reader = connection.execution_options(isolation_level="REPEATABLE READ",
                                                   postgresql_readonly=True)
    with snapshot_reader.begin():
        snapshot = snapshot_reader.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        found = inspect(snapshot_reader)
        # The snapshot lives as long as this transaction: pg_dump must finish inside it.
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}",
              f"--dbname={dsn}"], env, "pg_dump")
    return found


def schema_revision(dump: Path) -> str | None:
    """The Alembic revision in a dump; None when it holds no Steward database."""
    pg_restore = tool("pg_restore")
    out = _run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(dump)],
               dict(os.environ), f"pg_restore reading {dump}")
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
            value = lines[index + 1].strip()
            return None if value == "\\." else value
    return None


def restore(url: URL, dump: Path) -> None:
    """Replace the database's Steward tables with the dump's, in one transaction."""
    pg_restore = tool("pg_restore")
    dsn, env = libpq(url)
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={dsn}", str(dump)],
         env, "pg_restore")

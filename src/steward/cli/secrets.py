"""``steward secret``: the server's secret key (generate, status, rotate)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from steward.cli.common import console, domain_errors, err_console, fail, open_database, print_json

if TYPE_CHECKING:
    from steward.db import Database

secret_app = typer.Typer(help="The server's secret key, which seals webhook secrets.",
                         no_args_is_help=True)


def require_secret_key(db: Database) -> None:
    """Before a server listens: a key that opens every sealed secret (created on first use
    on SQLite), or the command stops naming the problem."""
    from steward.auth.keyring import require_usable_key

    with domain_errors(), db.read_session() as session:
        key = require_usable_key(session)
    console.print(f"Secret key: {key.origin} (key {key.key_id})", highlight=False)


def secret_key_note(db: Database) -> str:
    """One line for ``steward init``: where the key is, or what is missing."""
    from steward.auth.keyring import key_status

    with db.read_session() as session:
        status = key_status(session, create=True)
    if not status.ok:
        return f"Secret key: {status.problem}."
    return (f"Secret key: {status.origin} (key {status.key_id}); it is not in the database "
            "or its backups: keep a copy of it apart from them.")


@secret_app.command("generate")
def secret_generate() -> None:
    """Print a new random key (for STEWARD_SECRET_KEY or a key file); changes nothing."""
    from steward.auth.secret_key import generate_key

    sys.stdout.write(generate_key() + "\n")


@secret_app.command("status")
def secret_status(
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Where the key comes from and whether it opens the database's sealed secrets.

    Exits 1 when it is missing or is not the key they were sealed with."""
    from steward.auth.keyring import key_status

    db = open_database()
    with domain_errors(), db.read_session() as session:
        status = key_status(session)
    if json_out:
        print_json(status.as_dict())
    else:
        sealed = ", ".join(f"{n} with key {key_id}" for key_id, n in sorted(status.sealed.items()))
        console.print(f"Secret key: {status.origin}"
                      + (f" (key {status.key_id})" if status.key_id else ""), highlight=False)
        console.print(f"Sealed webhook secrets: {sealed or 'none'}", highlight=False)
        if status.derived_keys:
            console.print(f"{status.derived_keys} active integration key(s) were derived by an "
                          "earlier version from a secret kept in the database; replace them "
                          "if copies of the database from before the upgrade may have leaked",
                          highlight=False)
    if not status.ok:
        fail(status.problem)


@secret_app.command("rotate")
def secret_rotate(
    new_key_stdin: Annotated[bool, typer.Option(
        "--new-key-stdin", help="read the new key from stdin instead of generating one")] = False,
) -> None:
    """Re-seal every webhook secret with a new key; integrations keep their keys.

    The current key is the configured one (STEWARD_SECRET_KEY, else the key file). With a key
    file, the file then holds the new key; with STEWARD_SECRET_KEY, a generated new key is
    printed: set it on every server and restart them.
    """
    from steward.auth.actor import cli_actor
    from steward.auth.keyring import rotate, source_of
    from steward.auth.secret_key import (
        ServerKey,
        check_new_key,
        generate_key,
        install_staged_key_file,
        read_key,
        stage_key_file,
        staged_key_file,
    )

    db = open_database()
    with domain_errors():
        with db.read_session() as session:
            source = source_of(session)
        old = read_key(source)
        if old is None:
            fail(f"no current secret key ({source.origin} has none): rotation re-seals the "
                 "database's secrets with a new key, so it needs the key they are sealed "
                 "with now")
        assert old is not None
        value = check_new_key(sys.stdin.read()) if new_key_stdin else generate_key()
        new = ServerKey(value.encode(), "the new key")
        in_file = not source.value and source.file is not None
        if in_file:
            assert source.file is not None
            stage_key_file(source.file, value)
        try:
            with db.session() as session:
                done = rotate(session, cli_actor(), old, new)
        except BaseException:
            if in_file and source.file is not None:
                staged_key_file(source.file).unlink(missing_ok=True)
            raise
        if in_file and source.file is not None:
            install_staged_key_file(source.file)
    err_console.print(f"Re-sealed {done.resealed} webhook secret(s): key {done.old_key_id} -> "
                      f"{done.new_key_id}.", highlight=False)
    if in_file:
        err_console.print(f"{source.file} holds the new key; servers read it when they next "
                          "need it. Replace every other copy of it (other servers, the "
                          "backup of the key).", highlight=False)
    else:
        if not new_key_stdin:
            sys.stdout.write(value + "\n")
        err_console.print("Set STEWARD_SECRET_KEY to the new key on every server and restart "
                          "them: until then they cannot check GitHub signatures.",
                          highlight=False)

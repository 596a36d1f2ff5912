"""The ``steward`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from steward.cli.common import console, domain_errors, fail, open_database, print_json

if TYPE_CHECKING:
    from steward.api.tls import TlsFiles

app = typer.Typer(help="Steward: IT service management for DevOps product teams.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
catalog_app = typer.Typer(help="Service catalog.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")
integration_app = typer.Typer(help="Integrations: webhook secrets and routing keys.",
                              no_args_is_help=True)
app.add_typer(integration_app, name="integration")
# The application, as uvicorn imports it in each server process (steward/app.py).
APP_FACTORY = "steward.app:create_app"


def _import_commands() -> None:
    from steward.cli.imports import import_app

    app.add_typer(import_app, name="import")


_import_commands()


def _pipeline_commands() -> None:
    from steward.cli.incidents import incident_app
    from steward.cli.kpi import kpi_app
    from steward.cli.notify import notify_app
    from steward.cli.oncall import oncall_app
    from steward.cli.pipeline import change_app, deploy_app

    app.add_typer(incident_app, name="incident")
    app.add_typer(notify_app, name="notify")
    app.add_typer(deploy_app, name="deploy")
    app.add_typer(change_app, name="change")
    app.add_typer(kpi_app, name="kpi")
    app.add_typer(oncall_app, name="oncall")


_pipeline_commands()


def _health_command() -> None:
    from steward.cli.health import health

    app.command("health")(health)


_health_command()


def _overview_command() -> None:
    from steward.cli.overview import overview

    app.command("overview")(overview)


_overview_command()


def _slo_commands() -> None:
    from steward.cli.postmortem import postmortem_app
    from steward.cli.slo import slo_app

    app.add_typer(slo_app, name="slo")
    app.add_typer(postmortem_app, name="postmortem")


_slo_commands()


def _status_page_commands() -> None:
    from steward.cli.status_page import status_app
    from steward.cli.status_policy import status_policy

    status_app.command("policy")(status_policy)
    app.add_typer(status_app, name="status")


_status_page_commands()


def _kpi_client_commands() -> None:
    from steward.cli.export import export_app
    from steward.cli.goals import goal_app

    app.add_typer(goal_app, name="goal")
    app.add_typer(export_app, name="export")


_kpi_client_commands()


def _operations_commands() -> None:
    from steward.cli.backup import backup, restore
    from steward.cli.secrets import secret_app
    from steward.cli.worker import worker_app

    app.add_typer(secret_app, name="secret")
    app.add_typer(worker_app, name="worker")
    app.command()(backup)
    app.command()(restore)


_operations_commands()



@app.command()
def init() -> None:
    """Create the database, or upgrade it to this version's schema. Safe to run twice."""
    from steward.cli.secrets import secret_key_note
    from steward.config import load_settings
    from steward.db import Database, migrate
    from steward.models import ensure_seed_rows

    db = Database(load_settings())
    with domain_errors():
        before, after = migrate.upgrade(db)
    ensure_seed_rows(db)
    if before is None:
        console.print(f"Created the Steward database ({db.describe()}) at schema {after}.")
    elif before == after:
        console.print(f"The database ({db.describe()}) is already at schema {after}.")
    else:
        console.print(f"Upgraded the database ({db.describe()}) from {before} to {after}.")
    console.print(secret_key_note(db), highlight=False)


@app.command()
def migrate(revision: Annotated[str, typer.Option(help="target schema revision")] = "head") -> None:
    """Apply schema migrations."""
    from steward.config import load_settings
    from steward.db import Database
    from steward.db import migrate as migrations
    from steward.models import ensure_seed_rows

    db = Database(load_settings())
    with domain_errors():
        before, after = migrations.upgrade(db, revision)
    ensure_seed_rows(db)
    console.print(f"Schema {before or 'empty'} -> {after} ({db.describe()}).")


@app.command("config")
def config_table() -> None:
    """Print the STEWARD_* settings as a Markdown table: variable, type, default, meaning."""
    from steward.config import settings_table

    sys.stdout.write(settings_table())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    tls_cert: Annotated[str | None, typer.Option(
        "--tls-cert", help="serve HTTPS with this certificate (PEM, the chain after it); "
                           "default $STEWARD_TLS_CERT")] = None,
    tls_key: Annotated[str | None, typer.Option(
        "--tls-key", help="the certificate's private key (PEM, unencrypted); "
                          "default $STEWARD_TLS_KEY")] = None,
) -> None:
    """Serve the web UI, the API and the ingest endpoints (HTTPS with --tls-cert/--tls-key)."""
    from steward.cli.secrets import require_secret_key

    tls = _tls(tls_cert, tls_key)
    db = open_database(migrate_if_new=True)
    require_secret_key(db)
    _serve(db.describe(), host, port, workers, tls)


def _tls(cert: str | None, key: str | None) -> TlsFiles | None:
    """The options' files, else the settings'; checked, or the command stops naming why."""
    from steward.api.tls import TlsProblem, tls_files
    from steward.config import load_settings

    if cert is None and key is None:
        settings = load_settings()
        cert, key = settings.tls_cert, settings.tls_key
    try:
        return tls_files(cert, key)
    except TlsProblem as exc:
        fail(exc.message)
    return None


def _serve(where: str, host: str, port: int, workers: int, tls: TlsFiles | None) -> None:
    import uvicorn

    from steward.api import workers as server_processes

    scheme = "https" if tls else "http"
    console.print(f"Steward on {scheme}://{host}:{port}  (database: {where})")
    options: dict[str, Any] = {"log_level": "info", "access_log": False}
    if tls:
        options.update(tls.uvicorn_options())
    if workers > 1 and server_processes.reuse_port_supported():
        try:
            status = server_processes.serve(APP_FACTORY, host, port, workers, **options)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise typer.Exit(status)
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                **options)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="seed only")] = False,
) -> None:
    """Seed the demo organisation (once) and serve it ($STEWARD_TLS_CERT/_KEY for HTTPS)."""
    from steward.cli.secrets import require_secret_key
    from steward.demo.seed import DEMO_PASSWORD, seed_demo

    tls = None if no_serve else _tls(None, None)
    db = open_database(migrate_if_new=True)
    require_secret_key(db)
    served_at = (None if no_serve or db.settings.public_url
                 else f"{'https' if tls else 'http'}://{host}:{port}")
    with domain_errors():
        created = seed_demo(db, kpi_history=True, base_url=served_at)
    if created:
        console.print(f"Seeded the demo organisation: {created}.")
    else:
        console.print("The demo organisation is already there.")
    console.print(f"Sign in as [bold]admin[/] (or alice, bob, viewer) with password "
                  f"[bold]{DEMO_PASSWORD}[/]. The demo's people are paged on the demo pager "
                  "(/demo/pager).")
    if not no_serve:
        _serve(db.describe(), host, port, 1, tls)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="username")],
    role: Annotated[str, typer.Option(help="admin, member or viewer")] = "member",
    team: Annotated[list[str] | None, typer.Option(help="team to join (repeatable)")] = None,
    display_name: Annotated[str, typer.Option(help="full name")] = "",
    email: Annotated[str, typer.Option(help="e-mail address")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="read the password from stdin")] = False,
) -> None:
    """Create a user (a password lets them sign in to the web UI)."""
    from pydantic import ValidationError as PydanticError

    from steward.auth.actor import cli_actor
    from steward.auth.schemas import UserCreate
    from steward.auth.use_cases import accounts as auth

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        data = UserCreate(username=name, role=role, teams=list(team or []),
                          display_name=display_name, email=email, password=password)
    except PydanticError as exc:
        first = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    db = open_database()
    with domain_errors(), db.session() as session:
        user = auth.create_user(session, cli_actor(), data)
        console.print(f"Created {user.role} {user.username}"
                      + (f" in {', '.join(data.teams)}" if data.teams else "") + ".")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="username")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "",
    expires_in: Annotated[str | None, typer.Option(
        "--expires-in", help="lifetime such as 90d, 12h, 2w or 30m (default: never expires)")
    ] = None,
) -> None:
    """Create an API token for a user and print it (only now: Steward keeps its hash)."""
    from steward.auth.actor import cli_actor
    from steward.auth.use_cases import accounts as auth

    db = open_database()
    with domain_errors(), db.session() as session:
        token = auth.create_token(session, cli_actor(), user, name, expires_in=expires_in)
    sys.stdout.write(token + "\n")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Argument(help="username (default: every user)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """API tokens: prefix, owner, expiry, last use (never the tokens themselves)."""
    from steward.auth.actor import cli_actor
    from steward.auth.use_cases import accounts as auth

    db = open_database()
    with domain_errors(), db.read_session() as session:
        items = auth.list_tokens(session, cli_actor(), user)
    if json_out:
        print_json(items)
        return
    from steward.cli.render import token_table

    token_table(items)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="the token's id (steward token list)",
                                            min=1, max=2**62)],
    json_out: Annotated[bool, typer.Option("--json", help="print the token as JSON")] = False,
) -> None:
    """Revoke an API token: it is refused from now on."""
    from steward.auth.actor import cli_actor
    from steward.auth.use_cases import accounts as auth

    db = open_database()
    with domain_errors(), db.session() as session:
        auth.revoke_token(session, cli_actor(), token_id)
        item = next(t for t in auth.list_tokens(session, cli_actor()) if t["id"] == token_id)
    if json_out:
        print_json(item)
        return
    console.print(f"Revoked token {item['id']} ({item['prefix']}…) of {item['user']}.",
                  highlight=False)


@catalog_app.command("import")
def catalog_import(
    paths: Annotated[list[Path], typer.Argument(help="Backstage catalog files or folders")],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid",
                                               help="import the valid entities anyway")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="list every skipped file and document")] = False,
) -> None:
    """Import Backstage catalog YAML (files or folders, such as a repository). Safe to repeat.

    Scaffolder skeletons, YAML files that are no catalog files and kinds Steward does not model
    are skipped and counted; relations to entities outside the files are listed as unresolved.
    """
    from steward.auth.actor import cli_actor
    from steward.catalog.use_cases.backstage_import import import_catalog

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    db = open_database()
    with domain_errors():
        report = import_catalog(db, cli_actor(), paths, skip_invalid=skip_invalid)
    if json_out:
        print_json(report.as_dict())
    else:
        for error in report.errors:
            console.print(f"[red]invalid[/] {error}", highlight=False, soft_wrap=True)
        for skip in report.skips if verbose else []:
            console.print(f"[dim]skipped[/] {skip}", highlight=False, soft_wrap=True)
        for ref in report.unresolved:
            console.print(f"[yellow]unresolved[/] {ref}", highlight=False, soft_wrap=True)
        if report.stored:
            console.print(report.summary(), highlight=False)
        else:
            bad = len({(e.file, e.document) for e in report.errors})
            console.print(f"Nothing imported: {len(report.errors)} problem(s) in {bad} "
                          "document(s); fix them or pass --skip-invalid.", highlight=False)
    if report.errors and not report.stored:
        raise typer.Exit(1)


@app.command()
def impact(
    names: Annotated[list[str], typer.Argument(help="failing services")],
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """What goes down or degrades when these services fail."""
    from steward.catalog.graph import impact_of
    from steward.catalog.impact import result_as_dict

    db = open_database()
    with domain_errors(), db.read_session() as session:
        result = result_as_dict(impact_of(session, names))
    if json_out:
        print_json(result)
        return
    from steward.cli.render import impact_table

    impact_table(result)


@integration_app.command("create")
def integration_create(
    type: Annotated[str, typer.Option("--type", help="github, gitlab, cdevents, pagerduty, "
                                      "alertmanager, grafana or generic")],
    service: Annotated[str | None, typer.Option(help="the service its events are for")] = None,
    team: Annotated[str | None, typer.Option(help="the team it belongs to")] = None,
    name: Annotated[str, typer.Option(help="a label")] = "",
) -> None:
    """Create an integration and print only its secret (shown once)."""
    from steward.auth.actor import cli_actor
    from steward.auth.use_cases.integrations import create_integration

    db = open_database()
    with domain_errors(), db.session() as session:
        _, key = create_integration(session, cli_actor(), type, service=service, team=team,
                                    name=name)
    sys.stdout.write(key + "\n")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exits 1 and names the first bad entry."""
    from steward.audit.service import verify

    db = open_database()
    with db.read_session() as session:
        result = verify(session)
    if result.ok:
        console.print(f"Audit log intact: {result.entries} entries verified.")
        return
    fail(f"audit log tampered: {result.problem} (first bad entry: {result.first_bad_seq})")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(help="entries to show")] = 20,
    entity_type: Annotated[str | None, typer.Option(help="e.g. service, team")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """The most recent audit entries."""
    from steward.audit.service import entry_out, list_entries

    db = open_database()
    with db.read_session() as session:
        _, entries = list_entries(session, entity_type=entity_type, limit=limit)
        items = [entry_out(e) for e in entries]
    if json_out:
        print_json(items)
        return
    from steward.cli.render import audit_table

    audit_table(items)


if __name__ == "__main__":  # pragma: no cover
    app()

"""Importing a Backstage catalog as a repository holds it: nested catalog-info.yaml files, a
scaffolder Template with its skeleton, kinds Steward does not model, YAML that is no catalog file
and relations to entities described elsewhere. Through the use case, the API, the CLI and the
web page; ``tests/fixtures/backstage-repo`` is the repository (see its README)."""

from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

from helpers import api_client, bearer, make_user
from sqlalchemy import func, select
from typer.testing import CliRunner
from webclient import HTML, sign_in

from steward.audit.models import AuditEntry
from steward.auth.actor import SYSTEM
from steward.auth.models import User
from steward.auth.use_cases.accounts import user_team_names
from steward.catalog.models import Service, Team
from steward.catalog.use_cases.backstage_import import import_catalog
from steward.catalog.use_cases.services import dependencies_of
from steward.cli.main import app
from steward.demo.seed import DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[1] / "fixtures" / "backstage-repo"
TOP = "acme-payments-3f2c1e0"  # the top folder of a GitHub repository download

SKIPPED_BY_REASON = {"kind not modelled": 4, "not a catalog file": 3, "scaffolder skeleton": 2}
SKIPPED_BY_KIND = {"AiResource": 1, "Environment": 1, "Location": 1, "Template": 1}
SKIPPED = {
    (".github/workflows/ci.yaml", 0, "not a catalog file"),
    ("ai/fraud-model.yaml", 1, "kind not modelled"),
    ("catalog-info.yaml", 1, "kind not modelled"),
    ("mkdocs.yml", 0, "not a catalog file"),
    ("resources/payments-db.yaml", 2, "kind not modelled"),
    ("services/checkout/openapi.yaml", 0, "not a catalog file"),
    ("templates/new-service/skeleton/catalog-info.yaml", 0, "scaffolder skeleton"),
    ("templates/new-service/skeleton/mkdocs.yml", 0, "scaffolder skeleton"),
    ("templates/new-service/template.yaml", 1, "kind not modelled"),
}
UNRESOLVED = {
    ("group:default/payments-team", "spec.parent", "group:default/engineering", True),
    ("group:default/platform-team", "spec.parent", "group:default/engineering", True),
    ("group:default/platform-team", "spec.children", "group:default/sre-oncall", True),
    ("user:default/alice", "spec.memberOf", "group:default/guild-architecture", True),
    ("component:default/checkout", "spec.dependsOn", "component:default/fraud-scoring", True),
    ("component:default/checkout", "spec.dependsOn", "airesource:default/fraud-model", False),
    ("component:default/checkout", "spec.consumesApis", "api:default/risk-api", True),
    ("component:default/ledger", "spec.owner", "group:finance/ledger-team", True),
}


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def repo_files() -> list[Path]:
    return sorted(p for p in REPO.rglob("*") if p.is_file())


def zipped(top: str = TOP) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in repo_files():
            archive.write(path, f"{top}/{path.relative_to(REPO).as_posix()}")
    return buffer.getvalue()


def tarred() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(REPO, arcname=TOP)
    return buffer.getvalue()


def assert_the_repository_is_stored(db) -> None:  # type: ignore[no-untyped-def]
    with db.read_session() as session:
        services = {s.name: s for s in session.scalars(select(Service))}
        teams = {t.name: t for t in session.scalars(select(Team))}
        assert set(services) == {"commerce", "payments", "payments-db", "checkout",
                                 "checkout-api", "ledger"}
        assert set(teams) == {"payments-team", "platform-team"}
        # a parent described elsewhere: the team is stored without one
        assert teams["payments-team"].parent_id is None
        assert teams["payments-team"].display_name == "Payments Team"
        # an owner described elsewhere: the service is stored without one
        assert services["ledger"].owner_team_id is None
        assert services["checkout"].owner_team_id == teams["payments-team"].id
        assert services["payments-db"].owner_team_id == teams["platform-team"].id
        # only the dependencies whose both ends are known
        assert {(d["service"], d["type"]) for d in dependencies_of(
            session, services["checkout"].id)} == {("payments-db", "hard")}
        alice = session.scalar(select(User).where(User.username == "alice"))
        assert user_team_names(session, alice.id) == ["payments-team"]
        # nothing of the skeleton (its name would have been "${{ values.name | dump }}")
        assert not any("values" in name for name in services)


def test_a_repository_imports_with_skips_counted_and_dangling_references_listed(db):
    report = import_catalog(db, SYSTEM, [REPO], relative_to=REPO)
    assert report.errors == [] and report.stored and report.left_out == 0
    assert report.skipped_by_reason() == SKIPPED_BY_REASON
    assert report.skipped_by_kind() == SKIPPED_BY_KIND
    assert {(s.file, s.document, s.reason) for s in report.skips} == SKIPPED
    skeleton = next(s for s in report.skips if s.reason == "scaffolder skeleton")
    assert skeleton.detail == "in the skeleton of template:default/new-payments-service"
    assert {(u.entity, u.field, u.ref, u.modelled) for u in report.unresolved} == UNRESOLVED
    assert (report.services.created, report.teams.created, report.users.created,
            report.dependencies.created) == (6, 2, 3, 8)
    assert_the_repository_is_stored(db)
    summary = report.summary()
    assert "skipped: kind not modelled 4, not a catalog file 3, scaffolder skeleton 2" in summary
    assert "kinds not modelled: AiResource 1, Environment 1, Location 1, Template 1" in summary
    assert "unresolved references: 8" in summary


def test_reimporting_the_repository_changes_nothing(db):
    import_catalog(db, SYSTEM, [REPO], relative_to=REPO)
    entries = count(db, AuditEntry)
    again = import_catalog(db, SYSTEM, [REPO], relative_to=REPO)
    assert again.stored and again.errors == []
    assert (again.services.unchanged, again.teams.unchanged, again.users.unchanged,
            again.dependencies.unchanged) == (6, 2, 3, 8)
    assert again.services.created + again.services.updated + again.dependencies.created \
        + again.dependencies.updated + again.dependencies.deleted + again.teams.updated \
        + again.users.updated == 0
    assert len(again.unresolved) == len(UNRESOLVED) and again.skipped_by_reason() \
        == SKIPPED_BY_REASON
    assert count(db, AuditEntry) == entries and count(db, Service) == 6


def test_the_api_takes_the_repository_as_an_archive(db):
    admin = make_user(db, "root", role="admin")
    client = api_client(db)
    headers = {**bearer(admin), "content-type": "application/zip"}
    first = client.post("/api/v1/catalog/import?filename=payments.zip", content=zipped(),
                        headers=headers)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["errors"] == [] and answer["stored"] is True
    assert answer["services"]["created"] == 6
    assert answer["skipped"]["total"] == 9
    assert answer["skipped"]["by_reason"] == SKIPPED_BY_REASON
    assert answer["skipped"]["by_kind"] == SKIPPED_BY_KIND
    assert answer["skipped_kinds"] == 4
    assert {(s["file"], s["document"], s["reason"]) for s in answer["skipped"]["items"]} == {
        (f"{TOP}/{file}", document, reason) for file, document, reason in SKIPPED}
    assert {(u["entity"], u["field"], u["ref"], u["modelled"]) for u in answer["unresolved"]} \
        == UNRESOLVED
    ledger = next(u for u in answer["unresolved"] if u["field"] == "spec.owner")
    assert ledger["file"] == f"{TOP}/services/ledger/catalog-info.yml"
    assert ledger["message"] == (
        f"{TOP}/services/ledger/catalog-info.yml doc 1 component:default/ledger spec.owner: "
        "refers to group:finance/ledger-team, which is neither in these files nor in the catalog")
    assert_the_repository_is_stored(db)
    # the same repository as a tar.gz: the same records, all unchanged
    again = client.post("/api/v1/catalog/import", content=tarred(),
                        headers={**bearer(admin), "content-type": "application/gzip"})
    assert again.status_code == 200, again.text
    assert again.json()["services"] == {"created": 0, "updated": 0, "unchanged": 6,
                                        "deleted": 0}
    assert again.json()["dependencies"]["unchanged"] == 8


def test_the_api_refuses_what_is_no_readable_archive(db):
    admin = make_user(db, "root", role="admin")
    client = api_client(db)
    headers = {**bearer(admin), "content-type": "application/zip"}
    broken = client.post("/api/v1/catalog/import", content=zipped()[:300], headers=headers)
    assert broken.status_code == 422 and "not a readable zip archive" in broken.text
    damaged = bytearray(zipped())
    damaged[80:90] = bytes(10)  # inside the first member's compressed data
    answer = client.post("/api/v1/catalog/import?filename=repo.zip", content=bytes(damaged),
                         headers=headers)
    assert answer.status_code == 422, answer.text
    assert "repo.zip is not a readable zip archive" in answer.text
    assert count(db, Service) == 0


def test_the_cli_imports_the_repository_and_lists_the_unresolved_references(db, monkeypatch):
    monkeypatch.setenv("STEWARD_DATABASE_URL", db.url)
    runner = CliRunner()
    result = runner.invoke(app, ["catalog", "import", str(REPO)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "invalid" not in out
    assert "services: 6 created" in out
    assert "skipped: kind not modelled 4, not a catalog file 3, scaffolder skeleton 2" in out
    lines = result.output.splitlines()
    assert sum(line.startswith("unresolved /") for line in lines) == len(UNRESOLVED)
    assert "spec.owner: refers to group:finance/ledger-team" in out
    verbose = runner.invoke(app, ["catalog", "import", str(REPO), "-v"], catch_exceptions=False)
    assert verbose.exit_code == 0
    assert sum(line.startswith("skipped /") for line in verbose.output.splitlines()) \
        == len(SKIPPED)
    as_json = runner.invoke(app, ["catalog", "import", str(REPO), "--json"],
                            catch_exceptions=False)
    answer = json.loads(as_json.stdout)
    assert answer["services"]["unchanged"] == 6
    assert answer["skipped"]["by_kind"] == SKIPPED_BY_KIND
    assert len(answer["unresolved"]) == len(UNRESOLVED)


def cells(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table class="data" id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no table {table}"
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>",
                                                                   row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def test_the_web_page_shows_skips_and_unresolved_references(db):
    make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "root", landing="/imports/backstage")
    page = client.get("/imports/backstage", headers=HTML)
    assert page.status_code == 200 and 'name="files"' in page.text
    answer = client.post("/imports/backstage", data={"csrf_token": csrf}, headers=HTML,
                         files=[("files", ("payments.zip", zipped(), "application/zip"))])
    assert answer.status_code == 200, answer.text
    assert "<h2 id=\"report-h\">Imported</h2>" in answer.text
    assert cells(answer.text, "import-counts")[2] == ["Services", "6", "0", "0", "0"]
    assert re.search(r'id="skipped-total">9<', answer.text)
    assert {tuple(r) for r in cells(answer.text, "skipped-reasons")} == {
        (reason, str(n)) for reason, n in SKIPPED_BY_REASON.items()}
    assert {tuple(r) for r in cells(answer.text, "skipped-kinds")} == {
        (kind, str(n)) for kind, n in SKIPPED_BY_KIND.items()}
    assert len(cells(answer.text, "skipped-items")) == len(SKIPPED)
    unresolved = cells(answer.text, "unresolved")
    assert {(r[0], r[1], r[2]) for r in unresolved} == {u[:3] for u in UNRESOLVED}
    fraud = next(r for r in unresolved if r[2] == "airesource:default/fraud-model")
    assert fraud[3] == "a kind Steward does not model"
    # two catalog files chosen together: read as one catalog, named by their upload names
    more = client.post("/imports/backstage", data={"csrf_token": csrf}, headers=HTML, files=[
        ("files", ("catalog-info.yaml", (REPO / "catalog-info.yaml").read_bytes(), "text/yaml")),
        ("files", ("groups.yaml", (REPO / "org" / "groups.yaml").read_bytes(), "text/yaml"))])
    assert more.status_code == 200
    assert cells(more.text, "import-counts")[0] == ["Teams", "0", "0", "2", "0"]
    assert ["catalog-info.yaml", "1", "location:default/payments-monorepo",
            "kind not modelled (Steward does not model the kind Location)"] \
        in cells(more.text, "skipped-items")
    assert count(db, Service) == 6


def test_the_web_page_shows_invalid_entities_and_stores_nothing(db):
    make_user(db, "root", role="admin", password=DEMO_PASSWORD)
    client = api_client(db)
    csrf = sign_in(client, "root", landing="/imports/backstage")
    bad = (b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: billing}\n"
           b"spec: {type: service, lifecycle: production}\n")
    answer = client.post("/imports/backstage", data={"csrf_token": csrf}, headers=HTML,
                         files=[("files", ("billing.yaml", bad, "text/yaml"))])
    assert answer.status_code == 422 and "Nothing imported" in answer.text
    assert cells(answer.text, "import-errors") == [
        ["billing.yaml", "1", "component:default/billing", "spec.owner", "is required"]]
    none = client.post("/imports/backstage", data={"csrf_token": csrf}, headers=HTML)
    assert none.status_code == 422 and "files: choose catalog files" in none.text
    assert count(db, Service) == 0

"""Importing Backstage catalog files into the stored catalog."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import make_service, make_team
from sqlalchemy import func, select

from steward.audit.models import AuditEntry
from steward.audit.service import verify
from steward.auth.actor import SYSTEM, Actor
from steward.auth.models import User
from steward.auth.use_cases.accounts import user_team_names
from steward.catalog.graph import impact_of
from steward.catalog.models import Service, Team
from steward.catalog.use_cases.backstage_import import import_catalog
from steward.catalog.use_cases.services import dependencies_of
from steward.errors import PermissionDenied

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "backstage"
# The artist example of Backstage's own catalog-model examples: consistent on its own.
ARTISTS = [FIXTURES / "acme" / "team-a-group.yaml",
           FIXTURES / "components" / "artist-lookup-component.yaml",
           FIXTURES / "components" / "www-artist-component.yaml",
           FIXTURES / "resources" / "artists-db-resource.yaml",
           FIXTURES / "systems" / "artist-engagement-portal-system.yaml",
           FIXTURES / "domains" / "artists-domain.yaml"]


def count(db, model):
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_backstage_examples_import_with_teams_owners_and_dependencies(db, tmp_path):
    # team-a's parent (backstage) is not part of this set: give it a stored team.
    make_team(db, "backstage")
    report = import_catalog(db, SYSTEM, ARTISTS)
    assert report.errors == [] and report.stored
    assert report.services.created == 5 and report.teams.created == 1
    assert report.users.created == 5
    with db.read_session() as session:
        services = {s.name: s for s in session.scalars(select(Service))}
        team_a = session.scalar(select(Team).where(Team.name == "team-a"))
        assert team_a.parent_id == session.scalar(select(Team.id).where(Team.name == "backstage"))
        assert {s.owner_team_id for s in services.values()} == {team_a.id}
        assert services["artists"].kind == "business_service"
        assert services["artist-engagement-portal"].kind == "system"
        assert services["artists-db"].kind == "resource"
        assert services["artist-lookup"].lifecycle == "experimental"
        assert services["artist-lookup"].annotations["buildkite.com/project-slug"]
        deps = {name: {(d["service"], d["type"]) for d in dependencies_of(session, s.id)}
                for name, s in services.items()}
        assert deps["artist-lookup"] == {("artists-db", "hard")}
        assert deps["www-artist"] == {("artist-lookup", "hard")}
        assert deps["artist-engagement-portal"] == {
            ("artist-lookup", "soft"), ("www-artist", "soft"), ("artists-db", "soft")}
        assert deps["artists"] == {("artist-engagement-portal", "soft")}
        # Users from both namespaces, with their team.
        guests = sorted(u.username for u in session.scalars(
            select(User).where(User.username.like("%guest"))))
        assert guests == ["development-guest", "guest"]
        breanna = session.scalar(select(User).where(User.username == "breanna.davison"))
        assert user_team_names(session, breanna.id) == ["team-a"]
        result = impact_of(session, ["artists-db"])
        assert {a.name: a.state for a in result.affected.values()} == {
            "artists-db": "down", "artist-lookup": "down", "www-artist": "down",
            "artist-engagement-portal": "degraded", "artists": "degraded"}


def test_reimport_is_idempotent(db):
    make_team(db, "backstage")
    import_catalog(db, SYSTEM, ARTISTS)
    entries = count(db, AuditEntry)
    again = import_catalog(db, SYSTEM, ARTISTS)
    assert (again.services.created, again.services.updated, again.services.unchanged) == (0, 0, 5)
    assert (again.dependencies.created, again.dependencies.unchanged) == (0, 6)
    assert again.teams.unchanged == 1 and again.users.unchanged == 5
    assert count(db, AuditEntry) == entries
    assert count(db, Service) == 5


def test_changed_file_updates_and_removes_what_it_no_longer_says(db, tmp_path):
    make_team(db, "backstage")
    folder = tmp_path / "catalog"
    folder.mkdir()
    for path in ARTISTS:
        shutil.copy(path, folder / path.name)
    import_catalog(db, SYSTEM, [folder])
    lookup = folder / "artist-lookup-component.yaml"
    text = lookup.read_text()
    text = text.replace("lifecycle: experimental", "lifecycle: production")
    text = text.replace("  dependsOn: ['resource:artists-db']\n", "")
    lookup.write_text(text)
    report = import_catalog(db, SYSTEM, [folder])
    assert report.services.updated == 1 and report.services.unchanged == 4
    assert report.dependencies.deleted == 1
    with db.read_session() as session:
        service = session.scalar(select(Service).where(Service.name == "artist-lookup"))
        assert service.lifecycle == "production"
        assert dependencies_of(session, service.id) == []
        assert verify(session).ok


def test_references_outside_the_files_are_listed_and_the_entities_imported(db):
    # Backstage's examples point at groups, APIs and components they do not include.
    report = import_catalog(db, SYSTEM, [FIXTURES])
    assert report.errors == [] and report.stored
    unresolved = {(u.entity, u.field, u.ref) for u in report.unresolved}
    assert ("component:default/petstore", "spec.owner", "group:default/sre") in unresolved
    assert ("api:default/petstore", "spec.owner", "group:default/team-c") in unresolved
    assert ("group:default/backstage", "spec.parent", "group:default/infrastructure") \
        in unresolved
    assert not any(u.ref == "group:default/team-a" for u in report.unresolved)
    with db.read_session() as session:
        owners = dict(session.execute(
            select(Service.name, Service.owner_team_id)).all())
        team_names = dict(session.execute(select(Team.id, Team.name)).all())
        backstage = session.scalar(select(Team).where(Team.name == "backstage"))
        assert backstage.parent_id is None
    # stored without the owner it names; "example" is owned by user:guest, so by guest's team
    assert owners["petstore"] is None and owners["petstore-api"] is None
    assert team_names[owners["example"]] == "team-a"
    assert team_names[owners["different-namespace"]] == "team-a"
    # a reference that resolves once its target is stored is no longer listed
    make_team(db, "sre")
    again = import_catalog(db, SYSTEM, [FIXTURES])
    assert not any(u.ref == "group:default/sre" for u in again.unresolved)
    with db.read_session() as session:
        petstore = session.scalar(select(Service).where(Service.name == "petstore"))
        assert petstore.owner_team_id == session.scalar(
            select(Team.id).where(Team.name == "sre"))


def invalid_catalog(folder: Path) -> Path:
    folder.mkdir()
    for path in ARTISTS:
        shutil.copy(path, folder / path.name)
    (folder / "billing.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: billing}\n"
        "spec: {type: service}\n")
    return folder


def test_invalid_input_lists_every_bad_entity_and_stores_nothing(db, tmp_path):
    make_team(db, "backstage")
    entries = count(db, AuditEntry)
    report = import_catalog(db, SYSTEM, [invalid_catalog(tmp_path / "catalog")])
    assert not report.stored
    assert {(e.entity, e.field, e.reason) for e in report.errors} == {
        ("component:default/billing", "spec.lifecycle", "is required"),
        ("component:default/billing", "spec.owner", "is required")}
    assert count(db, Service) == 0 and count(db, Team) == 1 and count(db, AuditEntry) == entries


def test_skip_invalid_imports_the_rest(db, tmp_path):
    make_team(db, "backstage")
    report = import_catalog(db, SYSTEM, [invalid_catalog(tmp_path / "catalog")],
                            skip_invalid=True)
    assert report.stored and len(report.errors) == 2 and report.left_out == 1
    assert report.services.created == 5
    with db.read_session() as session:
        assert session.scalar(select(Service).where(Service.name == "billing")) is None


def test_malformed_yaml_is_reported_with_file_and_nothing_stored(db, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: ops}\n"
                    "spec: {type: team, children: []}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
                   "  name: [unclosed\n")
    report = import_catalog(db, SYSTEM, [tmp_path])
    assert not report.stored
    assert any("bad.yaml" in str(e) for e in report.errors)
    assert count(db, Team) == 0


def test_manual_service_with_same_name_is_adopted(db, tmp_path):
    make_team(db, "team-a")
    make_team(db, "backstage")
    make_service(db, "artists-db", owner="team-a", kind="resource", tier=1)
    report = import_catalog(db, SYSTEM, ARTISTS)
    assert report.errors == []
    assert report.services.created == 4 and report.services.updated == 1
    assert count(db, Service) == 5


def test_name_taken_by_another_entity_is_an_error(db, tmp_path):
    make_team(db, "backstage")
    import_catalog(db, SYSTEM, ARTISTS)
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
                     "  name: artists-db\n  namespace: other\nspec: {type: service, "
                     "lifecycle: production, owner: group:default/team-a}\n")
    report = import_catalog(db, SYSTEM, [other])
    # Outside the default namespace the name gets no prefix unless it collides in the
    # files, so it meets the stored artists-db of the default namespace.
    assert not report.stored
    assert any("already used by resource:default/artists-db" in str(e) for e in report.errors)


def test_only_admins_import(db):
    member = Actor(kind="user", id="1", name="m", role="member")
    with pytest.raises(PermissionDenied):
        import_catalog(db, member, ARTISTS)


def test_import_through_the_api(db):
    from helpers import api_client, bearer, make_user

    make_team(db, "backstage")
    admin = make_user(db, "root", role="admin")
    member = make_user(db, "m", role="member", teams=["backstage"])
    body = "\n---\n".join(path.read_text() for path in ARTISTS)
    client = api_client(db)
    headers = {**bearer(admin), "content-type": "application/yaml"}
    assert client.post("/api/v1/catalog/import", content=body,
                       headers={**bearer(member), "content-type": "application/yaml"}
                       ).status_code == 403
    first = client.post("/api/v1/catalog/import", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["services"]["created"] == 5
    again = client.post("/api/v1/catalog/import", content=body, headers=headers).json()
    assert again["services"]["unchanged"] == 5
    broken = client.post("/api/v1/catalog/import", headers=headers,
                         content="kind: Component\nmetadata: {name: x}\n")
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["file"] == "body"
    empty = client.post("/api/v1/catalog/import", content=b"  ", headers=headers)
    assert empty.status_code == 422 and "body" in empty.text


def test_nul_in_a_catalog_file_is_an_error_and_a_long_title_is_shortened(db, tmp_path):
    long_title = " ".join(["Payments"] * 60)  # 539 characters: longer than any display name
    (tmp_path / "catalog.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: pay\n"
        f"  title: {long_title}\nspec:\n  type: team\n  children: []\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\n"
        f"  title: {long_title}\nspec:\n  type: service\n  lifecycle: production\n"
        "  owner: pay\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\n"
        '  description: "nul \\0 here"\nspec:\n  type: service\n  lifecycle: production\n'
        "  owner: pay\n")
    refused = import_catalog(db, SYSTEM, [tmp_path / "catalog.yaml"])
    assert not refused.stored
    assert [(e.field, e.reason) for e in refused.errors] == [
        ("metadata.description", "must not contain NUL characters")]
    report = import_catalog(db, SYSTEM, [tmp_path / "catalog.yaml"], skip_invalid=True)
    assert report.stored and report.services.created == 1 and report.teams.created == 1
    with db.read_session() as session:
        team = session.scalar(select(Team).where(Team.name == "pay"))
        service = session.scalar(select(Service).where(Service.name == "ledger"))
        assert len(team.display_name) <= 200 and team.display_name.endswith("\u2026")
        assert len(service.display_name) <= 300 and service.display_name.endswith("\u2026")

"""Which YAML files of a tree are read as Backstage entities (pure, except the upload test)."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

from sqlalchemy import select

from steward.auth.actor import SYSTEM
from steward.catalog.backstage import load_catalog, plan_import
from steward.catalog.models import Service
from steward.catalog.use_cases.backstage_upload import Upload, archive_kind, import_uploads


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


COMPONENT = """
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: {name}
    spec:
      type: service
      lifecycle: production
      owner: {owner}
"""


def component(name: str, owner: str = "team-a") -> str:
    return textwrap.dedent(COMPONENT.format(name=name, owner=owner)).lstrip("\n")


def skips(folder: Path, *paths: Path) -> set[tuple[str, int, str]]:
    parsed = load_catalog(list(paths) or [folder], relative_to=folder)
    return {(s.file, s.document, s.reason) for s in parsed.skips}


def test_template_expressions_make_a_skeleton_even_without_its_template(tmp_path: Path) -> None:
    # The Template lives in another repository; its skeleton is here.
    write(tmp_path, "skeleton/catalog-info.yaml", component("${{ values.name }}",
                                                          "${{ values.owner | dump }}"))
    write(tmp_path, "skeleton/conditional.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: x
        spec:
        {%- if values.owner %}
          owner: ${{ values.owner }}
        {%- endif %}
    """)
    write(tmp_path, "cookiecutter/catalog-info.yaml", component('"{{ cookiecutter.name }}"'))
    write(tmp_path, "real/catalog-info.yaml", component("billing"))
    parsed = load_catalog([tmp_path], relative_to=tmp_path)
    assert parsed.errors == []
    assert [e.ref for e in parsed.entities] == ["component:default/billing"]
    found = {(s.file, s.document, s.reason, s.detail) for s in parsed.skips}
    assert found == {
        ("cookiecutter/catalog-info.yaml", 1, "scaffolder skeleton",
         "template expressions: a file to render, not an entity"),
        ("skeleton/catalog-info.yaml", 1, "scaffolder skeleton",
         "template expressions: a file to render, not an entity"),
        ("skeleton/conditional.yaml", 0, "scaffolder skeleton",
         "template syntax, not YAML until rendered"),
    }


def test_a_template_with_its_entities_in_one_file(tmp_path: Path) -> None:
    # The Template's own expressions do not make the Component beside it a skeleton.
    write(tmp_path, "catalog-info.yaml", textwrap.dedent("""
        apiVersion: scaffolder.backstage.io/v1beta3
        kind: Template
        metadata: {name: new-app}
        spec:
          steps:
            - action: fetch:template
              input: {url: ./, values: {name: "${{ parameters.name }}"}}
    """) + "---\n" + component("billing"))
    write(tmp_path, "docs/catalog-info.yaml", component("docs-site"))
    parsed = load_catalog([tmp_path], relative_to=tmp_path)
    # "url: ./" would make the Template's own folder its skeleton: that is not taken as one
    assert [e.ref for e in parsed.entities] == ["component:default/billing",
                                                "component:default/docs-site"]
    assert {(s.file, s.document, s.kind) for s in parsed.skips} == {
        ("catalog-info.yaml", 1, "Template")}


def test_skeleton_folders_are_those_a_template_fetches(tmp_path: Path) -> None:
    write(tmp_path, "templates/node/template.yaml", """
        apiVersion: scaffolder.backstage.io/v1beta3
        kind: Template
        metadata: {name: node, namespace: tools}
        spec:
          steps:
            - action: fetch:plain
              input: {url: ../../skeletons/node}
            - action: fetch:template:file
              input: {url: ./extra/catalog-info.yaml}
            - action: fetch:template
              input: {url: https://github.com/acme/skeletons/tree/main/python}
            - action: fetch:template
              input: {url: "${{ parameters.skeleton }}"}
    """)
    # no expressions: only the Template's steps say these are skeletons
    write(tmp_path, "skeletons/node/catalog-info.yaml", component("placeholder"))
    write(tmp_path, "templates/node/extra/catalog-info.yaml", component("extra"))
    write(tmp_path, "templates/node/extra/other.yaml", component("kept"))
    parsed = load_catalog([tmp_path], relative_to=tmp_path)
    assert parsed.errors == []
    assert [e.ref for e in parsed.entities] == ["component:default/kept"]
    assert {(s.file, s.reason, s.detail) for s in parsed.skips if s.document == 0} == {
        ("skeletons/node/catalog-info.yaml", "scaffolder skeleton",
         "in the skeleton of template:tools/node"),
        ("templates/node/extra/catalog-info.yaml", "scaffolder skeleton",
         "in the skeleton of template:tools/node")}


def test_yaml_that_is_no_catalog_file_is_skipped_in_a_folder_but_not_when_named(
        tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/ci.yml", """
        on: [push]
        jobs:
          test:
            runs-on: ubuntu-latest
            steps: [{run: "echo ${{ github.sha }}"}]
    """)
    values = write(tmp_path, "deploy/values.yaml", "replicas: 3\nimage: {tag: v1}\n")
    write(tmp_path, "empty.yaml", "# nothing yet\n")
    write(tmp_path, "catalog-info.yaml", component("billing"))
    assert skips(tmp_path) == {(".github/workflows/ci.yml", 0, "not a catalog file"),
                               ("deploy/values.yaml", 0, "not a catalog file")}
    named = load_catalog([values])
    assert {(e.document, e.field) for e in named.errors} == {
        (1, "apiVersion"), (1, "kind"), (1, "metadata")}


def test_malformed_yaml_is_an_error_in_a_catalog_file_only(tmp_path: Path) -> None:
    write(tmp_path, "a/catalog-info.yaml", "metadata:\n  name: [unclosed\n")
    write(tmp_path, "b/services.yaml", "apiVersion: backstage.io/v1alpha1\nkind: [Component\n")
    write(tmp_path, "c/mixed.yaml", component("first") + "---\nowner: [x\n")
    write(tmp_path, "d/fixture.yaml", "broken: [yaml\n")
    parsed = load_catalog([tmp_path], relative_to=tmp_path)
    assert {(e.file, e.document) for e in parsed.errors} == {
        ("a/catalog-info.yaml", 1), ("b/services.yaml", 1), ("c/mixed.yaml", 2)}
    assert all(e.reason.startswith("invalid YAML at line") for e in parsed.errors)
    assert [e.ref for e in parsed.entities] == ["component:default/first"]
    assert {(s.file, s.reason) for s in parsed.skips} == {("d/fixture.yaml", "not a catalog file")}


def test_a_document_without_kind_in_a_catalog_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "catalog-info.yaml", component("billing") + "---\nmetadata: {name: x}\n")
    parsed = load_catalog([tmp_path])
    assert {(e.document, e.field) for e in parsed.errors} == {(2, "apiVersion"), (2, "kind")}
    assert parsed.skips == []


def test_installed_packages_and_git_internals_are_not_walked(tmp_path: Path) -> None:
    write(tmp_path, "node_modules/some-lib/catalog-info.yaml", component("some-lib"))
    write(tmp_path, ".git/catalog-info.yaml", component("git-internal"))
    write(tmp_path, "catalog-info.yaml", component("web"))
    parsed = load_catalog([tmp_path])
    assert [e.ref for e in parsed.entities] == ["component:default/web"]
    assert parsed.skips == [] and parsed.errors == []


def test_depends_on_a_kind_steward_does_not_model_is_unresolved(tmp_path: Path) -> None:
    write(tmp_path, "catalog-info.yaml", component("web") + """
  dependsOn: [airesource:fraud-model, environment:default/prod, resource:db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: api}
spec: {type: service, lifecycle: production, owner: team-a, dependsOn: [group:team-a]}
""")
    parsed = load_catalog([tmp_path])
    # a kind Steward models but that is no service is still an error
    assert [(e.entity, e.field, e.reason) for e in parsed.errors] == [
        ("component:default/api", "spec.dependsOn[0]",
         "group:default/team-a is not a Component or Resource or API or System or Domain")]
    plan = plan_import(parsed)
    assert [(u.ref, u.modelled, u.reason) for u in plan.unresolved
            if u.field == "spec.dependsOn"] == [
        ("airesource:default/fraud-model", False,
         "refers to airesource:default/fraud-model, of a kind Steward does not model"),
        ("environment:default/prod", False,
         "refers to environment:default/prod, of a kind Steward does not model"),
        ("resource:default/db", True,
         "refers to resource:default/db, which is neither in these files nor in the catalog")]


def test_archives_are_told_by_their_bytes() -> None:
    assert archive_kind(b"PK\x03\x04rest") == "zip"
    assert archive_kind(b"\x1f\x8b\x08rest") == "tar"
    assert archive_kind(b"apiVersion: backstage.io/v1alpha1\n") is None


def test_an_archive_writes_nothing_outside_and_reads_only_yaml(db) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("repo/catalog-info.yaml", component("web"))
        archive.writestr("repo/../../escaped.yaml", component("escaped"))
        archive.writestr("/abs.yaml", component("absolute"))
        archive.writestr("repo/node_modules/x/catalog-info.yaml", component("installed"))
        archive.writestr("repo/catalog-info.json", "{}")
    report = import_uploads(db, SYSTEM, [Upload("repo.zip", buffer.getvalue())])
    assert report.errors == [] and report.stored
    # only repo/catalog-info.yaml: not the members outside the archive's folder, nor the
    # installed package, nor the JSON
    with db.read_session() as session:
        assert list(session.scalars(select(Service.name))) == ["web"]
    assert [u.file for u in report.unresolved] == ["repo/catalog-info.yaml"]  # owner team-a

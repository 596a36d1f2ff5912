"""Parsing and import planning of Backstage catalog files (pure: no database).

``tests/fixtures/backstage`` holds unmodified example files from the Backstage repository (see its
README); other inputs are written to a temporary folder by each test.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from steward.catalog.backstage import (
    EntityError,
    EntityRef,
    ImportPlan,
    ParsedCatalog,
    format_ref,
    load_catalog,
    parse_ref,
    plan_import,
)
from steward.catalog.backstage_refs import RefError, link_type

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "backstage"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def component(
    name: str,
    *,
    owner: str = "team-a",
    extra_spec: str = "",
    annotations: str = "",
    kind: str = "Component",
    namespace: str | None = None,
) -> str:
    """One YAML document; ``extra_spec``/``annotations`` are YAML lines (no indentation)."""
    meta = f"  namespace: {namespace}\n" if namespace else ""
    if annotations:
        meta += (
            "  annotations:\n"
            + textwrap.indent(textwrap.dedent(annotations).strip(), "    ")
            + "\n"
        )
    spec = (
        "  type: service\n  lifecycle: production\n"
        if kind == "Component"
        else "  type: database\n"
    )
    spec += f"  owner: {owner}\n"
    if extra_spec:
        spec += textwrap.indent(textwrap.dedent(extra_spec).strip(), "  ") + "\n"
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\n{meta}"
        f"spec:\n{spec}"
    )


def docs(*documents: str) -> str:
    return "---\n".join(documents)


def by_ref(parsed: ParsedCatalog) -> dict:
    return {e.ref: e for e in parsed.entities}


def edges(plan: ImportPlan) -> dict[tuple[str, str], str]:
    return {(d.from_ref, d.to_ref): d.type for d in plan.dependencies}


def rel(path: str) -> str:
    return Path(path).relative_to(FIXTURES).as_posix()


# --- the Backstage example files -------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> ParsedCatalog:
    return load_catalog([FIXTURES])


@pytest.fixture(scope="module")
def example_plan(examples: ParsedCatalog) -> ImportPlan:
    return plan_import(examples)


def test_examples_parse_without_errors_and_count_each_kind(examples: ParsedCatalog) -> None:
    assert examples.errors == []
    assert Counter(e.kind for e in examples.entities) == {
        "group": 3,
        "user": 5,
        "component": 5,
        "api": 1,
        "resource": 1,
        "system": 1,
        "domain": 1,
    }
    # the Location in acme/org.yaml
    assert [(rel(s.file), s.document, s.entity, s.reason, s.kind) for s in examples.skips] == [
        ("acme/org.yaml", 2, "location:default/example-groups", "kind not modelled", "Location")]


def test_folders_are_walked_recursively_in_sorted_order(examples: ParsedCatalog) -> None:
    files = list(dict.fromkeys(rel(e.file) for e in examples.entities))
    assert files == [
        "acme/backstage-group.yaml",
        "acme/org.yaml",
        "acme/team-a-group.yaml",
        "apis/petstore-api.yaml",
        "components/artist-lookup-component.yaml",
        "components/different-namespace.yaml",
        "components/petstore-component.yaml",
        "components/searcher-component.yaml",
        "components/www-artist-component.yaml",
        "domains/artists-domain.yaml",
        "resources/artists-db-resource.yaml",
        "systems/artist-engagement-portal-system.yaml",
    ]
    # a file given by name is read as well as a folder, without reading anything twice
    again = load_catalog([FIXTURES / "apis" / "petstore-api.yaml", FIXTURES / "apis"])
    assert [e.ref for e in again.entities] == ["api:default/petstore"]


def test_multi_document_file_numbers_documents(examples: ParsedCatalog) -> None:
    team_a = [e for e in examples.entities if rel(e.file) == "acme/team-a-group.yaml"]
    assert [(e.document, e.ref) for e in team_a] == [
        (1, "group:default/team-a"),
        (2, "user:default/breanna.davison"),
        (3, "user:default/janelle.dawe"),
        (4, "user:default/nigel.manning"),
        (5, "user:default/guest"),
        (6, "user:development/guest"),
    ]


def test_owner_refs_resolve_like_backstage(examples: ParsedCatalog) -> None:
    entities = by_ref(examples)
    assert entities["component:default/artist-lookup"].owner == EntityRef(
        "group", "default", "team-a"
    )
    assert entities["component:default/example"].owner == EntityRef("user", "default", "guest")
    # an explicit namespace wins over the entity's own ("alternative")
    assert entities["component:alternative/different-namespace"].owner == parse_ref(
        "group:default/team-a"
    )
    assert entities["component:default/artist-lookup"].depends_on == [
        parse_ref("resource:default/artists-db")
    ]
    assert entities["component:default/petstore"].provides_apis[0] == EntityRef(
        "api", "default", "petstore"
    )
    assert entities["system:default/artist-engagement-portal"].domain == EntityRef(
        "domain", "default", "artists"
    )
    assert entities["user:development/guest"].member_of == [EntityRef("group", "default", "team-a")]


def test_default_namespace_is_the_referencing_entitys_namespace(tmp_path: Path) -> None:
    write(
        tmp_path,
        "c.yaml",
        component(
            "billing",
            namespace="payments",
            owner="team-a",
            extra_spec="system: money\ndependsOn: [db]",
        ),
    )
    entity = load_catalog([tmp_path]).entities[0]
    assert entity.ref == "component:payments/billing"
    assert entity.owner == EntityRef("group", "payments", "team-a")
    assert entity.system == EntityRef("system", "payments", "money")
    assert entity.depends_on == [EntityRef(None, "payments", "db")]


def test_plan_teams_and_users(example_plan: ImportPlan) -> None:
    teams = {t.ref: t for t in example_plan.teams}
    team_a = teams["group:default/team-a"]
    assert (team_a.name, team_a.display_name, team_a.description) == ("team-a", "team-a", "Team A")
    assert team_a.contacts == {"email": "team-a@example.com"}
    assert team_a.parent_ref == "group:default/backstage"
    assert teams["group:default/backstage"].display_name == "Backstage"
    assert teams["group:default/acme-corp"].parent_ref is None
    users = {u.ref: u for u in example_plan.users}
    janelle = users["user:default/janelle.dawe"]
    assert (janelle.username, janelle.display_name, janelle.email) == (
        "janelle.dawe",
        "Janelle Dawe",
        "janelle-dawe@example.com",
    )
    assert janelle.team_refs == ["group:default/team-a"]
    assert users["user:default/breanna.davison"].display_name == "breanna.davison"
    assert users["user:development/guest"].team_refs == ["group:default/team-a"]


def test_plan_services_kinds_tiers_and_owners(example_plan: ImportPlan) -> None:
    services = {s.ref: s for s in example_plan.services}
    assert {ref: s.kind for ref, s in services.items()} == {
        "api:default/petstore": "api",
        "component:default/artist-lookup": "service",
        "component:alternative/different-namespace": "service",
        "component:default/petstore": "service",
        "component:default/example": "service",
        "component:default/www-artist": "service",
        "domain:default/artists": "business_service",
        "resource:default/artists-db": "resource",
        "system:default/artist-engagement-portal": "system",
    }
    assert services["domain:default/artists"].tier == 2
    assert services["component:default/petstore"].tier == 3
    assert services["component:default/artist-lookup"].lifecycle == "experimental"
    assert services["resource:default/artists-db"].lifecycle == "production"  # no lifecycle given
    assert services["component:default/example"].owner_ref == "user:default/guest"
    assert services["component:default/artist-lookup"].owner_ref == "group:default/team-a"
    assert (
        services["system:default/artist-engagement-portal"].display_name
        == "Artist Engagement Portal"
    )
    assert (
        services["component:default/artist-lookup"].annotations["buildkite.com/project-slug"]
        == "nutrien/digital-k8s"
    )


def test_name_collision_component_keeps_the_plain_name(example_plan: ImportPlan) -> None:
    names = {s.ref: s.name for s in example_plan.services}
    assert names["component:default/petstore"] == "petstore"
    assert names["api:default/petstore"] == "petstore-api"
    assert names["component:alternative/different-namespace"] == "different-namespace"


def test_name_collision_across_namespaces_and_kinds(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        docs(
            component("web", kind="Resource", namespace="other"),
            component("web", namespace="other"),
            component("Web"),
            component("web-resource", kind="Resource"),
        ),
    )
    parsed = load_catalog([tmp_path])
    assert parsed.errors == []
    names = {s.ref: s.name for s in plan_import(parsed).services}
    assert names == {
        "component:default/web": "Web",
        "component:other/web": "other-web",
        "resource:other/web": "other-web-resource",
        "resource:default/web-resource": "web-resource",
    }
    assert names == {s.ref: s.name for s in plan_import(load_catalog([tmp_path])).services}


def test_example_dependencies(example_plan: ImportPlan) -> None:
    deps = edges(example_plan)
    assert deps[("component:default/artist-lookup", "resource:default/artists-db")] == "hard"
    # consumesApis names a component here; nothing provides it, so the consumer depends on it
    assert deps[("component:default/www-artist", "component:default/artist-lookup")] == "hard"
    # an API is down when its provider is
    assert deps[("api:default/petstore", "component:default/petstore")] == "hard"
    # a system degrades when a part fails; a domain when a system does
    assert (
        deps[("system:default/artist-engagement-portal", "component:default/www-artist")] == "soft"
    )
    assert (
        deps[("system:default/artist-engagement-portal", "resource:default/artists-db")] == "soft"
    )
    assert deps[("domain:default/artists", "system:default/artist-engagement-portal")] == "soft"
    dep = next(d for d in example_plan.dependencies if d.field == "spec.domain")
    assert (rel(dep.source_file), dep.document) == (
        "systems/artist-engagement-portal-system.yaml",
        1,
    )


def test_example_unresolved_refs_are_reported_with_their_origin(example_plan: ImportPlan) -> None:
    unresolved = {(u.entity, u.field, u.ref) for u in example_plan.unresolved}
    assert ("component:default/petstore", "spec.owner", "group:default/sre") in unresolved
    assert ("component:default/petstore", "spec.consumesApis", "api:default/searcher") in unresolved
    assert ("group:default/backstage", "spec.parent", "group:default/infrastructure") in unresolved
    assert ("api:default/petstore", "spec.owner", "group:default/team-c") in unresolved
    assert not any(u.ref == "group:default/team-a" for u in example_plan.unresolved)
    sre = next(u for u in example_plan.unresolved if u.ref == "group:default/sre")
    error = sre.error()
    assert (rel(error.file), error.document, error.field) == (
        "components/petstore-component.yaml",
        1,
        "spec.owner",
    )
    assert (
        error.reason
        == "refers to group:default/sre, which is neither in these files nor in the catalog"
    )


def test_links_from_metadata_and_source_location(examples: ParsedCatalog, tmp_path: Path) -> None:
    entities = by_ref(examples)
    assert entities["api:default/petstore"].links == [
        {
            "title": "GitHub Repo",
            "url": "https://github.com/swagger-api/swagger-petstore",
            "type": "repo",
        },
        {
            "title": "API Spec",
            "url": "https://github.com/OAI/OpenAPI-Specification/blob/master/"
            "examples/v3.0/petstore.yaml",
            "type": "other",
        },
    ]
    assert [link["type"] for link in entities["domain:default/artists"].links] == [
        "docs",
        "dashboard",
    ]
    document = component(
        "svc",
        annotations="""
        backstage.io/source-location: url:https://github.com/acme/svc/tree/main/
        github.com/project-slug: acme/svc
    """,
    )
    links = "  links:\n    - {url: 'https://wiki.example.com/x', title: On-call, type: runbook}\n"
    write(tmp_path, "c.yaml", document.replace("spec:\n", links + "spec:\n"))
    svc = load_catalog([tmp_path]).entities[0]
    assert svc.links == [
        {"title": "On-call", "url": "https://wiki.example.com/x", "type": "runbook"},
        {"title": "Source", "url": "https://github.com/acme/svc/tree/main/", "type": "repo"},
    ]
    spec = plan_import(load_catalog([tmp_path])).services[0]
    assert spec.annotations["github.com/project-slug"] == "acme/svc"
    assert link_type("https://gitlab.com/acme/svc") == "repo"
    assert link_type("https://grafana.example.com/d/1", title="Latency dashboard") == "dashboard"
    assert link_type("https://example.com", type_="docs") == "docs"


# --- dependencies ----------------------------------------------------------------------------


def test_consumes_apis_depends_on_the_provider(tmp_path: Path) -> None:
    write(
        tmp_path,
        "apis.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata: {name: orders}
        spec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: ./o.yaml}}
    """,
    )
    write(
        tmp_path,
        "components.yaml",
        docs(
            component("shop", extra_spec="consumesApis: [orders, api:payments]"),
            component("orders-svc", extra_spec="providesApis: [orders]"),
            component("orders-replica", extra_spec="providesApis: [api:default/orders]"),
        ),
    )
    parsed = load_catalog([tmp_path])
    assert parsed.errors == []
    plan = plan_import(parsed)
    deps = edges(plan)
    assert deps[("component:default/shop", "component:default/orders-svc")] == "hard"
    assert deps[("component:default/shop", "component:default/orders-replica")] == "hard"
    assert ("component:default/shop", "api:default/orders") not in deps
    assert deps[("api:default/orders", "component:default/orders-svc")] == "hard"
    # nothing here provides api:payments: the consumer depends on the API, resolved by the caller
    assert deps[("component:default/shop", "api:default/payments")] == "hard"
    unresolved = [(u.ref, u.field) for u in plan.unresolved if u.field != "spec.owner"]
    assert unresolved == [("api:default/payments", "spec.consumesApis")]


def test_depends_on_without_kind_and_dependency_of(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        docs(
            component("api-gw", extra_spec="dependsOn: [shared, elsewhere, Resource:Cache]"),
            component("shared"),
            component("shared", kind="Resource"),
            component(
                "cache", kind="Resource", extra_spec="dependencyOf: [component:api-gw, worker]"
            ),
        ),
    )
    plan = plan_import(load_catalog([tmp_path]))
    deps = edges(plan)
    assert (
        deps[("component:default/api-gw", "component:default/shared")] == "hard"
    )  # components first
    assert deps[("component:default/api-gw", "default/elsewhere")] == "hard"
    assert deps[("component:default/api-gw", "resource:default/cache")] == "hard"  # once, not twice
    assert deps[("default/worker", "resource:default/cache")] == "hard"
    assert sorted((u.ref, u.field) for u in plan.unresolved if u.field != "spec.owner") == [
        ("default/elsewhere", "spec.dependsOn"),
        ("default/worker", "spec.dependencyOf"),
    ]
    assert len(plan.dependencies) == len(deps) == 4


def test_soft_dependencies_annotation(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        docs(
            component(
                "app",
                extra_spec="dependsOn: [resource:db, component:cache]\nconsumesApis: [search]",
                annotations="steward.dev/soft-dependencies: 'cache, api:search'",
            ),
            component("cache"),
            component("search-svc", extra_spec="providesApis: [search]"),
            component("db", kind="Resource"),
            component("other", annotations="steward.dev/soft-dependencies: nothing-here"),
        ),
    )
    plan = plan_import(load_catalog([tmp_path]))
    deps = edges(plan)
    assert deps[("component:default/app", "resource:default/db")] == "hard"
    assert deps[("component:default/app", "component:default/cache")] == "soft"
    assert deps[("component:default/app", "component:default/search-svc")] == "soft"  # via the API
    assert [(e.entity, e.field) for e in plan.errors] == [
        ("component:default/other", "metadata.annotations.steward.dev/soft-dependencies")
    ]
    assert "default/nothing-here is not one of this entity's dependencies" in plan.errors[0].reason


def test_pool_kind_min_up_tier_and_lifecycle(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        docs(
            component(
                "workers",
                kind="Resource",
                extra_spec="dependsOn: [worker-1, worker-2]",
                annotations="steward.dev/kind: pool\nsteward.dev/min-up: '1'\nsteward.dev/tier: 1",
            ),
            component("worker-1", kind="Resource"),
            component("worker-2", kind="Resource"),
            component("web", annotations="steward.dev/kind: business_service").replace(
                "production", "Deprecated"
            ),
        ),
    )
    parsed = load_catalog([tmp_path])
    assert parsed.errors == []
    services = {s.ref: s for s in plan_import(parsed).services}
    pool = services["resource:default/workers"]
    assert (pool.kind, pool.min_up, pool.tier) == ("pool", 1, 1)
    assert (
        edges(plan_import(parsed))[("resource:default/workers", "resource:default/worker-1")]
        == "hard"
    )
    web = services["component:default/web"]
    assert (web.kind, web.tier, web.lifecycle) == ("business_service", 2, "deprecated")


def test_group_members_and_user_member_of_are_united(tmp_path: Path) -> None:
    write(
        tmp_path,
        "org.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: platform, title: Platform Team}
        spec: {type: team, members: [alice, bob], children: [sre]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: sre}
        spec: {type: team, profile: {displayName: SRE, email: sre@example.com}}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: alice}
        spec: {memberOf: [sre], profile: {email: alice@example.com}}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: carol}
        spec: {}
    """,
    )
    plan = plan_import(load_catalog([tmp_path]))
    teams = {t.ref: t for t in plan.teams}
    assert teams["group:default/platform"].display_name == "Platform Team"
    assert teams["group:default/platform"].member_refs == ["user:default/alice", "user:default/bob"]
    assert teams["group:default/sre"].parent_ref == "group:default/platform"  # from children
    assert teams["group:default/sre"].contacts == {"email": "sre@example.com"}
    users = {u.ref: u for u in plan.users}
    assert users["user:default/alice"].team_refs == ["group:default/sre", "group:default/platform"]
    assert users["user:default/carol"].team_refs == []
    assert [(u.ref, u.field) for u in plan.unresolved] == [("user:default/bob", "spec.members")]


# --- errors ----------------------------------------------------------------------------------


def test_malformed_yaml_is_reported_and_other_files_still_parse(tmp_path: Path) -> None:
    write(tmp_path, "a-good.yaml", component("good"))
    bad = write(
        tmp_path, "b-bad.yaml", component("first") + "---\n" + "kind: [Component\nmetadata: x\n"
    )
    write(tmp_path, "c-good.yml", component("also-good"))
    parsed = load_catalog([tmp_path])
    assert [e.ref for e in parsed.entities] == [
        "component:default/good",
        "component:default/first",
        "component:default/also-good",
    ]
    assert len(parsed.errors) == 1
    error = parsed.errors[0]
    assert (error.file, error.document, error.entity, error.field) == (str(bad), 2, None, "")
    assert error.reason.startswith("invalid YAML at line 11")
    assert str(error).startswith(f"{bad} doc 2: invalid YAML at line 11")


def test_every_problem_in_a_file_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "catalog.yaml",
        docs(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            "metadata: {name: foo}\nspec: {type: service}\n",
            component("-bad-name-"),
            component("deps", extra_spec="dependsOn: resource:db"),
            component("tiered", annotations="steward.dev/tier: '7'\nsteward.dev/min-up: 2"),
            "metadata: {name: nameless-kind}\nspec: {}\n",
            component(
                "refs", owner="'component:'", extra_spec="system: group:x\nlifecycle: beta"
            ).replace("  lifecycle: production\n", ""),
            "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: api-1, title: [x]}\n"
            "spec: {type: openapi, lifecycle: production, owner: team-a}\n",
            "- just\n- a list\n",
        ),
    )
    parsed = load_catalog([path])
    found = {(e.document, e.entity, e.field) for e in parsed.errors}
    assert found == {
        (1, "component:default/foo", "spec.lifecycle"),
        (1, "component:default/foo", "spec.owner"),
        (2, "component:default/-bad-name-", "metadata.name"),
        (3, "component:default/deps", "spec.dependsOn"),
        (4, "component:default/tiered", "metadata.annotations.steward.dev/tier"),
        (4, "component:default/tiered", "metadata.annotations.steward.dev/min-up"),
        (5, None, "apiVersion"),
        (5, None, "kind"),
        (6, "component:default/refs", "spec.owner"),
        (6, "component:default/refs", "spec.system"),
        (6, "component:default/refs", "spec.lifecycle"),
        (7, "api:default/api-1", "metadata.title"),
        (7, "api:default/api-1", "spec.definition"),
        (8, None, ""),
    }
    assert all(e.file == str(path) for e in parsed.errors)
    reasons = {(e.document, e.field): e.reason for e in parsed.errors}
    assert reasons[(1, "spec.owner")] == "is required"
    assert "not a valid entity name" in reasons[(2, "metadata.name")]
    assert reasons[(3, "spec.dependsOn")] == "must be a list of entity references, not str"
    assert "not an integer from 1 to 4" in reasons[(4, "metadata.annotations.steward.dev/tier")]
    assert "only applies to a pool" in reasons[(4, "metadata.annotations.steward.dev/min-up")]
    assert "not of the form [<kind>:][<namespace>/]<name>" in reasons[(6, "spec.owner")]
    assert reasons[(6, "spec.system")] == "group:default/x is not a System"
    assert (
        "'beta' is not one of experimental, production, deprecated, retired"
        == reasons[(6, "spec.lifecycle")]
    )
    assert (
        str(next(e for e in parsed.errors if e.document == 1 and e.field == "spec.owner"))
        == f"{path} doc 1 component:default/foo spec.owner: is required"
    )
    # identifiable entities are still listed so that references to them resolve
    assert [e.ref for e in parsed.entities] == [
        "component:default/foo",
        "component:default/deps",
        "component:default/tiered",
        "component:default/refs",
        "api:default/api-1",
    ]


def test_duplicate_entities_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", component("billing"))
    second = write(tmp_path, "b.yaml", docs(component("other"), component("Billing")))
    parsed = load_catalog([tmp_path])
    assert [e.ref for e in parsed.entities] == [
        "component:default/billing",
        "component:default/other",
    ]
    assert [(e.file, e.document, e.entity, e.field) for e in parsed.errors] == [
        (str(second), 2, "component:default/billing", "metadata.name")
    ]
    assert parsed.errors[0].reason == f"duplicate entity: already defined in {first} doc 1"
    assert parse_ref("Component:Default/Billing") == parse_ref("component:billing")
    # the same file named twice (or via its folder) is read once
    assert load_catalog([first, tmp_path]).errors == parsed.errors


def test_kinds_steward_does_not_model_are_skipped_not_errors(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        docs(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "apiVersion: backstage.io/v1alpha1\nkind: Location\n"
            "metadata: {name: x}\nspec: {targets: []}\n",
            "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\n"
            "metadata: {name: t, namespace: tools}\nspec: {}\n",
            "",
            component("ok"),
            "apiVersion: backstage.io/v1alpha1\nkind: Environment\nmetadata: {name: prod}\n",
            "apiVersion: backstage.io/v1alpha1\nkind: environment\nmetadata: {name: dev}\n",
            "apiVersion: backstage.io/v1alpha1\nkind: 7\nmetadata: {name: seven}\n",
        ),
    )
    parsed = load_catalog([tmp_path])
    assert [(s.document, s.entity, s.reason, s.kind) for s in parsed.skips] == [
        (1, "deployment:default/web", "kind not modelled", "Deployment"),
        (2, "location:default/x", "kind not modelled", "Location"),
        (3, "template:tools/t", "kind not modelled", "Template"),
        (6, "environment:default/prod", "kind not modelled", "Environment"),
        (7, "environment:default/dev", "kind not modelled", "environment"),
    ]
    assert str(parsed.skips[0]) == (f"{tmp_path / 'a.yaml'} doc 1 deployment:default/web: "
                                    "kind not modelled (Steward does not model the kind "
                                    "Deployment)")
    assert [e.ref for e in parsed.entities] == ["component:default/ok"]
    assert [e.document for e in parsed.entities] == [5]  # empty documents keep their number
    # a kind that is no text at all is still an error
    assert [(e.document, e.field, e.reason) for e in parsed.errors] == [
        (8, "kind", "must be a string, not int")]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    parsed = load_catalog([tmp_path / "nope.yaml"])
    assert [(e.document, e.reason) for e in parsed.errors] == [(0, "no such file or folder")]
    assert str(parsed.errors[0]) == f"{tmp_path / 'nope.yaml'}: no such file or folder"


def test_object_form_refs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        component(
            "svc",
            owner="{kind: Group, name: Team-X}",
            extra_spec="dependsOn:\n"
            "  - {kind: Resource, namespace: Infra, name: DB}\n"
            "  - {name: plain}",
        ),
    )
    entity = load_catalog([tmp_path]).entities[0]
    assert entity.owner == EntityRef("group", "default", "team-x")
    assert entity.depends_on == [
        EntityRef("resource", "infra", "db"),
        EntityRef(None, "default", "plain"),
    ]
    write(tmp_path, "b.yaml", component("bad", owner="{kind: Group}"))
    errors = load_catalog([tmp_path / "b.yaml"]).errors
    assert [(e.field, e.reason) for e in errors] == [
        ("spec.owner", "an entity reference object needs a name")
    ]


def test_entity_error_str() -> None:
    error = EntityError("catalog.yaml", 3, "component:default/foo", "spec.owner", "is required")
    assert str(error) == "catalog.yaml doc 3 component:default/foo spec.owner: is required"
    assert (
        str(EntityError("c.yaml", 2, None, "kind", "is required"))
        == "c.yaml doc 2 kind: is required"
    )


# --- references ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("foo", EntityRef("group", "ns", "foo")),
        ("user:foo", EntityRef("user", "ns", "foo")),
        ("other/foo", EntityRef("group", "other", "foo")),
        ("Component:Other/Foo", EntityRef("component", "other", "foo")),
        ("ns/a:b", EntityRef("group", "ns", "a:b")),  # a "/" before the ":" makes the rest the name
        ("k:a:b", EntityRef("k", "ns", "a:b")),
        ({"name": "Foo"}, EntityRef("group", "ns", "foo")),
        ({"kind": "API", "namespace": "x", "name": "y"}, EntityRef("api", "x", "y")),
    ],
)
def test_parse_ref(text: object, expected: EntityRef) -> None:
    assert parse_ref(text, "Group", "ns") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "component:",
        ":foo",
        "ns/",
        "/foo",
        "k:/foo",
        7,
        {"kind": "Group"},
        {"name": ""},
        {"name": "x", "extra": 1},
    ],
)
def test_parse_ref_rejects(text: object) -> None:
    with pytest.raises(RefError):
        parse_ref(text, "group", "default")  # type: ignore[arg-type]


def test_parse_ref_without_default_kind_and_format_ref() -> None:
    assert parse_ref("db") == EntityRef(None, "default", "db")
    assert format_ref(parse_ref("db")) == "default/db"
    assert format_ref(EntityRef("resource", "infra", "db")) == "resource:infra/db"
    assert str(parse_ref("Resource:DB")) == "resource:default/db"
    assert format_ref(("API", "Default", "Petstore")) == "api:default/petstore"


def test_a_pool_min_up_beyond_any_pool_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", docs(component(
        "workers", kind="Resource",
        annotations="steward.dev/kind: pool\nsteward.dev/min-up: '100000000000000000000'")))
    parsed = load_catalog([tmp_path])
    assert [(e.field, e.reason) for e in parsed.errors] == [
        ("metadata.annotations.steward.dev/min-up",
         "'100000000000000000000' is not an integer from 1 to 100,000")]

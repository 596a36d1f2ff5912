"""Impact analysis rules: hard, soft, pools, cycles, paths; plus properties."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from steward.catalog.impact import CI, Graph, Link, analyse


def graph(nodes: dict[str, str | tuple[str, int]], links: list[tuple[str, str, str]]) -> Graph:
    cis = []
    for i, (name, spec) in enumerate(nodes.items()):
        kind, min_up = (spec, None) if isinstance(spec, str) else spec
        cis.append(CI(id=i, name=name, kind=kind, team=f"team-{name[0]}", min_up=min_up))
    ids = {ci.name: ci.id for ci in cis}
    return Graph(cis, [Link(ids[a], ids[b], t) for a, b, t in links])


def states(g: Graph, *failing: str, degraded: tuple[str, ...] = ()) -> dict[str, str]:
    result = analyse(g, [g.by_name[f] for f in failing], [g.by_name[d] for d in degraded])
    return {a.name: a.state for a in result.affected.values()}


def test_hard_dependency_failure_takes_dependant_down():
    g = graph({"web": "service", "api": "service", "db": "resource"},
              [("web", "api", "hard"), ("api", "db", "hard")])
    assert states(g, "db") == {"db": "down", "api": "down", "web": "down"}


def test_soft_dependency_failure_only_degrades():
    g = graph({"web": "service", "search": "service", "idx": "resource"},
              [("web", "search", "soft"), ("search", "idx", "hard")])
    assert states(g, "idx") == {"idx": "down", "search": "down", "web": "degraded"}


def test_degradation_spreads_through_hard_and_soft_dependencies():
    g = graph({"shop": "business_service", "web": "service", "cache": "resource",
               "app": "service"},
              [("shop", "web", "hard"), ("web", "cache", "soft"), ("app", "web", "soft")])
    assert states(g, "cache") == {"cache": "down", "web": "degraded", "shop": "degraded",
                                  "app": "degraded"}


def test_pool_survives_until_fewer_than_min_up_members_are_up():
    nodes: dict[str, str | tuple[str, int]] = {
        "site": "service", "pool": ("pool", 2), "n1": "resource", "n2": "resource",
        "n3": "resource"}
    links = [("site", "pool", "hard"), ("pool", "n1", "hard"), ("pool", "n2", "hard"),
             ("pool", "n3", "hard")]
    g = graph(nodes, links)
    assert states(g, "n1") == {"n1": "down", "pool": "degraded", "site": "degraded"}
    assert states(g, "n1", "n2") == {"n1": "down", "n2": "down", "pool": "down", "site": "down"}


def test_pool_member_degraded_degrades_pool_but_keeps_it_up():
    nodes: dict[str, str | tuple[str, int]] = {
        "pool": ("pool", 2), "n1": "resource", "n2": "resource", "disk": "resource"}
    g = graph(nodes, [("pool", "n1", "hard"), ("pool", "n2", "hard"), ("n1", "disk", "soft")])
    assert states(g, "disk") == {"disk": "down", "n1": "degraded", "pool": "degraded"}


def test_cycles_terminate_and_propagate():
    g = graph({"a": "service", "b": "service", "c": "service", "d": "service"},
              [("a", "b", "hard"), ("b", "c", "hard"), ("c", "a", "hard"), ("d", "a", "soft")])
    assert states(g, "c") == {"c": "down", "b": "down", "a": "down", "d": "degraded"}
    assert states(g, "d") == {"d": "down"}


def test_paths_and_business_services_and_teams():
    g = graph({"bank": "business_service", "portal": "system", "api": "api", "db": "resource",
               "other": "service"},
              [("bank", "portal", "hard"), ("portal", "api", "hard"), ("api", "db", "hard")])
    result = analyse(g, [g.by_name["db"]])
    bank = result.affected[g.by_name["bank"]]
    assert bank.path == ("db", "api", "portal", "bank")
    assert bank.reason == "hard dependency portal is down"
    assert [b.name for b in result.business_services] == ["bank"]
    assert result.teams == ["team-a", "team-b", "team-d", "team-p"]
    assert g.by_name["other"] not in result.affected


def test_unknown_and_repeated_failing_ids_are_ignored():
    g = graph({"a": "service"}, [])
    result = analyse(g, [0, 0, 99])
    assert result.failing == ["a"]


def test_a_degraded_service_degrades_what_needs_it_and_downs_nothing():
    g = graph({"shop": "business_service", "web": "service", "api": "service",
               "db": "resource"},
              [("shop", "web", "hard"), ("web", "api", "hard"), ("api", "db", "hard")])
    assert states(g, degraded=("api",)) == {"api": "degraded", "web": "degraded",
                                            "shop": "degraded"}
    result = analyse(g, [], [g.by_name["api"]])
    assert result.failing == [] and result.reported_degraded == ["api"]
    assert result.affected[g.by_name["api"]].reason == "reported degraded"
    assert result.affected[g.by_name["shop"]].path == ("api", "web", "shop")


def test_down_wins_over_degraded_for_the_same_or_a_downstream_service():
    g = graph({"web": "service", "api": "service", "db": "resource"},
              [("web", "api", "hard"), ("api", "db", "hard")])
    assert states(g, "db", degraded=("db", "api")) == {"db": "down", "api": "down",
                                                       "web": "down"}
    assert states(g, "api", degraded=("db",)) == {"api": "down", "web": "down",
                                                  "db": "degraded"}


def test_one_pool_member_down_or_degraded_degrades_the_pool():
    nodes: dict[str, str | tuple[str, int]] = {
        "site": "service", "pool": ("pool", 1), "n1": "resource", "n2": "resource"}
    g = graph(nodes, [("site", "pool", "hard"), ("pool", "n1", "hard"), ("pool", "n2", "hard")])
    assert states(g, "n1") == {"n1": "down", "pool": "degraded", "site": "degraded"}
    assert states(g, degraded=("n2",)) == {"n2": "degraded", "pool": "degraded",
                                           "site": "degraded"}


# -- properties ------------------------------------------------------------------

KINDS = ["service", "resource", "pool", "api"]


@st.composite
def random_graphs(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(min_value=1, max_value=25))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    min_ups = draw(st.lists(st.integers(min_value=1, max_value=3), min_size=n, max_size=n))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.sampled_from(["hard", "soft"])), max_size=60))
    cis = [CI(id=i, name=f"s{i}", kind=kinds[i], min_up=min_ups[i] if kinds[i] == "pool" else None)
           for i in range(n)]
    seen = set()
    links = []
    for a, b, t in edges:
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            links.append(Link(a, b, t))
    failing = draw(st.lists(st.integers(0, n - 1), max_size=4))
    return Graph(cis, links), failing


@st.composite
def random_graphs_with_degraded(draw):  # type: ignore[no-untyped-def]
    g, failing = draw(random_graphs())
    degraded = draw(st.lists(st.integers(0, len(g.cis) - 1), max_size=4))
    return g, failing, degraded


def fixpoint(g: Graph, failing: list[int], degraded: Sequence[int] = ()) -> dict[int, str]:
    """The rules applied naively until nothing changes: a reference to compare with."""
    rank = {"up": 0, "degraded": 1, "down": 2}
    state = {i: "up" for i in g.cis}
    for d in degraded:
        state[d] = "degraded"
    for f in failing:
        state[f] = "down"
    changed = True
    while changed:
        changed = False
        for i, ci in g.cis.items():
            if state[i] == "down":
                continue
            deps = g.dependencies.get(i, [])
            new = "up"
            if ci.kind == "pool":
                members = [state[d] for d, _ in deps]
                up = sum(1 for s in members if s != "down")
                # A pool with fewer members than min_up needs all of them.
                if members and up < min(ci.min_up or 1, len(members)):
                    new = "down"
                elif any(s != "up" for s in members):
                    new = "degraded"
            else:
                if any(state[d] == "down" and t == "hard" for d, t in deps):
                    new = "down"
                elif any(state[d] != "up" for d, _ in deps):
                    new = "degraded"
            if rank[new] > rank[state[i]]:
                state[i] = new
                changed = True
    return {i: s for i, s in state.items() if s != "up"}


@settings(max_examples=300, deadline=None)
@given(random_graphs())
def test_matches_naive_fixpoint_and_paths_are_real(data):  # type: ignore[no-untyped-def]
    g, failing = data
    result = analyse(g, failing)
    assert {i: a.state for i, a in result.affected.items()} == fixpoint(g, failing)
    names_failing = {g.cis[f].name for f in failing}
    for affected in result.affected.values():
        path = affected.path
        assert path[0] in names_failing and path[-1] == affected.name
        assert len(set(path)) == len(path)
        for dependency, dependant in itertools.pairwise(path):
            linked = {d for d, _ in g.dependencies.get(g.by_name[dependant], [])}
            assert g.by_name[dependency] in linked


@settings(max_examples=100, deadline=None)
@given(random_graphs())
def test_more_failures_never_improve_anything(data):  # type: ignore[no-untyped-def]
    g, failing = data
    rank = {"up": 0, "degraded": 1, "down": 2}
    fewer = analyse(g, failing[:-1])
    more = analyse(g, failing)
    for ci_id in g.cis:
        assert rank[more.state_of(ci_id)] >= rank[fewer.state_of(ci_id)]


@settings(max_examples=300, deadline=None)
@given(random_graphs_with_degraded())
def test_degraded_seeds_match_the_naive_fixpoint(data):  # type: ignore[no-untyped-def]
    g, failing, degraded = data
    result = analyse(g, failing, degraded)
    assert {i: a.state for i, a in result.affected.items()} == fixpoint(g, failing, degraded)
    seeds = {g.cis[i].name for i in [*failing, *degraded]}
    for affected in result.affected.values():
        assert affected.path[0] in seeds and affected.path[-1] == affected.name

"""Tests for the pure system map layout / SVG renderer."""

from __future__ import annotations

import itertools
import random
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from steward.web.systemmap import (
    NODE_HEIGHT,
    NODE_WIDTH,
    MapEdge,
    MapNode,
    layout,
    render_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def node(i: int, name: str | None = None, **kw) -> MapNode:
    kw.setdefault("kind", "service")
    kw.setdefault("team", "core")
    return MapNode(id=i, name=name or f"svc-{i}", **kw)


def href(n: MapNode) -> str:
    return f"/services/{n.id}?tab=deps&name={n.name}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def node_groups(root: ET.Element) -> dict[str, ET.Element]:
    out = {}
    for g in root.iter(f"{SVG}g"):
        if "node" in g.get("class", "").split():
            out[g.get("data-service")] = g
    return out


def edge_paths(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if "edge" in p.get("class", "").split()]


def text_of(el: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in el.iter(f"{SVG}text"))


def assert_no_overlap(lay) -> None:
    boxes = sorted(lay.positions.values(), key=lambda p: (p[1], p[0]))
    for (x1, y1), (x2, y2) in itertools.pairwise(boxes):
        if y1 == y2:
            assert x2 - x1 >= NODE_WIDTH
        else:
            assert y2 - y1 >= NODE_HEIGHT
    for x, y in lay.positions.values():
        assert 0 <= x and x + NODE_WIDTH <= lay.width
        assert 0 <= y and y + NODE_HEIGHT <= lay.height


# --------------------------------------------------------------------------- layout


@st.composite
def random_dags(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    ids = draw(st.permutations(list(range(100, 100 + n))))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1])
    raw = draw(st.lists(pairs, max_size=60)) if n > 1 else []
    types = draw(st.lists(st.sampled_from(["hard", "soft"]), min_size=len(raw), max_size=len(raw)))
    # topological order index i < j: ids[i] depends on ids[j]
    nodes = [node(ids[i]) for i in range(n)]
    edges = [MapEdge(ids[a], ids[b], t) for (a, b), t in zip(raw, types, strict=True)]
    return nodes, edges


@given(random_dags())
@settings(max_examples=150, deadline=None)
def test_dependant_is_always_above_its_dependency_on_a_dag(graph):
    nodes, edges = graph
    lay = layout(nodes, edges)
    assert set(lay.positions) == {n.id for n in nodes}
    for e in edges:
        assert lay.positions[e.dependant][1] < lay.positions[e.dependency][1]
        assert lay.row_of[e.dependant] < lay.row_of[e.dependency]
    assert_no_overlap(lay)
    # rows are consistent with positions
    assert sorted(i for row in lay.rows for i in row) == sorted(n.id for n in nodes)


@st.composite
def random_graphs(draw):
    n = draw(st.integers(min_value=1, max_value=20))
    pairs = st.tuples(st.integers(0, n + 1), st.integers(0, n + 1))  # may hit unknown ids
    raw = draw(st.lists(pairs, max_size=60))
    nodes = [node(i) for i in range(n)]
    return nodes, [MapEdge(a, b, "hard") for a, b in raw]


def _reaches(edges, n_ids):
    adj = {i: set() for i in n_ids}
    for e in edges:
        if e.dependant in adj and e.dependency in adj:
            adj[e.dependant].add(e.dependency)
    reach = {}
    for s in n_ids:
        seen, todo = set(), [s]
        while todo:
            for w in adj[todo.pop()]:
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        reach[s] = seen
    return reach


@given(random_graphs())
@settings(max_examples=150, deadline=None)
def test_cyclic_graphs_terminate_and_respect_order_between_components(graph):
    nodes, edges = graph
    ids = [n.id for n in nodes]
    lay = layout(nodes, edges)
    assert set(lay.positions) == set(ids)
    assert_no_overlap(lay)
    reach = _reaches(edges, ids)
    for e in edges:
        a, b = e.dependant, e.dependency
        if a not in lay.positions or b not in lay.positions or a == b:
            continue
        if a in reach[b]:  # same strongly connected component: same row
            assert lay.row_of[a] == lay.row_of[b]
        else:
            assert lay.row_of[a] < lay.row_of[b]
    parse(render_svg(nodes, edges, href=href))


def test_layer_is_longest_path_down_to_a_leaf():
    nodes = [
        node(1, "shop", kind="business_service"),
        node(2, "checkout-api", kind="api"),
        node(3, "payments-db", kind="resource"),
        node(4, "cache", kind="resource"),
    ]
    edges = [
        MapEdge(1, 2, "hard"),
        MapEdge(1, 3, "hard"),  # shortcut must not pull shop down
        MapEdge(2, 3, "hard"),
        MapEdge(2, 4, "soft"),
    ]
    lay = layout(nodes, edges)
    assert lay.row_of == {1: 0, 2: 1, 3: 2, 4: 2}
    assert lay.rows[0] == [1] and lay.rows[1] == [2]
    assert sorted(lay.rows[2]) == [3, 4]


def test_cycle_members_share_a_row_and_everything_is_placed():
    nodes = [node(i) for i in range(1, 6)]
    edges = [
        MapEdge(1, 2, "hard"),
        MapEdge(2, 3, "hard"),
        MapEdge(3, 1, "soft"),  # 1 -> 2 -> 3 -> 1
        MapEdge(3, 4, "hard"),
        MapEdge(5, 5, "hard"),  # self loop
    ]
    lay = layout(nodes, edges)
    assert set(lay.positions) == {1, 2, 3, 4, 5}
    assert lay.row_of[1] == lay.row_of[2] == lay.row_of[3]
    assert lay.row_of[3] < lay.row_of[4]
    root = parse(render_svg(nodes, edges, href=href))
    cyc = [p for p in edge_paths(root) if "cycle" in p.get("class").split()]
    assert len(cyc) == 3


def test_deep_chain_and_huge_cycle_do_not_recurse():
    n = 6000
    chain = [node(i) for i in range(n)]
    lay = layout(chain, [MapEdge(i, i + 1, "hard") for i in range(n - 1)])
    assert lay.row_of[0] == 0 and lay.row_of[n - 1] == n - 1
    ring_edges = [MapEdge(i, (i + 1) % n, "hard") for i in range(n)]
    lay = layout(chain, ring_edges)
    assert len(lay.rows) == 1 and len(lay.rows[0]) == n


def test_disconnected_nodes_are_placed():
    nodes = [node(1), node(2), node(3, "lonely"), node(4, "also-lonely", team=None)]
    edges = [MapEdge(1, 2, "hard"), MapEdge(1, 99, "hard")]  # 99 is unknown
    lay = layout(nodes, edges)
    assert set(lay.positions) == {1, 2, 3, 4}
    assert_no_overlap(lay)
    groups = node_groups(parse(render_svg(nodes, edges, href=href)))
    assert {"lonely", "also-lonely", "svc-1", "svc-2"} == set(groups)


def test_barycenter_ordering_removes_an_avoidable_crossing():
    # Name order alone would give top [a1, a2], bottom [b, z]: a1->z and a2->b cross.
    nodes = [node(1, "a1"), node(2, "a2"), node(3, "b"), node(4, "z")]
    edges = [MapEdge(1, 4, "hard"), MapEdge(2, 3, "hard")]
    pos = layout(nodes, edges).positions
    assert (pos[1][0] < pos[2][0]) == (pos[4][0] < pos[3][0])


def test_ties_are_broken_by_team_then_name():
    nodes = [
        node(1, "zeta", team="alpha"),
        node(2, "beta", team="bravo"),
        node(3, "alpha", team="bravo"),
        node(4, "omega", team=None),
    ]
    lay = layout(nodes, [])
    assert lay.rows == [[1, 3, 2, 4]]


def test_layout_is_independent_of_input_order():
    rnd = random.Random(7)
    nodes = [node(i, team=f"t{i % 4}") for i in range(60)]
    edges = [
        MapEdge(rnd.randrange(60), rnd.randrange(60), rnd.choice(["hard", "soft"]))
        for _ in range(150)
    ]
    first = render_svg(nodes, edges, href=href)
    assert render_svg(nodes, edges, href=href) == first
    shuffled_n, shuffled_e = nodes[:], edges[:]
    rnd.shuffle(shuffled_n)
    rnd.shuffle(shuffled_e)
    assert render_svg(shuffled_n, shuffled_e, href=href) == first
    assert layout(shuffled_n, shuffled_e) == layout(nodes, edges)


# --------------------------------------------------------------------------- rendering


def sample():
    nodes = [
        node(1, "shop", kind="business_service", state="degraded", tier=1),
        node(2, "checkout-api", kind="api", state="up"),
        node(3, "payments-db", kind="resource", team="X", state="down", tier=1),
        node(4, "legacy-queue", kind="resource", team=None, state="unknown"),
    ]
    edges = [MapEdge(1, 2, "hard"), MapEdge(2, 3, "hard"), MapEdge(2, 4, "soft")]
    return nodes, edges


def test_svg_root_is_embeddable_and_labelled():
    nodes, edges = sample()
    svg = render_svg(nodes, edges, href=href, title="Acme & Co map")
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    lay = layout(nodes, edges)
    w, h = root.get("viewBox").split()[2:]
    assert float(w) == lay.width == float(root.get("width"))
    assert float(h) == lay.height == float(root.get("height"))
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    for ref in root.get("aria-labelledby").split():
        assert ref in ids
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Acme & Co map"
    assert root.find(f"{SVG}style") is not None
    assert root.find(f".//{SVG}g[@class='legend']") is not None


def test_every_node_links_with_href_and_xlink_href():
    nodes, edges = sample()
    svg = render_svg(nodes, edges, href=href)
    root = parse(svg)
    groups = node_groups(root)
    for n in nodes:
        a = groups[n.name].find(f"{SVG}a")
        assert a.get("href") == href(n)
        assert a.get(XLINK_HREF) == href(n)
        assert a.find(f"{SVG}rect") is not None
    # the raw markup has the ampersand escaped
    assert "/services/1?tab=deps&amp;name=shop" in svg


def test_states_give_class_data_attribute_and_textual_marker():
    nodes, edges = sample()
    groups = node_groups(parse(render_svg(nodes, edges, href=href)))
    expected = {
        "shop": ("degraded", "degraded"),
        "checkout-api": ("up", "up"),
        "payments-db": ("down", "DOWN"),
        "legacy-queue": ("unknown", "unknown"),
    }
    for name, (state, marker) in expected.items():
        g = groups[name]
        classes = g.get("class").split()
        assert "node" in classes and f"state-{state}" in classes
        assert [c for c in classes if c.startswith("state-")] == [f"state-{state}"]
        assert g.get("data-state") == state
        assert marker in text_of(g)
    assert "\u2715" in text_of(groups["payments-db"])
    assert "kind-business_service" in groups["shop"].get("class").split()
    tip = groups["payments-db"].find(f".//{SVG}title").text
    assert tip == "payments-db \u2014 resource, tier 1, team X, state down"
    assert "team no team" in groups["legacy-queue"].find(f".//{SVG}title").text


def test_unrecognised_state_is_shown_as_unknown():
    groups = node_groups(parse(render_svg([node(1, state="exploded")], [], href=href)))
    assert "state-unknown" in groups["svc-1"].get("class").split()


def test_soft_edges_are_dashed_and_hard_edges_solid():
    nodes, edges = sample()
    root = parse(render_svg(nodes, edges, href=href))
    paths = edge_paths(root)
    assert len(paths) == 3
    hard = [p for p in paths if "hard" in p.get("class").split()]
    soft = [p for p in paths if "soft" in p.get("class").split()]
    assert len(hard) == 2 and len(soft) == 1
    assert all(p.get("stroke-dasharray") is None for p in hard)
    assert soft[0].get("stroke-dasharray")
    edges_group = root.find(f".//{SVG}g[@class='edges']")
    assert edges_group.get("marker-end", "").startswith("url(#")
    # edges are drawn before (below) the nodes
    order = [el.get("class") for el in root if el.tag == f"{SVG}g"]
    assert order.index("edges") < order.index("nodes")


def test_edge_runs_from_bottom_of_dependant_to_top_of_dependency():
    nodes, edges = sample()
    lay = layout(nodes, edges)
    root = parse(render_svg(nodes, edges, href=href))
    path = next(p for p in edge_paths(root) if "soft" in p.get("class").split())
    d = path.get("d")
    start = d[1:].split("C")[0].split(",")
    end = d.split()[-1].split(",")
    ax, ay = lay.positions[2]
    bx, by = lay.positions[4]
    assert (float(start[0]), float(start[1])) == (ax + NODE_WIDTH / 2, ay + NODE_HEIGHT)
    assert (float(end[0]), float(end[1])) == (bx + NODE_WIDTH / 2, by)


def test_nasty_names_are_escaped_and_parse():
    nasty = "a<b>&\"c' d"
    nodes = [node(1, nasty, team='<team & "x">', kind="ser<vice"), node(2, "ok")]
    edges = [MapEdge(1, 2, "soft")]
    svg = render_svg(nodes, edges, href=lambda n: f'/s?n={n.name}"><script>', title="<map>")
    assert "<script>" not in svg
    assert "a<b>" not in svg
    root = parse(svg)
    groups = node_groups(root)
    g = groups[nasty]
    assert g.get("data-service") == nasty
    assert g.find(f"{SVG}a").get("href") == f'/s?n={nasty}"><script>'
    assert nasty in g.find(f".//{SVG}title").text
    assert '<team & "x">' in g.find(f".//{SVG}title").text
    assert root.find(f"{SVG}title").text == "<map>"


def test_control_characters_do_not_break_xml():
    parse(render_svg([node(1, "bad\x00name\x1b")], [], href=href))


def test_long_labels_are_truncated_with_full_name_in_title():
    long = "customer-notification-preferences-service"
    g = node_groups(parse(render_svg([node(1, long)], [], href=href)))[long]
    label = g.find(f".//{SVG}text[@class='label']").text
    assert label.endswith("\u2026") and len(label) < len(long)
    assert long.startswith(label[:-1])
    assert g.find(f".//{SVG}title").text.startswith(long + " \u2014")


def test_highlight_marks_nodes_and_their_edges():
    nodes, edges = sample()
    root = parse(render_svg(nodes, edges, href=href, highlight={3}))
    groups = node_groups(root)
    assert "highlight" in groups["payments-db"].get("class").split()
    assert "highlight" not in groups["shop"].get("class").split()
    hl_edges = [p for p in edge_paths(root) if "highlight" in p.get("class").split()]
    assert len(hl_edges) == 1


def test_empty_graph_renders_valid_svg():
    root = parse(render_svg([], [], href=href))
    assert not node_groups(root)
    assert "No services" in "".join(root.itertext())


def test_duplicate_edges_are_drawn_once_and_hard_wins():
    nodes = [node(1), node(2)]
    edges = [MapEdge(1, 2, "soft"), MapEdge(1, 2, "hard"), MapEdge(1, 2, "soft")]
    paths = edge_paths(parse(render_svg(nodes, edges, href=href)))
    assert len(paths) == 1 and "hard" in paths[0].get("class").split()

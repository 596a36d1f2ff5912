"""Correlation: where a new alert goes, and the probable origin of an incident."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.catalog.impact import CI, Graph, Link
from steward.incidents.correlate import (
    CorrelationSettings,
    OpenIncident,
    format_duration,
    join_names,
    place_alert,
    probable_origin,
)

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def graph(names: list[str], links: list[tuple[str, str]],
          tiers: dict[str, int] | None = None) -> Graph:
    """Links are (dependant, dependency); ids follow the order of ``names``."""
    tiers = tiers or {}
    cis = [CI(id=i, name=n, kind="service", tier=tiers.get(n, 3)) for i, n in enumerate(names)]
    ids = {n: i for i, n in enumerate(names)}
    return Graph(cis, [Link(ids[a], ids[b], "hard") for a, b in links])


def incident(id: int, g: Graph, *services: str, last: float = 0,
             keys: tuple[str, ...] = (), status: str = "triggered") -> OpenIncident:
    return OpenIncident(id=id, services=tuple(g.by_name[s] for s in services),
                        last_alert_at=at(last), started_at=at(last - 10), group_keys=keys,
                        status=status)


# The cascade of the acceptance test: a database under two teams' services.
CASCADE = graph(
    ["ledger-db", "accounts-api", "checkout", "orders-service", "webapp", "order-to-cash",
     "banking-webapp", "unrelated"],
    [("accounts-api", "ledger-db"), ("orders-service", "ledger-db"),
     ("checkout", "orders-service"), ("webapp", "accounts-api"),
     ("order-to-cash", "checkout"), ("banking-webapp", "webapp")],
)


def sid(name: str, g: Graph = CASCADE) -> int:
    return g.by_name[name]


# --- place_alert -------------------------------------------------------------------------


def test_no_open_incident_opens_a_new_one():
    placement = place_alert(CASCADE, sid("ledger-db"), at(0), [])
    assert placement.incident_id is None
    assert placement.reason == ("new incident: no triggered or acknowledged incident on "
                                "ledger-db or within 2 hops of it, nor a mitigated one "
                                "active within 5 min")


def test_same_service_within_the_group_window_joins():
    placement = place_alert(CASCADE, sid("ledger-db"), at(3),
                            [incident(4, CASCADE, "ledger-db", last=0)])
    assert placement.incident_id == 4
    assert placement.reason == "same service (ledger-db) as INC-4 within 5 min"


def test_same_service_after_the_windows_opens_a_new_incident_when_mitigated():
    placement = place_alert(CASCADE, sid("ledger-db"), at(6),
                            [incident(4, CASCADE, "ledger-db", last=0, status="mitigated")])
    assert placement.incident_id is None


@pytest.mark.parametrize("status", ["triggered", "acknowledged"])
def test_an_open_outage_takes_its_related_alerts_for_its_whole_life(status):
    """Hours after its last alert, a triggered or acknowledged incident still takes the
    alerts of its services and of those near them: the outage is not over."""
    open_ = [incident(4, CASCADE, "ledger-db", last=0, status=status)]
    same = place_alert(CASCADE, sid("ledger-db"), at(180), open_)
    assert same.incident_id == 4
    assert same.reason == f"same service (ledger-db) as INC-4 ({status}, open since 09:50 UTC)"
    downstream = place_alert(CASCADE, sid("checkout"), at(12), open_)
    assert downstream.incident_id == 4
    assert downstream.reason == ("checkout depends on ledger-db (2 hops), which is in INC-4 "
                                 f"({status}, open since 09:50 UTC)")


def test_a_lifelong_incident_never_takes_an_unrelated_service():
    open_ = [incident(4, CASCADE, "ledger-db", last=0)]
    # order-to-cash is 3 hops from ledger-db; unrelated is not connected at all.
    assert place_alert(CASCADE, sid("order-to-cash"), at(12), open_).incident_id is None
    assert place_alert(CASCADE, sid("unrelated"), at(1), open_).incident_id is None


def test_a_mitigated_incident_is_joined_by_topology_only_within_the_window():
    open_ = [incident(4, CASCADE, "ledger-db", last=0, status="mitigated")]
    near = place_alert(CASCADE, sid("accounts-api"), at(4), open_)
    assert near.incident_id == 4
    assert near.reason.endswith("(mitigated, alert activity within 5 min)")
    assert place_alert(CASCADE, sid("accounts-api"), at(6), open_).incident_id is None


def test_a_lifelong_match_and_a_recent_mitigated_one_go_by_distance():
    open_ = [incident(4, CASCADE, "checkout", last=-120),  # 2 hops from ledger-db
             incident(5, CASCADE, "accounts-api", last=0, status="mitigated")]  # 1 hop
    assert place_alert(CASCADE, sid("ledger-db"), at(1), open_).incident_id == 5
    assert place_alert(CASCADE, sid("ledger-db"), at(10), open_).incident_id == 4


def test_window_edge_is_inclusive():
    placement = place_alert(CASCADE, sid("ledger-db"), at(5),
                            [incident(4, CASCADE, "ledger-db", last=0)])
    assert placement.incident_id == 4


def test_out_of_order_alert_counts_with_the_absolute_gap():
    open_ = [incident(4, CASCADE, "ledger-db", last=10, status="mitigated")]
    assert place_alert(CASCADE, sid("ledger-db"), at(7), open_).incident_id == 4
    assert place_alert(CASCADE, sid("ledger-db"), at(4), open_).incident_id is None


def test_group_key_wins_over_service_and_time():
    open_ = [incident(4, CASCADE, "ledger-db", last=0),
             incident(9, CASCADE, "unrelated", last=-60, keys=("{}:{alertname=\"X\"}",))]
    placement = place_alert(CASCADE, sid("ledger-db"), at(1), open_,
                            group_key="{}:{alertname=\"X\"}")
    assert placement.incident_id == 9
    assert placement.reason == 'same alert group ({}:{alertname="X"}) as INC-9'


def test_unknown_group_key_falls_back_to_the_other_rules():
    placement = place_alert(CASCADE, sid("ledger-db"), at(1),
                            [incident(4, CASCADE, "ledger-db", last=0, keys=("g1",))],
                            group_key="g2")
    assert placement.incident_id == 4
    assert placement.reason.startswith("same service")


def test_same_service_prefers_the_most_recent_incident():
    open_ = [incident(4, CASCADE, "ledger-db", last=0), incident(5, CASCADE, "ledger-db", last=2)]
    assert place_alert(CASCADE, sid("ledger-db"), at(3), open_).incident_id == 5


def test_same_service_beats_a_closer_in_time_topology_match():
    open_ = [incident(4, CASCADE, "ledger-db", last=0),
             incident(5, CASCADE, "accounts-api", last=3)]
    assert place_alert(CASCADE, sid("ledger-db"), at(3), open_).incident_id == 4


def test_dependant_joins_its_dependency_incident_with_the_direction_said():
    placement = place_alert(CASCADE, sid("checkout"), at(2),
                            [incident(4, CASCADE, "ledger-db", last=0)])
    assert placement.incident_id == 4
    assert placement.reason.startswith(
        "checkout depends on ledger-db (2 hops), which is in INC-4")


def test_dependency_joins_its_dependants_incident():
    placement = place_alert(CASCADE, sid("ledger-db"), at(2),
                            [incident(4, CASCADE, "accounts-api", last=0)])
    assert placement.incident_id == 4
    assert placement.reason.startswith(
        "accounts-api depends on ledger-db (1 hop), which is in INC-4")


def test_siblings_sharing_a_dependency_are_related_via_it():
    placement = place_alert(CASCADE, sid("orders-service"), at(1),
                            [incident(4, CASCADE, "accounts-api", last=0)])
    assert placement.incident_id == 4
    assert placement.reason.startswith(
        "orders-service is related to accounts-api through their dependencies "
        "(2 hops, via ledger-db), which is in INC-4")


def test_beyond_max_distance_opens_a_new_incident():
    # order-to-cash -> checkout -> orders-service -> ledger-db: 3 hops.
    open_ = [incident(4, CASCADE, "ledger-db", last=0)]
    assert place_alert(CASCADE, sid("order-to-cash"), at(1), open_).incident_id is None
    wider = CorrelationSettings(max_distance=3)
    assert place_alert(CASCADE, sid("order-to-cash"), at(1), open_, wider).incident_id == 4


def test_topology_respects_its_own_window_for_a_mitigated_incident():
    open_ = [incident(4, CASCADE, "ledger-db", last=0, status="mitigated")]
    assert place_alert(CASCADE, sid("accounts-api"), at(8), open_).incident_id is None
    wide = CorrelationSettings(topology_window=timedelta(minutes=10))
    placement = place_alert(CASCADE, sid("accounts-api"), at(8), open_, wide)
    assert placement.incident_id == 4
    assert placement.reason.endswith("(mitigated, alert activity within 10 min)")


def test_same_service_outside_group_window_but_inside_topology_window():
    wide = CorrelationSettings(group_window=timedelta(minutes=2),
                               topology_window=timedelta(minutes=10))
    placement = place_alert(CASCADE, sid("ledger-db"), at(4),
                            [incident(4, CASCADE, "ledger-db", last=0, status="mitigated")],
                            wide)
    assert placement.incident_id == 4
    assert placement.reason == ("same service (ledger-db) as INC-4 (mitigated, alert "
                                "activity within 10 min)")


def test_topology_off_only_groups_by_service():
    off = CorrelationSettings(topology=False)
    placement = place_alert(CASCADE, sid("accounts-api"), at(1),
                            [incident(4, CASCADE, "ledger-db", last=0)], off)
    assert placement.incident_id is None
    assert placement.reason == ("new incident: no open incident on accounts-api within 5 min "
                                "(topology correlation is off)")
    # Without topology, even an open outage takes its service's alerts only in the window.
    later = place_alert(CASCADE, sid("ledger-db"), at(6),
                        [incident(4, CASCADE, "ledger-db", last=0)], off)
    assert later.incident_id is None


def test_new_incident_names_the_distance_and_the_topology_window():
    wide = CorrelationSettings(topology_window=timedelta(minutes=15), max_distance=1)
    placement = place_alert(CASCADE, sid("unrelated"), at(0), [], wide)
    assert placement.reason == ("new incident: no triggered or acknowledged incident on "
                                "unrelated or within 1 hop of it, nor a mitigated one active "
                                "within 15 min")


def test_closest_incident_wins_then_the_most_recent():
    open_ = [incident(4, CASCADE, "checkout", last=3),   # 2 hops from ledger-db
             incident(5, CASCADE, "accounts-api", last=0),  # 1 hop
             incident(6, CASCADE, "orders-service", last=1)]  # 1 hop, more recent
    assert place_alert(CASCADE, sid("ledger-db"), at(3), open_).incident_id == 6


def test_exact_ties_do_not_depend_on_input_order():
    a = incident(5, CASCADE, "accounts-api", last=0)
    b = incident(6, CASCADE, "orders-service", last=0)
    first = place_alert(CASCADE, sid("ledger-db"), at(1), [a, b]).incident_id
    assert first == place_alert(CASCADE, sid("ledger-db"), at(1), [b, a]).incident_id


def test_incident_with_several_services_counts_its_nearest():
    open_ = [incident(4, CASCADE, "banking-webapp", "ledger-db", last=0),
             incident(5, CASCADE, "checkout", last=1)]
    # accounts-api: 1 hop to ledger-db (INC-4), 3 hops to checkout (INC-5).
    assert place_alert(CASCADE, sid("accounts-api"), at(1), open_).incident_id == 4


def test_cycles_do_not_loop():
    g = graph(["a", "b", "c", "d"], [("a", "b"), ("b", "a"), ("b", "c"), ("d", "d")])
    placement = place_alert(g, g.by_name["a"], at(1), [incident(1, g, "c", last=0)])
    assert placement.incident_id == 1
    assert placement.reason.startswith("a depends on c (2 hops)")
    assert place_alert(g, g.by_name["a"], at(1), [incident(1, g, "d")]).incident_id is None


def test_shortest_path_ignoring_direction_is_described_as_it_is():
    # a -> b -> c -> d is 3 hops one way, but c depends on both a and d: 2 hops.
    g = graph(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    placement = place_alert(g, g.by_name["a"], at(1), [incident(1, g, "d", last=0)])
    assert placement.incident_id == 1
    assert placement.reason.startswith(
        "a is related to d through their dependencies (2 hops, via c), which is in INC-1")


def test_service_missing_from_the_graph_still_groups_by_service():
    open_ = [OpenIncident(1, (999,), at(0), at(-1))]
    placement = place_alert(CASCADE, 999, at(1), open_)
    assert placement.incident_id == 1
    assert placement.reason == "same service (service 999) as INC-1 within 5 min"
    assert place_alert(CASCADE, 999, at(1), [incident(2, CASCADE, "ledger-db")]).incident_id \
        is None


def test_naive_times_are_read_as_utc():
    open_ = [OpenIncident(1, (sid("ledger-db"),), datetime(2024, 5, 6, 10, 0), at(-1))]
    assert place_alert(CASCADE, sid("ledger-db"), at(2), open_).incident_id == 1


def test_settings_are_validated():
    with pytest.raises(ValueError, match="max_distance"):
        CorrelationSettings(max_distance=-1)
    with pytest.raises(ValueError, match="group_window"):
        CorrelationSettings(group_window=timedelta(minutes=-1))


# --- probable_origin ---------------------------------------------------------------------


def origin_of(g: Graph, alerts: dict[str, float]) -> tuple[str, str]:
    found = probable_origin(g, [(g.by_name[n], at(m)) for n, m in alerts.items()])
    return g.cis[found.service_id].name, found.reasoning


def test_single_alerting_service():
    assert origin_of(CASCADE, {"ledger-db": 2}) == (
        "ledger-db", "ledger-db is the only alerting service.")


def test_cascade_under_two_teams_points_at_the_database():
    name, why = origin_of(CASCADE, {"checkout": 2, "ledger-db": 2.5, "orders-service": 3,
                                    "accounts-api": 4, "webapp": 5})
    assert name == "ledger-db"
    assert why.startswith(
        "ledger-db is the most upstream alerting service: checkout, orders-service, "
        "accounts-api and webapp depend on it (directly or through others) and it depends "
        "on no other alerting service; it alerted at 10:02:30 UTC, after checkout (10:02 UTC)")


def test_cascade_reasoning_when_the_origin_alerted_first():
    name, why = origin_of(CASCADE, {"ledger-db": 2, "checkout": 3, "orders-service": 4,
                                    "accounts-api": 5})
    assert name == "ledger-db"
    assert why == ("ledger-db is the most upstream alerting service: checkout, orders-service "
                   "and accounts-api depend on it (directly or through others) and it depends "
                   "on no other alerting service; it alerted first at 10:02 UTC.")


def test_dependencies_count_through_quiet_services():
    # orders-service is not alerting; checkout still depends on ledger-db through it.
    name, why = origin_of(CASCADE, {"checkout": 1, "ledger-db": 2})
    assert name == "ledger-db"
    assert "checkout depends on it through others" in why


def test_chain():
    g = graph(["web", "api", "db"], [("web", "api"), ("api", "db")])
    assert origin_of(g, {"web": 0, "api": 1, "db": 2})[0] == "db"
    assert origin_of(g, {"web": 0, "api": 1})[0] == "api"


def test_diamond():
    g = graph(["top", "left", "right", "bottom"],
              [("top", "left"), ("top", "right"), ("left", "bottom"), ("right", "bottom")])
    name, why = origin_of(g, {"top": 0, "left": 1, "right": 1, "bottom": 3})
    assert name == "bottom"
    assert "top, left and right depend on it" in why


def test_diamond_with_quiet_bottom_prefers_the_one_more_depend_on():
    g = graph(["top", "left", "right", "bottom", "extra"],
              [("top", "left"), ("top", "right"), ("left", "bottom"), ("right", "bottom"),
               ("extra", "right")])
    name, why = origin_of(g, {"top": 0, "extra": 0, "left": 1, "right": 2})
    assert name == "right"
    assert why.endswith("; also upstream: left (fewer alerting dependants).")


def test_ties_between_upstream_candidates_go_to_the_earliest_then_tier_then_name():
    g = graph(["front", "db-a", "db-b"], [("front", "db-a"), ("front", "db-b")],
              tiers={"db-a": 2, "db-b": 1})
    name, why = origin_of(g, {"front": 0, "db-a": 1, "db-b": 2})
    assert name == "db-a" and why.endswith("also upstream: db-b (alerted later).")
    name, why = origin_of(g, {"front": 0, "db-a": 1, "db-b": 1})
    assert name == "db-b" and why.endswith("also upstream: db-a (a less critical tier).")
    g2 = graph(["front", "db-b", "db-a"], [("front", "db-a"), ("front", "db-b")])
    name, why = origin_of(g2, {"front": 0, "db-a": 1, "db-b": 1})
    assert name == "db-a" and why.endswith("db-b (same time and tier, later by name).")


def test_cycle_among_alerting_services_is_one_group():
    g = graph(["web", "primary", "replica"],
              [("web", "primary"), ("primary", "replica"), ("replica", "primary")])
    name, why = origin_of(g, {"web": 0, "replica": 1, "primary": 2})
    assert name == "replica"
    assert "web depends on it directly" in why
    assert "it is in a dependency cycle with primary and alerted first among them" in why


def test_everything_in_one_cycle_falls_back_to_the_earliest_alert():
    g = graph(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    name, why = origin_of(g, {"a": 3, "b": 2, "c": 1})
    assert name == "c"
    assert why == ("c is taken as the probable origin: c, b and a all depend on each other "
                   "(a dependency cycle), so the earliest alert decides; it alerted first at "
                   "10:01 UTC.")


def test_disconnected_services_fall_back_to_the_earliest_alert():
    name, why = origin_of(CASCADE, {"unrelated": 4, "webapp": 1})
    assert name == "webapp"
    assert why == ("webapp is taken as the probable origin: none of the alerting services "
                   "depends on another, so the earliest alert decides; it alerted first at "
                   "10:01 UTC.")


def test_connected_group_beats_an_earlier_unrelated_alert():
    name, _ = origin_of(CASCADE, {"unrelated": 0, "accounts-api": 1, "ledger-db": 2})
    assert name == "ledger-db"


def test_repeated_services_keep_their_earliest_alert():
    g = graph(["a", "b"], [])
    found = probable_origin(g, [(0, at(5)), (1, at(3)), (0, at(1))])
    assert found.service_id == 0


def test_no_alerting_service_is_an_error():
    with pytest.raises(ValueError, match="alerting"):
        probable_origin(CASCADE, [])


def test_long_lists_are_shortened():
    assert join_names(["a", "b", "c", "d", "e", "f", "g"]) == "a, b, c, d and 3 others"
    assert join_names(["a"]) == "a"
    assert join_names(["a", "b"]) == "a and b"


def test_durations_read_naturally():
    assert [format_duration(timedelta(seconds=s)) for s in (30, 300, 5400, 7200, 86400)] == \
        ["30 s", "5 min", "90 min", "2 h", "1 d"]


# --- properties --------------------------------------------------------------------------

NODES = 7
edges = st.lists(st.tuples(st.integers(0, NODES - 1), st.integers(0, NODES - 1)), max_size=14)


def _random_graph(pairs: list[tuple[int, int]]) -> Graph:
    return graph([f"s{i}" for i in range(NODES)],
                 [(f"s{a}", f"s{b}") for a, b in pairs if a != b])


@settings(max_examples=200, deadline=None)
@given(edges, st.lists(st.tuples(st.integers(0, NODES - 1), st.integers(0, 30)),
                       min_size=1, max_size=NODES))
def test_origin_depends_on_no_alerting_service_outside_its_cycle(pairs, alerts):
    g = _random_graph(pairs)
    found = probable_origin(g, [(s, at(m)) for s, m in alerts])
    alerting = {s for s, _ in alerts}
    assert found.service_id in alerting
    assert found.reasoning.endswith(".")

    def reach(start: int) -> set[int]:
        seen, todo = {start}, [start]
        while todo:
            for dep, _ in g.dependencies.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    below = reach(found.service_id) & alerting
    for other in below:
        assert found.service_id in reach(other)  # only its own cycle is below it
    # Reordering the input never changes the answer.
    again = probable_origin(g, [(s, at(m)) for s, m in reversed(alerts)])
    assert again.service_id == found.service_id


@settings(max_examples=200, deadline=None)
@given(edges, st.integers(0, NODES - 1),
       st.lists(st.tuples(st.integers(0, NODES - 1), st.integers(-8, 8)), max_size=4),
       st.integers(0, 3))
def test_placement_joins_only_related_incidents_in_their_window(pairs, service, specs, hops):
    g = _random_graph(pairs)
    open_ = [OpenIncident(i + 1, (s,), at(abs(m)), at(abs(m) - 1),
                          status="mitigated" if m < 0 else "triggered")
             for i, (s, m) in enumerate(specs)]
    rules = CorrelationSettings(max_distance=hops)
    placement = place_alert(g, service, at(0), open_, rules)
    if placement.incident_id is None:
        assert placement.reason.startswith("new incident")
        return
    chosen = next(i for i in open_ if i.id == placement.incident_id)
    if chosen.status == "mitigated":  # a triggered one: at any time
        assert abs(chosen.last_alert_at - at(0)) <= timedelta(minutes=5)
    # Within max_distance hops, ignoring direction.
    frontier, seen = {service}, {service}
    for _ in range(hops):
        frontier = {o for n in frontier
                    for o in itertools.chain((d for d, _ in g.dependencies.get(n, ())),
                                             (d for d, _ in g.dependants.get(n, ())))} - seen
        seen |= frontier
    assert set(chosen.services) & seen

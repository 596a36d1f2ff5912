"""What changed? Candidate services and ranked suspect deployments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.catalog.impact import CI, Graph, Link
from steward.incidents.suspects import (
    Candidate,
    candidate_services,
    nearest_services,
    rank_suspects,
)

STARTED = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)

# checkout -> orders-service -> ledger-db -> storage; accounts-api -> ledger-db (a dependant).
NAMES = ["checkout", "orders-service", "ledger-db", "storage", "accounts-api", "san"]
GRAPH = Graph(
    [CI(id=i, name=n, kind="service") for i, n in enumerate(NAMES)],
    [Link(0, 1, "hard"), Link(1, 2, "hard"), Link(2, 3, "soft"), Link(4, 2, "hard"),
     Link(3, 5, "hard")],
)
ID = {n: i for i, n in enumerate(NAMES)}


def deployment(id: int, service: str, minutes_before: float, *, change_id: int | None = None,
               risk: int | None = None, status: str = "succeeded") -> Candidate:
    return Candidate(deployment_id=id, change_id=change_id, service_id=ID[service],
                     service=service, version=f"v{id}",
                     finished_at=STARTED - timedelta(minutes=minutes_before),
                     risk_score=risk, status=status, environment="production")


def rank(*candidates: Candidate, origin: str = "orders-service", **kwargs) -> list:
    distances = candidate_services(GRAPH, ID[origin])
    return rank_suspects(candidates, distances, STARTED, origin=origin, **kwargs)


# --- candidate_services ------------------------------------------------------------------


def test_candidates_are_the_origin_and_what_it_depends_on():
    assert candidate_services(GRAPH, ID["orders-service"]) == {
        ID["orders-service"]: 0, ID["ledger-db"]: 1, ID["storage"]: 2, ID["san"]: 3}


def test_every_service_of_the_incident_is_a_source_at_its_own_distance():
    """checkout is in the incident with origin ledger-db: orders-service, which only
    checkout needs, is 1 hop from it; ledger-db's own dependencies count from ledger-db."""
    found = nearest_services(GRAPH, [ID["ledger-db"], ID["checkout"]])
    assert found == {ID["ledger-db"]: (0, ID["ledger-db"]), ID["checkout"]: (0, ID["checkout"]),
                     ID["orders-service"]: (1, ID["checkout"]),
                     ID["storage"]: (1, ID["ledger-db"]), ID["san"]: (2, ID["ledger-db"])}


def test_the_source_given_first_wins_a_tie_of_distance():
    # ledger-db is 1 hop from both orders-service and accounts-api
    first = nearest_services(GRAPH, [ID["accounts-api"], ID["orders-service"]])
    second = nearest_services(GRAPH, [ID["orders-service"], ID["accounts-api"]])
    assert first[ID["ledger-db"]] == (1, ID["accounts-api"])
    assert second[ID["ledger-db"]] == (1, ID["orders-service"])


def test_reasons_name_the_nearest_service_of_the_incident():
    found = nearest_services(GRAPH, [ID["ledger-db"], ID["checkout"]])
    ranked = rank_suspects(
        [deployment(1, "orders-service", 30), deployment(2, "checkout", 40),
         deployment(3, "storage", 50)],
        {sid: hops for sid, (hops, _) in found.items()}, STARTED, origin="ledger-db",
        near={sid: NAMES[source] for sid, (_, source) in found.items()})
    reasons = {s.service: s.reasons[1] for s in ranked}
    assert reasons == {
        "orders-service": "on orders-service, which checkout depends on (1 hop from checkout)",
        "checkout": "on checkout, a service of the incident",
        "storage": "on storage, which ledger-db depends on (1 hop from the origin)"}


def test_dependants_are_not_candidates():
    found = candidate_services(GRAPH, ID["ledger-db"])
    assert ID["accounts-api"] not in found and ID["checkout"] not in found


def test_max_depth_bounds_the_walk():
    assert candidate_services(GRAPH, ID["checkout"], max_depth=1) == {
        ID["checkout"]: 0, ID["orders-service"]: 1}
    assert candidate_services(GRAPH, ID["checkout"], max_depth=0) == {ID["checkout"]: 0}
    with pytest.raises(ValueError, match=r"^max_depth:"):
        candidate_services(GRAPH, ID["checkout"], max_depth=-1)


def test_shortest_distance_wins_and_cycles_end():
    g = Graph([CI(i, n, "service") for i, n in enumerate("abcd")],
              [Link(0, 1, "hard"), Link(1, 2, "hard"), Link(2, 0, "hard"), Link(0, 2, "soft"),
               Link(2, 3, "hard")])
    assert candidate_services(g, 0) == {0: 0, 1: 1, 2: 1, 3: 2}


def test_origin_unknown_to_the_graph_is_its_own_only_candidate():
    assert candidate_services(GRAPH, 999) == {999: 0}


# --- rank_suspects -----------------------------------------------------------------------


def test_deployment_just_before_the_failure_on_the_origin_ranks_first():
    ranked = rank(deployment(1, "ledger-db", 30, change_id=8, risk=40),
                  deployment(2, "orders-service", 12, change_id=7, risk=62),
                  deployment(3, "orders-service", 600, change_id=6, risk=90))
    assert [s.deployment_id for s in ranked] == [2, 1, 3]
    top = ranked[0]
    assert top.change_id == 7 and top.service == "orders-service"
    assert top.reasons == ("deployed 12 minutes before the incident started",
                           "on orders-service, the probable origin",
                           "its change CHG-7 was assessed high risk (62)")
    assert 90 <= top.score <= 100


def test_a_deployment_minutes_before_scores_near_the_time_maximum():
    (only,) = rank(deployment(1, "orders-service", 2))
    assert only.score == pytest.approx(80, abs=0.5)  # ~50 time + 30 distance


def test_deployments_after_the_start_are_not_suspects():
    assert rank(deployment(1, "orders-service", -1)) == []
    assert [s.deployment_id for s in rank(deployment(2, "orders-service", 0))] == [2]


def test_deployments_outside_the_lookback_are_not_suspects():
    assert rank(deployment(1, "orders-service", 25 * 60)) == []
    assert [s.deployment_id for s in rank(deployment(1, "orders-service", 24 * 60))] == [1]
    assert rank(deployment(2, "orders-service", 90), lookback=timedelta(hours=1)) == []


def test_services_off_the_dependency_path_are_not_suspects():
    assert rank(deployment(1, "accounts-api", 5), deployment(2, "checkout", 5)) == []


def test_distance_matters():
    ranked = rank(deployment(1, "storage", 10), deployment(2, "ledger-db", 10),
                  deployment(3, "orders-service", 10))
    assert [s.deployment_id for s in ranked] == [3, 2, 1]
    assert ranked[1].reasons[1] == ("on ledger-db, which orders-service depends on "
                                    "(1 hop from the origin)")
    assert ranked[2].reasons[1] == ("on storage, which orders-service depends on indirectly "
                                    "(2 hops from the origin)")


def test_reasons_without_an_origin_name():
    distances = candidate_services(GRAPH, ID["orders-service"])
    (only,) = rank_suspects([deployment(1, "ledger-db", 5)], distances, STARTED)
    assert only.reasons[1] == "on ledger-db, which the probable origin depends on (1 hop)"


def test_risk_adds_up_to_twenty_points():
    low, high = rank(deployment(1, "orders-service", 60, change_id=1, risk=0)), \
        rank(deployment(1, "orders-service", 60, change_id=1, risk=100))
    assert high[0].score - low[0].score == pytest.approx(20, abs=0.1)
    assert low[0].reasons[-1] == "its change CHG-1 was assessed low risk (0)"
    assert high[0].reasons[-1] == "its change CHG-1 was assessed very high risk (100)"


def test_missing_change_record_is_said_and_scores_no_risk():
    (only,) = rank(deployment(1, "orders-service", 60))
    assert only.reasons[-1] == "it has no change record, so its risk is unknown"


def test_failed_or_rolled_back_deployments_get_a_small_bonus():
    ok, failed, rolled = (rank(deployment(1, "ledger-db", 60, status=s))[0]
                          for s in ("succeeded", "failed", "rolled_back"))
    assert failed.score - ok.score == pytest.approx(5, abs=0.1)
    assert rolled.score == failed.score
    assert "the deployment itself failed" in failed.reasons
    assert "the deployment was rolled back" in rolled.reasons


def test_score_never_exceeds_one_hundred():
    (only,) = rank(deployment(1, "orders-service", 0, change_id=1, risk=100, status="failed"))
    assert only.score == 100.0


def test_ties_go_to_the_most_recent_deployment():
    # Same service, same time points: the later one (closer to the start) is listed first.
    ranked = rank(deployment(1, "ledger-db", 20, change_id=1, risk=50),
                  deployment(2, "ledger-db", 20, change_id=2, risk=50),
                  deployment(3, "orders-service", 6 * 60, change_id=3, risk=50))
    assert [s.deployment_id for s in ranked[:2]] == [2, 1]
    same_score = rank(deployment(4, "orders-service", 10.00), deployment(5, "orders-service",
                                                                            10.01))
    assert same_score[0].score == same_score[1].score
    assert [s.deployment_id for s in same_score] == [4, 5]


def test_time_phrases():
    phrases = [rank(deployment(1, "orders-service", m))[0].reasons[0].removeprefix("deployed ")
               for m in (0.5, 1, 59, 60, 61, 125, 23 * 60)]
    assert phrases == [f"{p} before the incident started" for p in (
        "less than a minute", "1 minute", "59 minutes", "1 hour", "1 hour 1 minute",
        "2 hours 5 minutes", "23 hours")]
    distances = {ID["orders-service"]: 0}
    older = [rank_suspects([deployment(1, "orders-service", m)], distances, STARTED,
                           timedelta(days=3))[0].reasons[0] for m in (47 * 60, 50 * 60)]
    assert older == ["deployed 47 hours before the incident started",
                     "deployed 2 days 2 hours before the incident started"]


def test_lookback_must_be_positive():
    with pytest.raises(ValueError, match=r"^lookback:"):
        rank_suspects([], {}, STARTED, timedelta(0))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.integers(-120, 26 * 60),
                          st.none() | st.integers(0, 100),
                          st.sampled_from(["succeeded", "failed", "rolled_back"])),
                max_size=8))
def test_scores_stay_in_range_and_sorted(specs):
    candidates = [deployment(i, s, m, change_id=i if r is not None else None, risk=r, status=st_)
                  for i, (s, m, r, st_) in enumerate(specs)]
    ranked = rank(*candidates)
    assert all(0 <= s.score <= 100 for s in ranked)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    eligible = {c.deployment_id for c in candidates
                if c.service in ("orders-service", "ledger-db", "storage", "san")
                and STARTED - timedelta(hours=24) <= c.finished_at <= STARTED}
    assert {s.deployment_id for s in ranked} == eligible

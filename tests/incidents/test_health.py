"""A service's state in an incident from its alerts, and live health from open incidents."""

from __future__ import annotations

from steward.catalog.impact import CI, Graph, Link
from steward.incidents.health import (
    OpenIncident,
    ServiceImpact,
    live_health,
    service_impacts,
    severities_as_bad,
)


def graph() -> Graph:
    names = {"db": ("resource", 1), "api": ("service", 1), "bank": ("business_service", 1),
             "report": ("service", 3), "desk": ("service", 3), "portal": ("service", 2),
             "lonely": ("service", 3)}
    cis = [CI(id=i, name=n, kind=k, tier=t) for i, (n, (k, t)) in enumerate(names.items())]
    ids = {ci.name: ci.id for ci in cis}
    links = [("api", "db", "hard"), ("bank", "api", "hard"), ("report", "api", "soft"),
             ("portal", "desk", "hard")]
    return Graph(cis, [Link(ids[a], ids[b], t) for a, b, t in links])


G = graph()
ID = G.by_name


def incident(number: int, alerts: list[tuple[str, str, bool]], status: str = "triggered",
             priority: str = "P1", services: tuple[str, ...] = ()) -> OpenIncident:
    return OpenIncident(id=number, title=f"incident {number}", priority=priority,
                        status=status, impacts=service_impacts(
                            [ID[s] for s in services],
                            [(ID[s], sev, active) for s, sev, active in alerts]))


def states(incidents: list[OpenIncident], monitored: set[str] = frozenset()) -> dict[str, str]:
    found = live_health(G, incidents, {ID[m] for m in monitored})
    return {G.cis[i].name: h.state for i, h in found.items()}


def test_a_service_takes_the_worst_impact_of_its_active_alerts():
    impacts = service_impacts([1, 2, 3], [(1, "warning", True), (1, "critical", False),
                                          (2, "info", True), (2, "warning", False),
                                          (3, "info", False), (3, "error", False)])
    assert impacts[1] == ServiceImpact("degraded", "warning")  # the critical one resolved
    assert impacts[2] == ServiceImpact("none", "info")
    assert impacts[3] == ServiceImpact("down", "error")  # none active: all of them count
    assert service_impacts([4], []) == {4: ServiceImpact("down", None)}  # declared by hand


def test_only_an_alert_worse_than_the_others_can_worsen_a_service():
    assert severities_as_bad("warning") == ("critical", "error", "warning")
    assert severities_as_bad("error") == ("critical", "error")
    assert severities_as_bad("info") == ()


def test_a_critical_alert_downs_its_service_and_what_needs_it():
    found = states([incident(7, [("db", "critical", True)])])
    assert found == {"db": "down", "api": "down", "bank": "down", "report": "degraded",
                     "desk": "unknown", "portal": "unknown", "lonely": "unknown"}


def test_a_warning_degrades_and_an_info_alert_affects_nothing():
    assert states([incident(1, [("desk", "warning", True)])])["portal"] == "degraded"
    found = live_health(G, [incident(2, [("desk", "info", True)])], set())
    assert found[ID["desk"]].state == "up"
    assert [i["id"] for i in found[ID["desk"]].incidents] == [2]
    assert found[ID["portal"]].state == "unknown"


def test_a_mitigated_incident_counts_at_most_as_degraded():
    found = states([incident(3, [("db", "critical", True)], status="mitigated")])
    assert (found["db"], found["bank"]) == ("degraded", "degraded")


def test_several_incidents_add_up_and_each_service_names_those_behind_it():
    first = incident(4, [("api", "warning", True)], priority="P3")
    second = incident(5, [("db", "critical", True)], priority="P1")
    found = live_health(G, [first, second], {ID["lonely"]})
    bank = found[ID["bank"]]
    assert bank.state == "down"
    assert [i["id"] for i in bank.incidents] == [5, 4]  # by priority
    assert bank.reason == "hard dependency api is down (db -> api -> bank; INC-5, INC-4)"
    assert found[ID["db"]].reason == "INC-5 has a critical alert on it"
    errored = live_health(G, [incident(8, [("desk", "error", True)])], set())
    assert errored[ID["desk"]].reason == "INC-8 has an error alert on it"
    assert found[ID["lonely"]].state == "up"
    assert found[ID["lonely"]].reason == "no open incident affects it"
    assert found[ID["desk"]].reason.startswith("nothing monitors it")


def test_a_declared_incident_downs_its_service():
    found = live_health(G, [incident(6, [], services=("desk",))], set())
    assert found[ID["desk"]].state == "down"
    assert found[ID["desk"]].reason == "INC-6 was declared on it"
    assert found[ID["desk"]].as_dict()["incidents"] == [
        {"id": 6, "title": "incident 6", "priority": "P1", "status": "triggered"}]

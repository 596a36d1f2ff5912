"""The Statuspage-compatible API: every answer has exactly the keys and value types of
Atlassian Statuspage's documented examples (tests/fixtures/statuspage), at every level,
and says what the demo's cascade means for the public."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from status_data import PUBLIC_BODY, PUBLIC_TITLE, add_public_data
from steward.status import statuspage_schemas as sp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage"
ENDPOINTS = {
    "summary.json": "/api/v2/summary.json",
    "status.json": "/api/v2/status.json",
    "components.json": "/api/v2/components.json",
    "incidents.json": "/api/v2/incidents.json",
    "incidents-unresolved.json": "/api/v2/incidents/unresolved.json",
    "scheduled-maintenances.json": "/api/v2/scheduled-maintenances.json",
    "scheduled-maintenances-upcoming.json": "/api/v2/scheduled-maintenances/upcoming.json",
    "scheduled-maintenances-active.json": "/api/v2/scheduled-maintenances/active.json",
}

DOCUMENTED = {
    "summary.json": sp.StatuspageSummaryOut, "status.json": sp.StatuspageStatusOut,
    "components.json": sp.StatuspageComponentsOut, "incidents.json": sp.StatuspageIncidentsOut,
    "incidents-unresolved.json": sp.StatuspageIncidentsOut,
    "scheduled-maintenances.json": sp.StatuspageMaintenancesOut,
    "scheduled-maintenances-upcoming.json": sp.StatuspageMaintenancesOut,
    "scheduled-maintenances-active.json": sp.StatuspageMaintenancesOut,
}


def differences(ours: Any, example: Any, where: str = "$") -> list[str]:
    """Where ``ours`` differs from the example in keys or value types. A null in the
    example stands for an absent time or text: a string or null matches it. Each item of
    a list is compared with the example's first item (lists must not be empty)."""
    if example is None:
        return [] if ours is None or isinstance(ours, str) else [f"{where}: {ours!r}"]
    if isinstance(example, dict):
        if not isinstance(ours, dict):
            return [f"{where}: not an object"]
        found = []
        if set(ours) != set(example):
            found.append(f"{where}: extra {sorted(set(ours) - set(example))}, "
                         f"missing {sorted(set(example) - set(ours))}")
        for key in set(ours) & set(example):
            found += differences(ours[key], example[key], f"{where}.{key}")
        return found
    if isinstance(example, list):
        if not isinstance(ours, list):
            return [f"{where}: not a list"]
        if not ours:
            return [f"{where}: empty, nothing to compare"]
        return [d for i, item in enumerate(ours)
                for d in differences(item, example[0], f"{where}[{i}]")]
    if type(ours) is not type(example):
        return [f"{where}: {type(ours).__name__}, the example has {type(example).__name__}"]
    return []


@pytest.fixture
def api(web):  # type: ignore[no-untyped-def]
    web.ids = add_public_data(web.db)
    return web


@pytest.mark.parametrize("fixture", sorted(ENDPOINTS))
def test_each_answer_has_the_documented_keys_and_types(api, fixture: str) -> None:
    example = json.loads((FIXTURES / fixture).read_text())
    answer = api.get(ENDPOINTS[fixture])
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "max-age=10" in answer.headers["cache-control"]
    assert differences(answer.json(), example) == []
    # The shape /openapi.json documents for it reads both the answer and the example.
    documented = DOCUMENTED[fixture]
    documented.model_validate(answer.json())
    documented.model_validate(example)


def test_the_cascade_as_the_public_sees_it(api) -> None:  # type: ignore[no-untyped-def]
    summary = api.get("/api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    by_name = {c["name"]: c for c in summary["components"]}
    # Business services are published; internal services are not.
    assert {"online-banking", "customer-payments", "customer-support"} <= set(by_name)
    assert "core-db" not in by_name and "accounts-service" not in by_name
    assert by_name["online-banking"]["status"] == "major_outage"
    assert by_name["Website"]["status"] == "degraded_performance"  # published by an admin
    assert by_name["Search"]["status"] == "under_maintenance"
    [incident] = summary["incidents"]
    assert incident["id"] == f"i{api.ids['cascade']}"
    assert incident["name"] == PUBLIC_TITLE and incident["status"] == "identified"
    assert incident["impact"] == "critical" and incident["resolved_at"] is None
    assert incident["incident_updates"][0]["body"] == PUBLIC_BODY
    assert incident["shortlink"].endswith(f"/status/incidents/i{api.ids['cascade']}")
    text = json.dumps(summary)
    assert "core-db" not in text and "internal" not in text and "carol" not in text
    assert {m["status"] for m in summary["scheduled_maintenances"]} == {"scheduled",
                                                                         "in_progress"}


def test_incidents_list_the_resolved_ones_too(api) -> None:  # type: ignore[no-untyped-def]
    every = api.get("/api/v2/incidents.json").json()["incidents"]
    assert [i["status"] for i in every] == ["identified", "resolved"]
    assert every[1]["resolved_at"] is not None
    unresolved = api.get("/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [i["id"] for i in unresolved] == [every[0]["id"]]
    upcoming = api.get("/api/v2/scheduled-maintenances/upcoming.json").json()
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == [f"m{api.ids['upcoming']}"]
    active = api.get("/api/v2/scheduled-maintenances/active.json").json()
    assert [m["id"] for m in active["scheduled_maintenances"]] == [f"m{api.ids['active']}"]


def test_no_credentials_needed_and_the_demos_own_update(web) -> None:  # type: ignore[no-untyped-def]
    status = web.get("/api/v2/status.json")
    assert status.status_code == 200
    # The demo's cascade takes online banking down, and its responder has published the
    # suggested update (status, title from the business services it takes down).
    assert status.json()["status"]["indicator"] == "critical"
    [incident] = web.get("/api/v2/incidents.json").json()["incidents"]
    assert incident["status"] == "identified" and "online-banking" in incident["name"]
    assert len(incident["incident_updates"]) == 1

"""What a replayed scenario shows through the API, against what it expects.

Each difference is one line naming the expectation (``incident A: priority``) and
both values; the runner fails with all of them at once and the actual incidents.
Only what a scenario states is compared: a key left out is not checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scenario_replay import TIME_TOLERANCE_MINUTES, Replay

INCIDENT_FIELDS = {"origin": "origin_service", "team": "team", "priority": "priority",
                   "status": "status", "impact": "impact", "urgency": "urgency",
                   "reopen_count": "reopen_count"}
DETAIL = {"timeline", "timeline_excludes", "suspects"}  # only in an incident's detail
MAYBE_DETAIL = ("responding_teams", "recurrence_of")  # read from the detail if not listed


def differences(replay: Replay) -> tuple[list[str], list[dict[str, Any]]]:
    """Every difference, and the incidents as the API shows them (in the order they opened)."""
    expect = replay.scenario.expect
    incidents = replay.incidents(detail=False)
    found: list[str] = []
    if len(incidents) != len(expect["incidents"]):
        labels = ", ".join(i["label"] for i in expect["incidents"]) or "none"
        found.append(f"incidents: {len(incidents)} opened, expected "
                     f"{len(expect['incidents'])} ({labels})")
    labelled = replay.labelled(incidents)
    ids = {label: incident["id"] for label, incident in labelled.items()}
    for expected in expect["incidents"]:
        actual = labelled.get(expected["label"])
        if actual is not None and (DETAIL & expected.keys() or any(
                key in expected and key not in actual for key in MAYBE_DETAIL)):
            actual = replay._get(f"/api/v1/incidents/{actual['id']}")
        if actual is not None:
            found += _incident(replay, expected, actual, ids)
    if expect.get("alerts"):
        found += _alerts(replay, expect["alerts"], ids)
    if expect.get("health"):
        found += _health(replay, expect["health"], ids)
    return found, replay.incidents() if found else incidents


def _incident(replay: Replay, expected: dict[str, Any], actual: dict[str, Any],
              ids: dict[str, int]) -> list[str]:
    name = f"incident {expected['label']} (INC-{actual['id']})"
    found = []
    for key, field in INCIDENT_FIELDS.items():
        if key in expected and actual.get(field) != expected[key]:
            found.append(f"{name}: {key} is {actual.get(field)!r}, expected {expected[key]!r}")
    if "services" in expected and sorted(actual["services"]) != sorted(expected["services"]):
        found.append(f"{name}: services are {sorted(actual['services'])}, expected "
                     f"{sorted(expected['services'])}")
    if "responding_teams" in expected:
        teams = actual.get("responding_teams")
        names = sorted(t.get("team") for t in teams) if teams is not None else None
        if names != sorted(expected["responding_teams"]):
            found.append(f"{name}: responding teams are "
                         f"{names if names is not None else '(no responding_teams field)'}, "
                         f"expected {sorted(expected['responding_teams'])}")
    if "recurrence_of" in expected:
        want = ids.get(expected["recurrence_of"]) if expected["recurrence_of"] else None
        got = actual.get("recurrence_of")
        if got != want:
            found.append(f"{name}: recurrence_of is "
                         f"{got if 'recurrence_of' in actual else '(no recurrence_of field)'}, "
                         f"expected {_incident_ref(expected['recurrence_of'], want)}")
    if "started_at" in expected:
        problem = _time(replay, actual["started_at"], expected["started_at"])
        if problem:
            found.append(f"{name}: started_at {problem}")
    for entry in expected.get("timeline", []):
        if not any(_entry_matches(e, entry) for e in actual.get("timeline", [])):
            found.append(f"{name}: no timeline entry {_entry(entry)}")
    for entry in expected.get("timeline_excludes", []):
        hits = [e for e in actual.get("timeline", []) if _entry_matches(e, entry)]
        if hits:
            found.append(f"{name}: a timeline entry {_entry(entry)} should not be there: "
                         f"{hits[0]['kind']}: {hits[0]['text'][:200]!r}")
    for suspect in expected.get("suspects", []):
        if not any(all(s.get(k) == v for k, v in suspect.items())
                   for s in actual.get("suspects", [])):
            shown = [f"{s['service']} {s['version']}" for s in actual.get("suspects", [])]
            found.append(f"{name}: no suspect {suspect} among its suspects {shown}")
    return found


def _alerts(replay: Replay, expected: list[dict[str, Any]], ids: dict[str, int]) -> list[str]:
    listed = replay._get("/api/v1/alerts", limit=1000)["items"]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for alert in sorted(listed, key=lambda a: a["id"]):
        by_key.setdefault(alert["dedup_key"], []).append(alert)
    wanted: dict[str, list[dict[str, Any]]] = {}
    for alert in expected:
        wanted.setdefault(alert["dedup_key"], []).append(alert)
    found = []
    for key, alerts in wanted.items():
        actual = by_key.get(key, [])
        if alerts[0].get("absent"):
            if actual:
                found.append(f"alert {key}: expected none, found {len(actual)} "
                             f"({_alert_line(actual[0], ids)})")
            continue
        if len(actual) != len(alerts):
            found.append(f"alert {key}: {len(actual)} alerts with this key, expected "
                         f"{len(alerts)}: " + "; ".join(_alert_line(a, ids) for a in actual))
        for n, (want, got) in enumerate(zip(alerts, actual, strict=False)):
            name = f"alert {key}" + (f" #{n + 1}" if len(alerts) > 1 else "")
            found += _alert(replay, name, want, got, ids)
    return found


def _alert(replay: Replay, name: str, want: dict[str, Any], got: dict[str, Any],
           ids: dict[str, int]) -> list[str]:
    found = []
    for key in ("status", "severity", "service", "count"):
        if key in want and got.get(key) != want[key]:
            found.append(f"{name}: {key} is {got.get(key)!r}, expected {want[key]!r}")
    if "incident" in want:
        target = ids.get(want["incident"]) if want["incident"] else None
        if got["incident_id"] != target:
            found.append(f"{name}: in incident {_incident_ref(None, got['incident_id'], ids)}, "
                         f"expected {_incident_ref(want['incident'], target)}")
    details = got.get("details") or {}
    for key, value in (want.get("details") or {}).items():
        if details.get(key) != value:
            found.append(f"{name}: details.{key} is {details.get(key)!r}, expected {value!r}")
    for key in want.get("details_keys", []):
        if key not in details:
            found.append(f"{name}: details has no {key!r} (details: {details})")
    for key in ("first_seen", "reported_at"):
        if key in want:
            if got.get(key) is None:
                found.append(f"{name}: {key} is {'missing' if key not in got else 'empty'}")
                continue
            problem = _time(replay, got[key], want[key])
            if problem:
                found.append(f"{name}: {key} {problem}")
    return found


def _health(replay: Replay, expected: dict[str, Any], ids: dict[str, int]) -> list[str]:
    response = replay.client.get("/api/v1/health", headers=replay.admin)
    if response.status_code != 200:
        return [f"health: GET /api/v1/health answered {response.status_code}: "
                f"{response.text[:200]}"]
    body = response.json()
    items = body if isinstance(body, list) else body.get("items", body.get("services", []))
    states = {item["service"]: item for item in items}
    found = []
    for service, want in expected.items():
        got = states.get(service)
        if got is None:
            found.append(f"health: {service} is not listed")
            continue
        wanted = want["state"] if isinstance(want, dict) else want
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if got.get("state") not in allowed:
            found.append(f"health: {service} is {got.get('state')!r} "
                         f"({got.get('reason', '')}), expected {' or '.join(allowed)}")
        if isinstance(want, dict) and "incidents" in want:
            shown = sorted(i["id"] for i in got.get("incidents", []))
            targets = sorted(ids.get(label, -1) for label in want["incidents"])
            if shown != targets:
                found.append(f"health: {service} lists incidents {shown}, expected "
                             f"{want['incidents']} = {targets}")
    return found


def _time(replay: Replay, value: str, expected: Any) -> str | None:
    """None when ``value`` (an ISO time) is what ``expected`` says, else why not."""
    if isinstance(expected, str):
        return None if value.startswith(expected) else f"is {value}, expected {expected}..."
    minutes = (datetime.fromisoformat(value.replace("Z", "+00:00")) - replay.base
               ).total_seconds() / 60
    if isinstance(expected, dict):
        low, high = expected.get("min", float("-inf")), expected.get("max", float("inf"))
    else:
        low, high = expected - TIME_TOLERANCE_MINUTES, expected + TIME_TOLERANCE_MINUTES
    if low <= minutes <= high:
        return None
    return (f"is {value} ({minutes:+.1f} min from the base), expected "
            f"{expected if isinstance(expected, dict) else f'{expected:+} min'}")


def _entry_matches(actual: dict[str, Any], expected: dict[str, Any]) -> bool:
    if "kind" in expected and actual.get("kind") != expected["kind"]:
        return False
    if "text" in expected and expected["text"].lower() not in actual.get("text", "").lower():
        return False
    data = actual.get("data") or {}
    return all(data.get(k) == v for k, v in (expected.get("data") or {}).items())


def _entry(entry: dict[str, Any]) -> str:
    parts = [f"kind {entry['kind']!r}"] if "kind" in entry else []
    if "text" in entry:
        parts.append(f"text containing {entry['text']!r}")
    if "data" in entry:
        parts.append(f"data {entry['data']}")
    return ", ".join(parts)


def _incident_ref(label: str | None, incident_id: int | None,
                  ids: dict[str, int] | None = None) -> str:
    if incident_id is None:
        return "none"
    if label is None and ids is not None:
        label = next((name for name, i in ids.items() if i == incident_id), "(unexpected)")
    return f"{label} (INC-{incident_id})" if label else f"INC-{incident_id}"


def _alert_line(alert: dict[str, Any], ids: dict[str, int]) -> str:
    return (f"{alert['status']} {alert['severity']} on {alert['service']} in "
            f"{_incident_ref(None, alert['incident_id'], ids)}, first seen "
            f"{alert['first_seen']}, count {alert['count']}")

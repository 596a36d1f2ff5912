"""Correlation scenarios as data: reading and checking ``tests/scenarios/*.yaml``.

A scenario is a small catalog, a sequence of steps at times relative to a base
(minutes), and the incidents, alerts and live health expected at the end. The
runner (``tests/scenarios/test_scenarios.py``, with :mod:`scenario_replay`)
replays the steps through the public HTTP API. This module only reads a file and
checks its shape, so a mistake in a scenario fails with the file and the path of
the wrong value (``steps[3].alert.severity: expected a string``) rather than as a
confusing difference later.

The shape (every key not marked optional is required)::

    description: what the scenario shows (text)
    catalog: NAME                  # tests/scenarios/catalogs/NAME.yaml, or a mapping:
      base: NAME                   #   optional, extended by what follows
      teams: [platform, ...]
      services:
        - {name, owner, tier, kind, min_up, hard: [names], soft: [names]}
    settings: {STEWARD_...: "value"}   # optional, for this scenario only
    steps:
      - at: 0                      # minutes after the base (base = now - 50 min)
        source: generic            # optional: generic (default), alertmanager, pagerduty
        group_key: "..."           # optional (alertmanager: the notification's groupKey)
        alert: {service, dedup_key, severity, summary, status, at, time}
        # or alerts: [ ...one request with several alerts... ]
        # or action: acknowledge|mitigate|resolve|close|reopen, incident: LABEL
        # or deploy: {service, version, environment}
        expect: {status: 202, refused: [indexes]}   # optional
    expect:
      incidents: [ {label, services, origin, team, responding_teams, priority, status,
                    impact, urgency, recurrence_of, reopen_count, started_at,
                    timeline: [{kind, text, data}], timeline_excludes: [...],
                    # text: a part of the entry's text (any case); data: a subset
                    suspects: [{service, version}]} ]
      alerts: [ {dedup_key, status, severity, service, incident, count, details,
                 details_keys, first_seen, reported_at} ]
      health: {service: state | [states] | {state, incidents: [labels]}}

Incidents are labelled in the order they open (by id): the first listed is the
first incident opened. An alert's ``at`` or ``time`` overrides the step's time for
that alert only (``time`` is sent exactly as written, to test odd timestamps).
Times expected (``started_at``, ``first_seen``, ``reported_at``) are minutes after
the base, within a minute, or ``{min, max}``, or a string the value starts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
CATALOGS = SCENARIOS / "catalogs"

SOURCES = ("generic", "alertmanager", "pagerduty")
ACTIONS = ("acknowledge", "mitigate", "resolve", "close", "reopen")
ALERT_STATUSES = ("firing", "resolved")
KINDS = ("business_service", "system", "service", "api", "resource", "pool")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
INCIDENT_STATUSES = ("triggered", "acknowledged", "mitigated", "resolved", "closed")
HEALTH_STATES = ("up", "degraded", "down", "unknown")
# All steps fit in 50 minutes: the base is 50 minutes ago, and the event-time bound is 60.
BASE_MINUTES_AGO = 50
EARLIEST_STEP = -60  # deployments may finish before the base


class ScenarioError(ValueError):
    """A scenario file that does not have the expected shape."""


@dataclass(frozen=True)
class Scenario:
    name: str  # the file name
    description: str
    catalog: dict[str, Any]  # {"teams": [...], "services": [...]}, bases merged in
    settings: dict[str, str]
    steps: list[dict[str, Any]]
    expect: dict[str, Any]


def scenario_files() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def load(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML: {exc}") from None
    return parse(data, path.name)


def parse(data: Any, name: str) -> Scenario:
    """A scenario from its parsed YAML; :class:`ScenarioError` names the file and path."""
    check = _Checker(name)
    root = check.mapping(data, "", required=("description", "catalog", "steps", "expect"),
                         optional=("settings",))
    check.text(root["description"], "description")
    catalog = _catalog(check, root["catalog"], "catalog", seen=())
    services = {s["name"] for s in catalog["services"]}
    settings = check.mapping(root.get("settings", {}), "settings", free=True)
    for key, value in settings.items():
        if not str(key).startswith("STEWARD_"):
            check.fail(f"settings.{key}", "only STEWARD_* settings may be set")
        check.text(value, f"settings.{key}")
    steps = check.sequence(root["steps"], "steps", non_empty=True)
    last = float(EARLIEST_STEP)
    for index, step in enumerate(steps):
        at = _step(check, step, f"steps[{index}]", services)
        if at < last:
            check.fail(f"steps[{index}].at", f"steps go in time order ({at} after {last})")
        last = at
    expect = _expect(check, root["expect"], services)
    labels = [i["label"] for i in expect.get("incidents", [])]
    _check_labels(check, steps, expect, labels)
    return Scenario(name=name, description=root["description"], catalog=catalog,
                    settings={str(k): v for k, v in settings.items()}, steps=steps,
                    expect=expect)


def _catalog(check: _Checker, value: Any, path: str, seen: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(value, str):
        file = CATALOGS / f"{value}.yaml"
        if value in seen or not file.is_file():
            check.fail(path, f"no catalog named {value!r} in {CATALOGS.name}/ "
                             "(or it includes itself)")
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            check.fail(path, f"catalog {value!r} is not valid YAML: {exc}")
        return _catalog(_Checker(f"{check.name} (catalog {value})"), data, "",
                        (*seen, value))
    given = check.mapping(value, path, required=(), optional=("base", "teams", "services"))
    merged: dict[str, Any] = {"teams": [], "services": []}
    if "base" in given:
        merged = _catalog(check, check.text(given["base"], f"{path}.base"), f"{path}.base",
                          seen)
        merged = {"teams": list(merged["teams"]), "services": list(merged["services"])}
    for index, team in enumerate(check.sequence(given.get("teams", []), f"{path}.teams")):
        if team not in merged["teams"]:
            merged["teams"].append(check.text(team, f"{path}.teams[{index}]"))
    names = {s["name"] for s in merged["services"]}
    for index, service in enumerate(check.sequence(given.get("services", []),
                                                   f"{path}.services")):
        where = _join(path, f"services[{index}]")
        fields = check.mapping(service, where, required=("name",), optional=(
            "owner", "tier", "kind", "min_up", "hard", "soft"))
        check.text(fields["name"], f"{where}.name")
        if fields["name"] in names:
            check.fail(f"{where}.name", f"service {fields['name']!r} is listed twice")
        names.add(fields["name"])
        if "owner" in fields and check.text(fields["owner"], f"{where}.owner") not in \
                merged["teams"]:
            check.fail(f"{where}.owner", f"team {fields['owner']!r} is not in the teams")
        if "tier" in fields:
            check.number(fields["tier"], f"{where}.tier", low=1, high=4, integer=True)
        if "kind" in fields:
            check.choice(fields["kind"], f"{where}.kind", KINDS)
        if "min_up" in fields:
            check.number(fields["min_up"], f"{where}.min_up", low=1, integer=True)
            if fields.get("kind") != "pool":
                check.fail(f"{where}.min_up", "only a pool has min_up")
        for kind in ("hard", "soft"):
            for n, other in enumerate(check.sequence(fields.get(kind, []), f"{where}.{kind}")):
                check.text(other, f"{where}.{kind}[{n}]")
        merged["services"].append(fields)
    for service in merged["services"]:
        for kind in ("hard", "soft"):
            for other in service.get(kind, []):
                if other not in names:
                    check.fail(_join(path, "services"), f"{service['name']} depends on "
                               f"{other!r}, which is not a service of the catalog")
    return merged


def _step(check: _Checker, value: Any, path: str, services: set[str]) -> float:
    step = check.mapping(value, path, required=("at",), optional=(
        "alert", "alerts", "action", "incident", "deploy", "source", "group_key", "expect",
        "note"))
    at = check.number(step["at"], f"{path}.at", low=EARLIEST_STEP, high=BASE_MINUTES_AGO)
    kinds = [k for k in ("alert", "alerts", "action", "deploy") if k in step]
    if len(kinds) != 1:
        check.fail(path, "a step has exactly one of alert, alerts, action or deploy "
                         f"(found {', '.join(kinds) or 'none'})")
    kind = kinds[0]
    if kind != "deploy" and at < 0:
        check.fail(f"{path}.at", "alerts and actions happen at 0 minutes or later")
    if "note" in step:
        check.text(step["note"], f"{path}.note")
    if kind in ("alert", "alerts"):
        source = step.get("source", "generic")
        check.choice(source, f"{path}.source", SOURCES)
        if "group_key" in step:
            check.text(step["group_key"], f"{path}.group_key")
            if source != "alertmanager":
                check.fail(f"{path}.group_key", "only Alertmanager notifications carry a "
                                                "group key (source: alertmanager)")
        alerts = [step["alert"]] if kind == "alert" else check.sequence(
            step["alerts"], f"{path}.alerts", non_empty=True)
        if kind == "alerts" and source == "pagerduty":
            check.fail(f"{path}.alerts", "a PagerDuty event holds one alert (use alert)")
        for index, alert in enumerate(alerts):
            where = f"{path}.alert" if kind == "alert" else f"{path}.alerts[{index}]"
            _alert(check, alert, where, services)
    else:
        for key in ("source", "group_key"):
            if key in step:
                check.fail(f"{path}.{key}", f"only alert steps have a {key}")
    if kind == "action":
        check.choice(step["action"], f"{path}.action", ACTIONS)
        if "incident" not in step:
            check.fail(f"{path}.incident", "is required: the label of the incident to act on")
        check.text(step["incident"], f"{path}.incident")
    elif "incident" in step:
        check.fail(f"{path}.incident", "only action steps name an incident")
    if kind == "deploy":
        deploy = check.mapping(step["deploy"], f"{path}.deploy", required=("service",),
                               optional=("version", "environment"))
        if check.text(deploy["service"], f"{path}.deploy.service") not in services:
            check.fail(f"{path}.deploy.service", f"{deploy['service']!r} is not in the catalog")
        for key in ("version", "environment"):
            if key in deploy:
                check.text(deploy[key], f"{path}.deploy.{key}")
    if "expect" in step:
        expected = check.mapping(step["expect"], f"{path}.expect", required=(),
                                 optional=("status", "refused"))
        if "status" in expected:
            check.number(expected["status"], f"{path}.expect.status", low=100, high=599,
                         integer=True)
        for n, index in enumerate(check.sequence(expected.get("refused", []),
                                                 f"{path}.expect.refused")):
            check.number(index, f"{path}.expect.refused[{n}]", low=0, integer=True)
    return float(at)


def _alert(check: _Checker, value: Any, path: str, services: set[str]) -> None:
    alert = check.mapping(value, path, required=("service", "dedup_key"), optional=(
        "severity", "summary", "status", "at", "time"))
    check.text(alert["service"], f"{path}.service")
    if alert["service"] not in services:
        check.fail(f"{path}.service", f"{alert['service']!r} is not in the catalog")
    check.text(alert["dedup_key"], f"{path}.dedup_key")
    for key in ("severity", "summary", "time"):
        if key in alert:
            check.text(alert[key], f"{path}.{key}")
    if "status" in alert:
        check.choice(alert["status"], f"{path}.status", ALERT_STATUSES)
    if "at" in alert:
        check.number(alert["at"], f"{path}.at", low=-24 * 60, high=24 * 60)
    if "at" in alert and "time" in alert:
        check.fail(path, "an alert has at most one of at and time")


def _expect(check: _Checker, value: Any, services: set[str]) -> dict[str, Any]:
    expect = check.mapping(value, "expect", required=("incidents",),
                           optional=("alerts", "health"))
    seen: set[str] = set()
    for index, value in enumerate(check.sequence(expect["incidents"], "expect.incidents")):
        path = f"expect.incidents[{index}]"
        incident = check.mapping(value, path, required=("label",), optional=(
            "services", "origin", "team", "responding_teams", "priority", "status", "impact",
            "urgency", "recurrence_of", "reopen_count", "started_at", "timeline",
            "timeline_excludes", "suspects"))
        label = check.text(incident["label"], f"{path}.label")
        if label in seen:
            check.fail(f"{path}.label", f"label {label!r} is used twice")
        seen.add(label)
        for key in ("services", "responding_teams"):
            for n, name in enumerate(check.sequence(incident.get(key, []), f"{path}.{key}")):
                check.text(name, f"{path}.{key}[{n}]")
        for name in incident.get("services", []):
            if name not in services:
                check.fail(f"{path}.services", f"{name!r} is not in the catalog")
        if "origin" in incident and incident["origin"] not in services:
            check.fail(f"{path}.origin", f"{incident['origin']!r} is not in the catalog")
        if "team" in incident:
            check.text(incident["team"], f"{path}.team")
        if "priority" in incident:
            check.choice(incident["priority"], f"{path}.priority", PRIORITIES)
        if "status" in incident:
            check.choice(incident["status"], f"{path}.status", INCIDENT_STATUSES)
        for key in ("impact", "urgency"):
            if key in incident:
                check.number(incident[key], f"{path}.{key}", low=1, high=3, integer=True)
        if "reopen_count" in incident:
            check.number(incident["reopen_count"], f"{path}.reopen_count", low=0, integer=True)
        if incident.get("recurrence_of") is not None:
            check.text(incident["recurrence_of"], f"{path}.recurrence_of")
        if "started_at" in incident:
            _time_expectation(check, incident["started_at"], f"{path}.started_at")
        for key in ("timeline", "timeline_excludes"):
            for n, entry in enumerate(check.sequence(incident.get(key, []), f"{path}.{key}")):
                where = f"{path}.{key}[{n}]"
                fields = check.mapping(entry, where, optional=("kind", "text", "data"))
                if not fields:
                    check.fail(where, "names a kind, a text, data or several")
                if "kind" in fields:
                    check.text(fields["kind"], f"{where}.kind")
                if "text" in fields:
                    check.text(fields["text"], f"{where}.text")
                if "data" in fields:
                    check.mapping(fields["data"], f"{where}.data", free=True)
        for n, entry in enumerate(check.sequence(incident.get("suspects", []),
                                                 f"{path}.suspects")):
            fields = check.mapping(entry, f"{path}.suspects[{n}]", required=("service",),
                                   optional=("version",))
            check.text(fields["service"], f"{path}.suspects[{n}].service")
    for index, value in enumerate(check.sequence(expect.get("alerts", []), "expect.alerts")):
        path = f"expect.alerts[{index}]"
        alert = check.mapping(value, path, required=("dedup_key",), optional=(
            "status", "severity", "service", "incident", "count", "details", "details_keys",
            "first_seen", "reported_at", "absent"))
        check.text(alert["dedup_key"], f"{path}.dedup_key")
        if "status" in alert:
            check.choice(alert["status"], f"{path}.status", (*ALERT_STATUSES, "acknowledged"))
        for key in ("severity", "service"):
            if key in alert:
                check.text(alert[key], f"{path}.{key}")
        if alert.get("incident") is not None:
            check.text(alert["incident"], f"{path}.incident")
        if "count" in alert:
            check.number(alert["count"], f"{path}.count", low=1, integer=True)
        if "details" in alert:
            check.mapping(alert["details"], f"{path}.details", free=True)
        for n, key in enumerate(check.sequence(alert.get("details_keys", []),
                                               f"{path}.details_keys")):
            check.text(key, f"{path}.details_keys[{n}]")
        for key in ("first_seen", "reported_at"):
            if key in alert:
                _time_expectation(check, alert[key], f"{path}.{key}")
        if "absent" in alert:
            if alert["absent"] is not True or len(alert) != 2:
                check.fail(f"{path}.absent", "is true, alone with dedup_key: no alert has "
                                             "this key")
    health = check.mapping(expect.get("health", {}), "expect.health", free=True)
    for service, state in health.items():
        path = f"expect.health.{service}"
        if service not in services:
            check.fail(path, f"{service!r} is not in the catalog")
        if isinstance(state, dict):
            state = check.mapping(state, path, required=("state",), optional=("incidents",))
            for n, label in enumerate(check.sequence(state.get("incidents", []),
                                                     f"{path}.incidents")):
                check.text(label, f"{path}.incidents[{n}]")
            state = state["state"]
        states = state if isinstance(state, list) else [state]
        if not states:
            check.fail(path, "names at least one state")
        for state_name in states:
            check.choice(state_name, path, HEALTH_STATES)
    return expect


def _time_expectation(check: _Checker, value: Any, path: str) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, dict):
        bounds = check.mapping(value, path, required=(), optional=("min", "max"))
        if not bounds:
            check.fail(path, "names min, max or both")
        for key, bound in bounds.items():
            check.number(bound, f"{path}.{key}")
        return
    check.number(value, path)


def _check_labels(check: _Checker, steps: list[dict[str, Any]], expect: dict[str, Any],
                  labels: list[str]) -> None:
    known = set(labels)
    for index, step in enumerate(steps):
        if "incident" in step and step["incident"] not in known:
            check.fail(f"steps[{index}].incident", f"no expected incident is labelled "
                                                   f"{step['incident']!r}")
    for index, incident in enumerate(expect.get("incidents", [])):
        if incident.get("recurrence_of") is not None and incident["recurrence_of"] not in known:
            check.fail(f"expect.incidents[{index}].recurrence_of",
                       f"no expected incident is labelled {incident['recurrence_of']!r}")
    for index, alert in enumerate(expect.get("alerts", [])):
        if alert.get("incident") is not None and alert["incident"] not in known:
            check.fail(f"expect.alerts[{index}].incident",
                       f"no expected incident is labelled {alert['incident']!r}")
    for service, state in expect.get("health", {}).items():
        if isinstance(state, dict):
            for label in state.get("incidents", []):
                if label not in known:
                    check.fail(f"expect.health.{service}.incidents",
                               f"no expected incident is labelled {label!r}")


class _Checker:
    def __init__(self, name: str):
        self.name = name

    def fail(self, path: str, message: str) -> Any:
        raise ScenarioError(f"{self.name}: {path or 'the file'}: {message}")

    def mapping(self, value: Any, path: str, *, required: tuple[str, ...] = (),
                optional: tuple[str, ...] = (), free: bool = False) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_kind(value)}")
        if free:
            return value
        for key in required:
            if key not in value:
                self.fail(_join(path, str(key)), "is required")
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.fail(_join(path, str(key)), "unknown key; expected one of "
                                                 + ", ".join(sorted(allowed)))
        return value

    def sequence(self, value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_kind(value)}")
        if non_empty and not value:
            self.fail(path, "must not be empty")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"expected a non-empty string, got {_kind(value)}")
        return value

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(path, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def number(self, value: Any, path: str, *, low: float | None = None,
               high: float | None = None, integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                integer and not isinstance(value, int)):
            self.fail(path, f"expected {'a whole number' if integer else 'a number'}, "
                            f"got {_kind(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(path, f"expected a number from {low} to {high}, got {value}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})" if value else "an empty string"
    return f"{type(value).__name__} ({value!r})"[:80]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key

"""Correlation scenarios: every ``tests/scenarios/*.yaml`` replayed through the public API,
on SQLite and on PostgreSQL, and its expected incidents, alerts and live health checked.

How a scenario file is written: :mod:`scenario_data` (and docs/incidents.md,
"Correlation scenarios").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from scenario_checks import differences
from scenario_data import ScenarioError, load, parse, scenario_files
from scenario_replay import Replay
from steward.app import create_app
from steward.db import Database

FILES = scenario_files()
_APPS: dict[str, FastAPI] = {}


def scenario_client(db: Database) -> TestClient:
    """A client of one application per backend, serving this test's database.

    FastAPI builds each route of an application the first time a request meets it (a
    few tenths of a second for the routes a scenario uses, most of its time), so the
    scenarios share an application and each points it at its own fresh database, with
    a writer of its own for alerts."""
    backend = "sqlite" if db.settings.is_sqlite else "postgres"
    app = _APPS.get(backend)
    if app is None:
        app = _APPS[backend] = create_app(db.settings, database=db)
    app.state.db = db
    app.state.settings = db.settings
    if hasattr(app.state, "alert_writer"):
        del app.state.alert_writer  # bound to the previous test's database
    return TestClient(app)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_scenario(path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load(path)  # a malformed file fails here, naming the file and the value
    for name, value in scenario.settings.items():
        monkeypatch.setenv(name, value)
    client = scenario_client(db)
    replay = Replay(scenario, db, client)
    try:
        replay.run()
    except AssertionError as exc:
        pytest.fail(f"scenario {scenario.name}: {exc}", pytrace=False)
    found, incidents = differences(replay)
    if found:
        pytest.fail(f"scenario {scenario.name} ({db.settings.database_url.split(':')[0]}): "
                    f"{len(found)} expectation(s) differ:\n  " + "\n  ".join(found)
                    + "\n" + replay.describe(incidents), pytrace=False)


def test_there_are_enough_scenarios() -> None:
    assert len(FILES) >= 25, [p.name for p in FILES]


def test_every_scenario_file_is_well_formed() -> None:
    """Checked apart from running them, so a broken file is named even when the database
    tests are not run."""
    problems = []
    for path in FILES:
        try:
            load(path)
        except ScenarioError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


VALID = {
    "description": "one alert",
    "catalog": {"teams": ["platform"],
                "services": [{"name": "core-db", "owner": "platform", "tier": 1}]},
    "steps": [{"at": 0, "alert": {"service": "core-db", "dedup_key": "db-down"}}],
    "expect": {"incidents": [{"label": "A", "services": ["core-db"]}]},
}


def _with(path: tuple[str | int, ...], value: object) -> dict:
    import copy

    data = copy.deepcopy(VALID)
    target: object = data
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    if value is _DELETE:
        del target[path[-1]]  # type: ignore[attr-defined]
    else:
        target[path[-1]] = value  # type: ignore[index]
    return data


_DELETE = object()


def test_a_valid_scenario_is_read() -> None:
    scenario = parse(VALID, "valid.yaml")
    assert scenario.catalog["services"][0]["name"] == "core-db"
    assert [s["at"] for s in scenario.steps] == [0]


@pytest.mark.parametrize(("path", "value", "message"), [
    (("steps",), _DELETE, "bad.yaml: steps: is required"),
    (("steps", 0, "alert", "severity"), 3, "steps[0].alert.severity: expected a non-empty string"),
    (("steps", 0, "alert", "service"), "ledger", "steps[0].alert.service: 'ledger' is not in "
                                                 "the catalog"),
    (("steps", 0, "alert", "colour"), "red", "steps[0].alert.colour: unknown key"),
    (("steps", 0, "at"), 75, "steps[0].at: expected a number from -60 to 50, got 75"),
    (("steps", 0, "source"), "nagios", "steps[0].source: expected one of generic, "
                                       "alertmanager, pagerduty, got 'nagios'"),
    (("steps", 0, "action"), "acknowledge", "steps[0]: a step has exactly one of alert, alerts,"
                                            " action or deploy (found alert, action)"),
    (("expect", "incidents", 0, "priority"), "P0", "expect.incidents[0].priority: expected "
                                                   "one of P1, P2, P3, P4, P5, got 'P0'"),
    (("expect", "incidents", 0, "services"), "core-db", "expect.incidents[0].services: "
                                                        "expected a list"),
    (("expect", "health"), {"core-db": "sideways"}, "expect.health.core-db: expected one of "
                                                    "up, degraded, down, unknown"),
    (("catalog",), "no-such-catalog", "catalog: no catalog named 'no-such-catalog'"),
    (("catalog", "services", 0, "hard"), ["kafka"], "core-db depends on 'kafka', which is not"),
])
def test_a_malformed_scenario_is_refused_naming_the_value(path: tuple, value: object,
                                                          message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        parse(_with(path, value), "bad.yaml")
    assert message in str(refused.value)
    assert str(refused.value).startswith("bad.yaml: ")


def test_an_action_must_name_an_expected_incident() -> None:
    data = _with(("steps",), [*VALID["steps"], {"at": 2, "action": "resolve", "incident": "B"}])
    with pytest.raises(ScenarioError, match=r"steps\[1\]\.incident: no expected incident "
                                            "is labelled 'B'"):
        parse(data, "bad.yaml")


def test_steps_go_in_time_order() -> None:
    data = _with(("steps",), [{"at": 5, "alert": {"service": "core-db", "dedup_key": "a"}},
                              {"at": 1, "alert": {"service": "core-db", "dedup_key": "b"}}])
    with pytest.raises(ScenarioError, match=r"steps\[1\]\.at: steps go in time order"):
        parse(data, "bad.yaml")


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("description: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: not valid YAML"):
        load(broken)

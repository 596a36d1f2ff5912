"""The authorisation matrix: every operation of /openapi.json, called as every role.

Which answer each role should get is derived from a small table of rules
(:data:`RULES`, matched on the method and the path); an operation no rule
classifies fails the test, so a new route has to be classified here. Every
call runs on a fresh copy of a small organisation (:mod:`authz_org`), the roles
expected to be refused first. The counts (calls per role and per answer) are
written to test-output/authz-matrix.json.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from authz_org import OWNER, ROLES, Copies
from conftest import OUTPUT, POSTGRES_URL
from steward.app import create_app
from steward.timeutil import isoformat_z, utcnow

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"

# What a role may do with an operation of each class.
PUBLIC = "public"  # anyone, signed in or not
INGEST = "ingest"  # an integration key in a header; a person's token is none
INGEST_BODY_KEY = "ingest-body-key"  # PagerDuty's shape: the key is in the body
READ = "read"  # anyone signed in
RESPONDER = "responder"  # anyone signed in but a viewer: incidents cross team lines
TEAM = "team"  # the members of the team that owns the record, and admins
SELF = "self"  # the user the path names (the owning team's member here), and admins
# A vote on a change: members of its approver teams (the owning team here). An admin
# outside them is refused too: segregation of duties (docs/changes.md).
APPROVE = "approve"
ADMIN = "admin"

# (methods, full-match path pattern, class). The first rule that matches wins.
RULES: list[tuple[str, str, str]] = [
    ("GET", r"/healthz|/metrics", PUBLIC),
    ("GET", r"/api/v2/[a-z/-]+\.json", PUBLIC),  # the status page, Statuspage's shapes
    ("PUT", r"/api/v1/status/components/\{service\}", ADMIN),
    ("POST", r"/api/v1/postmortems/lint", RESPONDER),  # anyone but a viewer
    ("POST", r"/v2/(change/)?enqueue", INGEST_BODY_KEY),
    ("POST", r"/ingest/(alertmanager|grafana|github|gitlab|cdevents)|/api/v1/alerts", INGEST),
    ("GET", r"/api/v1/audit(/verify)?", ADMIN),
    ("GET", r"/api/v1/timers", ADMIN),
    ("GET POST", r"/api/v1/users/\{username\}/tokens", SELF),
    ("GET POST", r"/api/v1/users/\{username\}/(contact-methods|notification-rules)", SELF),
    ("DELETE", r"/api/v1/users/\{username\}/(contact-methods|notification-rules)/\{[a-z_]+\}",
     SELF),
    ("GET PUT", r"/api/v1/users/\{username\}/notify-preferences", SELF),
    ("POST", r"/api/v1/notifications/\{notification_id\}/retry", TEAM),
    ("DELETE", r"/api/v1/tokens/\{token_id\}", SELF),
    ("POST PATCH DELETE", r"/api/v1/users(/\{username\})?", ADMIN),
    ("POST DELETE", r"/api/v1/teams(/\{name\})?", ADMIN),
    ("POST", r"/api/v1/(catalog/import|imports/servicenow|slos/evaluate)", ADMIN),
    ("POST PATCH DELETE", r"/api/v1/goals(/\{goal_id\})?", ADMIN),
    ("DELETE", r"/api/v1/calendar/windows/\{window_id\}", ADMIN),
    ("POST", r"/api/v1/changes/\{change_id\}/(approve|reject)", APPROVE),
    ("POST", r"/api/v1/incidents(/\{incident_id\}/[a-z{}_]+)?", RESPONDER),
    ("PUT DELETE", r"/api/v1/teams/\{team\}/(escalation|status)-policy", TEAM),
    ("POST PATCH DELETE", r"/api/v1/(teams|services|dependencies|changes|gate|change-templates"
                          r"|calendar|deployments|integrations|slos|schedules)(/.*)?", TEAM),
    ("GET", r"/api/v1/(alerts|teams|services|impact|health|dependencies|users|changes"
            r"|change-policy|change-templates|calendar|deployments|integrations|incidents|slos"
            r"|kpis|goals|schedules|oncall|notifications|status|overview)"
            r"(/.*)?", READ),
]

OK = "2xx"
DENIED = "401 or 403"
REFUSED = "4xx"  # any refusal, never a success
SIGNED_IN = ROLES[1:]
VIEWERS = ("viewer", "viewer_in_team")
EXPECTED: dict[str, dict[str, str | int]] = {
    PUBLIC: {role: OK for role in ROLES},
    INGEST: {"anonymous": 401, **{role: DENIED for role in SIGNED_IN}},
    INGEST_BODY_KEY: {role: REFUSED for role in ROLES},
    READ: {"anonymous": 401, **{role: OK for role in SIGNED_IN}},
    RESPONDER: {"anonymous": 401, "viewer": 403, "viewer_in_team": 403, "other_team": OK,
                "owning_team": OK, "admin": OK},
    TEAM: {"anonymous": 401, "viewer": 403, "viewer_in_team": 403, "other_team": 403,
           "owning_team": OK, "admin": OK},
    SELF: {"anonymous": 401, "viewer": 403, "viewer_in_team": 403, "other_team": 403,
           "owning_team": OK, "admin": OK},
    APPROVE: {"anonymous": 401, "viewer": 403, "viewer_in_team": 403, "other_team": 403,
              "owning_team": OK, "admin": 403},
    ADMIN: {"anonymous": 401, "viewer": 403, "viewer_in_team": 403, "other_team": 403,
            "owning_team": 403, "admin": OK},
}

# Path parameters: the organisation's records (authz_org), or these names.
NAMES = {"username": "owen", "state": "canceled", "action": "acknowledge", "team": OWNER}
SERVICE_PATHS = re.compile(r"/api/v1/services/")
# A team with services cannot be deleted (409): the admin deletes an empty one.
OPERATION_NAMES = {("DELETE", "/api/v1/teams/{name}"): {"name": "spare"},
                   ("PUT", "/api/v1/status/components/{service}"): {"service": "api"}}
# Refused as soon as a key is missing whatever the body; the body is a valid event all
# the same, so the refusal is about the key.
ADMIN_REFUSED_BY_DESIGN = (INGEST, INGEST_BODY_KEY, APPROVE)


def classify(method: str, path: str) -> str | None:
    for methods, pattern, kind in RULES:
        if method in methods.split() and re.fullmatch(pattern, path):
            return kind
    return None


def fill(method: str, path: str, ids: dict[str, object]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        override = OPERATION_NAMES.get((method, path), {})
        if name in override:
            return override[name]
        if name == "name":
            return "api" if SERVICE_PATHS.match(path) else OWNER
        if name in NAMES:
            return str(NAMES[name])
        if name not in ids:
            raise KeyError(f"{path}: no value for the path parameter {{{name}}}; add one")
        return str(ids[name])

    return re.sub(r"\{([a-z_]+)\}", value, path)


def when(**delta: float) -> str:
    return isoformat_z(utcnow() + timedelta(**delta))


def request_body(method: str, path: str, ids: dict[str, object]) -> dict[str, Any]:
    """Keyword arguments for the request: a valid body, so a refusal is about rights."""
    bodies: dict[str, Any] = {
        "POST /api/v1/teams": {"name": "newteam"},
        "PATCH /api/v1/teams/{name}": {"description": "Takes payments."},
        "POST /api/v1/services": {"name": "ledger", "owner": OWNER},
        "PATCH /api/v1/services/{name}": {"description": "The payments API."},
        "POST /api/v1/dependencies": {"service": "api", "depends_on": "checkout"},
        "PATCH /api/v1/dependencies/{dependency_id}": {"type": "soft"},
        "POST /api/v1/users": {"username": "newbie", "role": "member"},
        "PATCH /api/v1/users/{username}": {"display_name": "Owen"},
        "POST /api/v1/users/{username}/tokens": {"name": "laptop"},
        "POST /api/v1/changes": {"title": "Raise the pool size", "services": ["api"]},
        "POST /api/v1/changes/{change_id}/approve": {"comment": "fine"},
        "POST /api/v1/changes/{change_id}/reject": {"comment": "not now"},
        "POST /api/v1/changes/{change_id}/{state}": {"comment": "not needed"},
        "POST /api/v1/gate": {"service": "api", "environment": "staging"},
        "POST /api/v1/change-templates": {"name": "restart", "services": ["api"],
                                          "owner": OWNER},
        "POST /api/v1/calendar/windows": {
            "name": "payday", "kind": "freeze", "scope": "team", "scope_values": [OWNER],
            "starts_at": when(days=20), "ends_at": when(days=21)},
        "POST /api/v1/deployments": {"service": "api", "environment": "staging",
                                     "version": "1.1"},
        "POST /api/v1/integrations": {"type": "generic", "service": "api"},
        "POST /api/v1/incidents": {"title": "Slow checkout", "service": "api"},
        "POST /api/v1/incidents/{incident_id}/notes": {"text": "Looking."},
        "POST /api/v1/incidents/{incident_id}/updates": {
            "status": "investigating", "title": "Checkout slow", "body": "Looking."},
        "PUT /api/v1/teams/{team}/status-policy": {"auto_publish_p1": True},
        "POST /api/v1/incidents/{incident_id}/assign": {"assignee": "owen"},
        "POST /api/v1/incidents/{incident_id}/priority": {"impact": 1},
        "POST /api/v1/incidents/{incident_id}/cause": {"deployment_id": ids["deployment_id"]},
        "POST /api/v1/incidents/{incident_id}/fix": {"deployment_id": ids["deployment_id"]},
        "POST /api/v1/incidents/{incident_id}/{action}": {"note": "On it."},
        "POST /api/v1/services/{name}/slos": {"name": "latency", "objective": 0.95},
        "PATCH /api/v1/slos/{slo_id}": {"description": "Payments succeed."},
        "POST /api/v1/slos/{slo_id}/reports": {"start": when(hours=-2), "end": when(hours=-1),
                                               "good": 99, "total": 100},
        "POST /api/v1/goals": {"name": "faster", "metric": "change_failure_rate",
                               "target": 0.05, "period_start": when(days=-1),
                               "period_end": when(days=30)},
        "PATCH /api/v1/goals/{goal_id}": {"description": "This quarter."},
        "POST /api/v1/schedules": {"team": OWNER, "name": "secondary", "time_zone": "UTC",
                                   "layers": [{"name": "daily", "starts": "2026-01-01T09:00",
                                               "handoff_interval_hours": 24,
                                               "members": ["owen"]}]},
        "PATCH /api/v1/schedules/{schedule_id}": {"description": "First line."},
        "POST /api/v1/schedules/{schedule_id}/overrides": {
            "user": "owen", "starts_at": when(days=5), "ends_at": when(days=6),
            "reason": "swap"},
        "PUT /api/v1/teams/{team}/escalation-policy": {"name": "payments", "levels": [
            {"timeout_minutes": 5, "targets": [{"kind": "schedule", "schedule": "primary"}]}]},
        "POST /api/v1/users/{username}/contact-methods": {"kind": "webhook",
                                                          "target": "https://h.example.test/o"},
        "POST /api/v1/users/{username}/notification-rules": {
            "contact_method_id": ids["method_id"], "urgency": "high", "delay_minutes": 5},
        "PUT /api/v1/users/{username}/notify-preferences": {"time_zone": "Europe/Amsterdam"},
        "PUT /api/v1/status/components/{service}": {"published": True, "name": "Payments"},
        "POST /api/v1/postmortems/lint": {"text": "Bob forgot to drain the node."},
        "POST /api/v1/teams/{team}/subscriptions": {
            "name": "chat", "kind": "chat", "url": "https://chat.example.test/hook",
            "event_types": ["incident.triggered"]},
    }
    alertmanager = json.loads((PAYLOADS / "alertmanager" / "am-webhook-v4-firing.json")
                              .read_text())["body"]
    bodies.update({
        "POST /ingest/alertmanager": alertmanager,
        "POST /ingest/grafana": json.loads((PAYLOADS / "grafana" / "webhook-docs-example.json")
                                           .read_text()),
        "POST /api/v1/alerts": {"dedup_key": "disk-full", "status": "firing"},
        "POST /v2/enqueue": json.loads((PAYLOADS / "pagerduty" / "alert-event-docs-trigger.json")
                                       .read_text()),
        "POST /v2/change/enqueue": json.loads(
            (PAYLOADS / "pagerduty" / "change-event-docs-example.json").read_text()),
    })
    raw: dict[str, tuple[str, bytes]] = {
        "POST /api/v1/catalog/import": ("application/yaml", (
            b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\n"
            b"spec:\n  type: service\n  lifecycle: production\n  owner: group:payments\n")),
        "POST /api/v1/imports/servicenow": ("text/csv", (
            b"number,incident_state,opened_at,short_description,priority\n"
            b"INC0010001,New,2024-01-02 10:00:00,Disk full,3 - Moderate\n")),
    }
    key = f"{method} {path}"
    if key in raw:
        content_type, content = raw[key]
        return {"content": content, "headers": {"content-type": content_type}}
    if key in bodies:
        return {"json": bodies[key]}
    return {"json": {}} if method != "GET" else {}


QUERIES = {  # reads that need a question
    "/api/v1/impact": {"failing": "db"},
    "/api/v1/kpis/export": {"table": "dora"},
    "/api/v1/oncall": {"team": OWNER},
    "/api/v1/oncall/now-next": {"team": OWNER},
}


def outcome(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


def matches(expected: str | int, status: int) -> bool:
    if expected == OK:
        return 200 <= status < 300
    if expected == DENIED:
        return status in (401, 403)
    if expected == REFUSED:
        return 400 <= status < 500
    return status == expected


def call(client: TestClient, token: str | None, method: str, path: str,
         ids: dict[str, object]) -> int:
    kwargs = request_body(method, path, ids)
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = fill(method, path, ids)
    response = client.request(method, url, headers=headers, params=QUERIES.get(path),
                              **kwargs)
    return response.status_code


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def copies(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        made = Copies("sqlite", tmp_path, request.getfixturevalue("sqlite_template"), None)
    else:
        if not POSTGRES_URL:
            pytest.skip("STEWARD_TEST_POSTGRES_URL is not set")
        made = Copies("postgres", tmp_path, None, request.getfixturevalue("postgres_database"))
    try:
        yield made
    finally:
        made.close()


def operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def test_every_operation_answers_each_role_by_the_rules(copies, request):  # type: ignore[no-untyped-def]
    org = copies.org
    with copies.fresh() as db:
        ops = operations(TestClient(create_app(db.settings, database=db)))
    unclassified = [f"{m} {p}" for m, p in ops if classify(m, p) is None]
    assert not unclassified, f"classify these operations in RULES: {unclassified}"

    wrong: list[str] = []
    per_role: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
    per_class: dict[str, Counter[str]] = {}
    table: dict[str, str] = {}
    # Every call runs on a copy of the organisation as built. A success of a write may
    # have changed it, so the next call gets a fresh copy; refusals change nothing (nor do
    # reads), so the calls after them share the copy.
    with ExitStack() as stack:
        client, dirty = None, True
        for method, path in ops:
            kind = classify(method, path)
            assert kind is not None
            table[f"{method} {path}"] = kind
            expected = EXPECTED[kind]
            for role in ROLES:
                if dirty:
                    stack.close()
                    db = stack.enter_context(copies.fresh())
                    client = TestClient(create_app(db.settings, database=db))
                assert client is not None
                status = call(client, org.tokens.get(role), method, path, org.ids)
                dirty = method != "GET" and 200 <= status < 300
                per_role[role][outcome(status)] += 1
                per_class.setdefault(kind, Counter())[outcome(status)] += 1
                problems = []
                if not matches(expected[role], status):
                    problems.append(f"expected {expected[role]}")
                if status >= 500:
                    problems.append("a server error")
                if role == "admin" and status in (401, 403) \
                        and kind not in ADMIN_REFUSED_BY_DESIGN:
                    problems.append("an admin refused")
                if role in VIEWERS and method != "GET" and 200 <= status < 300:
                    problems.append("a viewer wrote")
                if problems:
                    wrong.append(f"{method} {path} as {role}: {status} ({', '.join(problems)})")

    calls = sum(sum(c.values()) for c in per_role.values())
    report = {
        "operations": len(ops), "roles": list(ROLES), "calls": calls,
        "organisation_copies": copies.count,
        "per_role": {role: dict(sorted(c.items())) for role, c in per_role.items()},
        "per_class": {kind: dict(sorted(c.items())) for kind, c in sorted(per_class.items())},
        "operations_per_class": dict(sorted(Counter(table.values()).items())),
        "classes": table, "mismatches": wrong,
    }
    backend = request.node.callspec.params["copies"]
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "authz-matrix.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[backend] = report
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    print(f"\nauthorisation matrix ({backend}): {len(ops)} operations x {len(ROLES)} roles = "
          f"{calls} calls; per role: "
          + "; ".join(f"{r} {dict(per_role[r])}" for r in ROLES))
    assert calls == len(ops) * len(ROLES)
    assert not wrong, "\n".join(wrong)


def test_ingest_without_a_key_is_refused_before_its_body_is_read(sqlite_db):  # type: ignore[no-untyped-def]
    client = TestClient(create_app(sqlite_db.settings, database=sqlite_db))
    keyed = [path for method, path in operations(client) if classify(method, path) == INGEST]
    assert len(keyed) >= 6
    for body in (b"{}", b"[]", b"not json", b""):
        for path in keyed:
            answer = client.post(path, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 401, (path, body, answer.text)

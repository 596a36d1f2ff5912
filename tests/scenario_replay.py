"""Replaying a correlation scenario (:mod:`scenario_data`) through the public HTTP API,
then comparing what the API shows with what the scenario expects.

What happens goes through the API a monitoring system or a responder would call: alerts
(``POST /api/v1/alerts``, ``/ingest/alertmanager``, ``/v2/enqueue``), deployments
(``POST /api/v1/deployments``) and actions (``POST /api/v1/incidents/{id}/{action}`` with
``at``), and what is checked is read back from the API. The setting (the catalog, the
integration keys, an admin's API token) is made with the use cases the API itself calls,
in one transaction, as other tests seed theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from helpers import bearer, make_user

from scenario_data import BASE_MINUTES_AGO, SOURCES, Scenario
from steward.auth.actor import SYSTEM
from steward.auth.use_cases.integrations import create_integration
from steward.catalog.schemas import DependencyCreate, ServiceCreate, TeamCreate
from steward.catalog.use_cases import services, teams
from steward.db import Database

ALL_STATUSES = "triggered,acknowledged,mitigated,resolved,closed"
TIME_TOLERANCE_MINUTES = 1.0
INGEST = {"generic": "/api/v1/alerts", "alertmanager": "/ingest/alertmanager",
          "pagerduty": "/v2/enqueue"}
PD_ACTIONS = {"firing": "trigger", "resolved": "resolve"}


class Replay:
    """One scenario on one database: :meth:`run` the steps, then :meth:`differences`."""

    def __init__(self, scenario: Scenario, db: Database, client: TestClient):
        self.scenario = scenario
        self.client = client
        self.db = db
        self.admin = bearer(make_user(db, "scenario-admin", role="admin"))
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(
            minutes=BASE_MINUTES_AGO)
        self.keys: dict[str, str] = {}
        self.fired_at: dict[str, str] = {}  # dedup key -> its last firing time (Alertmanager)

    # -- replay -------------------------------------------------------------------------

    def run(self) -> None:
        self._build_catalog()
        for index, step in enumerate(self.scenario.steps):
            where = f"steps[{index}] (at {step['at']} min)"
            if "deploy" in step:
                self._deploy(step, where)
            elif "action" in step:
                self._act(step, where)
            else:
                self._send_alerts(step, where)

    def _build_catalog(self) -> None:
        """The catalog and the integration keys, with the use cases the API calls, in one
        transaction (a request per service would be most of a scenario's time)."""
        catalog = self.scenario.catalog
        with self.db.session() as session:
            for team in catalog["teams"]:
                teams.create_team(session, SYSTEM, TeamCreate(name=team))
            for service in catalog["services"]:
                fields = {key: service[key] for key in ("owner", "tier", "kind", "min_up")
                          if key in service}
                services.create_service(session, SYSTEM, ServiceCreate(name=service["name"],
                                                                        **fields))
            for service in catalog["services"]:
                for kind in ("hard", "soft"):
                    for other in service.get(kind, []):
                        services.create_dependency(session, SYSTEM, DependencyCreate(
                            service=service["name"], depends_on=other, type=kind))
            # Keys of no team, made by an admin: events name their service.
            for source in SOURCES:
                self.keys[source] = create_integration(session, SYSTEM, source)[1]

    def time(self, minutes: float) -> str:
        return (self.base + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")

    def _alert_time(self, step: dict[str, Any], alert: dict[str, Any]) -> str:
        if "time" in alert:
            return str(alert["time"])
        return self.time(alert.get("at", step["at"]))

    def _send_alerts(self, step: dict[str, Any], where: str) -> None:
        source = step.get("source", "generic")
        alerts = [step["alert"]] if "alert" in step else step["alerts"]
        key = self.keys[source]
        if source == "generic":
            items = [self._generic(step, a) for a in alerts]
            response = self.client.post(INGEST[source], headers=bearer(key),
                                        json=items[0] if "alert" in step else items)
        elif source == "alertmanager":
            response = self.client.post(INGEST[source], headers=bearer(key),
                                        json=self._alertmanager(step, alerts))
        else:
            response = self.client.post(INGEST[source], json=self._pagerduty(step, alerts[0],
                                                                             key))
        expected = step.get("expect", {})
        status = expected.get("status", 202)
        if response.status_code != status:
            raise ReplayError(f"{where}: {source} alert(s) answered {response.status_code} "
                              f"(expected {status}): {response.text[:600]}")
        if "refused" in expected:
            body = response.json()
            refused = sorted(r.get("index") for r in body.get("refused", []))
            if refused != sorted(expected["refused"]):
                raise ReplayError(f"{where}: refused events {refused}, expected "
                                  f"{sorted(expected['refused'])}; answer: {response.text[:600]}")

    def _generic(self, step: dict[str, Any], alert: dict[str, Any]) -> dict[str, Any]:
        return {"service": alert["service"], "dedup_key": alert["dedup_key"],
                "status": alert.get("status", "firing"),
                "severity": alert.get("severity", "error"),
                "summary": alert.get("summary", f"{alert['service']}: {alert['dedup_key']}"),
                "occurred_at": self._alert_time(step, alert)}

    def _alertmanager(self, step: dict[str, Any], alerts: list[dict[str, Any]]) -> dict[str, Any]:
        sent = []
        for alert in alerts:
            status = alert.get("status", "firing")
            at = self._alert_time(step, alert)
            labels = {"alertname": alert["dedup_key"], "service": alert["service"]}
            if "severity" in alert:
                labels["severity"] = alert["severity"]
            if status == "firing":
                self.fired_at[alert["dedup_key"]] = at
                starts, ends = at, "0001-01-01T00:00:00Z"
            else:
                starts, ends = self.fired_at.get(alert["dedup_key"], at), at
            sent.append({"status": status, "labels": labels,
                         "annotations": {"summary": alert.get(
                             "summary", f"{alert['service']}: {alert['dedup_key']}")},
                         "startsAt": starts, "endsAt": ends,
                         "generatorURL": "http://prometheus.example.com/graph",
                         "fingerprint": alert["dedup_key"]})
        firing = any(a["status"] == "firing" for a in sent)
        body: dict[str, Any] = {
            "version": "4", "receiver": "steward", "status": "firing" if firing else "resolved",
            "alerts": sent, "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.com", "truncatedAlerts": 0}
        if "group_key" in step:
            body["groupKey"] = step["group_key"]
        return body

    def _pagerduty(self, step: dict[str, Any], alert: dict[str, Any],
                   key: str) -> dict[str, Any]:
        status = alert.get("status", "firing")
        event: dict[str, Any] = {"routing_key": key, "event_action": PD_ACTIONS[status],
                                 "dedup_key": alert["dedup_key"]}
        if status == "firing":
            event["payload"] = {
                "summary": alert.get("summary", f"{alert['service']}: {alert['dedup_key']}"),
                "source": alert["service"], "severity": alert.get("severity", "error"),
                "timestamp": self._alert_time(step, alert),
                "custom_details": {"service": alert["service"]}}
        return event

    def _deploy(self, step: dict[str, Any], where: str) -> None:
        deploy = step["deploy"]
        finished = self.time(step["at"])
        self._post("/api/v1/deployments", {
            "service": deploy["service"], "environment": deploy.get("environment", "production"),
            "version": deploy.get("version", "1.0.0"), "status": "succeeded",
            "started_at": finished, "finished_at": finished}, f"{where}: deployment")

    def _act(self, step: dict[str, Any], where: str) -> None:
        label = step["incident"]
        incident = self.labelled(self.incidents(detail=False)).get(label)
        if incident is None:
            raise ReplayError(f"{where}: cannot {step['action']} incident {label}: it has not "
                              f"opened (incidents are labelled in the order they open)\n"
                              + self.describe(self.incidents()))
        response = self.client.post(f"/api/v1/incidents/{incident['id']}/{step['action']}",
                                    headers=self.admin, json={"at": self.time(step["at"])})
        status = step.get("expect", {}).get("status", 200)
        if response.status_code != status:
            raise ReplayError(f"{where}: {step['action']} {label} (INC-{incident['id']}) "
                              f"answered {response.status_code}, expected {status}: "
                              f"{response.text[:600]}")

    def _post(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        response = self.client.post(path, headers=self.admin, json=body)
        if response.status_code not in (200, 201):
            raise ReplayError(f"{what}: POST {path} answered {response.status_code}: "
                              f"{response.text[:600]}")
        result: dict[str, Any] = response.json()
        return result

    # -- reading back -------------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, headers=self.admin, params=params)
        if response.status_code != 200:
            raise ReplayError(f"GET {path} answered {response.status_code}: "
                              f"{response.text[:600]}")
        return response.json()

    def incidents(self, *, detail: bool = True) -> list[dict[str, Any]]:
        """Every incident in the order it opened (with its detail unless ``detail`` is
        false)."""
        listed = sorted(self._get("/api/v1/incidents", status=ALL_STATUSES,
                                  limit=1000)["items"], key=lambda i: i["id"])
        if not detail:
            return listed
        return [self._get(f"/api/v1/incidents/{i['id']}") for i in listed]

    def labelled(self, incidents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        labels = [i["label"] for i in self.scenario.expect["incidents"]]
        return dict(zip(labels, incidents, strict=False))

    def describe(self, incidents: list[dict[str, Any]]) -> str:
        labels = [i["label"] for i in self.scenario.expect["incidents"]]
        lines = [f"actual incidents ({len(incidents)}):"]
        for n, incident in enumerate(incidents):
            label = labels[n] if n < len(labels) else "(unexpected)"
            teams = incident.get("responding_teams")
            responding = [t.get("team") for t in teams] if teams is not None else "(no field)"
            lines.append(
                f"  {label} = INC-{incident['id']} {incident['status']} {incident['priority']} "
                f"(impact {incident['impact']}, urgency {incident['urgency']}) "
                f"origin {incident['origin_service']} team {incident['team']} "
                f"services {incident['services']} reopened {incident['reopen_count']} "
                f"recurrence_of {incident.get('recurrence_of', '(no field)')} "
                f"responding {responding} started {incident['started_at']}: "
                f"{incident['title'][:60]!r}")
            for entry in incident.get("timeline", [])[-12:]:
                lines.append(f"      {entry['at']} {entry['kind']}: {entry['text'][:140]}")
        return "\n".join(lines)


class ReplayError(AssertionError):
    """A step the API did not take as the scenario says it should."""

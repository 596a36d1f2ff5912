"""Storing one batch of imported ServiceNow incidents in one transaction.

Everything the batch needs is fetched with a few queries (incidents by their
INC number, the timeline entries already imported for them) and written with
Core bulk statements: thousands of rows per statement instead of an ORM
object each. Teams, services and problems the export names are created on
first sight and remembered across batches once their batch has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from steward.audit.service import Change, record_many
from steward.auth.actor import Actor
from steward.catalog.models import Service, Team
from steward.catalog.use_cases.services import bump_revision
from steward.incidents.models import Incident, IncidentService, TimelineEntry
from steward.problems.models import Problem
from steward.servicenow.export import SOURCE, TIMELINE_KIND, IncidentPlan, slug
from steward.timeutil import utcnow

INCIDENTS = Incident.__table__
TIMELINE = TimelineEntry.__table__
LINKS = IncidentService.__table__
TEAMS = Team.__table__
SERVICES = Service.__table__
PROBLEMS = Problem.__table__

# The incident columns an import sets; an incident whose values all match is unchanged.
COMPARED = ("title", "description", "status", "priority", "impact", "urgency",
            "impact_overridden", "urgency_overridden", "priority_reasons", "origin_service_id",
            "origin_reasoning", "owner_team_id", "started_at", "acknowledged_at", "resolved_at",
            "closed_at", "made_sla", "reassignment_count", "reopen_count", "category",
            "problem_id", "change_ref", "caused_by_ref", "source")
IN_CHUNK = 1000  # bound parameters per IN (...) list, well under every backend's limit


@dataclass
class Known:
    """Names and refs already stored: teams, services and problems by what the export calls them."""

    teams: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Known:
        return cls(
            teams={name: tid for name, tid in session.execute(
                select(TEAMS.c.name, TEAMS.c.id))},
            services={name: sid for name, sid in session.execute(
                select(SERVICES.c.name, SERVICES.c.id))},
            problems={ref: pid for ref, pid in session.execute(
                select(PROBLEMS.c.external_ref, PROBLEMS.c.id)
                .where(PROBLEMS.c.external_ref.is_not(None)))},
        )

    def merge(self, other: Known) -> None:
        self.teams.update(other.teams)
        self.services.update(other.services)
        self.problems.update(other.problems)


@dataclass
class BatchResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    events: int = 0
    new: Known = field(default_factory=Known)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.events or self.new.teams
                    or self.new.services or self.new.problems)


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i:i + IN_CHUNK] for i in range(0, len(items), IN_CHUNK)]


class BatchWriter:
    def __init__(self, session: Session, actor: Actor, known: Known):
        self.session = session
        self.actor = actor
        self.known = known
        self.result = BatchResult()

    def write(self, plans: Sequence[IncidentPlan], label: str) -> BatchResult:
        teams = self._teams(plans)
        services = self._services(plans, teams)
        problems = self._problems(plans, teams)
        existing = self._existing([p.number for p in plans])
        stored = self._stored_events([row["id"] for row in existing.values()])
        now = utcnow()
        new_rows: list[dict[str, Any]] = []
        new_plans: list[IncidentPlan] = []
        updates: list[dict[str, Any]] = []
        moved: list[tuple[int, int | None, int | None, datetime]] = []
        events: list[dict[str, Any]] = []
        for plan in plans:
            wanted = self._wanted(plan, teams, services, problems)
            row = existing.get(plan.number)
            if row is None:
                new_rows.append({**wanted, "external_ref": plan.number, "manual": False,
                                 "created_at": now, "updated_at": now})
                new_plans.append(plan)
                continue
            keys, latest = stored.get(row["id"], (set(), None))
            if latest is not None and plan.latest < latest:
                # An older export than the one stored: keep the newer state, add its events.
                wanted = {k: row[k] for k in COMPARED}
            if row["acknowledged_at"] is not None and (
                    wanted["acknowledged_at"] is None
                    or row["acknowledged_at"] < wanted["acknowledged_at"]):
                wanted["acknowledged_at"] = row["acknowledged_at"]
            if any(row[k] != wanted[k] for k in COMPARED):
                updates.append({**wanted, "b_id": row["id"], "updated_at": now})
                self.result.updated.append(plan.number)
                if row["origin_service_id"] != wanted["origin_service_id"]:
                    moved.append((row["id"], row["origin_service_id"],
                                  wanted["origin_service_id"], wanted["started_at"]))
            else:
                self.result.unchanged.append(plan.number)
            events.extend(self._event_rows(plan, row["id"], keys))
        if new_rows:
            created = self.session.execute(
                insert(INCIDENTS).returning(INCIDENTS.c.id, sort_by_parameter_order=True),
                new_rows)
            links = []
            for (incident_id,), row, plan in zip(created, new_rows, new_plans, strict=True):
                self.result.created.append(plan.number)
                if row["origin_service_id"] is not None:
                    links.append({"incident_id": incident_id,
                                  "service_id": row["origin_service_id"],
                                  "first_alert_at": row["started_at"]})
                events.extend(self._event_rows(plan, incident_id, set()))
            if links:
                self.session.execute(insert(LINKS), links)
        if updates:
            values: dict[str, Any] = {k: bindparam(k) for k in (*COMPARED, "updated_at")}
            self.session.execute(
                update(INCIDENTS).where(INCIDENTS.c.id == bindparam("b_id")).values(values),
                updates, execution_options={"synchronize_session": False})
            self._move_links(moved)
        if events:
            self.session.execute(insert(TIMELINE), events)
            self.result.events = len(events)
        if self.result.changed:
            record_many(self.session, self.actor, [self._audit(label)])
        return self.result

    # -- what the export names ---------------------------------------------------------

    def _teams(self, plans: Sequence[IncidentPlan]) -> dict[str, int]:
        wanted: dict[str, str] = {}
        for plan in plans:
            if plan.team and slug(plan.team) not in self.known.teams:
                wanted.setdefault(slug(plan.team), plan.team)
        if wanted:
            rows: list[dict[str, Any]] = [
                {"name": name, "display_name": label[:200],
                 "description": "A ServiceNow assignment group, created by the import.",
                 "contacts": {}} for name, label in wanted.items()]
            created = self.session.execute(
                insert(TEAMS).returning(TEAMS.c.id, sort_by_parameter_order=True), rows)
            for (team_id,), row in zip(created, rows, strict=True):
                self.result.new.teams[row["name"]] = team_id
        return {**self.known.teams, **self.result.new.teams}

    def _services(self, plans: Sequence[IncidentPlan], teams: dict[str, int]) -> dict[str, int]:
        wanted: dict[str, dict[str, Any]] = {}
        for plan in plans:
            if not plan.service:
                continue
            name = slug(plan.service)
            if name in self.known.services or name in wanted:
                continue
            wanted[name] = {
                "name": name, "display_name": plan.service[:300], "kind": "service", "tier": 3,
                "lifecycle": "production",
                "description": "A ServiceNow configuration item, created by the import.",
                "owner_team_id": teams.get(slug(plan.team)) if plan.team else None,
                "min_up": None, "links": [], "annotations": {"servicenow.cmdb_ci": plan.service},
            }
        if wanted:
            rows = list(wanted.values())
            created = self.session.execute(
                insert(SERVICES).returning(SERVICES.c.id, sort_by_parameter_order=True), rows)
            for (service_id,), row in zip(created, rows, strict=True):
                self.result.new.services[row["name"]] = service_id
            bump_revision(self.session)  # the dependency graph's cache keys on it
        return {**self.known.services, **self.result.new.services}

    def _problems(self, plans: Sequence[IncidentPlan], teams: dict[str, int]) -> dict[str, int]:
        wanted: dict[str, dict[str, Any]] = {}
        for plan in plans:
            ref = plan.problem[:100] if plan.problem else None
            if not ref or ref in self.known.problems or ref in wanted:
                continue
            wanted[ref] = {"external_ref": ref, "title": ref, "status": "open",
                           "source": SOURCE, "root_cause": "", "workaround": "",
                           "owner_team_id": teams.get(slug(plan.team)) if plan.team else None}
        if wanted:
            rows = list(wanted.values())
            created = self.session.execute(
                insert(PROBLEMS).returning(PROBLEMS.c.id, sort_by_parameter_order=True), rows)
            for (problem_id,), row in zip(created, rows, strict=True):
                self.result.new.problems[row["external_ref"]] = problem_id
        return {**self.known.problems, **self.result.new.problems}

    # -- incidents -------------------------------------------------------------------

    def _existing(self, numbers: list[str]) -> dict[str, dict[str, Any]]:
        columns = [INCIDENTS.c.id, INCIDENTS.c.external_ref, *(INCIDENTS.c[k] for k in COMPARED)]
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(numbers):
            for row in self.session.execute(
                    select(*columns).where(INCIDENTS.c.external_ref.in_(chunk))).mappings():
                found[row["external_ref"]] = dict(row)
        return found

    def _stored_events(self, ids: list[int]) -> dict[int, tuple[set[str], tuple[int, datetime]]]:
        """Per incident: the keys of its imported timeline entries and the latest version."""
        stored: dict[int, tuple[set[str], tuple[int, datetime]]] = {}
        for chunk in _chunks(ids):
            query = select(TIMELINE.c.incident_id, TIMELINE.c.at, TIMELINE.c.data).where(
                and_(TIMELINE.c.incident_id.in_(chunk), TIMELINE.c.kind == TIMELINE_KIND))
            for incident_id, at, data in self.session.execute(query):
                keys, latest = stored.get(incident_id, (set(), None))
                keys.add(str(data.get("event")))
                version = (int(data.get("sys_mod_count", -1)), at)
                stored[incident_id] = (keys, version if latest is None else max(latest, version))
        return stored

    def _wanted(self, plan: IncidentPlan, teams: dict[str, int], services: dict[str, int],
                problems: dict[str, int]) -> dict[str, Any]:
        service_id = services.get(slug(plan.service)) if plan.service else None
        return {
            **plan.fields,
            "impact_overridden": True, "urgency_overridden": True,
            "origin_service_id": service_id,
            "origin_reasoning": (f"the configuration item ({plan.service}) named in ServiceNow"
                                 if service_id else ""),
            "owner_team_id": teams.get(slug(plan.team)) if plan.team else None,
            "problem_id": problems.get(plan.problem[:100]) if plan.problem else None,
            "source": SOURCE,
        }

    def _event_rows(self, plan: IncidentPlan, incident_id: int,
                    keys: set[str]) -> list[dict[str, Any]]:
        return [{"incident_id": incident_id, "at": event.at, "kind": TIMELINE_KIND,
                 "actor": "ServiceNow", "text": event.text, "data": event.data}
                for event in plan.events if event.key not in keys]

    def _move_links(self, moved: list[tuple[int, int | None, int | None, datetime]]) -> None:
        for incident_id, old, new, started_at in moved:
            if old is not None:
                self.session.execute(delete(LINKS).where(
                    and_(LINKS.c.incident_id == incident_id, LINKS.c.service_id == old)))
            if new is not None and self.session.execute(select(LINKS.c.incident_id).where(
                    and_(LINKS.c.incident_id == incident_id, LINKS.c.service_id == new))
            ).first() is None:
                self.session.execute(insert(LINKS), [{"incident_id": incident_id,
                                                      "service_id": new,
                                                      "first_alert_at": started_at}])

    def _audit(self, label: str) -> Change:
        result = self.result
        return Change("incident.import", "import", label, after={
            "source": SOURCE,
            "incidents_created": result.created,
            "incidents_updated": result.updated,
            "timeline_entries": result.events,
            "teams_created": sorted(result.new.teams),
            "services_created": sorted(result.new.services),
            "problems_created": sorted(result.new.problems),
        })

"""Checking and routing alerts: the service each is about, decided before anything is written.

``check`` and ``apply_route`` are the rules every alert passes, whether recorded one at a
time (``use_cases.alerts``) or many at once (``prepare``). ``route_all`` gives the same
answers as ``alerts.route`` (both decide with ``catalog.event_routing.route_event``: the
service an alert names when the integration key may send for it, else the key's own
service), for a whole group of alerts with one query.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from steward.auth.models import Integration
from steward.auth.use_cases.integrations import KeyHolder
from steward.catalog.event_routing import (
    INVALID,
    CatalogService,
    Refused,
    Routed,
    route_event,
)
from steward.catalog.impact import Graph
from steward.db.direct import Driver
from steward.errors import ValidationError
from steward.incidents import alert_store
from steward.incidents.commands import ALERT_STATUSES, RecordAlert
from steward.incidents.transaction_state import graph_for

ROUTES = "steward.routing.routes"


@dataclass
class Prepared:
    """One submission's alerts, checked and routed (nothing written yet)."""

    integration: Integration | KeyHolder | None
    commands: list[RecordAlert]
    # (service id, name) of each command; None for an acknowledge or resolve that has
    # no service (it settles its alert by dedup key alone)
    services: list[tuple[int, str] | None]


def prepare(session: Session, integration: Integration | KeyHolder | None,
            commands: Sequence[RecordAlert]) -> Prepared:
    """Check and route every command; raises the first problem before anything is written."""
    for cmd in commands:
        check(cmd)
    routes = route_all(session, [(integration, commands)])
    iid = integration.id if integration is not None else None
    routed, services = [], []
    for cmd in commands:
        command, service = apply_route(cmd, routes[(iid, cmd.service)])
        routed.append(command)
        services.append((service.id, service.name) if service is not None else None)
    return Prepared(integration, routed, services)


UNKNOWN_SERVICE = "service_not_in_catalog"


def apply_route(cmd: RecordAlert, route: Routed | Refused,
                ) -> tuple[RecordAlert, CatalogService | None]:
    """The command as it is recorded, and its service; raises the refusal.

    A name the catalog does not know is kept in the alert's ``details``
    (``service_not_in_catalog``). An acknowledge or resolve that routes to no
    service is not refused: it settles its alert by dedup key alone (PagerDuty's
    carry no payload at all)."""
    if isinstance(route, Refused):
        if route.kind == INVALID and cmd.status != "firing":
            return cmd, None
        raise route.error(cmd.service_field)
    if route.unknown:
        cmd = replace(cmd, details={**cmd.details, UNKNOWN_SERVICE: route.unknown})
    return cmd, route.service


def check(cmd: RecordAlert) -> None:
    """The command's own values (status, key), before anything is read. Its severity is
    always one Steward knows (``RecordAlert`` reads any word into one), and its time is
    never refused: a clock-skewed one counts as plausible (``incidents.event_time``)."""
    if cmd.status not in ALERT_STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(ALERT_STATUSES)}",
                              field="status")
    if not cmd.dedup_key or len(cmd.dedup_key) > 255:
        raise ValidationError("dedup_key: 1 to 255 characters", field="dedup_key")


Route = Routed | Refused
# Routes by (key's team, key's service, name), for one catalog revision (one graph).
_SHARED: weakref.WeakKeyDictionary[Graph, dict[tuple[int | None, int | None, str | None], Route]]
_SHARED = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def route_all(session: Session, wanted: Sequence[tuple[Integration | KeyHolder | None,
                                                       Sequence[RecordAlert]]],
              ) -> dict[tuple[int | None, str | None], Route]:
    """The route of every (integration, service name) pair. Same answers as
    ``alerts.route``; what this catalog revision has answered before is not read again,
    the rest with one query."""
    routes: dict[tuple[int | None, str | None], Route] = session.info.setdefault(ROUTES, {})
    missing: dict[tuple[int | None, str | None], Integration | KeyHolder | None] = {}
    for integration, commands in wanted:
        iid = integration.id if integration is not None else None
        for cmd in commands:
            if (iid, cmd.service) not in routes:
                missing[(iid, cmd.service)] = integration
    if not missing:
        return routes
    graph = graph_for(session)
    with _SHARED_LOCK:
        shared = _SHARED.setdefault(graph, {})
    unknown: dict[tuple[int | None, str | None], Integration | KeyHolder | None] = {}
    for (iid, name), integration in missing.items():
        found = shared.get(_shared_key(integration, name))
        if found is None:
            unknown[(iid, name)] = integration
        else:
            routes[(iid, name)] = found
    if unknown:
        resolved = _resolve(session, unknown)
        for (iid, name), integration in unknown.items():
            routes[(iid, name)] = shared[_shared_key(integration, name)] = resolved[(iid, name)]
    return routes


def _shared_key(integration: Integration | KeyHolder | None,
                name: str | None) -> tuple[int | None, int | None, str | None]:
    if integration is None:
        return (None, None, name)
    return (integration.team_id, integration.service_id, name)


def _resolve(session: Session, missing: dict[tuple[int | None, str | None],
                                             Integration | KeyHolder | None],
             ) -> dict[tuple[int | None, str | None], Route]:
    names = {name for _iid, name in missing if name}
    own = {i.service_id for i in missing.values() if i is not None and i.service_id}
    rows = alert_store.services_named(Driver(session), sorted(names), sorted(own))
    by_name = {name: CatalogService(sid, name, team) for sid, name, team in rows}
    by_id = {sid: CatalogService(sid, name, team) for sid, name, team in rows}
    resolved: dict[tuple[int | None, str | None], Route] = {}
    for (iid, name), integration in missing.items():
        resolved[(iid, name)] = route_event(
            named=name, found=by_name.get(name) if name else None,
            key_team_id=integration.team_id if integration is not None else None,
            key_service=by_id.get(integration.service_id)
            if integration is not None and integration.service_id else None)
    return resolved

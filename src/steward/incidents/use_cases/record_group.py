"""The alert writer's group: the alerts of many ingest requests recorded in one transaction.

Each request's piece carries the key it presented and the integration types that
key may have; the key is checked here, in the writer's transaction, so an
accepted request costs no query of its own. A request whose key or alerts are
refused gets its error and writes nothing; the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from steward.auth.use_cases import integrations
from steward.errors import StewardError
from steward.incidents import routing
from steward.incidents.commands import RecordAlert
from steward.incidents.use_cases import record_many
from steward.incidents.use_cases.alerts import Outcome

# One request's alerts, as handed to the alert writer: its key, the integration
# types that key may have, and the commands.
Piece = tuple[str | None, tuple[str, ...], list[RecordAlert]]
# Keys already checked in this transaction: the requests of a group often share one.
INTEGRATIONS = "steward.ingest.integrations"


def record_group(session: Session, pieces: Sequence[Piece]) -> list[Any]:
    """Every request's alerts recorded together, in order: for each piece, its alerts'
    outcomes as the API reports them, or the error that refused it."""
    results: list[Any] = [None] * len(pieces)
    known: dict[tuple[str | None, tuple[str, ...]], Any] = session.info.setdefault(
        INTEGRATIONS, {})
    authenticated: list[tuple[int, integrations.KeyHolder, list[RecordAlert]]] = []
    for index, (key, types, commands) in enumerate(pieces):
        try:
            if (key, types) not in known:
                known[(key, types)] = integrations.key_holder(session, key, types=types)
            authenticated.append((index, known[(key, types)], commands))
        except StewardError as exc:
            results[index] = exc
    routing.route_all(session, [(integration, commands)
                              for _, integration, commands in authenticated])
    prepared: list[tuple[int, routing.Prepared]] = []
    for index, integration, commands in authenticated:
        try:
            prepared.append((index, routing.prepare(session, integration, commands)))
        except StewardError as exc:
            results[index] = exc
    outcomes = record_many.record_prepared(session, [p for _, p in prepared])
    for (index, _), recorded in zip(prepared, outcomes, strict=True):
        results[index] = [outcome_out(o) for o in recorded]
    return results


def outcome_out(recorded: Outcome) -> dict[str, Any]:
    return {"alert_id": recorded.alert_id, "created": recorded.created,
            "incident_id": recorded.incident_id}

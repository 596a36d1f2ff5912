"""Which service an event sent with an integration key is about: one rule for every source.

Pure logic: plain data in, plain data out. Alerts (``incidents.routing`` and
``incidents.alerts``) and deployments (``changes.deployments``) both decide
with :func:`route_event`, so every source routes the same way:

1. The service the event names (a ``service`` label, a payload field, a
   repository mapped through the catalog) wins when it is in the catalog and
   the key may send for it: a key of a team sends for that team's services; a
   key of no team (made by an admin) for any service.
2. A catalog service the key may not send for is refused, naming the field
   and the reason. It is never silently rerouted to the key's own service.
3. A name the catalog does not know: an event that happened is a fact, so it
   is stored on the key's own service and the name it gave is kept
   (:attr:`Routed.unknown`) for people to see. A key with no service of its
   own refuses it, naming the field.
4. An event naming nothing goes to the key's own service; a key with none
   refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.errors import PermissionDenied, StewardError, ValidationError

FORBIDDEN, INVALID = "forbidden", "invalid"


@dataclass(frozen=True)
class CatalogService:
    """A service as routing needs it."""

    id: int
    name: str
    team_id: int | None  # the owning team


def catalog_service(row: Any) -> CatalogService | None:
    """A catalog row (anything with ``id``, ``name``, ``owner_team_id``) as routing needs it."""
    return None if row is None else CatalogService(row.id, row.name, row.owner_team_id)


@dataclass(frozen=True)
class Routed:
    """The service the event is recorded on."""

    service: CatalogService
    # The name (or repository) the event gave that the catalog does not know; the
    # event went to the key's own service instead.
    unknown: str | None = None


@dataclass(frozen=True)
class Refused:
    """Why the event is refused; the message does not yet name the field."""

    kind: str  # FORBIDDEN (403) or INVALID (422)
    reason: str

    def error(self, field: str) -> StewardError:
        kind = PermissionDenied if self.kind == FORBIDDEN else ValidationError
        return kind(f"{field}: {self.reason}", field=field)


def route_event(*, named: str | None, found: CatalogService | None,
                key_team_id: int | None, key_service: CatalogService | None,
                noun: str = "service") -> Routed | Refused:
    """Where an event goes.

    ``named`` is what the event names (a service name, or a repository when
    ``noun`` is ``"repository"``), ``found`` the catalog service it names or
    maps to, ``key_team_id`` and ``key_service`` the integration key's team and
    own service.
    """
    if named and found is not None:
        if key_team_id is None or found.team_id == key_team_id:
            return Routed(found)
        what = (f"service {found.name!r}" if noun == "service"
                else f"{noun} {named!r} is service {found.name!r}, which")
        return Refused(FORBIDDEN, f"{what} belongs to another team; this integration key "
                                  "may send only for its own team's services (send it with a "
                                  "key of the owning team, or one made by an admin for no team)")
    if key_service is not None:
        return Routed(key_service, unknown=named or None)
    if named:
        if noun == "service":
            missing = f"no service {named!r} in the catalog"
        else:
            missing = (f"no service is mapped to {noun} {named!r} (annotate one with "
                       "github.com/project-slug or gitlab.com/project-slug, or give it a "
                       "repo link)")
        return Refused(INVALID, f"{missing}, and this integration key routes to no service "
                                "of its own")
    return Refused(INVALID, "this integration key routes to no service; name one (the "
                            "`service` label or field)")

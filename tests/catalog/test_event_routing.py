"""The routing rule every event source shares, as plain data."""

from __future__ import annotations

import pytest

from steward.catalog.event_routing import (
    FORBIDDEN,
    INVALID,
    CatalogService,
    Refused,
    Routed,
    route_event,
)
from steward.errors import PermissionDenied, ValidationError

API = CatalogService(1, "payments-api", team_id=10)
DB = CatalogService(2, "payments-db", team_id=10)
LEDGER = CatalogService(3, "ledger", team_id=20)


def route(named, found, team=10, own=API, noun="service"):  # type: ignore[no-untyped-def]
    return route_event(named=named, found=found, key_team_id=team, key_service=own,
                       noun=noun)


def test_the_named_service_of_the_keys_team_wins() -> None:
    assert route("payments-db", DB) == Routed(DB)
    assert route("payments-db", DB, own=None) == Routed(DB)


def test_a_key_of_no_team_sends_for_any_service() -> None:
    assert route("ledger", LEDGER, team=None, own=None) == Routed(LEDGER)


def test_another_teams_service_is_refused_never_rerouted() -> None:
    refused = route("ledger", LEDGER)
    assert isinstance(refused, Refused) and refused.kind == FORBIDDEN
    error = refused.error("labels.service")
    assert isinstance(error, PermissionDenied) and error.field == "labels.service"
    assert error.message.startswith("labels.service: service 'ledger' belongs to another "
                                    "team")
    by_repo = route("acme/ledger", LEDGER, noun="repository").error("repository.full_name")
    assert "repository 'acme/ledger' is service 'ledger'" in by_repo.message


def test_an_unknown_name_goes_to_the_keys_service_and_is_kept() -> None:
    assert route("ghost", None) == Routed(API, unknown="ghost")
    refused = route("ghost", None, own=None)
    assert isinstance(refused, Refused) and refused.kind == INVALID
    error = refused.error("service")
    assert isinstance(error, ValidationError) and "no service 'ghost' in the catalog" in \
        error.message
    by_repo = route("acme/ghost", None, own=None, noun="repository").error("repository")
    assert "github.com/project-slug" in by_repo.message


@pytest.mark.parametrize("named", [None, ""])
def test_naming_nothing_goes_to_the_keys_service(named: str | None) -> None:
    assert route(named, None) == Routed(API)
    refused = route(named, None, own=None)
    assert isinstance(refused, Refused) and refused.kind == INVALID
    assert "routes to no service" in refused.reason

"""Registers what notifications listen to, once, when imported: the domain events that
teams' subscriptions follow, and the ``notify.deliver`` timer. ``steward.models`` imports
it, so every server process, worker and command has them."""

from __future__ import annotations

from steward import events
from steward.jobs import timers
from steward.notify import delivery, outbound
from steward.notify.outbox import DELIVER


def register() -> None:
    events.subscribe("incident.", outbound.on_event)
    events.subscribe("change.", outbound.on_event)
    timers.register(DELIVER, delivery.deliver)


register()

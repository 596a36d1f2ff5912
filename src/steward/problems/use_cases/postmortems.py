"""Postmortems: the blameless-language check of a text, for those who write them."""

from __future__ import annotations

from steward.auth.actor import Actor
from steward.problems import blameless


def lint(actor: Actor, text: str) -> list[blameless.Finding]:
    """The sentences of ``text`` that put the cause on a person (members and admins: a
    viewer writes no postmortem)."""
    actor.require_writer("check a postmortem's text")
    return blameless.check(text)

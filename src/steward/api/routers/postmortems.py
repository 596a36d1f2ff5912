"""Postmortems under /api/v1: the blameless-language check of a text."""

from __future__ import annotations

from typing import Any

from steward.api.deps import CurrentActor
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.problems.schemas import LintIn, LintOut
from steward.problems.use_cases import postmortems

router = api_router(prefix="/api/v1", tags=["postmortems"], responses=error_responses(401))


@router.post("/postmortems/lint", response_model=LintOut,
             responses=error_responses(400, 403, 413, 422))
def lint_postmortem(body: LintIn, actor: CurrentActor) -> dict[str, Any]:
    """The sentences of a postmortem text (Markdown) that put the cause on a person, each
    with the reason and a system-focused wording to consider (members and admins)."""
    return {"findings": [f.as_dict() for f in postmortems.lint(actor, body.text)]}

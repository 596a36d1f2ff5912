"""API shapes for problems and postmortems."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from steward.inputs import LongText
from steward.shapes import Out


class LintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: LongText


class FindingOut(Out):
    sentence: str
    reason: str
    suggestion: str


class LintOut(Out):
    findings: list[FindingOut]

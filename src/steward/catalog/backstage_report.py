"""What an import of Backstage catalog files did: counts, errors, skips, unresolved references.

The same report serves the API (``as_dict``), the CLI (``summary`` and ``as_dict``) and the web
page, so all three say the same thing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from steward.catalog.backstage_refs import SKIP_KIND, EntityError, SkippedEntry, UnresolvedRef

RECORDS = ("teams", "users", "services", "dependencies")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class ImportReport:
    teams: Counts = field(default_factory=Counts)
    users: Counts = field(default_factory=Counts)
    services: Counts = field(default_factory=Counts)
    dependencies: Counts = field(default_factory=Counts)
    errors: list[EntityError] = field(default_factory=list)
    # Left out without being an error: what Backstage would not read, kinds Steward does not model
    skips: list[SkippedEntry] = field(default_factory=list)
    # Relations to entities neither in the files nor stored: imported without that relation
    unresolved: list[UnresolvedRef] = field(default_factory=list)
    left_out: int = 0
    stored: bool = False

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(sorted(Counter(s.reason for s in self.skips).items()))

    def skipped_by_kind(self) -> dict[str, int]:
        """Skipped documents per kind, named as first written (``AiResource``)."""
        spelling: dict[str, str] = {}
        counts: Counter[str] = Counter()
        for skip in self.skips:
            if skip.reason == SKIP_KIND and skip.kind:
                name = spelling.setdefault(skip.kind.lower(), skip.kind)
                counts[name] += 1
        return dict(sorted(counts.items(), key=lambda item: item[0].lower()))

    def summary(self) -> str:
        parts = []
        for label in RECORDS:
            c: Counts = getattr(self, label)
            text = f"{label}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            if c.deleted:
                text += f", {c.deleted} removed"
            parts.append(text)
        if self.left_out:
            parts.append(f"{self.left_out} invalid entities left out")
        if self.skips:
            reasons = ", ".join(f"{reason} {n}" for reason, n in self.skipped_by_reason().items())
            parts.append(f"skipped: {reasons}")
            kinds = ", ".join(f"{kind} {n}" for kind, n in self.skipped_by_kind().items())
            if kinds:
                parts.append(f"kinds not modelled: {kinds}")
        if self.unresolved:
            parts.append(f"unresolved references: {len(self.unresolved)} (imported without "
                         "these relations)")
        return "\n".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            **{label: asdict(getattr(self, label)) for label in RECORDS},
            "skipped_kinds": sum(1 for s in self.skips if s.reason == SKIP_KIND),
            "skipped": {
                "total": len(self.skips),
                "by_reason": self.skipped_by_reason(),
                "by_kind": self.skipped_by_kind(),
                "items": [asdict(s) | {"message": str(s)} for s in self.skips],
            },
            "unresolved": [asdict(u) | {"reason": u.reason, "message": str(u)}
                           for u in self.unresolved],
            "left_out": self.left_out,
            "errors": [asdict(e) | {"message": str(e)} for e in self.errors],
        }

"""How urgent a page is: a high-urgency page wakes someone, a low-urgency one waits.

An incident's priority decides: P1 and P2 page at high urgency (every notification rule
for ``high`` or ``any``, at any hour), P3 and P4 at low urgency (quiet hours hold them
back until the morning). Pure.
"""

from __future__ import annotations

HIGH = "high"
LOW = "low"
URGENCIES = (HIGH, LOW)
HIGH_PRIORITIES = frozenset({"P1", "P2"})


def urgency_for(priority: str) -> str:
    """'high' for P1 and P2, 'low' for P3, P4 and anything else."""
    return HIGH if priority.strip().upper() in HIGH_PRIORITIES else LOW


def rule_applies(rule_urgency: str, urgency: str) -> bool:
    """Whether a rule for ``rule_urgency`` (high, low or any) covers a page of ``urgency``."""
    return rule_urgency == "any" or rule_urgency == urgency

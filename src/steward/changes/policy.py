"""Approval policies: which changes pass on their own and who must approve the rest.

Pure logic. Rules are tried in order and the first that matches decides, so
a policy reads top to bottom like a firewall rule set. The point of the
policy is to let low-risk changes through at once (small, frequent, safe
changes are the goal) and to spend people's attention where risk is high.

Two guards sit above the rules because no rule should be able to switch them
off: a spent error budget disables auto-approval (the service's users have
had enough unreliability), and the author of a change never approves it
(segregation of duties).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from steward.changes.risk import LEVELS, MODELS

ACTIONS = ("auto_approve", "auto_reject", "require_approval")
OWNER, DEPENDANTS = "$owner", "$dependants"
PLACEHOLDERS = (OWNER, DEPENDANTS)
VERDICTS = ("approve", "reject")
AUTHOR_CANNOT_APPROVE = "the author of a change cannot approve it"
NO_RULE = "no matching rule"


@dataclass(frozen=True)
class Rule:
    """One ordered policy rule; an empty condition matches anything."""

    name: str
    action: str  # "auto_approve" | "auto_reject" | "require_approval"
    models: tuple[str, ...] = ()
    risk_levels: tuple[str, ...] = ()
    tiers: tuple[int, ...] = ()  # matches when any affected CI has one of these tiers
    teams: tuple[str, ...] = ()  # owning team names
    environments: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()  # team names, "$owner", "$dependants"; empty = "$owner"
    quorum: int = 1  # approvals needed in all

    def validate(self) -> None:
        """Raise ``ValueError`` whose message starts with the offending field."""
        if not self.name or not self.name.strip():
            raise ValueError("name: a rule needs a name")
        if self.action not in ACTIONS:
            raise ValueError(f"action: unknown action {self.action!r}; "
                             f"expected one of {', '.join(ACTIONS)}")
        for field, values, allowed in (("models", self.models, MODELS),
                                       ("risk_levels", self.risk_levels, LEVELS),
                                       ("tiers", self.tiers, (1, 2, 3, 4))):
            bad = [value for value in values if value not in allowed
                   or isinstance(value, bool)]
            if bad:
                raise ValueError(f"{field}: unknown value(s) {', '.join(map(repr, bad))}; "
                                 f"expected some of {', '.join(map(str, allowed))}")
        for field, names in (("teams", self.teams), ("environments", self.environments),
                             ("approvers", self.approvers)):
            if any(not isinstance(name, str) or not name.strip() for name in names):
                raise ValueError(f"{field}: names cannot be empty")
        unknown = [a for a in self.approvers if a.startswith("$") and a not in PLACEHOLDERS]
        if unknown:
            raise ValueError(f"approvers: unknown placeholder(s) {', '.join(unknown)}; "
                             f"use {' or '.join(PLACEHOLDERS)}")
        if isinstance(self.quorum, bool) or not isinstance(self.quorum, int) or self.quorum < 1:
            raise ValueError(f"quorum: must be a whole number >= 1, got {self.quorum!r}")
        if self.action != "require_approval":
            # Approvers on an automatic rule would suggest someone is asked when nobody is.
            if self.approvers:
                raise ValueError("approvers: only a require_approval rule names approvers")
            if self.quorum != 1:
                raise ValueError("quorum: only a require_approval rule has a quorum")

    def matches(self, facts: ChangeFacts) -> bool:
        return ((not self.models or facts.model in self.models)
                and (not self.risk_levels or facts.risk_level in self.risk_levels)
                and (not self.tiers or any(tier in self.tiers for tier in facts.tiers))
                and (not self.teams or facts.owner_team in self.teams)
                and (not self.environments or facts.environment in self.environments))

    def describe(self) -> str:
        """The rule's conditions as a phrase, for reasons people read."""
        parts = []
        if self.models:
            parts.append(f"model {_or(self.models)}")
        if self.risk_levels:
            parts.append(f"risk {_or(self.risk_levels)}")
        if self.tiers:
            parts.append(f"tier {_or([str(tier) for tier in self.tiers])}")
        if self.teams:
            parts.append(f"owned by {_or(self.teams)}")
        if self.environments:
            parts.append(f"environment {_or(self.environments)}")
        return ", ".join(parts) if parts else "any change"


@dataclass(frozen=True)
class ChangeFacts:
    """What policies look at, gathered by the service layer."""

    model: str
    risk_level: str
    tiers: tuple[int, ...]  # of the affected CIs
    owner_team: str | None
    dependant_teams: tuple[str, ...]  # teams owning services that depend on the affected ones
    environment: str
    error_budget_exhausted: bool = False
    within_template_ceiling: bool | None = None  # standard changes: risk within the ceiling
    service: str | None = None  # the main affected service, to name it in reasons


@dataclass(frozen=True)
class Decision:
    action: str
    rule: str  # the rule that decided, or NO_RULE
    approver_teams: tuple[str, ...]  # resolved and deduplicated
    quorum: int  # 0 when nobody needs to approve
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What stands above the rules (see the module's docstring), and what applies below them.
GUARDS = (
    "A spent error budget: a rule that would auto-approve a non-emergency change of the "
    "service sends it to the owning team instead.",
    "Segregation of duties: the author of a change never approves it, not even an admin.",
)
NO_RULE_FALLBACK = "No rule matches: the owning team approves (failing closed)."


def rule_out(rule: Rule) -> dict[str, Any]:
    """A rule as people and clients read it: its conditions (only those it sets), what it
    does, and who approves."""
    conditions = {key: list(value) for key, value in (
        ("models", rule.models), ("risk_levels", rule.risk_levels), ("tiers", rule.tiers),
        ("teams", rule.teams), ("environments", rule.environments)) if value}
    approving = rule.action == "require_approval"
    return {"name": rule.name, "action": rule.action, "when": rule.describe(),
            "conditions": conditions,
            "approvers": list(rule.approvers or (OWNER,)) if approving else [],
            "quorum": rule.quorum if approving else 0}


# Standard changes are pre-approved by their template, as long as the assessed
# risk stays within the template's ceiling (otherwise they are handled as
# normal changes before these rules are tried). Emergencies need a quick yes
# from the owners rather than a full review. Normal changes scale with risk:
# low passes, moderate needs the owners, high and very high need the owners
# and the teams that depend on them - the very high rule plays the part of a
# change advisory board, kept separate so operators can tighten it alone.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("standard-preapproved", "auto_approve", models=("standard",)),
    Rule("emergency-owner-approval", "require_approval", models=("emergency",),
         approvers=(OWNER,), quorum=1),
    Rule("low-risk-auto-approve", "auto_approve", models=("normal",), risk_levels=("low",)),
    Rule("moderate-risk-owner-approval", "require_approval", risk_levels=("moderate",),
         approvers=(OWNER,), quorum=1),
    Rule("high-risk-peer-review", "require_approval", risk_levels=("high",),
         approvers=(OWNER, DEPENDANTS), quorum=2),
    Rule("very-high-risk-cab", "require_approval", risk_levels=("very high",),
         approvers=(OWNER, DEPENDANTS), quorum=2),
)


def evaluate(rules: Sequence[Rule], facts: ChangeFacts) -> Decision:
    """Decide what a change needs: the first matching rule wins.

    A standard change whose risk is not known to be within its template's
    ceiling is evaluated as a normal change. With no matching rule the owning
    team must approve: failing closed is safer than letting it through.
    """
    if facts.model not in MODELS:
        raise ValueError(f"model: unknown change model {facts.model!r}")
    if facts.risk_level not in LEVELS:
        raise ValueError(f"risk_level: unknown risk level {facts.risk_level!r}")
    reasons: list[str] = []
    if facts.model == "standard" and facts.within_template_ceiling is not True:
        reasons.append(
            f"The risk ({facts.risk_level}) is above the standard template's ceiling, so "
            f"this is handled as a normal change." if facts.within_template_ceiling is False
            else "No standard template ceiling is known for this change, so it is handled as "
                 "a normal change.")
        facts = replace(facts, model="normal")
    for each in rules:
        each.validate()
    rule = next((rule for rule in rules if rule.matches(facts)), None)
    if rule is None:
        reasons.append("No approval rule matches this change, so the owning team must approve "
                       "it.")
        return _require(NO_RULE, (OWNER,), 1, facts, reasons)
    reasons.append(f'Rule "{rule.name}" matches ({rule.describe()}).')
    if rule.action == "auto_approve" and facts.error_budget_exhausted \
            and facts.model != "emergency":
        subject = facts.service or "the affected service"
        reasons.append(f"The error budget of {subject} is spent: no auto-approval, the owning "
                       f"team must approve.")
        return _require(rule.name, (OWNER,), 1, facts, reasons)
    if rule.action == "auto_approve":
        reasons.append("The change is approved by policy; nobody needs to approve it.")
        return Decision("auto_approve", rule.name, (), 0, tuple(reasons))
    if rule.action == "auto_reject":
        reasons.append("The change is rejected by policy.")
        return Decision("auto_reject", rule.name, (), 0, tuple(reasons))
    return _require(rule.name, rule.approvers or (OWNER,), rule.quorum, facts, reasons)


def approval_state(decision: Decision, approvals: Sequence[tuple[str, str, str]], *,
                   author: str | None = None) -> tuple[str, list[str]]:
    """Where the approvals stand: ``"approved"``, ``"rejected"`` or ``"pending"``.

    ``approvals`` are ``(user, team, "approve" | "reject")``. Only members of
    approver teams count; one reject from them rejects. Approvals count
    distinct people, and when the quorum is at least the number of teams each
    team needs its own approver, so one person in two teams cannot stand in
    for both. An ``author`` given here has their approvals ignored, a second
    line of defence behind :func:`can_approve`.
    """
    if decision.action == "auto_approve":
        return "approved", [f'Approved by policy (rule "{decision.rule}").']
    if decision.action == "auto_reject":
        return "rejected", [f'Rejected by policy (rule "{decision.rule}").']
    teams = decision.approver_teams
    reasons: list[str] = []
    rejections: list[str] = []
    approvers: dict[str, tuple[str, set[str]]] = {}  # key -> (display name, teams)
    for user, team, verdict in approvals:
        if verdict not in VERDICTS:
            raise ValueError(f"decision: expected approve or reject, got {verdict!r}")
        if team not in teams:
            noun = "approval" if verdict == "approve" else "rejection"
            reasons.append(f"{user}'s {noun} does not count: {team} is not an approver team.")
        elif verdict == "reject":
            rejections.append(f"{user} ({team}) rejected the change.")
        elif author is not None and _same_user(user, author):
            reasons.append(f"{user}'s approval does not count: {AUTHOR_CANNOT_APPROVE}.")
        else:
            approvers.setdefault(_user_key(user), (user, set()))[1].add(team)
    if rejections:
        return "rejected", rejections + reasons
    if not teams:
        return "pending", [*reasons, "No approver team is set, so nobody can approve yet."]
    count = len(approvers)
    missing = _uncovered(teams, {key: held for key, (_, held) in approvers.items()}) \
        if decision.quorum >= len(teams) else []
    names = ", ".join(name for name, _ in approvers.values())
    tally = f"{count} of {decision.quorum} approval{'' if decision.quorum == 1 else 's'}"
    if count >= decision.quorum and not missing:
        return "approved", [*reasons, f"{tally} ({names})."]
    status = f"{tally} so far" + (f" ({names})" if names else "")
    if missing:
        status += f"; still needed from {', '.join(missing)}"
    return "pending", [*reasons, status + "."]


def can_approve(user: str, user_teams: set[str], author: str | None,
                decision: Decision) -> tuple[bool, str]:
    """Whether ``user`` may approve, with the reason either way (segregation of duties)."""
    if author is not None and _same_user(user, author):
        return False, AUTHOR_CANNOT_APPROVE
    if decision.action != "require_approval":
        verb = "approves" if decision.action == "auto_approve" else "rejects"
        return False, f'no approval is needed: rule "{decision.rule}" {verb} it automatically'
    if not decision.approver_teams:
        return False, "no approver team is set for this change"
    member_of = [team for team in decision.approver_teams if team in user_teams]
    if not member_of:
        return False, f"approval needs a member of: {', '.join(decision.approver_teams)}"
    return True, f"{user} may approve as a member of {', '.join(member_of)}"


def _require(rule: str, approvers: tuple[str, ...], quorum: int, facts: ChangeFacts,
             reasons: list[str]) -> Decision:
    teams = _resolve(approvers, facts)
    if not teams and facts.owner_team:
        teams = (facts.owner_team,)
        reasons.append(f"The approvers ({', '.join(approvers)}) resolve to no team, so the "
                       f"owning team {facts.owner_team} approves.")
    if not teams:
        reasons.append("No approver team could be resolved because the change has no owning "
                       "team: an administrator must assign one before it can be approved.")
    elif quorum >= len(teams) and len(teams) > 1:
        reasons.append(f"It needs {quorum} approvals from different people, at least one "
                       f"from each of: {', '.join(teams)}.")
    elif quorum == 1:
        reasons.append(f"It needs 1 approval from a member of {_or(teams)}.")
    else:
        reasons.append(f"It needs {quorum} approvals from different members of {_or(teams)}.")
    return Decision("require_approval", rule, teams, quorum, tuple(reasons))


def _resolve(approvers: Iterable[str], facts: ChangeFacts) -> tuple[str, ...]:
    """Expand placeholders; keep first-seen order so the owner is listed first."""
    teams: list[str] = []
    for approver in approvers:
        if approver == OWNER:
            expanded: Iterable[str] = (facts.owner_team,) if facts.owner_team else ()
        elif approver == DEPENDANTS:
            expanded = facts.dependant_teams
        else:
            expanded = (approver,)
        teams.extend(team for team in expanded if team and team not in teams)
    return tuple(teams)


def _uncovered(teams: Sequence[str], held: dict[str, set[str]]) -> list[str]:
    """Teams left without an approver of their own, by maximum bipartite matching.

    Augmenting paths are fine here: a change has a handful of teams and
    approvers, never enough for the asymptotics to matter.
    """
    assigned: dict[str, str] = {}  # user key -> team

    def assign(team: str, seen: set[str]) -> bool:
        for user in sorted(key for key, user_teams in held.items() if team in user_teams):
            if user in seen:
                continue
            seen.add(user)
            if user not in assigned or assign(assigned[user], seen):
                assigned[user] = team
                return True
        return False

    return [team for team in teams if not assign(team, set())]


def _user_key(user: str) -> str:
    # Names arrive from several sources (SSO, git, webhooks); case must not
    # let one person count twice or slip past segregation of duties.
    return user.strip().casefold()


def _same_user(a: str, b: str) -> bool:
    return _user_key(a) == _user_key(b)


def _or(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]

"""Approval policies: rule paths, ordering, error budget, quorum, segregation of duties."""

from __future__ import annotations

from dataclasses import replace

import pytest

from steward.changes.policy import (
    AUTHOR_CANNOT_APPROVE,
    DEFAULT_RULES,
    NO_RULE,
    ChangeFacts,
    Decision,
    Rule,
    approval_state,
    can_approve,
    evaluate,
)


def facts(**changes: object) -> ChangeFacts:
    base = ChangeFacts(model="normal", risk_level="low", tiers=(3,), owner_team="payments",
                       dependant_teams=("web", "mobile"), environment="production",
                       service="payments-api")
    return replace(base, **changes)


def require(teams: tuple[str, ...], quorum: int) -> Decision:
    return Decision("require_approval", "test", teams, quorum, ())


# --- default rules ----------------------------------------------------------

def test_default_rules_are_valid_and_uniquely_named():
    for rule in DEFAULT_RULES:
        rule.validate()
    assert len({rule.name for rule in DEFAULT_RULES}) == len(DEFAULT_RULES)


def test_standard_change_within_ceiling_is_auto_approved():
    decision = evaluate(DEFAULT_RULES, facts(model="standard", risk_level="moderate",
                                             within_template_ceiling=True))
    assert (decision.action, decision.rule) == ("auto_approve", "standard-preapproved")
    assert (decision.approver_teams, decision.quorum) == ((), 0)
    assert any("approved by policy" in reason for reason in decision.reasons)


def test_standard_change_above_ceiling_is_treated_as_normal():
    decision = evaluate(DEFAULT_RULES, facts(model="standard", risk_level="high",
                                             within_template_ceiling=False))
    assert (decision.action, decision.rule) == ("require_approval", "high-risk-peer-review")
    assert decision.reasons[0] == ("The risk (high) is above the standard template's ceiling, "
                                   "so this is handled as a normal change.")


def test_standard_change_with_unknown_ceiling_is_treated_as_normal():
    decision = evaluate(DEFAULT_RULES, facts(model="standard", risk_level="moderate"))
    assert decision.rule == "moderate-risk-owner-approval"
    assert "No standard template ceiling is known" in decision.reasons[0]


def test_emergency_needs_one_owner_approval_whatever_the_risk():
    for level in ("low", "very high"):
        decision = evaluate(DEFAULT_RULES, facts(model="emergency", risk_level=level))
        assert (decision.action, decision.rule) == ("require_approval",
                                                    "emergency-owner-approval")
        assert (decision.approver_teams, decision.quorum) == (("payments",), 1)


def test_normal_low_risk_is_auto_approved():
    decision = evaluate(DEFAULT_RULES, facts())
    assert (decision.action, decision.rule) == ("auto_approve", "low-risk-auto-approve")
    assert decision.reasons[0] == ('Rule "low-risk-auto-approve" matches '
                                   '(model normal, risk low).')


def test_normal_moderate_risk_needs_the_owner():
    decision = evaluate(DEFAULT_RULES, facts(risk_level="moderate"))
    assert (decision.action, decision.approver_teams, decision.quorum) == (
        "require_approval", ("payments",), 1)
    assert decision.reasons[-1] == "It needs 1 approval from a member of payments."


@pytest.mark.parametrize(("level", "rule"), [("high", "high-risk-peer-review"),
                                             ("very high", "very-high-risk-cab")])
def test_high_risk_needs_owner_and_dependants(level, rule):
    decision = evaluate(DEFAULT_RULES, facts(risk_level=level))
    assert decision.rule == rule
    assert (decision.approver_teams, decision.quorum) == (("payments", "web", "mobile"), 2)
    assert decision.reasons[-1] == ("It needs 2 approvals from different members of "
                                    "payments, web or mobile.")


def test_high_risk_without_dependants_needs_two_owner_approvals():
    decision = evaluate(DEFAULT_RULES, facts(risk_level="high", dependant_teams=()))
    assert (decision.approver_teams, decision.quorum) == (("payments",), 2)
    assert decision.reasons[-1] == ("It needs 2 approvals from different members of "
                                    "payments.")


# --- rule matching and ordering ---------------------------------------------

def test_first_matching_rule_wins():
    rules = (Rule("reject-prod-tier1", "auto_reject", tiers=(1,), environments=("production",)),
             Rule("everything", "auto_approve"))
    assert evaluate(rules, facts(tiers=(3, 1))).rule == "reject-prod-tier1"
    assert evaluate(rules, facts(tiers=(3, 1))).action == "auto_reject"
    assert evaluate(rules, facts(tiers=(2,))).rule == "everything"
    assert evaluate(rules, facts(tiers=(1,), environment="staging")).rule == "everything"
    assert evaluate(tuple(reversed(rules)), facts(tiers=(1,))).rule == "everything"


def test_auto_reject_decision():
    decision = evaluate((Rule("no-friday", "auto_reject", teams=("payments",)),), facts())
    assert (decision.action, decision.approver_teams, decision.quorum) == ("auto_reject", (), 0)
    assert decision.reasons == ('Rule "no-friday" matches (owned by payments).',
                                "The change is rejected by policy.")


@pytest.mark.parametrize(("rule", "matches"), [
    (Rule("r", "auto_approve", models=("normal", "standard")), True),
    (Rule("r", "auto_approve", models=("emergency",)), False),
    (Rule("r", "auto_approve", risk_levels=("low", "moderate")), True),
    (Rule("r", "auto_approve", risk_levels=("high",)), False),
    (Rule("r", "auto_approve", tiers=(3,)), True),
    (Rule("r", "auto_approve", tiers=(1, 2)), False),
    (Rule("r", "auto_approve", teams=("payments",)), True),
    (Rule("r", "auto_approve", teams=("web",)), False),
    (Rule("r", "auto_approve", environments=("production",)), True),
    (Rule("r", "auto_approve", environments=("staging",)), False),
    (Rule("r", "auto_approve", models=("normal",), teams=("web",)), False),
])
def test_each_condition_is_checked(rule, matches):
    assert rule.matches(facts()) is matches
    assert (evaluate((rule,), facts()).rule == "r") is matches


def test_team_condition_never_matches_an_unowned_change():
    assert not Rule("r", "auto_approve", teams=("payments",)).matches(facts(owner_team=None))


def test_no_matching_rule_falls_back_to_owner_approval():
    decision = evaluate((Rule("only-staging", "auto_approve", environments=("staging",)),),
                        facts())
    assert (decision.action, decision.rule) == ("require_approval", NO_RULE)
    assert (decision.approver_teams, decision.quorum) == (("payments",), 1)
    assert decision.reasons[0] == ("No approval rule matches this change, so the owning team "
                                   "must approve it.")
    assert evaluate((), facts()).rule == NO_RULE


def test_approvers_are_expanded_and_deduplicated_in_order():
    rule = Rule("r", "require_approval", approvers=("sre", "$dependants", "$owner", "web"),
                quorum=3)
    decision = evaluate((rule,), facts(dependant_teams=("web", "payments", "web")))
    assert decision.approver_teams == ("sre", "web", "payments")
    assert decision.reasons[-1] == ("It needs 3 approvals from different people, at least one "
                                    "from each of: sre, web, payments.")


def test_empty_approvers_mean_the_owner():
    decision = evaluate((Rule("r", "require_approval"),), facts())
    assert decision.approver_teams == ("payments",)


def test_empty_expansion_falls_back_to_the_owner():
    rule = Rule("r", "require_approval", approvers=("$dependants",))
    decision = evaluate((rule,), facts(dependant_teams=()))
    assert decision.approver_teams == ("payments",)
    assert "resolve to no team, so the owning team payments approves" in decision.reasons[-2]


def test_unowned_change_uses_dependants_or_explains_nobody_can_approve():
    rule = Rule("r", "require_approval", approvers=("$owner", "$dependants"), quorum=2)
    assert evaluate((rule,), facts(owner_team=None)).approver_teams == ("web", "mobile")
    decision = evaluate((rule,), facts(owner_team=None, dependant_teams=()))
    assert decision.approver_teams == ()
    assert "has no owning team" in decision.reasons[-1]


# --- error budget --------------------------------------------------------------

def test_spent_error_budget_turns_auto_approval_into_owner_approval():
    decision = evaluate(DEFAULT_RULES, facts(error_budget_exhausted=True))
    assert (decision.action, decision.rule) == ("require_approval", "low-risk-auto-approve")
    assert (decision.approver_teams, decision.quorum) == (("payments",), 1)
    assert ("The error budget of payments-api is spent: no auto-approval, the owning team "
            "must approve.") in decision.reasons


def test_spent_error_budget_also_stops_standard_preapproval():
    decision = evaluate(DEFAULT_RULES, facts(model="standard", within_template_ceiling=True,
                                             error_budget_exhausted=True, service=None))
    assert decision.action == "require_approval"
    assert any("The error budget of the affected service is spent" in r
               for r in decision.reasons)


def test_spent_error_budget_does_not_slow_emergencies():
    rules = (Rule("emergency-auto", "auto_approve", models=("emergency",)),)
    decision = evaluate(rules, facts(model="emergency", error_budget_exhausted=True))
    assert decision.action == "auto_approve"


def test_spent_error_budget_leaves_other_decisions_alone():
    for level in ("moderate", "high"):
        plain = evaluate(DEFAULT_RULES, facts(risk_level=level))
        spent = evaluate(DEFAULT_RULES, facts(risk_level=level, error_budget_exhausted=True))
        assert spent == plain
    reject = (Rule("nope", "auto_reject"),)
    assert evaluate(reject, facts(error_budget_exhausted=True)).action == "auto_reject"


# --- validation ----------------------------------------------------------------

@pytest.mark.parametrize(("rule", "field"), [
    (Rule("", "auto_approve"), "name"),
    (Rule("r", "approve"), "action"),
    (Rule("r", "auto_approve", models=("routine",)), "models"),
    (Rule("r", "auto_approve", risk_levels=("medium",)), "risk_levels"),
    (Rule("r", "auto_approve", tiers=(0,)), "tiers"),
    (Rule("r", "auto_approve", tiers=(True,)), "tiers"),  # type: ignore[arg-type]
    (Rule("r", "auto_approve", teams=("",)), "teams"),
    (Rule("r", "auto_approve", environments=(" ",)), "environments"),
    (Rule("r", "require_approval", approvers=("$owners",)), "approvers"),
    (Rule("r", "require_approval", approvers=("",)), "approvers"),
    (Rule("r", "require_approval", quorum=0), "quorum"),
    (Rule("r", "require_approval", quorum=1.5), "quorum"),  # type: ignore[arg-type]
    (Rule("r", "auto_approve", approvers=("$owner",)), "approvers"),
    (Rule("r", "auto_reject", quorum=2), "quorum"),
])
def test_invalid_rules_name_the_field(rule, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        rule.validate()


def test_evaluate_validates_rules_and_facts():
    with pytest.raises(ValueError, match=r"^action:"):
        evaluate((Rule("bad", "maybe"),), facts())
    with pytest.raises(ValueError, match=r"^model:"):
        evaluate(DEFAULT_RULES, facts(model="routine"))
    with pytest.raises(ValueError, match=r"^risk_level:"):
        evaluate(DEFAULT_RULES, facts(risk_level="medium"))


# --- approval state ------------------------------------------------------------

def test_automatic_decisions_need_no_approvals():
    approved = Decision("auto_approve", "low-risk-auto-approve", (), 0, ())
    rejected = Decision("auto_reject", "nope", (), 0, ())
    assert approval_state(approved, []) == (
        "approved", ['Approved by policy (rule "low-risk-auto-approve").'])
    assert approval_state(rejected, [("alice", "payments", "approve")])[0] == "rejected"


def test_pending_until_quorum():
    state, reasons = approval_state(require(("payments",), 1), [])
    assert (state, reasons) == ("pending", ["0 of 1 approval so far; still needed from payments."])


def test_one_owner_approval_is_enough_for_quorum_one():
    state, reasons = approval_state(require(("payments",), 1), [("alice", "payments", "approve")])
    assert (state, reasons) == ("approved", ["1 of 1 approval (alice)."])


def test_approvals_from_other_teams_do_not_count():
    state, reasons = approval_state(require(("payments",), 1), [("bob", "web", "approve")])
    assert state == "pending"
    assert reasons[0] == "bob's approval does not count: web is not an approver team."


def test_any_reject_from_an_approver_team_rejects():
    approvals = [("alice", "payments", "approve"), ("bob", "payments", "approve"),
                 ("carol", "web", "reject")]
    state, reasons = approval_state(require(("payments", "web"), 2), approvals)
    assert state == "rejected"
    assert reasons[0] == "carol (web) rejected the change."


def test_reject_from_outside_the_approver_teams_is_ignored():
    approvals = [("dave", "search", "reject"), ("alice", "payments", "approve")]
    state, reasons = approval_state(require(("payments",), 1), approvals)
    assert state == "approved"
    assert "dave's rejection does not count: search is not an approver team." in reasons


def test_same_user_twice_counts_once():
    approvals = [("alice", "payments", "approve"), ("alice", "payments", "approve"),
                 ("Alice ", "payments", "approve")]
    state, reasons = approval_state(require(("payments",), 2), approvals)
    assert (state, reasons) == ("pending", ["1 of 2 approvals so far (alice)."])
    approvals.append(("bob", "payments", "approve"))
    assert approval_state(require(("payments",), 2), approvals)[0] == "approved"


def test_quorum_covering_all_teams_needs_one_from_each():
    decision = require(("payments", "web"), 2)
    both_payments = [("alice", "payments", "approve"), ("bob", "payments", "approve")]
    state, reasons = approval_state(decision, both_payments)
    assert state == "pending"
    assert reasons == ["2 of 2 approvals so far (alice, bob); still needed from web."]
    state, reasons = approval_state(decision, [*both_payments, ("carol", "web", "approve")])
    assert state == "approved"
    assert reasons == ["3 of 2 approvals (alice, bob, carol)."]


def test_one_person_in_two_teams_cannot_stand_in_for_both():
    decision = require(("payments", "web"), 2)
    alice_twice = [("alice", "payments", "approve"), ("alice", "web", "approve")]
    assert approval_state(decision, alice_twice)[0] == "pending"
    # with a second person from payments, alice can cover web
    assert approval_state(decision, [*alice_twice, ("bob", "payments", "approve")])[0] == \
        "approved"


def test_team_coverage_is_a_matching_of_distinct_people():
    decision = require(("payments", "web", "mobile"), 3)
    approvals = [("alice", "payments", "approve"), ("alice", "web", "approve"),
                 ("alice", "mobile", "approve"), ("bob", "payments", "approve"),
                 ("carol", "payments", "approve")]
    state, reasons = approval_state(decision, approvals)
    assert state == "pending"  # three people, but only alice for both web and mobile
    assert reasons[-1].endswith("still needed from mobile.")
    assert approval_state(decision, [*approvals, ("erin", "web", "approve")])[0] == "approved"


def test_quorum_below_the_number_of_teams_accepts_any_of_them():
    decision = require(("payments", "web", "mobile"), 2)
    approvals = [("erin", "mobile", "approve"), ("frank", "mobile", "approve")]
    assert approval_state(decision, approvals)[0] == "approved"


def test_authors_own_approval_is_ignored():
    approvals = [("alice", "payments", "approve")]
    state, reasons = approval_state(require(("payments",), 1), approvals, author="ALICE")
    assert state == "pending"
    assert reasons[0] == f"alice's approval does not count: {AUTHOR_CANNOT_APPROVE}."


def test_unknown_verdict_is_rejected():
    with pytest.raises(ValueError, match=r"^decision:"):
        approval_state(require(("payments",), 1), [("alice", "payments", "lgtm")])


def test_no_approver_teams_stays_pending():
    state, reasons = approval_state(require((), 1), [("alice", "payments", "approve")])
    assert state == "pending"
    assert reasons[-1] == "No approver team is set, so nobody can approve yet."


# --- segregation of duties ----------------------------------------------------------

def test_author_cannot_approve_even_as_an_approver():
    decision = require(("payments",), 1)
    assert can_approve("alice", {"payments"}, "alice", decision) == (
        False, "the author of a change cannot approve it")
    assert can_approve("Alice", {"payments"}, " alice", decision)[0] is False


def test_approval_needs_a_member_of_an_approver_team():
    decision = require(("payments", "web"), 2)
    assert can_approve("bob", {"search"}, "alice", decision) == (
        False, "approval needs a member of: payments, web")
    allowed, reason = can_approve("bob", {"search", "web"}, "alice", decision)
    assert allowed
    assert reason == "bob may approve as a member of web"


def test_unknown_author_does_not_block_members():
    assert can_approve("bob", {"payments"}, None, require(("payments",), 1))[0]


def test_automatic_decisions_take_no_approvals():
    allowed, reason = can_approve("bob", {"payments"}, "alice",
                                  Decision("auto_approve", "low-risk", (), 0, ()))
    assert not allowed
    assert reason == 'no approval is needed: rule "low-risk" approves it automatically'
    assert not can_approve("bob", {"payments"}, "alice", require((), 1))[0]

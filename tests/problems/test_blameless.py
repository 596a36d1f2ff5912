"""The blameless-language check on a corpus of sentences in the style of public
postmortems (tests/fixtures/blameless/corpus.txt): it flags those that put the cause
on a person and leaves neutral ones alone, with the precision and recall printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.problems import blameless

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "blameless"


def corpus(name: str = "corpus.txt") -> list[tuple[bool, str]]:
    out = []
    for line in (FIXTURES / name).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, _, sentence = line.partition(" | ")
        out.append((label.strip() == "FLAG", sentence.strip()))
    return out


def test_the_corpus_is_large_and_has_both_kinds():
    cases = corpus()
    assert len(cases) >= 80
    assert 30 <= sum(flag for flag, _ in cases) <= len(cases) - 30


@pytest.mark.parametrize("name", ["corpus.txt", "heldout.txt"])
def test_precision_and_recall_on_the_corpus(capsys, name):
    cases = corpus(name)
    flagged = {s for flag, s in cases if blameless.check_sentence(s) is not None}
    true_pos = sum(1 for flag, s in cases if flag and s in flagged)
    false_pos = [s for flag, s in cases if not flag and s in flagged]
    false_neg = [s for flag, s in cases if flag and s not in flagged]
    precision = true_pos / (true_pos + len(false_pos))
    recall = true_pos / (true_pos + len(false_neg))
    with capsys.disabled():
        print(f"\nblameless check, {name}: {len(cases)} sentences, precision "
              f"{precision:.3f}, "
              f"recall {recall:.3f}")
    assert precision >= 0.95, false_pos
    assert recall >= 0.95, false_neg


@pytest.mark.parametrize(("sentence", "reason"), [
    ("The outage was caused by human error.", "names human error as the cause"),
    ("Dana forgot to renew the certificate.", "says a person forgot"),
    ("We should have tested the restore.", "judges a person with hindsight (\"should have\")"),
    ("The on-call engineer failed to escalate.", "puts an omission on a person"),
])
def test_each_finding_says_why_and_suggests_a_system_wording(sentence, reason):
    finding = blameless.check_sentence(sentence)
    assert finding is not None and finding.reason == reason
    assert finding.sentence == sentence and len(finding.suggestion) > 40


def test_a_markdown_text_is_checked_sentence_by_sentence():
    text = ("## What happened\n\nThe job failed to start. The engineer forgot to push the "
            "image!\n\n- Checkout was down for 12 minutes\n- Bob failed to page the "
            "database team\n\n```\nuser error: forgot password\n```\n")
    found = blameless.check(text)
    assert [f.sentence for f in found] == ["The engineer forgot to push the image!",
                                           "Bob failed to page the database team"]


def test_a_system_named_in_lower_case_elsewhere_is_no_person():
    text = "Ledger failed to settle the batch. The ledger service retried at 10:02."
    assert blameless.check(text) == []
    assert len(blameless.check("Ledger failed to settle the batch.")) == 1


def test_the_api_answers_findings_and_refuses_bad_input(db):
    from helpers import api_client, bearer, make_user

    token = make_user(db, "writer")
    client = api_client(db)
    answer = client.post("/api/v1/postmortems/lint", headers=bearer(token), json={
        "text": "The deploy finished at 10:02. Bob forgot to drain the node."})
    assert answer.status_code == 200, answer.text
    [finding] = answer.json()["findings"]
    assert finding["sentence"] == "Bob forgot to drain the node."
    assert finding["reason"] == "says a person forgot" and finding["suggestion"]
    assert client.post("/api/v1/postmortems/lint", json={"text": "x"}).status_code == 401
    viewer = make_user(db, "reader", role="viewer")
    refused = client.post("/api/v1/postmortems/lint", headers=bearer(viewer),
                          json={"text": "x"})
    assert refused.status_code == 403 and "viewer" in refused.text
    missing = client.post("/api/v1/postmortems/lint", headers=bearer(token), json={})
    assert missing.status_code == 422 and "text" in missing.text
    too_long = client.post("/api/v1/postmortems/lint", headers=bearer(token),
                           json={"text": "a" * 100_001})
    assert too_long.status_code == 422 and "text" in too_long.text


def test_the_cli_checks_a_file_and_exits_1_on_findings(tmp_path):
    from typer.testing import CliRunner

    from steward.cli.main import app

    clean, blaming = tmp_path / "clean.md", tmp_path / "blaming.md"
    clean.write_text("# Review\n\nThe job failed to start because the image was missing.\n")
    blaming.write_text("# Review\n\nThe on-call engineer failed to escalate.\n")
    runner = CliRunner()
    ok = runner.invoke(app, ["postmortem", "lint", str(clean)])
    assert ok.exit_code == 0 and "No blaming language" in ok.output
    found = runner.invoke(app, ["postmortem", "lint", str(blaming)])
    assert found.exit_code == 1 and "puts an omission on a person" in found.output
    missing = runner.invoke(app, ["postmortem", "lint", str(tmp_path / "none.md")])
    assert missing.exit_code == 2 and "cannot read" in missing.output

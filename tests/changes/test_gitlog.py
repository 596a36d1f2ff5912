"""Commits and their times from real git repositories made in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steward.changes.gitlog import read_commits, repository_slug, slug_from_url
from steward.errors import ValidationError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str, when: str = "2026-03-01T10:00:00+02:00") -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
           "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.test",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.test",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    result = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                            capture_output=True, text=True)
    return result.stdout.strip()


def commit(repo: Path, name: str, when: str) -> str:
    (repo / name).write_text(name, encoding="utf-8")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"Add {name}", "-m", "Body line that is not the subject",
        when=when)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    shas = [
        commit(path, "a.txt", "2026-03-01T10:00:00+02:00"),
        commit(path, "b.txt", "2026-03-01T11:30:00+02:00"),
        commit(path, "c.txt", "2026-03-02T09:15:00Z"),
    ]
    # A side branch merged back: its commit counts, the merge commit does not.
    git(path, "checkout", "-q", "-b", "feature", shas[1])
    shas.append(commit(path, "d.txt", "2026-03-02T08:00:00Z"))
    git(path, "checkout", "-q", "main")
    git(path, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature",
        when="2026-03-02T10:00:00Z")
    return path, shas


def test_range_lists_commits_oldest_first_with_committer_time(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    commits = read_commits(path, f"{shas[0]}..main")
    # b (03-01 09:30Z), then d (side branch, 03-02 08:00Z), then c (03-02 09:15Z).
    assert [c.sha for c in commits] == [shas[1], shas[3], shas[2]]
    by_sha = {c.sha: c for c in commits}
    assert by_sha[shas[1]].committed_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert by_sha[shas[2]].committed_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert by_sha[shas[1]].message == "Add b.txt"
    assert all(c.message != "Merge feature" for c in commits)
    times = [c.committed_at for c in commits]
    assert times == sorted(times)  # type: ignore[type-var]


def test_symbolic_revisions(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    git(path, "tag", "v1.0", shas[0])
    assert [c.sha for c in read_commits(path, "v1.0..HEAD~1")] == [shas[1], shas[2]]
    assert read_commits(path, "HEAD..HEAD") == []


def test_single_revision_means_just_that_commit(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    [only] = read_commits(path, shas[2][:10])
    assert only.sha == shas[2]
    assert only.committed_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def test_subdirectory_of_a_work_tree_is_accepted(repo: tuple[Path, list[str]]) -> None:
    path, shas = repo
    (path / "sub").mkdir()
    assert len(read_commits(path / "sub", f"{shas[0]}..{shas[1]}")) == 1


@pytest.mark.parametrize("bad", ["v9.9..HEAD", "HEAD..nosuchbranch", "deadbeef"])
def test_unknown_revisions_name_the_range_with_gits_message(
        repo: tuple[Path, list[str]], bad: str) -> None:
    path, _ = repo
    with pytest.raises(ValidationError) as caught:
        read_commits(path, bad)
    assert caught.value.field == "--git-range"
    assert bad in caught.value.message
    message = caught.value.message.lower()
    assert "unknown revision" in message or "bad revision" in message \
        or "ambiguous argument" in message


@pytest.mark.parametrize("bad", ["", "   ", "A...B", "..HEAD", "HEAD..", "--all",
                                 "--output=/tmp/x..HEAD", "HEAD..-n1", "a b..c", ".git..HEAD"])
def test_malformed_ranges_are_refused_before_git_runs(
        repo: tuple[Path, list[str]], bad: str) -> None:
    path, _ = repo
    with pytest.raises(ValidationError) as caught:
        read_commits(path, bad)
    assert caught.value.field == "--git-range"


def test_shallow_clone_gets_a_hint(repo: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, shas = repo
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{path}", str(clone))
    with pytest.raises(ValidationError) as caught:
        read_commits(clone, f"{shas[0]}..HEAD")
    assert caught.value.field == "--git-range"
    assert "shallow clone" in caught.value.message


def test_missing_directory_names_the_repo(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        read_commits(tmp_path / "nowhere", "A..B")
    assert caught.value.field == "--repo"


def test_directory_that_is_not_a_repository_names_the_repo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(ValidationError) as caught:
        read_commits(plain, "A..B")
    assert caught.value.field == "--repo"
    assert "not a git repository" in caught.value.message


def test_repository_slug_from_origin(repo: tuple[Path, list[str]]) -> None:
    path, _ = repo
    assert repository_slug(path) is None
    git(path, "remote", "add", "origin", "https://github.com/acme/payments-api.git")
    assert repository_slug(path) == "acme/payments-api"
    git(path, "remote", "set-url", "origin", "git@gitlab.com:acme/team/payments-api.git")
    assert repository_slug(path) == "acme/team/payments-api"


def test_repository_slug_of_a_non_repository(tmp_path: Path) -> None:
    assert repository_slug(tmp_path / "nowhere") is None


@pytest.mark.parametrize(("url", "slug"), [
    ("https://github.com/acme/payments-api.git", "acme/payments-api"),
    ("https://github.com/acme/payments-api", "acme/payments-api"),
    ("https://x-access-token:ghs_secret@github.com/acme/payments-api.git",
     "acme/payments-api"),
    ("git@github.com:acme/payments-api.git", "acme/payments-api"),
    ("ssh://git@github.com/acme/payments-api.git", "acme/payments-api"),
    ("ssh://git@gitlab.example.com:2222/group/sub/app.git", "group/sub/app"),
    ("https://gitlab.example.com/group/sub/app/", "group/sub/app"),
    ("/srv/git/app.git", None),
    ("file:///srv/git/acme/app.git", None),
    ("../app", None),
    ("https://github.com/acme", None),
    ("", None),
])
def test_slug_from_url(url: str, slug: str | None) -> None:
    assert slug_from_url(url) == slug

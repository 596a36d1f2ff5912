"""Commits and their times from a local git repository, for ``steward deploy record``.

``read_commits(repo, "A..B")`` lists the non-merge commits reachable from B and
not from A (what ``git log A..B`` shows), oldest first, each with its
committer time: the time the change landed on the branch, which is what lead
time for changes measures. A single revision (``"B"``, no ``..``) means that
one commit only: it does not mean B's whole history, which for a first
deployment would put years of commits into one batch.

git runs as a subprocess without a shell; a revision may not start with ``-``,
so nothing in the range can be read as an option.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from steward.changes.commands import CommitInfo
from steward.errors import ValidationError
from steward.timeutil import parse_timestamp

RANGE_FIELD = "--git-range"
REPO_FIELD = "--repo"
_REV = r"[^\s\-.][^\s]*?"
_RANGE = re.compile(rf"({_REV})\.\.({_REV})")
_SINGLE = re.compile(_REV)
_SEP = "\x1f"
_TIMEOUT = 60


def read_commits(repo: Path, git_range: str) -> list[CommitInfo]:
    """Non-merge commits of ``A..B`` (or the single commit ``B``), oldest first."""
    _check_repo(repo)
    text = (git_range or "").strip()
    if "..." in text:
        raise ValidationError(
            f"{RANGE_FIELD}: {git_range!r} is a symmetric difference; use A..B "
            "(commits in B that are not in A)", field=RANGE_FIELD)
    if _RANGE.fullmatch(text):
        revisions = ["--no-merges", text]
    elif _SINGLE.fullmatch(text) and ".." not in text:
        revisions = ["--no-walk", text]
    else:
        raise ValidationError(
            f"{RANGE_FIELD}: {git_range!r} is not a range of the form A..B "
            "(or a single revision)", field=RANGE_FIELD)
    result = _git(repo, "log", f"--format=%H{_SEP}%cI{_SEP}%s", "--reverse",
                  *revisions, "--")
    if result.returncode != 0:
        hint = ""
        shallow = _git(repo, "rev-parse", "--is-shallow-repository")
        if shallow.stdout.strip() == "true":
            hint = " (this is a shallow clone: fetch enough history, e.g. fetch-depth: 0)"
        raise ValidationError(
            f"{RANGE_FIELD}: {git_range!r}: {_first_line(result.stderr)}{hint}",
            field=RANGE_FIELD)
    commits = []
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        sha, committed, subject = [*line.split(_SEP, 2), "", ""][:3]
        commits.append(CommitInfo(sha=sha.strip(),
                                  committed_at=parse_timestamp(committed,
                                                               field="committed_at"),
                                  message=subject.strip()))
    return commits


def repository_slug(repo: Path) -> str | None:
    """``owner/name`` (or ``group/sub/name``) of the ``origin`` remote, if it has one."""
    try:
        result = _git(repo, "remote", "get-url", "origin")
    except ValidationError:
        return None
    if result.returncode != 0:
        return None
    return slug_from_url(result.stdout.strip())


def slug_from_url(url: str) -> str | None:
    """The project path of a GitHub/GitLab-style remote URL, without ``.git``.

    ``https://github.com/o/n.git``, ``git@github.com:o/n.git`` and
    ``ssh://git@host:2222/group/sub/n.git`` give ``o/n`` and ``group/sub/n``;
    local paths and ``file://`` remotes give ``None``. Credentials in the URL
    are never part of the answer.
    """
    text = url.strip()
    if not text:
        return None
    scp = re.fullmatch(r"(?:[^@/\s]+@)?([^:/\s]+):(?!//)(.+)", text)
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh", "ssh+git") \
                or not parts.hostname:
            return None
        path = parts.path
    elif scp and not text.startswith(("/", ".")):
        path = scp.group(2)
    else:
        return None
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2:
        return None
    return "/".join(segments)


def _check_repo(repo: Path) -> None:
    if not Path(repo).is_dir():
        raise ValidationError(f"{REPO_FIELD}: {str(repo)!r} is not a directory",
                              field=REPO_FIELD)
    result = _git(repo, "rev-parse", "--git-dir")
    if result.returncode != 0:
        raise ValidationError(f"{REPO_FIELD}: {str(repo)!r}: {_first_line(result.stderr)}",
                              field=REPO_FIELD)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat",
           "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              encoding="utf-8", errors="replace", env=env, timeout=_TIMEOUT,
                              check=False)
    except FileNotFoundError as exc:
        raise ValidationError(f"{REPO_FIELD}: git is not installed ({exc})",
                              field=REPO_FIELD) from exc
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(f"{REPO_FIELD}: git did not answer within {_TIMEOUT} s",
                              field=REPO_FIELD) from exc


def _first_line(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.strip():
            return line.strip()
    return "git failed"

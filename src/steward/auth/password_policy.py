"""What a password must be: long enough, not the username, not a common password.

Pure: no database. The common-password list ships with Steward as data
(``auth/data/common-passwords.txt.gz``, see the README there).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 1000


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files("steward.auth").joinpath("data", "common-passwords.txt.gz")
    text = gzip.decompress(data.read_bytes()).decode("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password may not be set, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must have at most {MAX_LENGTH} characters"
    folded = password.strip().casefold()
    if username and folded == username.strip().casefold():
        return "must not be the username"
    if folded in common_passwords():
        return "is one of the most common passwords; choose another"
    return None

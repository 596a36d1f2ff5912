"""The shape of the code: the import contracts, and pages and routers that do not query.

The contracts are in pyproject.toml (``[tool.importlinter]``) and explained in
docs/architecture.md; ``make lint`` checks them too. Each runs here on its own, so a
broken one names itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "steward"
QUERYING = re.compile(r"\bselect\(|session\.get\(|session\.execute\(|session\.scalars\(|\.query\(")

# Contracts not kept yet, with why: a strict mark fails once one is kept, so the mark goes
# as soon as it is no longer true.
NOT_KEPT_YET: dict[str, str] = {}


def contract_ids() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [contract["id"] for contract in config["tool"]["importlinter"]["contracts"]]


def contract_params() -> list[object]:
    return [pytest.param(contract, id=contract, marks=[
        pytest.mark.xfail(strict=True, reason=NOT_KEPT_YET[contract])]
        if contract in NOT_KEPT_YET else []) for contract in contract_ids()]


@pytest.mark.parametrize("contract", contract_params())
def test_import_contract(contract: str) -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("lint-imports is not installed (pip install -e '.[dev]')")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE.parent),
                                                       os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([str(lint_imports), "--no-cache", "--contract", contract],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_contract_still_listed_as_not_kept_exists() -> None:
    assert set(NOT_KEPT_YET) <= set(contract_ids())


def querying_lines() -> Iterator[str]:
    for folder in ("web", "api"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                if QUERYING.search(line):
                    yield f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_pages_and_routers_do_not_query_the_database() -> None:
    """They call the domains' queries and use cases; a select or a session's get, execute,
    scalars or query in them is a read or write that belongs to a domain."""
    assert list(querying_lines()) == []

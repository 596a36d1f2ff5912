"""Settings: one declared field per STEWARD_* variable, read in one module, documented
from the declarations."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward import config
from steward.cli.main import app
from steward.errors import ValidationError

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "steward"
OPERATIONS = ROOT / "docs" / "operations.md"
VARIABLE = re.compile(r"\bSTEWARD_[A-Z](?:[A-Z0-9_]*[A-Z0-9])?\b")


def test_the_documented_table_is_the_generated_one() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    assert config.with_settings_table(text) == text, (
        "docs/operations.md's settings table differs from src/steward/config.py's "
        "declarations: run `python -m steward.config --write docs/operations.md`")


def test_every_variable_has_a_row_with_type_default_and_meaning() -> None:
    rows = config.settings_table().splitlines()[2:]
    names = [str(f.metadata["variable"]) for f in config.declared()]
    assert len(rows) == len(names) == len(set(names))
    for row, name in zip(rows, names, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert cells[0] == f"`{name}`" and all(cells), row


def test_steward_config_prints_the_table() -> None:
    result = CliRunner().invoke(app, ["config"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output == config.settings_table()


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The scope's nodes, without those of the functions defined inside it."""
    nodes, stack = [], list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _reads_environment(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return (node.attr in {"environ", "environb", "getenv"}
                and isinstance(node.value, ast.Name) and node.value.id == "os")
    return isinstance(node, ast.Name) and node.id in {"environ", "getenv"}


def steward_variables_read(source: str) -> list[str]:
    """STEWARD_* names a function (or the module's own code) reads from the environment:
    any scope that touches os.environ or getenv and names such a variable, in a string
    or through a module constant holding one."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    constants = {target.id: node.value.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                 and isinstance(node.value.value, str)
                 for target in node.targets if isinstance(target, ast.Name)}
    found = []
    for scope in [tree, *(node for node in ast.walk(tree)
                          if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef
                                        | ast.Lambda))]:
        nodes = _own_nodes(scope)
        if not any(_reads_environment(node) for node in nodes):
            continue
        for node in nodes:
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings:
                found += VARIABLE.findall(node.value)
            elif isinstance(node, ast.Name) and node.id in constants:
                found += VARIABLE.findall(constants[node.id])
    return found


def test_the_check_finds_direct_and_indirect_reads() -> None:
    assert steward_variables_read(
        'import os\ndef f():\n    return os.environ.get("STEWARD_A", "")\n') == ["STEWARD_A"]
    assert steward_variables_read(
        'import os\nNAME = "STEWARD_B"\ndef f():\n    return os.getenv(NAME)\n') == ["STEWARD_B"]
    assert steward_variables_read(
        'from os import environ\ndef f():\n    for n in ("STEWARD_C", "CI"):\n'
        '        yield environ[n]\n') == ["STEWARD_C"]
    assert steward_variables_read(
        'import os\ndef f():\n    """Child env (STEWARD_D is its parent\'s)."""\n'
        '    return dict(os.environ)\n') == []


def test_only_config_reads_steward_variables() -> None:
    offenders = {}
    for path in sorted(SOURCE.rglob("*.py")):
        if path == SOURCE / "config.py":
            continue
        names = steward_variables_read(path.read_text(encoding="utf-8"))
        if names:
            offenders[str(path.relative_to(SOURCE))] = sorted(set(names))
    assert offenders == {}, "declare these in steward/config.py and read them from there"


def test_every_variable_named_in_the_code_is_declared() -> None:
    declared = {str(f.metadata["variable"]) for f in config.declared()}
    named = {name for path in SOURCE.rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             for name in VARIABLE.findall(node.value)}
    assert named - declared == set()


def environment(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Exactly these STEWARD_* variables set."""
    for f in config.declared():
        monkeypatch.delenv(str(f.metadata["variable"]), raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_defaults_when_nothing_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environment(monkeypatch, XDG_DATA_HOME=str(tmp_path))
    loaded = config.load_settings()
    assert loaded.database_url == f"sqlite:///{tmp_path}/steward/steward.db"
    assert (loaded.session_hours, loaded.max_body_bytes, loaded.secure_cookies) == (
        12, 5 * 1024 * 1024, False)
    assert loaded.rate_limit_ingest == "100/second;3000/minute"
    assert loaded.production_environments == {"production", "prod", "live"}
    assert (loaded.timezone, loaded.topology_correlation, loaded.auto_mitigate) == (
        "UTC", True, True)
    assert (loaded.group_window, loaded.topology_window, loaded.suspect_lookback) == (
        timedelta(minutes=5), timedelta(minutes=5), timedelta(days=1))
    assert (loaded.max_correlation_distance, loaded.slo_evaluate_interval,
            loaded.metrics_cache_seconds) == (2, 60.0, 30.0)
    assert loaded.change_policy == loaded.risk_weights == loaded.sla == ""


def test_values_are_read_as_they_always_were(monkeypatch: pytest.MonkeyPatch) -> None:
    environment(
        monkeypatch, STEWARD_DATABASE_URL=" postgres://u@db/steward ", STEWARD_SECRET_KEY=" k ",
        STEWARD_RATE_LIMIT_API="", STEWARD_SECURE_COOKIES="yes",
        STEWARD_PRODUCTION_ENVIRONMENTS=" Prod , ,Live", STEWARD_TOPOLOGY_CORRELATION="no",
        STEWARD_AUTO_MITIGATE="no", STEWARD_METRICS_CACHE_SECONDS="soon",
        STEWARD_CHANGE_POLICY="  [] ", STEWARD_GROUP_WINDOW_MINUTES=" 1.5 ")
    loaded = config.load_settings()
    assert loaded.database_url == "postgresql+psycopg://u@db/steward"
    assert loaded.secret_key == " k " and loaded.rate_limit_api == ""  # empty: no limit
    assert loaded.secure_cookies and loaded.production_environments == {"prod", "live"}
    # Each switch keeps the words it has always understood as "off".
    assert loaded.topology_correlation and not loaded.auto_mitigate
    assert loaded.metrics_cache_seconds == 30.0 and loaded.change_policy == "[]"
    assert loaded.group_window == timedelta(minutes=1.5)


def test_a_bad_number_stops_the_program_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    environment(monkeypatch, STEWARD_SESSION_HOURS="twelve")
    with pytest.raises(SystemExit, match="STEWARD_SESSION_HOURS must be a whole number"):
        config.load_settings()


def test_values_checked_where_used_are_refused_there_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    environment(monkeypatch, STEWARD_SUSPECT_LOOKBACK_MINUTES="-1",
                STEWARD_CORRELATION_DISTANCE="far")
    loaded = config.load_settings()
    with pytest.raises(ValidationError, match="STEWARD_SUSPECT_LOOKBACK_MINUTES: must be"):
        _ = loaded.suspect_lookback
    with pytest.raises(ValidationError) as raised:
        _ = loaded.max_correlation_distance
    assert raised.value.field == "STEWARD_CORRELATION_DISTANCE"


def test_settings_sees_a_variable_set_while_the_process_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    environment(monkeypatch)
    assert config.settings().production_environments == {"production", "prod", "live"}
    monkeypatch.setenv("STEWARD_PRODUCTION_ENVIRONMENTS", "prd")
    monkeypatch.setenv("STEWARD_GROUP_WINDOW_MINUTES", "2")
    assert config.settings().production_environments == {"prd"}
    assert config.settings().group_window == timedelta(minutes=2)
    # One bad server setting does not stop code that reads another.
    monkeypatch.setenv("STEWARD_SESSION_HOURS", "twelve")
    monkeypatch.setenv("STEWARD_TIMEZONE", "Europe/Paris")
    assert config.settings().timezone == "Europe/Paris"

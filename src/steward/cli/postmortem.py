"""`steward postmortem lint`: the blameless-language check of a postmortem text."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from steward.cli.common import console, print_json
from steward.problems import blameless

postmortem_app = typer.Typer(help="Postmortems (incident reviews).", no_args_is_help=True)


@postmortem_app.command("lint")
def lint(
    file: Annotated[str, typer.Argument(help="a Markdown file, or - for standard input")],
    json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """The sentences that put the cause on a person, each with why and a system-focused
    wording to consider. Exits 1 when there are any (for a check in CI), 2 when the file
    cannot be read."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]cannot read {file}: {exc}[/red]")
        raise typer.Exit(2) from exc
    findings = blameless.check(text)
    if json_out:
        print_json({"findings": [f.as_dict() for f in findings]})
    elif not findings:
        console.print("No blaming language found.")
    else:
        for finding in findings:
            console.print(f"[bold]{finding.sentence}[/bold]\n  {finding.reason}\n"
                          f"  suggestion: {finding.suggestion}\n", highlight=False)
        console.print(f"{len(findings)} sentence{'' if len(findings) == 1 else 's'} to "
                      "reword.")
    if findings:
        raise typer.Exit(1)

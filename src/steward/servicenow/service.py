"""Importing ServiceNow incident history: the use case.

The export is streamed (CSV, or CSV in gzip) row by row; rows are grouped by
incident number and every ``batch_size`` incidents are stored in their own
transaction with one audit entry. A row that cannot be read is reported with
its file line and reason and left out; with ``strict`` the first such row stops
the import and nothing of its batch is stored. Importing the same export again
changes nothing; a newer export updates the incidents that changed and adds
only their new timeline entries.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from steward.auth.actor import Actor
from steward.db import Database
from steward.errors import ValidationError
from steward.inputs import clean_text
from steward.servicenow.export import (
    SOURCE,
    Header,
    IncidentPlan,
    Row,
    RowError,
    TimeReader,
    parse_row,
    plan_incident,
    zone_named,
)
from steward.servicenow.store import BatchWriter, Known

DEFAULT_BATCH = 2000
MAX_LINES_LISTED = 1000  # skipped lines listed one by one; all are counted
Progress = Callable[[int, int | None, int], None]  # bytes read, bytes in all, rows read

csv.field_size_limit(16 * 1024 * 1024)  # long descriptions in real exports


@dataclass
class Source:
    """An export to read: a file on disk, or an uploaded body."""

    name: str
    opener: Callable[[], IO[bytes]]
    size: int | None

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        file = Path(path)
        return cls(file.name, lambda: file.open("rb"), file.stat().st_size)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        return cls(name, lambda: io.BytesIO(data), len(data))


@dataclass
class ImportSummary:
    files: list[str]
    timezone: str
    strict: bool
    event_log: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0
    teams_created: int = 0
    services_created: int = 0
    problems_created: int = 0
    batches: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_lines: list[dict[str, Any]] = field(default_factory=list)
    unknown_states: Counter[str] = field(default_factory=Counter)
    stopped: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.events or self.teams_created
                    or self.services_created or self.problems_created)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": SOURCE,
            "files": self.files,
            "style": "event_log" if self.event_log else "one_row_per_incident",
            "timezone": self.timezone,
            "strict": self.strict,
            "complete": self.stopped is None,
            "changed": self.changed,
            "rows": self.rows,
            "incidents": {"created": self.created, "updated": self.updated,
                          "unchanged": self.unchanged},
            "events": self.events,
            "teams_created": self.teams_created,
            "services_created": self.services_created,
            "problems_created": self.problems_created,
            "batches": self.batches,
            "skipped": {"rows": sum(self.skipped.values()), "reasons": dict(self.skipped),
                        "lines": self.skipped_lines},
            "unknown_states": dict(self.unknown_states),
            "stopped": self.stopped,
        }

    def lines(self) -> list[str]:
        """The summary for a person, a line per fact."""
        out = [
            f"Incidents: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged" + ("" if self.changed else " (nothing changed)"),
            f"Timeline entries added: {self.events}",
            f"Teams created: {self.teams_created}; services created: {self.services_created}; "
            f"problems created: {self.problems_created}",
            f"Rows read: {self.rows} in {self.batches} batch(es); "
            f"rows skipped: {sum(self.skipped.values())}",
        ]
        out += [f"  {count} x {reason}" for reason, count in self.skipped.most_common()]
        if self.unknown_states:
            states = ", ".join(f"{s!r} ({n})" for s, n in self.unknown_states.most_common())
            out.append(f"States unknown to Steward, kept at the last known state: {states}")
        if self.stopped:
            out.append(f"Stopped at {self.stopped['file']} line {self.stopped['line']}: "
                       f"{self.stopped['reason']}; nothing of that batch was stored")
        return out


class _Stop(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _text_stream(raw: IO[bytes]) -> io.TextIOWrapper:
    head = raw.read(2)
    raw.seek(0)
    binary: IO[bytes] | gzip.GzipFile = (gzip.GzipFile(fileobj=raw, mode="rb")
                                         if head == b"\x1f\x8b" else raw)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def _records(text: io.TextIOWrapper) -> Iterator[tuple[int, list[str] | RowError]]:
    """(first file line, fields) for each CSV record after the header; blank lines skipped."""
    reader = csv.reader(text)
    next(reader, None)  # the header, read before
    end = reader.line_num
    while True:
        start = end + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            yield start, RowError("row", f"not valid CSV ({exc})")
            continue
        end = reader.line_num
        if values:  # history is kept without the NUL no column can store
            yield start, [clean_text(value) for value in values]


def _read_header(source: Source) -> Header:
    try:
        with source.opener() as raw, _text_stream(raw) as text:
            first = next(csv.reader(text), None)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error, csv.Error) as exc:
        raise ValidationError(f"file: {source.name} cannot be read as CSV or gzip ({exc})",
                              field="file") from exc
    if not first:
        raise ValidationError(f"file: {source.name} is empty", field="file")
    try:
        return Header.parse(first)
    except ValueError as exc:
        raise ValidationError(f"file: {source.name}: {exc}", field="file") from exc


class ServiceNowImport:
    def __init__(self, db: Database, actor: Actor, *, timezone: str = "UTC",
                 strict: bool = False, batch_size: int = DEFAULT_BATCH,
                 on_progress: Progress | None = None):
        actor.require_admin("import ServiceNow history")
        try:
            zone = zone_named(timezone)
        except ValueError as exc:
            raise ValidationError(str(exc), field="timezone") from exc
        if batch_size < 1:
            raise ValidationError("batch_size: must be at least 1", field="batch_size")
        self.db = db
        self.actor = actor
        self.times = TimeReader(zone)
        self.strict = strict
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.known = Known()
        self.seen: set[str] = set()  # numbers already counted in this import
        self.summary = ImportSummary(files=[], timezone=timezone, strict=strict)

    def run(self, sources: Sequence[Source]) -> ImportSummary:
        if not sources:
            raise ValidationError("file: no export given", field="file")
        headers = [_read_header(source) for source in sources]
        self.summary.files = [s.name for s in sources]
        with self.db.read_session() as session:
            self.known = Known.load(session)
        sizes = [s.size for s in sources if s.size is not None]
        total = sum(sizes) if len(sizes) == len(sources) else None
        done = 0
        for source, header in zip(sources, headers, strict=True):
            self.summary.event_log |= header.has_mod_count
            try:
                done += self._import_file(source, header, done, total)
            except _Stop as stop:
                self.summary.stopped = {"file": source.name, "line": stop.line,
                                        "reason": stop.reason}
                break
        return self.summary

    def _import_file(self, source: Source, header: Header, before: int,
                     total: int | None) -> int:
        pending: dict[str, list[Row]] = {}
        first_line = 2
        line = 1
        with source.opener() as raw, _text_stream(raw) as text:
            try:
                for line, record in _records(text):
                    self.summary.rows += 1
                    try:
                        if isinstance(record, RowError):
                            raise record
                        row = parse_row(record, header, self.times, line)
                    except RowError as exc:
                        if self.strict:
                            raise _Stop(line, str(exc)) from exc
                        self._skip(source.name, line, exc)
                        continue
                    if row.number not in pending and len(pending) >= self.batch_size:
                        self._store(pending, header, f"{source.name}:{first_line}-{line - 1}")
                        pending, first_line = {}, line
                        self._progress(before + raw.tell(), total)
                    pending.setdefault(row.number, []).append(row)
            except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
                raise _Stop(line + 1, f"the file cannot be read further ({exc})") from exc
            if pending:
                self._store(pending, header, f"{source.name}:{first_line}-{line}")
            read = raw.tell()
        self._progress(before + read, total)
        return read

    def _skip(self, name: str, line: int, error: RowError) -> None:
        self.summary.skipped[error.reason] += 1
        if len(self.summary.skipped_lines) < MAX_LINES_LISTED:
            self.summary.skipped_lines.append({"file": name, "line": line,
                                               "reason": str(error)})

    def _progress(self, done: int, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, self.summary.rows)

    def _store(self, pending: dict[str, list[Row]], header: Header, label: str) -> None:
        plans: list[IncidentPlan] = []
        for rows in pending.values():
            event_log = header.has_mod_count or len(rows) > 1
            self.summary.event_log |= event_log
            plans.append(plan_incident(rows, event_log=event_log))
        with self.db.session() as session:
            result = BatchWriter(session, self.actor, self.known).write(plans, label)
        self.known.merge(result.new)
        summary = self.summary
        summary.batches += 1
        summary.created += len(result.created)
        summary.updated += sum(1 for n in result.updated if n not in self.seen)
        summary.unchanged += sum(1 for n in result.unchanged if n not in self.seen)
        summary.events += result.events
        summary.teams_created += len(result.new.teams)
        summary.services_created += len(result.new.services)
        summary.problems_created += len(result.new.problems)
        for plan in plans:
            self.seen.add(plan.number)
            summary.unknown_states.update(plan.unknown_states)


def import_servicenow(db: Database, actor: Actor, sources: Sequence[Source], *,
                      timezone: str = "UTC", strict: bool = False,
                      batch_size: int = DEFAULT_BATCH,
                      on_progress: Progress | None = None) -> ImportSummary:
    """Import ServiceNow incident exports; see the module's description."""
    return ServiceNowImport(db, actor, timezone=timezone, strict=strict, batch_size=batch_size,
                            on_progress=on_progress).run(sources)

"""An incident's timeline as a responder reads it during an alert storm: every entry that
is not an alert (state, note, assignment, priority, origin, team, cause, ...) as it is,
and the alert entries summarised: a run of many alert entries becomes one row ("+4,812
alerts on 37 services in 5 minutes") followed by the first alert of each service that
joined the incident in that run; a few alert entries stay as they are.

Pure: the queries (``detail_queries``) count the alert entries per minute and service in
SQL and hand the counts here; the rows come back in time order with what to fetch.
Also the alert *signature* (a summary with its numbers blanked, stored with each alert)
and the timeline's page cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

BUCKET_SECONDS = 60          # alert entries are counted per minute ...
RUN_SPAN = timedelta(minutes=10)   # ... minutes merge into runs of at most 10 minutes,
RUN_GAP = timedelta(minutes=2)     # while alerts keep coming (gaps under 2 minutes)
COLLAPSE_FROM = 10           # a run of 10 alert entries or more becomes a summary row
FIRST_SHOWN = 10             # at most this many "first alert of a service" rows per run
SIGNATURE_DIGITS = "0123456789"


# -- signatures ----------------------------------------------------------------------------

def signature(summary: str) -> str:
    """An alert's summary with every digit made ``#`` and runs of ``#`` shortened: alerts
    that differ only in numbers (a pod, a port, a latency) share it. Stored with the
    alert (``Alert.signature``) wherever its summary is written; migration 0009 fills it
    in for older alerts with the same replacements in SQL."""
    out = summary
    for digit in SIGNATURE_DIGITS:
        out = out.replace(digit, "#")
    for run in ("####", "###", "##"):
        out = out.replace(run, "#")
    return out


# -- cursors -------------------------------------------------------------------------------

Key = tuple[datetime, int]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_of(key: Key) -> str:
    """A page cursor: the (at, id) of the last entry read, as ``<microseconds>.<id>``."""
    at, entry_id = key
    micros = (at.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{entry_id}"


def key_of(cursor: str) -> Key | None:
    """The (at, id) a cursor names; None when it is not one."""
    micros, dot, entry_id = cursor.partition(".")
    if not dot or not micros.lstrip("-").isdigit() or not entry_id.isdigit() \
            or len(micros) > 18 or len(entry_id) > 18:
        return None
    try:
        return EPOCH + timedelta(microseconds=int(micros)), int(entry_id)
    except OverflowError:
        return None


# -- summarising ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertCount:
    """The alert entries of one service (None: entries naming none, such as resolutions)
    in one minute: how many, the first and last times, and the first entry's id."""

    bucket: int
    service: str | None
    count: int
    first_at: datetime
    last_at: datetime
    first_id: int


@dataclass
class Run:
    """Alert entries close in time with no other entry between them."""

    buckets: list[int]
    count: int
    first_at: datetime
    last_at: datetime
    first_id: int
    services: set[str] = field(default_factory=set)
    # first entry id and time per service, in the run's first minute holding that service
    firsts: dict[str, tuple[datetime, int]] = field(default_factory=dict)

    @property
    def collapsed(self) -> bool:
        return self.count >= COLLAPSE_FROM


def runs(counts: Iterable[AlertCount], event_times: Sequence[datetime]) -> list[Run]:
    """Group the per-minute counts into runs: consecutive minutes merge while the gap
    between them is under RUN_GAP, the run stays within RUN_SPAN and no other entry
    (``event_times``) falls between them."""
    by_bucket: dict[int, list[AlertCount]] = {}
    for count in counts:
        by_bucket.setdefault(count.bucket, []).append(count)
    events = sorted(event_times)
    out: list[Run] = []
    for bucket in sorted(by_bucket):
        rows = by_bucket[bucket]
        first_at = min(r.first_at for r in rows)
        last_at = max(r.last_at for r in rows)
        first_id = min((r.first_at, r.first_id) for r in rows)[1]
        run = out[-1] if out else None
        if (run is None or first_at - run.last_at > RUN_GAP
                or last_at - run.first_at > RUN_SPAN
                or any(run.last_at <= t <= first_at for t in events)):
            run = Run(buckets=[], count=0, first_at=first_at, last_at=last_at,
                      first_id=first_id)
            out.append(run)
        run.buckets.append(bucket)
        run.last_at = max(run.last_at, last_at)
        for row in rows:
            run.count += row.count
            if row.service is not None:
                run.services.add(row.service)
                if row.service not in run.firsts:
                    run.firsts[row.service] = (row.first_at, row.first_id)
    return out


def shown_firsts(run: Run, joined: Mapping[str, datetime]) -> list[int]:
    """The ids of the entries a collapsed run shows as they are: the first alert of each
    service that joined the incident during the run (``joined``: when each service's
    first alert came), earliest first, at most FIRST_SHOWN."""
    firsts = sorted((at, entry_id) for service, (at, entry_id) in run.firsts.items()
                    if service in joined and run.first_at <= joined[service] <= run.last_at)
    return [entry_id for _at, entry_id in firsts[:FIRST_SHOWN]]


def joined_in(run: Run, joined: Mapping[str, datetime]) -> int:
    return sum(1 for service in run.services
               if service in joined and run.first_at <= joined[service] <= run.last_at)


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def span_words(span: timedelta) -> str:
    """How long a run lasted: "40 seconds", "5 minutes", "1 hour 5 minutes"."""
    seconds = max(1, round(span.total_seconds()))
    if seconds < 90:
        return plural(seconds, "second")
    minutes = round(seconds / 60)
    if minutes < 60:
        return plural(minutes, "minute")
    hours, minutes = divmod(minutes, 60)
    return plural(hours, "hour") + (f" {plural(minutes, 'minute')}" if minutes else "")


def summary_text(run: Run, joined: int) -> str:
    """ "+4,812 alerts on 37 services in 5 minutes (12 services joined)"."""
    text = f"+{plural(run.count, 'alert')}"
    if run.services:
        text += f" on {plural(len(run.services), 'service')}"
    text += f" in {span_words(run.last_at - run.first_at)}"
    if joined:
        text += f" ({plural(joined, 'service')} joined)"
    return text + "."


def summary_row(run: Run, joined: Mapping[str, datetime]) -> dict[str, object]:
    """The row standing for a collapsed run; its first and last times say where to read
    every entry of it."""
    new = joined_in(run, joined)
    return {"type": "summary", "at": run.first_at, "kind": "alert", "actor": "",
            "text": summary_text(run, new),
            "data": {"alerts": run.count, "services": len(run.services),
                     "services_joined": new, "first_at": run.first_at,
                     "last_at": run.last_at},
            "_key": (run.first_at, run.first_id, 0)}


def order(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """Rows in timeline order: by time, then id; a summary before the entries it leads."""
    return sorted(rows, key=lambda row: row["_key"])  # type: ignore[arg-type,return-value]

"""The alerts in the text Alertmanager's PagerDuty receiver sends by default.

With its default ``details``, Alertmanager's ``pagerduty_configs`` receiver puts
into ``payload.custom_details``: ``firing`` and ``resolved`` (each alert list
rendered by the ``pagerduty.default.instances`` template, which is
``__text_alert_list``), ``num_firing`` and ``num_resolved``. For every alert the
text is::

    Labels:
     - alertname = DiskFull
     - service = payments-db
    Annotations:
     - description = first line
    second line of the same annotation
     - summary = Disk 95% full on db1
    Source: http://prometheus:9090/graph?g0.expr=...

names sorted, one `` - name = value`` line each; a value keeps its own line
breaks, so a line that starts no new entry continues the one before. Label
names cannot contain ``" = "``, so the first one separates name and value.
Lines of any other shape before ``Labels:`` or after ``Source:`` are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LISTS = ("firing", "resolved")  # the order in which the lists are read


@dataclass
class ListedAlert:
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    source: str = ""


def parse_alert_list(text: str) -> list[ListedAlert]:
    """The alerts of one rendered list, in order; none when ``text`` is not one."""
    alerts: list[ListedAlert] = []
    section: dict[str, str] | None = None  # the labels or annotations being read
    last: str | None = None  # the entry a continuation line belongs to
    for line in text.split("\n"):
        if line == "Labels:":
            alerts.append(ListedAlert())
            section, last = alerts[-1].labels, None
        elif line == "Annotations:" and alerts and section is alerts[-1].labels:
            section, last = alerts[-1].annotations, None
        elif line.startswith("Source:") and alerts and section is alerts[-1].annotations:
            alerts[-1].source = line.removeprefix("Source:").strip()
            section = last = None
        elif section is not None and line.startswith(" - ") and " = " in line:
            last, _, value = line[3:].partition(" = ")
            section[last] = value
        elif section is not None and last is not None:
            section[last] += "\n" + line
    return alerts


def listed_alerts(custom_details: Any) -> tuple[str, list[ListedAlert]] | None:
    """The firing alerts of Alertmanager's default ``custom_details`` (else the resolved
    ones) with the key they came from; None when there are no such lists."""
    if not isinstance(custom_details, Mapping):
        return None
    for key in LISTS:
        text = custom_details.get(key)
        if isinstance(text, str):
            alerts = parse_alert_list(text)
            if alerts:
                return key, alerts
    return None


def common_labels(alerts: Sequence[ListedAlert]) -> dict[str, str]:
    """The labels every alert has, with the same value."""
    if not alerts:
        return {}
    common = dict(alerts[0].labels)
    for alert in alerts[1:]:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
    return common

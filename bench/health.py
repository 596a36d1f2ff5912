"""Live health benchmark: every service's state from the open incidents, the pure rule.

Builds a layered graph of 10,000 services with two dependencies each and times
``incidents.health.live_health`` with no incident, 20 incidents on random services and
100 incidents near the bottom of the graph (each taking down a large part of it).

    python bench/health.py [--services 10000] [--rounds 5]

Prints the median time of each case. The queries that feed it are three statements for
the open incidents and one for the monitored services, whatever the number of alerts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from steward.catalog.impact import CI, Graph, Link
from steward.incidents.health import OpenIncident, ServiceImpact, live_health


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)
    n = args.services
    cis = [CI(id=i, name=f"s{i}", kind="service", tier=rng.randint(1, 4)) for i in range(n)]
    links = [Link(i, rng.randrange(i), rng.choice(["hard", "soft"]))
             for i in range(1, n) for _ in range(2)]
    graph = Graph(cis, links)
    monitored = set(range(0, n, 2))
    down = ServiceImpact("down", "critical")

    def incidents(count: int, within: int) -> list[OpenIncident]:
        return [OpenIncident(id=k, title="t", priority=f"P{1 + k % 5}", status="triggered",
                             impacts={rng.randrange(within): down for _ in range(3)})
                for k in range(count)]

    for label, open_incidents in (("no incident", []),
                                  ("20 incidents on random services", incidents(20, n)),
                                  ("100 incidents near the bottom", incidents(100, n // 10))):
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            health = live_health(graph, open_incidents, monitored)
            times.append(time.perf_counter() - start)
        hit = sum(1 for h in health.values() if h.state in ("down", "degraded"))
        print(f"{n} services, {label}: {statistics.median(times) * 1000:.0f} ms "
              f"({hit} down or degraded)")


if __name__ == "__main__":
    main()

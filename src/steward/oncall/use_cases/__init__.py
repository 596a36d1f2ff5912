"""On-call use cases: schedules, overrides, escalation policies (rights, change, audit)."""

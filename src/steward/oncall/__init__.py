"""On call: schedules with layers and overrides, escalation policies, and who is on call."""

"""Service level objectives: SLIs, error budgets, burn rates and burn alerts."""

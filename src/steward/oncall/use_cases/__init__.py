"""On-call use cases: writes, each in the caller's transaction."""

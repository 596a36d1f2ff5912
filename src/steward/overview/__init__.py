"""The overview: what is on fire now, read from the domains' own queries for the
signed-in home page, ``GET /api/v1/overview`` and ``steward overview``."""

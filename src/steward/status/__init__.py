"""The public status page: published components with their live state, public incident
updates, scheduled maintenance from the change calendar, subscribers, and the
Statuspage-compatible public API."""

"""Bringing history from other tools into Steward (ServiceNow incident exports)."""

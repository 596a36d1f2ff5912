"""Shared goals: an organisation objective on a KPI and every team's progress toward it."""

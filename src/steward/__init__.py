"""Steward: IT service management for DevOps product teams."""

__version__ = "0.1.0"

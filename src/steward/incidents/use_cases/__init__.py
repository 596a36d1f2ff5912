"""Incident use cases: recording alerts, and what people do to incidents.

Each writes its audit and timeline entries in the caller's transaction.
"""

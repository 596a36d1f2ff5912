"""Writes of the status page: check rights, change, audit, in one transaction."""

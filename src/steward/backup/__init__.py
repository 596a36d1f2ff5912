"""Backing up and restoring a Steward database (``steward backup`` / ``steward restore``)."""

from steward.errors import StewardError


class BackupProblem(StewardError):
    """A backup or restore that cannot be made, and why."""

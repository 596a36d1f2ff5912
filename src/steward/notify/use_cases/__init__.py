"""Writes: each checks the actor's rights, changes rows and appends the audit entry in the
caller's transaction."""

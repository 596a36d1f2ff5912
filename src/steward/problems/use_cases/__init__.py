"""Writes and checks of problems and postmortems: rights first, then the change."""

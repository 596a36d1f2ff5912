"""Server-rendered web UI."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    pass

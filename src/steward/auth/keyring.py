"""The server secret key as the database needs it.

Which key this process has, whether it opens the secrets sealed in the
database, creating it (SQLite) the first time one is needed, and rotating it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import Integration
from steward.auth.secret_key import (
    ENV_FILE,
    ENV_KEY,
    KeySource,
    SecretKeyProblem,
    ServerKey,
    create_key_file,
    generate_key,
    key_source,
    read_key,
    sealed_key_id,
    staged_key_file,
)
from steward.config import Settings, load_settings
from steward.errors import ValidationError

NO_KEY_ON_POSTGRESQL = (
    f"no secret key: on PostgreSQL set {ENV_FILE} to a file holding the key (the same "
    f"on every server; make one with `steward secret generate`), or set {ENV_KEY}")


def settings_of(session: Session) -> Settings:
    """This process's settings, for the database ``session`` works on."""
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    return replace(load_settings(), database_url=url)


def source_of(session: Session) -> KeySource:
    return key_source(settings_of(session))


def sealing_context(integration_id: int) -> str:
    return f"integration {integration_id}"


def sealed_key_ids(session: Session) -> Counter[str]:
    """How many sealed secrets the database holds, by the id of the key that sealed them."""
    return Counter(sealed_key_id(value) for value in session.scalars(
        select(Integration.secret_sealed).where(Integration.secret_sealed.is_not(None)))
        if value is not None)


def _missing(source: KeySource, sealed: Counter[str]) -> SecretKeyProblem:
    if source.file is None:
        return SecretKeyProblem(NO_KEY_ON_POSTGRESQL)
    if sealed:
        return SecretKeyProblem(
            f"no key file at {source.file}, but the database holds {sum(sealed.values())} "
            f"webhook secret(s) sealed with key {', '.join(sorted(sealed))}: put back the "
            f"key file they were sealed with (it is kept apart from the database and its "
            f"backups), or set {ENV_KEY} to that key")
    return SecretKeyProblem(f"no key file at {source.file}: make one with "
                            f"`steward secret generate > {source.file}` (mode 0600), the "
                            "same on every server")


def current_key(session: Session, *, create: bool = True) -> ServerKey:
    """The key this process seals with. On SQLite, with ``create``, a missing key file is
    created, unless secrets are already sealed (a new key would not open them)."""
    source = source_of(session)
    key = read_key(source)
    if key is not None:
        return key
    sealed = sealed_key_ids(session)
    if sealed or not (create and source.may_create) or source.file is None:
        raise _missing(source, sealed)
    create_key_file(source.file, generate_key())
    key = read_key(source)
    assert key is not None
    return key


@dataclass(frozen=True)
class KeyStatus:
    origin: str
    key_id: str | None
    sealed: dict[str, int]  # sealed secrets by key id
    derived_keys: int  # active integrations whose key an earlier version derived
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    def as_dict(self) -> dict[str, Any]:
        return {"origin": self.origin, "key_id": self.key_id, "sealed": self.sealed,
                "derived_keys": self.derived_keys, "ok": self.ok, "problem": self.problem}


def key_status(session: Session, *, create: bool = False) -> KeyStatus:
    """Whether this process's key opens every secret sealed in the database."""
    source = source_of(session)
    sealed = sealed_key_ids(session)
    derived = session.scalar(select(func.count()).select_from(Integration).where(
        Integration.salt != "", Integration.revoked_at.is_(None))) or 0
    try:
        key = current_key(session, create=create)
    except SecretKeyProblem as exc:
        return KeyStatus(source.origin, None, dict(sealed), derived, exc.message)
    other = {key_id: n for key_id, n in sealed.items() if key_id != key.key_id}
    problem = ""
    if other:
        problem = (f"the key from {key.origin} (key {key.key_id}) is not the one "
                   f"{sum(other.values())} webhook secret(s) in the database are sealed with "
                   f"(key {', '.join(sorted(other))}): give this server the key they were "
                   "sealed with")
        staged = staged_key_file(source.file) if source.file and not source.value else None
        if staged is not None and staged.exists():
            problem += (f"; {staged} is left from a rotation that stopped before finishing: "
                        "if it holds that key, move it over the key file")
    return KeyStatus(key.origin, key.key_id, dict(sealed), derived, problem)


def require_usable_key(session: Session) -> ServerKey:
    """For ``steward serve``: the key, created on first use (SQLite), and opening every
    sealed secret; else the problem, before anything listens."""
    status = key_status(session, create=True)
    if not status.ok:
        raise SecretKeyProblem(status.problem)
    return current_key(session, create=False)


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    resealed: int


def rotate(session: Session, actor: Actor, old: ServerKey, new: ServerKey) -> Rotation:
    """Re-seal every sealed secret under ``new``; integrations keep their keys.

    Secrets already sealed under ``new`` (a rotation run again) are left alone; one
    sealed under any other key than ``old`` stops the rotation before anything changes."""
    actor.require_admin("rotate the server's secret key")
    if new.key_id == old.key_id:
        raise ValidationError("new key: it is the current key", field="new_key")
    rows = session.scalars(select(Integration).where(Integration.secret_sealed.is_not(None))
                           .order_by(Integration.id).with_for_update()).all()
    foreign = Counter(sealed_key_id(row.secret_sealed) for row in rows
                      if row.secret_sealed and sealed_key_id(row.secret_sealed)
                      not in (old.key_id, new.key_id))
    if foreign:
        raise SecretKeyProblem(
            f"the current key (from {old.origin}, key {old.key_id}) does not open "
            f"{sum(foreign.values())} webhook secret(s) in the database (sealed with key "
            f"{', '.join(sorted(foreign))}): set it to the key the servers use now, then "
            "rotate again; nothing was changed")
    resealed = 0
    for row in rows:
        assert row.secret_sealed is not None
        if sealed_key_id(row.secret_sealed) == old.key_id:
            context = sealing_context(row.id)
            row.secret_sealed = new.seal(old.unseal(row.secret_sealed, context), context)
            resealed += 1
    session.flush()
    audit.record(session, actor, "secret.rotate", "secret_key", new.key_id,
                 before={"key_id": old.key_id},
                 after={"key_id": new.key_id, "resealed": resealed})
    return Rotation(old.key_id, new.key_id, resealed)

"""Signing in with a password, throttled per account name and per client address.

After ``max_failures`` failed sign-ins in a row an account name is locked,
first for ``lockout_seconds``, twice as long after each further failure, never
longer than ``lockout_max_seconds``; a client address likewise after
``max_failures_per_address`` failures on any accounts. While locked, a
sign-in is refused without looking at the password (the right one too), with
the time to try again. A success clears the account's failures; an address's
are forgotten a day after its last failure. Each lockout is audited.

The counts are rows in the database, which every server process shares: a
lockout holds whichever process a browser reaches. Names that belong to no
user and disabled accounts are counted and answered exactly like a wrong
password, so neither a lockout nor the answer tells whether an account exists
or is enabled (the password hash is checked in every case, costing the same
time). The password is checked outside any write transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.audit import service as audit
from steward.auth.actor import Actor
from steward.auth.models import LoginFailure, User, WebSession
from steward.auth.passwords import verify_password
from steward.auth.use_cases.accounts import sha256
from steward.db import Database
from steward.errors import AuthenticationFailed, Throttled
from steward.timeutil import isoformat_z, utcnow

FORGET_AFTER = timedelta(days=1)
WRONG = "wrong username or password"
SIGN_IN = Actor(kind="system", id="sign-in", name="sign-in", role="viewer")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    max_failures_per_address: int = 20
    lockout_seconds: int = 60
    lockout_max_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings: Any) -> LoginPolicy:
        return cls(max_failures=settings.login_max_failures,
                   max_failures_per_address=settings.login_max_failures_per_address,
                   lockout_seconds=settings.login_lockout_seconds,
                   lockout_max_seconds=settings.login_lockout_max_seconds)

    def lockout(self, failures: int, threshold: int) -> timedelta | None:
        """How long ``failures`` in a row lock a key whose threshold is ``threshold``."""
        if threshold <= 0 or failures < threshold:
            return None
        doubled = self.lockout_seconds * 2 ** min(failures - threshold, 32)
        return timedelta(seconds=max(1, min(doubled, self.lockout_max_seconds)))


def account_key(username: str) -> str:
    name = username if len(username) <= 150 else hashlib.sha256(username.encode()).hexdigest()
    return f"account:{name}"


def address_key(address: str) -> str:
    return f"address:{address[:150]}"


def sign_in(db: Database, username: str, password: str, *, address: str | None,
            hours: int, policy: LoginPolicy) -> tuple[str, User]:
    """A new web session's cookie and its user; raises 401 for a wrong password (or
    unknown or disabled account) and 429 while the account or the address is locked."""
    keys = [account_key(username)] + ([address_key(address)] if address else [])
    with db.read_session() as session:
        _refuse_if_locked(session, keys, utcnow())
        found = session.execute(select(User.id, User.password_hash, User.active)
                                .where(User.username == username)).first()
    user_id, password_hash, active = found if found is not None else (None, None, False)
    right = verify_password(password_hash, password)
    with db.session() as session:
        user = session.get(User, user_id) if right and active and user_id is not None else None
        if user is None or not user.active or user.password_hash != password_hash:
            _record_failure(session, username, address, policy)
        else:
            return _start_session(session, user, keys[0], hours), user
    raise AuthenticationFailed(WRONG)


def _refuse_if_locked(session: Session, keys: list[str], now: datetime) -> None:
    for row in session.scalars(select(LoginFailure).where(LoginFailure.key.in_(keys))):
        if row.locked_until is not None and row.locked_until > now:
            wait = max(1, int((row.locked_until - now).total_seconds() + 0.999))
            what = "this account" if row.key.startswith("account:") else "this address"
            raise Throttled(f"too many failed sign-ins for {what}: try again in {wait} s "
                            f"(after {isoformat_z(row.locked_until)})", retry_after=wait,
                            field="username" if what == "this account" else None)


def _start_session(session: Session, user: User, account: str, hours: int) -> str:
    session.execute(delete(LoginFailure).where(LoginFailure.key == account))
    cookie = secrets.token_urlsafe(32)
    session.add(WebSession(id=sha256(cookie), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(24),
                           expires_at=utcnow() + timedelta(hours=hours)))
    session.flush()
    return cookie


def _record_failure(session: Session, username: str, address: str | None,
                    policy: LoginPolicy) -> None:
    now = utcnow()
    counted = [(account_key(username), policy.max_failures)]
    if address:
        counted.append((address_key(address), policy.max_failures_per_address))
    for key, threshold in counted:
        row = _locked_row(session, key, now)
        if row.last_failure_at <= now - FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        lockout = policy.lockout(row.failures, threshold)
        if lockout is not None:
            row.locked_until = now + lockout
            session.flush()
            _audit_lockout(session, row, username, address, lockout)
    session.flush()


def _locked_row(session: Session, key: str, now: datetime) -> LoginFailure:
    """The key's row, created when missing, locked against concurrent failures."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(LoginFailure).values(key=key, failures=0, last_failure_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    return session.execute(select(LoginFailure).where(LoginFailure.key == key)
                           .with_for_update().execution_options(populate_existing=True)
                           ).scalar_one()


def _audit_lockout(session: Session, row: LoginFailure, username: str, address: str | None,
                   lockout: timedelta) -> None:
    account = row.key.startswith("account:")
    user_id = session.scalar(select(User.id).where(User.username == username))
    audit.record(session, SIGN_IN, "login.lockout", "user" if account else "address",
                 (user_id if user_id is not None else username[:100]) if account else address,
                 after={"scope": "account" if account else "address",
                        "username": username, "address": address, "failures": row.failures,
                        "locked_until": row.locked_until,
                        "seconds": int(lockout.total_seconds())})

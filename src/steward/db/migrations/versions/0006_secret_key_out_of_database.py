"""integrations: seal GitHub webhook secrets; the server secret leaves the database

Earlier versions derived every integration key as HMAC(server secret, id:salt)
and, without STEWARD_SECRET_KEY, kept that server secret in the table
server_secrets, so the database alone reproduced every key. Keys that senders
present are found by their SHA-256 and keep working untouched. GitHub webhook
secrets, which Steward must use to check signatures, are derived once more
here and kept sealed with the server's secret key. A secret that was stored in
the database is moved to the key file (STEWARD_SECRET_KEY_FILE, or on SQLite
the file beside the database) when no key is configured, then erased: on
SQLite with secure_delete and a checkpoint, so the database file no longer
holds it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00
"""

import base64
import dataclasses
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

from steward.auth.secret_key import (
    ENV_FILE,
    ENV_KEY,
    SecretKeyProblem,
    create_key_file,
    key_source,
    read_key,
)
from steward.config import Settings, load_settings

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _legacy_key(secret: bytes, integration_id: int, salt: str) -> str:
    """The key an earlier version derived (GitHub and every type but PagerDuty)."""
    digest = hmac.new(secret, f"{integration_id}:{salt}".encode(), hashlib.sha256).digest()
    return "stk_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _settings(bind: sa.Connection) -> Settings:
    url = bind.engine.url.render_as_string(hide_password=False)
    return dataclasses.replace(load_settings(), database_url=url)


def _move_secret_out(bind: sa.Connection) -> None:
    stored = bind.execute(sa.text("SELECT value FROM server_secrets WHERE id = 1")).scalar()
    github = bind.execute(sa.text(
        "SELECT id, salt, key_hash FROM integrations WHERE type = 'github' ORDER BY id")).all()
    source = key_source(_settings(bind))
    key = read_key(source)
    if key is None and stored:
        if source.file is None:
            if not github:
                return  # nothing depends on it: the stored secret is simply erased
            raise SecretKeyProblem(
                f"this upgrade moves the server secret out of the database: set {ENV_FILE} to "
                "the file it should be written to (every server then needs a copy of it), "
                "and run `steward migrate` again")
        create_key_file(source.file, stored)
        key = read_key(source)
    if not github:
        return
    if key is None:
        raise SecretKeyProblem(
            f"the GitHub integrations' secrets were derived from {ENV_KEY}, which is not "
            "set: set it as it was when they were made, and run `steward migrate` again")
    candidates = [key.secret] + ([stored.encode()] if stored else [])
    for integration_id, salt, key_hash in github:
        for secret in candidates:
            legacy = _legacy_key(secret, integration_id, salt)
            if hashlib.sha256(legacy.encode()).hexdigest() == key_hash:
                context = f"integration {integration_id}"
                bind.execute(sa.text("UPDATE integrations SET secret_sealed = :sealed "
                                     "WHERE id = :id"),
                             {"sealed": key.seal(legacy, context),
                              "id": integration_id})
                break


def upgrade() -> None:
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_sealed', sa.String(length=255), nullable=True))
    bind = op.get_bind()
    _move_secret_out(bind)
    if bind.dialect.name == 'sqlite':
        # Overwrite the freed pages, so the file no longer holds the secret.
        op.execute('PRAGMA secure_delete=ON')
    op.execute('DELETE FROM server_secrets')
    op.drop_table('server_secrets')
    if bind.dialect.name == 'sqlite':
        op.execute('PRAGMA secure_delete=OFF')


def downgrade() -> None:
    # The secret stays in the key file: an earlier version given no STEWARD_SECRET_KEY would
    # make a new one, and its GitHub integrations would need new secrets.
    op.create_table('server_secrets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_secrets'))
    )
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.drop_column('secret_sealed')

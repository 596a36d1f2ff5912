"""Sending email over SMTP (``STEWARD_SMTP_*``), with STARTTLS and a login when set."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from steward.config import Settings


class DeliveryFailed(Exception):
    """An attempt that did not deliver; its message is kept as the notification's error."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                   settings.smtp_user, settings.smtp_password, settings.smtp_starttls)


def send_email(server: SmtpServer, message: EmailMessage, *, timeout: float) -> None:
    if not server.host:
        raise DeliveryFailed("no SMTP server: set STEWARD_SMTP_HOST")
    try:
        with smtplib.SMTP(server.host, server.port, timeout=timeout) as smtp:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.user:
                smtp.login(server.user, server.password)
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP {server.host}:{server.port}: "
                             f"{type(exc).__name__}: {exc}") from exc
    if refused:
        raise DeliveryFailed(f"SMTP {server.host}:{server.port} refused "
                             f"{', '.join(sorted(refused))}")

"""An email notification: plain text and HTML alternatives, and for a page the one-click
acknowledge link; a plain message (``body["kind"] == "message"``: a heading, paragraphs,
one button, an unsubscribe link) for people outside Steward, such as status page
subscribers. Pure: a message in, a ``email.message.EmailMessage`` out."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from typing import Any


def _lines(incident: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("Incident", f"{incident.get('number', '')} {incident.get('title', '')}"),
            ("Priority", f"{incident.get('priority', '')} ({incident.get('urgency', '')} "
                         "urgency)"),
            ("Status", str(incident.get("status", "")))]
    if incident.get("services"):
        rows.append(("Services", ", ".join(incident["services"])))
    business = incident.get("business_services") or {}
    if business.get("down"):
        rows.append(("Business services down", ", ".join(business["down"])))
    if business.get("degraded"):
        rows.append(("Business services degraded", ", ".join(business["degraded"])))
    if incident.get("owner_team"):
        rows.append(("Owning team", str(incident["owner_team"])))
    if incident.get("assignee"):
        rows.append(("Assignee", str(incident["assignee"])))
    if incident.get("started_at"):
        rows.append(("Started", str(incident["started_at"])))
    return rows


def _until(expires_at: datetime | None) -> str:
    return expires_at.strftime("%Y-%m-%d %H:%M UTC") if expires_at else ""


def render_email(*, sender: str, to: str, subject: str, body: dict[str, Any],
                 ack_link: str | None = None, ack_expires_at: datetime | None = None,
                 message_id_domain: str | None = None,
                 message_key: str | None = None) -> EmailMessage:
    """The email for a page (``body["kind"] == "page"``), a plain message
    (``body["kind"] == "message"``) or any other notification about an incident or a
    change."""
    if body.get("kind") == "message":
        return _with_headers(_message(subject, body), sender=sender, to=to,
                             message_id_domain=message_id_domain, message_key=message_key,
                             unsubscribe=str(body.get("unsubscribe_url") or ""))
    incident = body.get("incident") or {}
    change = body.get("change") or {}
    reason = str(body.get("reason") or "")
    links = body.get("links") or {}
    url = incident.get("url") or change.get("url") or links.get("incident") or ""
    rows = _lines(incident) if incident else [
        ("Change", f"{change.get('number', '')} {change.get('title', '')}"),
        ("State", str(change.get("state", ""))), ("Risk", str(change.get("risk_level", "")))]

    text = [subject, ""]
    if reason:
        text += [reason, ""]
    text += [f"{name}: {value}" for name, value in rows]
    text.append("")
    if ack_link:
        text += ["Acknowledge (opens a page with one button; the link works once, until "
                 f"{_until(ack_expires_at)}):", ack_link, ""]
    if url:
        text += ["Open in Steward:", url, ""]
    text += ["-- ", "Steward: you receive this because of your notification rules."]

    cells = "".join(
        f"<tr><th style=\"text-align:left;padding:2px 12px 2px 0\">{escape(name)}</th>"
        f"<td>{escape(value)}</td></tr>" for name, value in rows)
    button = ""
    if ack_link:
        button = (
            f"<p><a href=\"{escape(ack_link, quote=True)}\" style=\"display:inline-block;"
            "padding:8px 16px;background:#1d4ed8;color:#ffffff;text-decoration:none;"
            "border-radius:4px\">Acknowledge</a></p>"
            f"<p style=\"color:#555\">The link opens a page with one button; it works once, "
            f"until {escape(_until(ack_expires_at))}.</p>")
    opener = (f"<p><a href=\"{escape(url, quote=True)}\">Open in Steward</a></p>"
              if url else "")
    html = (
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">"
        f"<h1 style=\"font-size:18px\">{escape(subject)}</h1>"
        + (f"<p>{escape(reason)}</p>" if reason else "")
        + f"<table>{cells}</table>{button}{opener}"
        "<p style=\"color:#555;font-size:12px\">Steward: you receive this because of your "
        "notification rules.</p></body></html>")

    return _with_headers((subject, "\n".join(text), html), sender=sender, to=to,
                         message_id_domain=message_id_domain, message_key=message_key)


def _message(subject: str, body: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a plain message."""
    heading = str(body.get("heading") or subject)
    paragraphs = [str(p) for p in body.get("paragraphs") or []]
    action = body.get("action") or {}
    url, label = str(action.get("url") or ""), str(action.get("label") or "Open")
    unsubscribe = str(body.get("unsubscribe_url") or "")
    footer = str(body.get("footer") or "")
    text = [heading, "", *[line for p in paragraphs for line in (p, "")]]
    if url:
        text += [f"{label}:", url, ""]
    text += ["-- ", footer] if footer else []
    if unsubscribe:
        text += ["Unsubscribe (one click):", unsubscribe]
    html = ("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">"
            f"<h1 style=\"font-size:18px\">{escape(heading)}</h1>"
            + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
            + (f"<p><a href=\"{escape(url, quote=True)}\" style=\"display:inline-block;"
               "padding:8px 16px;background:#1d4ed8;color:#ffffff;text-decoration:none;"
               f"border-radius:4px\">{escape(label)}</a></p>" if url else "")
            + (f"<p style=\"color:#555;font-size:12px\">{escape(footer)}" if footer else
               "<p style=\"color:#555;font-size:12px\">")
            + (f" <a href=\"{escape(unsubscribe, quote=True)}\">Unsubscribe</a>"
               if unsubscribe else "")
            + "</p></body></html>")
    return subject, "\n".join(text), html


def _with_headers(parts: tuple[str, str, str], *, sender: str, to: str,
                  message_id_domain: str | None, message_key: str | None,
                  unsubscribe: str = "") -> EmailMessage:
    subject, text, html = parts
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The same on every attempt (``message_key``: the notification), so a repeat after a
    # lost answer is recognisable as the same message.
    message["Message-ID"] = (f"<{message_key}@{message_id_domain or 'steward.invalid'}>"
                             if message_key else make_msgid(domain=message_id_domain))
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        # RFC 2369 and RFC 8058: mail clients offer an unsubscribe button that POSTs
        # "List-Unsubscribe=One-Click" to the link, with no page in between.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message

"""Links to the web: which stored text may become a clickable link.

Every URL field Steward keeps (change links, deployment and alert urls,
service links) is meant for a browser. Only ``http`` and ``https`` are
links; anything else (``javascript:``, ``data:``, ``vbscript:``, a
protocol-relative ``//host``, ``mailto:``...) is text. The rule is applied
three times, always through this module:

- people's API writes refuse such a value with a 422 naming the field
  (:data:`WebUrl`, used by every schema with a URL field);
- ingest keeps the event and drops the link, keeping its text elsewhere
  (:func:`screen_url`, :func:`screen_links`), since an alert or a deployment is
  never lost for a bad link;
- pages render a stored value through :func:`web_href` (the ``web_href`` Jinja
  filter), so rows stored before the rule are shown as text, never as links.

Pure: no web framework, no database.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints

WEB_SCHEMES = frozenset({"http", "https"})
MAX_URL = 2000
# What a browser strips from both ends of a URL before reading its scheme.
_EDGES = "".join(chr(c) for c in range(0x21))
NOT_WEB = "must be an http:// or https:// URL"


def web_href(value: Any) -> str | None:
    """``value`` as a link target when it is an absolute http(s) URL, else ``None``.

    Surrounding whitespace is ignored; whitespace or control characters inside,
    a scheme other than http or https, or no host make it text.
    """
    if not isinstance(value, str):
        return None
    text = value.strip(_EDGES)
    if not text or len(text) > MAX_URL or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F
                                              for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced [ in the host
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc or not parts.hostname:
        return None
    return text


def is_web_url(value: Any) -> bool:
    return web_href(value) is not None


def _require_web(value: str) -> str:
    href = web_href(value)
    if href is None:
        # pydantic reports it with the field's location (``links.pipeline``).
        raise ValueError(NOT_WEB)
    return href


# The URL type of every API schema that takes a link from a person.
WebUrl = Annotated[str, StringConstraints(max_length=MAX_URL), AfterValidator(_require_web)]


def screen_url(value: str | None) -> tuple[str | None, str | None]:
    """An ingested url as ``(link to keep, text that was refused)``.

    A blank value is neither; a non-http(s) value is refused, cut to
    :data:`MAX_URL` characters, so the caller can keep it as text.
    """
    if value is None or not value.strip():
        return None, None
    href = web_href(value)
    if href is not None:
        return href, None
    return None, value.strip()[:MAX_URL]


def screen_links(links: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Ingested named links split into ``(kept, refused)`` by :func:`screen_url`."""
    kept: dict[str, str] = {}
    refused: dict[str, str] = {}
    for name, value in links.items():
        href, bad = screen_url(value if isinstance(value, str) else None)
        if href is not None:
            kept[name] = href
        elif bad is not None:
            refused[name] = bad
    return kept, refused

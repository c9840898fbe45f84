"""Text made safe to show: invisible characters made visible, names made safe for paths and JSON."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

from markupsafe import Markup, escape

from auditor.evidence.tabular import iso_utc
from auditor.printable import visible

__all__ = [
    "CELL_LIMIT",
    "LONG_CELL_LIMIT",
    "cell",
    "json_for_script",
    "long_cell",
    "markdown_inline",
    "safe_url",
    "slug",
    "visible",
    "when",
]

CELL_LIMIT = 300
"""The most characters a cell of a listing (changes, control, overview) shows."""
LONG_CELL_LIMIT = 10_000
"""The most characters a cell of a change's own page shows (a policy document, a long path);
the page's title and message, and the CSVs, carry every character."""

_UNSAFE_PATH = re.compile(r"[^A-Za-z0-9._-]+")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_JSON_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_SCRIPT = re.compile("[<>&\u2028\u2029]")


def cell(value: object, limit: int = CELL_LIMIT) -> object:
    """``value`` as a table cell shows it: a text longer than ``limit`` cut to its first
    characters and ``…`` (a browser lays a one-line 2 MB cell out for minutes), else as is."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def long_cell(value: object) -> object:
    """:func:`cell` for the tables of a change's own page."""
    return cell(value, LONG_CELL_LIMIT)


def markdown_inline(text: str) -> Markup:
    """The Markdown of control texts (description, procedure) as HTML: code spans between
    backticks, the only mark-up the control files use. ``text`` is made visible and escaped
    first, then marked up, so nothing it holds becomes a tag; an unpaired backtick stays."""
    escaped = str(escape(visible(text)))
    return Markup(_INLINE_CODE.sub(r"<code>\1</code>", escaped))


def slug(name: str) -> str:
    """A file-name-safe form of ``name``; a short hash keeps altered names distinct."""
    safe = _UNSAFE_PATH.sub("-", name).strip("-.") or "x"
    if safe == name:
        return safe
    return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def json_for_script(document: object) -> str:
    """JSON that can sit inside ``<script type="application/json">`` without ending it."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _JSON_SCRIPT.sub(lambda m: _JSON_SCRIPT_ESCAPES[m.group()], text)


def when(value: datetime | None) -> str:
    """A timestamp as shown to people: ISO 8601 UTC, empty for unknown."""
    return iso_utc(value)


def safe_url(url: str) -> str:
    """``url`` if it is an http(s) link, else empty (never a ``javascript:`` or ``data:`` link)."""
    lowered = url.strip().lower()
    return url.strip() if lowered.startswith(("https://", "http://")) else ""

"""The one redaction of credentials from what leaves the process.

Every URL, message, recorded command, crash report and user-given value that auditor prints,
stores or writes goes through :func:`redact`: it removes the user information of URLs
(``https://ci:token@host/x`` → ``https://host/x``), masks the values of token-like parameters
(``?private_token=…``, ``access_token=…``, ``X-Amz-Signature=…``: see :func:`is_secret_parameter`)
and masks each known secret value (the forge tokens, a clone URL's password) wherever it occurs.

The forge registry (:mod:`auditor.reviews.forges`) names the environment variables that hold
forge tokens: it registers them here as it loads (:func:`register_token_variables`), and every
token auditor reads is read through it; the command line loads it as it starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

REDACTED = "***"
_TOKEN_VARIABLES: list[str] = []
"""Environment variables whose values are forge tokens (see :func:`register_token_variables`)."""

MIN_SECRET = 4
"""Shorter known values are not masked: they would mangle ordinary words."""

_SECRET_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "jwt",
        "key",
        "pass",
        "passwd",
        "password",
        "pwd",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
    }
)
_WORD = re.compile(r"[a-z0-9]+")
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s?#]*@")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_ASSIGNMENT = re.compile(r"(?<![\w.-])(?P<name>[\w.-]+)=(?P<value>[^&#\s'\"<>;,]*)")


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter (or ``name=value`` word) named ``name`` holds a credential:
    one of its words is token, key, secret, password, sig, signature, auth… or ends in token
    (``access_token``, ``private_token``, ``api_key``, ``client_secret``, ``X-Amz-Signature``)."""
    words = _WORD.findall(name.lower())
    return any(word in _SECRET_WORDS or word.endswith("token") for word in words)


def secret_parameters(url: str) -> list[str]:
    """The names of the token-like query parameters of ``url``, in order."""
    query = urlsplit(url).query if "://" in url else url.partition("?")[2]
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return [name for name in dict.fromkeys(names) if is_secret_parameter(name)]


def register_token_variables(names: Iterable[str]) -> None:
    """Mask the values of the environment variables ``names`` (forge tokens) from now on."""
    _TOKEN_VARIABLES.extend(name for name in names if name not in _TOKEN_VARIABLES)


def known_secrets(
    environ: Mapping[str, str] | None = None, extra: Iterable[str] = ()
) -> tuple[str, ...]:
    """The values to mask everywhere: the forge tokens in ``environ`` (default: the process
    environment) and ``extra``, longest first so that no part of a longer one survives."""
    environ = os.environ if environ is None else environ
    values = [environ.get(name, "") for name in _TOKEN_VARIABLES] + list(extra)
    return tuple(sorted({v for v in values if len(v) >= MIN_SECRET}, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every occurrence of ``secrets`` (see :func:`mask`), the user information of
    every URL and the value of every token-like parameter replaced by :data:`REDACTED`."""
    text = _USERINFO.sub(r"\g<scheme>", mask(text, secrets))
    return _ASSIGNMENT.sub(_masked, text)


def redact_urls(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ``secrets`` masked (:func:`mask`) and each URL in it redacted, the rest
    kept as written: for a document, such as a config file, whose ``name=value`` words are not
    credentials (``signing_key="keys/ci"`` names a file)."""
    return _URL.sub(lambda url: redact(url[0]), mask(text, secrets))


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced by :data:`REDACTED` — as written,
    percent-encoded, in any case (a URL's host is lowercased) — and nothing else changed: for
    evidence, such as a forge's answer, that must stay as it was but for a credential."""
    variants = {v for s in secrets if len(s) >= MIN_SECRET for v in (s, quote(s, safe=""))}
    if not variants:
        return text
    alternatives = "|".join(map(re.escape, sorted(variants, key=len, reverse=True)))
    return re.sub(alternatives, REDACTED, text, flags=re.IGNORECASE)


def _masked(match: re.Match[str]) -> str:
    if not match["value"] or not is_secret_parameter(match["name"]):
        return match[0]
    return f"{match['name']}={REDACTED}"

"""The one-shot git credential helper behind a clone URL's user and password (see
:mod:`auditor.runs.clones`).

git runs ``python -m auditor.runs.credential get`` and writes on its standard input what it needs a
credential for (``protocol=https``, ``host=git.example.com:8443``, ``path=acme/x.git``, one
``key=value`` a line). The helper answers with the user and password of git's environment
(``AUDITOR_GIT_USERNAME``, ``AUDITOR_GIT_PASSWORD``) only when the protocol, host, port and,
where git gives it, the path are those of the clone URL (``AUDITOR_GIT_URL``). For anything else
(a redirect to another host or port, plain http:// instead of https://, another repository)
it answers nothing, and git goes on without a credential. Nothing is stored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

URL_VARIABLE = "AUDITOR_GIT_URL"
USERNAME_VARIABLE = "AUDITOR_GIT_USERNAME"
PASSWORD_VARIABLE = "AUDITOR_GIT_PASSWORD"


def description(text: str) -> dict[str, str]:
    """git's request, ``key=value`` lines up to a blank line or the end, as a mapping."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            break
        key, sep, value = line.partition("=")
        if sep:
            fields.setdefault(key, value)
    return fields


def matches(request: Mapping[str, str], url: str) -> bool:
    """Whether git asks about ``url`` itself: same protocol, host and port, and same path when
    the request names one."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if request.get("protocol") != parts.scheme or not host:
        return False
    if request.get("host", "").lower() != host.lower():
        return False
    path = request.get("path")
    return path is None or _path(path) == _path(parts.path)


def _path(path: str) -> str:
    return unquote(path).strip("/")


def answer(action: str, text: str, environ: Mapping[str, str]) -> str:
    """What the helper writes for ``action`` (``get``, ``store``, ``erase``) given git's
    request ``text``: the credential lines, or nothing."""
    url = environ.get(URL_VARIABLE, "")
    if action != "get" or not url or not matches(description(text), url):
        return ""
    username = environ.get(USERNAME_VARIABLE, "")
    password = environ.get(PASSWORD_VARIABLE, "")
    if "\n" in username + password or "\0" in username + password:
        return ""  # git's protocol cannot carry it; never let a value add lines
    return f"username={username}\npassword={password}\n"


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else ""
    sys.stdout.write(answer(action, sys.stdin.read(), os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

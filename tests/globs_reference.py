"""The regular-expression glob translations auditor used before its linear-time matcher.

Kept as the reference the matcher is compared with (tests/infra/test_infra_globs.py): same
answers on every pattern and path, without the backtracking.
"""

from __future__ import annotations

import re


def translate(pattern: str, sep: str) -> str:
    """The regex source matching ``pattern`` with ``sep`` as the segment separator."""
    esc = re.escape(sep)
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**" + sep, i) and (i == 0 or pattern[i - 1] == sep):
            out.append(f"(?:.*{esc})?")
            i += 3
        elif pattern.startswith(sep + "**", i) and i + 3 == n:
            out.append(r"(?:[.\[].*)?" if sep == "." else f"(?:{esc}.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern.startswith("[*]", i):
            out.append(r"\[[^\]]*\]")
            i += 3
        elif pattern[i] == "*":
            out.append(f"[^{esc}]*")
            i += 1
        elif pattern[i] == "?":
            out.append(f"[^{esc}]")
            i += 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            alternatives = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(translate(a, sep) for a in alternatives) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def codeowners_regex(pattern: str) -> re.Pattern[str]:
    """The regex (for ``fullmatch`` over a repository path) of a CODEOWNERS pattern."""
    dir_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    files_only = body.endswith("/*") and not body.endswith("**/*")
    regex = _codeowners_translate(body)
    prefix = "" if anchored else "(?:.*/)?"  # a leading **/ is translated as any directories
    if dir_only:
        suffix = "/.*"
    elif files_only or body.endswith("/**"):
        suffix = ""
    else:
        suffix = "(?:/.*)?"
    return re.compile(prefix + regex + suffix, re.S)


def _codeowners_translate(glob: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if glob.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and index + 1 < len(glob):
            index += 1
            out.append(re.escape(glob[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)

"""Credentials in the lines a change added, reported with the secret value redacted.

Detected: AWS access key ids and secret keys, private key PEM headers, GitHub, GitLab and Slack
tokens, Slack webhooks, values of Kubernetes ``Secret`` ``data``/``stringData``, and generic
assignments to keys ending in password/secret/token/api key/access key/private key/credentials.

A generic assignment counts only when its value is a literal of 8+ characters with Shannon
entropy of at least 3 bits per character, and is not a reference or a placeholder: values
containing ``${``, ``{{``, ``$(`` or ``<``, starting with ``$``, ``!``, ``ref+``, ``vault:``,
``arn:`` or ``ENC[``, bare dotted expressions (``var.db_password``) and function calls
(``try(each.value.access_key, null)``), and words such as
``changeme``, ``example``, ``placeholder``, ``redacted``, ``xxxx`` are ignored, and so are
tokens and keys containing such words (the documented ``AKIA...EXAMPLE`` sample keys).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from auditor.infra.model import SecretHit, SecretKind

REDACTED = "[REDACTED]"
_MAX_LINE = 4096
_MAX_PREVIEW = 160
_MIN_ENTROPY = 3.0
_MIN_LENGTH = 8

_TOKENS: tuple[tuple[SecretKind, re.Pattern[str]], ...] = (
    (
        SecretKind.AWS_ACCESS_KEY_ID,
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)(?P<secret>[0-9A-Z]{16})\b"),
    ),
    (
        SecretKind.AWS_SECRET_ACCESS_KEY,
        re.compile(
            r"(?i)aws[\w.-]{0,20}secret[\w.-]{0,20}[\"']?\s*[:=]+>?\s*[\"']?"
            r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    (SecretKind.PRIVATE_KEY, re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    (
        SecretKind.GITHUB_TOKEN,
        re.compile(r"\b(?:gh[pousr]_|github_pat_)(?P<secret>[A-Za-z0-9_]{22,})\b"),
    ),
    (SecretKind.GITLAB_TOKEN, re.compile(r"\bglpat-(?P<secret>[\w-]{20,})")),
    (SecretKind.SLACK_TOKEN, re.compile(r"\bxox[abposr]-(?P<secret>[\w-]{10,})")),
    (
        SecretKind.SLACK_WEBHOOK,
        re.compile(r"(?:https://hooks\.slack\.com/services/)(?P<secret>[\w/-]+)"),
    ),
)
_ASSIGNMENT = re.compile(
    r"(?i)(?<![\w.-])[\w.-]*?"
    r"(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)"
    r"[\"']?\s*(?::=|=>|[:=])\s*"
    r"(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s,;}\]]+))"
)
# Every line a pattern above can match contains one of these (a cheap first look), matched
# case-insensitively; for ASCII text, the same factored and over the lower-cased text (faster).
_CANDIDATE = re.compile(
    r"(?i)AKIA|ASIA|ABIA|ACCA|secret|private[_ -]?key|gh[pousr]_|github_pat_|glpat-|xox[abposr]-"
    r"|hooks\.slack\.com|passw|pwd|token|api[_-]?key|access[_-]?key|credential"
)
_CANDIDATE_LOWER = re.compile(
    r"a(?:kia|sia|bia|cca|pi[_-]?key|ccess[_-]?key)|secret|private[_ -]?key"
    r"|g(?:h[pousr]_|ithub_pat_|lpat-)|xox[abposr]-|hooks\.slack\.com|passw|pwd|token|credential"
)


def _candidate(text: str) -> bool:
    if text.isascii():
        return _CANDIDATE_LOWER.search(text.lower()) is not None
    return _CANDIDATE.search(text) is not None


_REFERENCE = re.compile(r"\$\{|\{\{|\$\(|<|^(?:\$|!|ref\+|vault:|arn:|ENC\[)", re.I)
_EXPRESSION = re.compile(r"^[A-Za-z_][\w-]*(?:\.[\w\[\]\"*-]+)+$")
_CALL = re.compile(r"^[A-Za-z_][\w.-]*\(")  # an HCL/Jsonnet function call: try(...), lookup(...)
_PLACEHOLDER = re.compile(r"(?i)change-?me|example|placeholder|redacted|dummy|x{4}|\*{3}")
_SECRET_DOC = re.compile(r"^kind:\s*[\"']?Secret[\"']?\s*$", re.M)
_SECRET_SECTION = re.compile(r"^(?:data|stringData):\s*$")
_ENTRY = re.compile(r"^(?P<indent>\s+)[\"']?[\w.-]+[\"']?:\s*(?P<value>.*?)\s*$")


def added_lines(before: str | None, after: str) -> list[tuple[int, str]]:
    """Lines of ``after`` (1-based numbers) that ``before`` did not have as often."""
    # The lines both sides begin with match each other whatever follows: skip them (cut after
    # a new line, where every way of splitting lines agrees).
    cut = after.rfind("\n", 0, _common_prefix(before or "", after)) + 1
    same = len(after[:cut].splitlines())
    old, new = (before or "")[cut:].splitlines(), after[cut:].splitlines()
    remaining = Counter(old)
    added = []
    for number, line in enumerate(new, start=same + 1):
        if remaining[line] > 0:
            remaining[line] -= 1
        else:
            added.append((number, line))
    return added


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b`` (compared in C, halving)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def scan(
    path: str,
    before: str | None,
    after: str | None,
    added: list[tuple[int, str]] | None = None,
) -> tuple[SecretHit, ...]:
    """Credentials in the lines ``after`` added to ``before`` (``added``, when known)."""
    if after is None:
        return ()
    lines = added_lines(before, after) if added is None else added
    if not lines:
        return ()
    secret_data = _secret_data_lines(after) if _SECRET_DOC.search(after) else set()
    if not secret_data and not _candidate("\n".join(line[:_MAX_LINE] for _, line in lines)):
        return ()  # no candidate on any line (no pattern spans lines)
    hits = []
    for number, line in lines:
        in_data = number in secret_data
        if not in_data and not _candidate(line[:_MAX_LINE]):
            continue
        hit = _scan_line(path, number, line[:_MAX_LINE], in_data)
        if hit is not None:
            hits.append(hit)
    return tuple(hits)


def _scan_line(path: str, number: int, line: str, secret_data: bool) -> SecretHit | None:
    spans: list[tuple[int, int]] = []
    kinds: list[SecretKind] = []
    for kind, regex in _TOKENS:
        for found in regex.finditer(line):
            has_value = "secret" in regex.groupindex
            if has_value and _PLACEHOLDER.search(found["secret"]):
                continue
            kinds.append(kind)
            if has_value:
                spans.append(found.span("secret"))
    if secret_data:
        entry = _ENTRY.match(line)
        value = entry["value"].strip("\"'") if entry else ""
        if entry and value and not _REFERENCE.search(value):
            kinds.append(SecretKind.KUBERNETES_SECRET_DATA)
            spans.append(entry.span("value"))
    for found in _ASSIGNMENT.finditer(line):
        group = next(g for g in ("dq", "sq", "bare") if found[g] is not None)
        if _is_literal(found[group], quoted=group != "bare"):
            kinds.append(SecretKind.ASSIGNMENT)
            spans.append(found.span(group))
    if not kinds:
        return None
    return SecretHit(path, number, kinds[0], _redact(line, spans))


def _is_literal(value: str, quoted: bool) -> bool:
    if len(value) < _MIN_LENGTH or _REFERENCE.search(value) or _PLACEHOLDER.search(value):
        return False
    if not quoted and (_EXPRESSION.match(value) or _CALL.match(value)):
        return False
    return entropy(value) >= _MIN_ENTROPY


def entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _redact(line: str, spans: list[tuple[int, int]]) -> str:
    out, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        out += [line[position:start], REDACTED]
        position = end
    out.append(line[position:])
    text = "".join(out).strip()
    return text if len(text) <= _MAX_PREVIEW else text[: _MAX_PREVIEW - 1] + "…"


def _secret_data_lines(text: str) -> set[int]:
    """Line numbers of entries under ``data:``/``stringData:`` of ``kind: Secret`` documents."""
    lines = text.splitlines()
    numbers: set[int] = set()
    start = 0
    for end in [*(i for i, line in enumerate(lines) if line.startswith("---")), len(lines)]:
        document = lines[start:end]
        if any(_SECRET_DOC.match(line) for line in document):
            numbers |= _data_entries(document, first_number=start + 1)
        start = end + 1
    return numbers


def _data_entries(document: list[str], first_number: int) -> set[int]:
    found: set[int] = set()
    in_section = False
    for index, line in enumerate(document):
        if _SECRET_SECTION.match(line):
            in_section = True
        elif line[:1] not in ("", " ", "\t", "#"):
            in_section = False
        elif in_section and _ENTRY.match(line):
            found.add(first_number + index)
    return found

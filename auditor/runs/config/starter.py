"""``auditor init``: a commented starter config for the repository in a directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from auditor import git
from auditor.errors import RepositoryError, UsageError
from auditor.redaction import redact
from auditor.reviews.forges import FORGE_CHOICES, FORGES, NO_FORGE, forge_of_host
from auditor.reviews.interface import parse_remote_url


@dataclass(frozen=True)
class Detected:
    """What the starter config says about the repository."""

    path: str  # relative to the config file
    branch: str
    forge: str  # a forge's word (github, gitlab…) or none
    remote: str  # without credentials; empty without an origin remote
    forge_url: str = ""  # the API a GitHub Enterprise / self-managed GitLab host likely serves


def detect(directory: Path, config: Path) -> Detected:
    """The repository containing ``directory``: its top, default branch, origin and forge."""
    top = git.run_or_none(directory, "rev-parse", "--show-toplevel")
    if top is None:
        raise RepositoryError(f"{directory}: not a Git repository (run auditor init inside one)")
    root = Path(top.decode().strip())
    remote = redact(
        (git.run_or_none(root, "config", "--get", "remote.origin.url") or b"").decode().strip()
    )
    branch = _default_branch(root)
    relative = os.path.relpath(root, config.resolve().parent)
    forge = _forge_of(remote)
    return Detected(Path(relative).as_posix(), branch, forge, remote, _forge_url(forge, remote))


def _default_branch(root: Path) -> str:
    """The remote's default branch when known (``origin/HEAD``), else the checked-out one."""
    remote_head = git.run_or_none(root, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD")
    if remote_head and remote_head.strip():
        return remote_head.decode().strip().removeprefix("origin/")
    head = git.run_or_none(root, "symbolic-ref", "-q", "--short", "HEAD")
    return head.decode().strip() if head and head.strip() else "main"


def _forge_of(remote: str) -> str:
    if not remote:
        return NO_FORGE
    try:
        host = parse_remote_url(remote).host
    except UsageError:
        return NO_FORGE
    entry = forge_of_host(host)  # as the pack's links read the host
    return entry.value if entry else NO_FORGE


def _forge_url(forge: str, remote: str) -> str:
    """The usual API base of a forge host whose API auditor does not derive (any but
    github.com and gitlab.com): auditor never guesses it (the token goes there), the starter
    writes it for the user to check."""
    entry = next((entry for entry in FORGES.values() if entry.value == forge), None)
    if entry is None:
        return ""
    host = parse_remote_url(remote).host
    if entry.api_url_for(host) is not None:
        return ""
    return f"https://{host}{entry.self_hosted_api}"


def starter_config(found: Detected, organisation: str = "") -> str:
    """The text of the starter config (valid TOML, every optional key commented)."""
    name = organisation or "Your organisation"
    origin = f"   # origin: {found.remote}" if found.remote else ""
    forge_url = (
        f"forge_url = {_toml(found.forge_url)}   # check it: the token is sent only here"
        if found.forge_url
        else '# forge_url = "https://github.example.com/api/v3"   # GitHub Enterprise, '
        "self-managed GitLab"
    )
    notes = {entry.value: f"token from {entry.token_variable}" for entry in FORGES.values()}
    forge_note = notes.get(found.forge, " | ".join(FORGE_CHOICES))
    return f"""\
# auditor run --config auditor.toml: the scheduled audit of this repository.
# Every key is described in auditor's README ("The config file"). Relative paths are relative
# to this file. Keep the store and the packs out of Git (add them to .gitignore).

[audit]
organisation = {_toml(name)}
period = "last-quarter"              # last-quarter, last-month, last-90-days, year-to-date,
                                     # or a calendar period: 2026-Q1, 2026-03, 2026
# since = "2026-01-01"               # or explicit dates, inclusive (instead of period)
# until = "2026-03-31"
frameworks = ["soc2", "iso27001", "pci-dss", "nist-800-53"]
formats = ["pdf", "html", "csv", "json"]   # also oscal, xlsx; pdf needs pip install 'auditor[pdf]'
output = "audit-packs"               # each run writes a new directory inside, never overwriting
store = ".auditor"                   # the evidence store, and mirrors of repositories by URL
# waivers = "waivers.yaml"           # accepted exceptions
# roster = "people.csv"              # person, emails, logins, start, end
# controls_dirs = ["controls"]       # your own control files
# fail_on = ["high", "critical"]     # severities whose failures exit 1 (default: all)
# sample = 25                        # the auditor's sample per control
# seed = "2026-Q1"
# jobs = 4                           # worker processes (default: every core)
# signing_key = "keys/audit-signing"  # SSH private key signing each pack's MANIFEST.sha256

[[repository]]
path = {_toml(found.path)}{origin}
branches = [{_toml(found.branch)}]
forge = {_toml(found.forge)}                    # {forge_note}
{forge_url}
# reviews_file = "reviews.json"      # review data exported with auditor reviews export
# environments = ["envs/<env>/**"]   # where this repository keeps each environment

# More repositories: a local path, or a URL mirrored into the store on each run.
# [[repository]]
# url = "https://github.com/acme/platform.git"   # credentials: https://user:${{TOKEN}}@host/...
# forge = "github"

# Control parameters for some repositories or paths (the most specific match wins):
# [[overrides."CHG-02"]]
# paths = ["envs/prod/**"]
# parameters = {{ min_approvals = 2 }}
"""


def write_starter(directory: Path, config: Path, organisation: str = "") -> Detected:
    """Write the starter config to ``config``; an existing file is never overwritten."""
    found = detect(directory, config)
    text = starter_config(found, organisation)
    try:
        with config.open("x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise UsageError(f"{config} already exists; not overwriting it") from None
    except OSError as err:
        raise UsageError(f"{config}: cannot write: {err}") from None
    return found


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, for these characters)."""
    return json.dumps(text, ensure_ascii=False)

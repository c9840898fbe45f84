"""Repositories named by URL, mirrored into a cache under the store and updated on each run.

The first run makes a full ``git clone --mirror`` (never shallow: every commit is evidence);
later runs ``git remote update --prune``, so a force-push upstream moves the mirror's branch and
mining notices the rewrite. Credentials never touch the disk: the mirror records the URL without
its user and password, and a password given in the URL (``https://user:${TOKEN}@host/x.git``,
``${NAME}`` read from the environment) reaches git through a one-shot credential helper that reads
it from git's environment. Without one, git's own credential helpers, SSH agent and
``GIT_ASKPASS`` apply as usual. Every message is stripped of user information and secrets.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from auditor.errors import RepositoryError, UsageError
from auditor.git import git_env

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
# Answers git's "get" with the user and password from git's own environment, nothing stored.
_HELPER = (
    '!f() { test "$1" = get || return 0; '
    'printf "username=%s\\npassword=%s\\n" "$AUDITOR_GIT_USERNAME" "$AUDITOR_GIT_PASSWORD"; }; f'
)


def display_url(url: str) -> str:
    """``url`` without user information, for every message, record and report."""
    return _USERINFO.sub(r"\g<scheme>", url)


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with user information of URLs and each of ``secrets`` removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return display_url(text)


@dataclass(frozen=True)
class Remote:
    """A clone URL split into what git may store and the credentials it must not."""

    url: str  # what the mirror records: no password (an ssh:// user name is kept)
    username: str = ""
    password: str = ""

    @classmethod
    def parse(cls, raw: str) -> Remote:
        """``raw`` with ``${NAME}`` expanded from the environment in its user information."""
        parts = urlsplit(raw)
        if not parts.scheme or "@" not in parts.netloc:
            return cls(raw)  # a path, file:// or scp-like user@host:path: nothing secret
        userinfo, _, host = parts.netloc.rpartition("@")
        user, has_password, password = userinfo.partition(":")
        if not has_password:
            return cls(raw)  # ssh://git@host/x, https://ci@host/x: git's helpers find the rest
        user, password = _expand(unquote(user)), _expand(unquote(password))
        clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        return cls(clean, user, password)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.username) if len(s) > 3)


def _expand(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in os.environ:
            raise UsageError(f"clone URL names ${{{name}}}, which is not set in the environment")
        return os.environ[name]

    return _VARIABLE.sub(value, text)


def cache_name(url: str) -> str:
    """A readable, collision-free directory name for the mirror of ``url``."""
    shown = display_url(url)
    tail = shown.split("://", 1)[-1].rstrip("/").removesuffix(".git")
    slug = _SLUG.sub("-", tail).strip("-.")[-60:] or "repository"
    digest = hashlib.sha256(shown.encode()).hexdigest()[:10]
    return f"{slug}-{digest}.git"


def mirror(url: str, cache: Path) -> Path:
    """The up-to-date bare mirror of ``url`` under ``cache``: cloned once, fetched after.

    Raises :class:`RepositoryError` when the remote cannot be reached or read; the message names
    the URL without credentials.
    """
    remote = Remote.parse(url)
    target = cache / cache_name(remote.url)
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(target.with_suffix(".lock")):
        if (target / "HEAD").is_file():
            _git(remote, target, "remote", "update", "--prune")
            _follow_default_branch(remote, target)
        else:
            shutil.rmtree(target, ignore_errors=True)
            for stale in cache.glob(f".{target.name}.*.partial"):  # of a killed clone: we hold
                shutil.rmtree(stale, ignore_errors=True)  # the lock, nobody else clones it now
            work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=cache))
            try:
                _git(remote, None, "clone", "--quiet", "--mirror", remote.url, str(work))
                os.replace(work, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return target


def _follow_default_branch(remote: Remote, target: Path) -> None:
    """Point the mirror's HEAD where the remote's points now (a renamed default branch)."""
    out = _git(remote, target, "ls-remote", "--symref", "origin", "HEAD")
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            _git(remote, target, "symbolic-ref", "HEAD", line[5:].split("\t")[0])
            return


def _git(remote: Remote, cwd: Path | None, *args: str) -> str:
    command = ["git"]
    env = git_env()
    if remote.username or remote.password:
        command += ["-c", "credential.helper=", "-c", f"credential.helper={_HELPER}"]
        env.update(AUDITOR_GIT_USERNAME=remote.username, AUDITOR_GIT_PASSWORD=remote.password)
    if cwd is not None:
        command += ["-C", str(cwd)]
    proc = subprocess.run([*command, *args], capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        why = redact(_reason(proc.stderr), remote.secrets)
        raise RepositoryError(f"{display_url(remote.url)}: git {args[0]} failed: {why}")
    return proc.stdout.decode(errors="replace")


def _reason(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[-1] if lines else "no error message"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on ``path`` so two runs never update one mirror at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

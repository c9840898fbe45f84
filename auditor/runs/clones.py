"""Repositories named by URL, mirrored into a cache under the store and updated on each run.

The first run makes a full ``git clone --mirror`` (never shallow: every commit is evidence);
later runs ``git remote update --prune``, so a force-push upstream moves the mirror's branch and
mining notices the rewrite. Credentials never touch the disk: the mirror records the URL without
its user and password, and a password given in the URL (``https://user:${TOKEN}@host/x.git``,
``${NAME}`` read from the environment) reaches git through a one-shot credential helper
(:mod:`auditor.runs.credential`) that reads it from git's environment and gives it only for that
URL's protocol, host, port and path, never to a host a redirect names. Without one, git's own
credential helpers, SSH agent and ``GIT_ASKPASS`` apply as usual. Every message goes through
:func:`auditor.redaction.redact`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from auditor.errors import AuditorWarning, RepositoryError, UsageError
from auditor.git import git_env
from auditor.redaction import redact, secret_parameters
from auditor.runs import credential

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def _helper() -> str:
    """The credential helper git runs: :mod:`auditor.runs.credential`, in this interpreter, without
    the working directory on its module path (``-P``)."""
    return f"!{shlex.quote(sys.executable)} -P -m auditor.runs.credential"


@dataclass(frozen=True)
class CloneURL:
    """A clone URL split into what git may store and the credentials it must not."""

    url: str  # what the mirror records: no password (an ssh:// user name is kept)
    username: str = ""
    password: str = ""

    @classmethod
    def parse(cls, raw: str, key: str = "url") -> CloneURL:
        """``raw`` with ``${NAME}`` expanded from the environment in its user information.

        A URL that git would take for an option (it starts with ``-``) or that carries a
        credential in its query is refused: a :class:`UsageError` naming ``key``."""
        problem = clone_url_problem(raw)
        if problem is not None:
            raise UsageError(f"{key}: {problem}")
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


def clone_url_problem(url: str) -> str | None:
    """What makes ``url`` unfit to clone (shown redacted), or None."""
    if url.startswith("-"):
        return f"{redact(url)!r} starts with '-', which git would take for an option"
    secret = secret_parameters(url)
    if secret:
        return (
            f"{redact(url)} carries a credential in its query ({', '.join(secret)}); "
            "give it as the URL's password instead, as ${NAME} read from the environment"
        )
    return None


def _expand(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in os.environ:
            raise UsageError(f"clone URL names ${{{name}}}, which is not set in the environment")
        return os.environ[name]

    return _VARIABLE.sub(value, text)


def cache_name(url: str) -> str:
    """A readable, collision-free directory name for the mirror of ``url``."""
    shown = redact(url)
    tail = shown.split("://", 1)[-1].rstrip("/").removesuffix(".git")
    slug = _SLUG.sub("-", tail).strip("-.")[-60:] or "repository"
    digest = hashlib.sha256(shown.encode()).hexdigest()[:10]
    return f"{slug}-{digest}.git"


def mirror(url: str, cache: Path) -> Path:
    """The up-to-date bare mirror of ``url`` under ``cache``: cloned once, fetched after.

    Raises :class:`RepositoryError` when the remote cannot be reached or read; the message names
    the URL without credentials.
    """
    remote = CloneURL.parse(url)
    if remote.password and urlsplit(remote.url).scheme == "http":
        warnings.warn(
            f"the password of {redact(remote.url)} is sent unencrypted over plain http://; "
            "use https://",
            AuditorWarning,
            stacklevel=2,
        )
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
                _git(remote, None, "clone", "--quiet", "--mirror", "--", remote.url, str(work))
                os.replace(work, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return target


def _follow_default_branch(remote: CloneURL, target: Path) -> None:
    """Point the mirror's HEAD where the remote's points now (a renamed default branch)."""
    out = _git(remote, target, "ls-remote", "--symref", "origin", "HEAD")
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            _git(remote, target, "symbolic-ref", "HEAD", line[5:].split("\t")[0])
            return


def _git(remote: CloneURL, cwd: Path | None, *args: str) -> str:
    command = ["git"]
    env = git_env()
    if remote.username or remote.password:
        command += ["-c", "credential.helper=", "-c", f"credential.helper={_helper()}"]
        command += ["-c", "credential.useHttpPath=true"]  # so the helper can check the path
        env.update(
            {
                credential.URL_VARIABLE: remote.url,
                credential.USERNAME_VARIABLE: remote.username,
                credential.PASSWORD_VARIABLE: remote.password,
            }
        )
    if cwd is not None:
        command += ["-C", str(cwd)]
    proc = subprocess.run([*command, *args], capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        why = redact(_reason(proc.stderr), remote.secrets)
        raise RepositoryError(f"{redact(remote.url)}: git {args[0]} failed: {why}")
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

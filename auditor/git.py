"""Running git: a clean environment, typed errors, and the facts about a repository.

Every git process auditor starts goes through :func:`run` or :func:`stream`, so user configuration
that would change what git prints (pagers, colours, signature display, quoting) is neutralised in
one place.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from auditor.errors import MissingObjectError, RepositoryError
from auditor.model import BranchName, CommitSha, Completeness
from auditor.redaction import redact, secret_parameters

# Options that make git's output independent of the user's configuration, and make git read
# history from the commit objects themselves: never from replace refs, a grafts file (see
# git_env) or a commit-graph file, which can each give a commit other parents than its own
# (a commit-graph is a cache git trusts unchecked; an edited one hides commits).
_NEUTRAL_CONFIG = (
    "--no-replace-objects",
    "-c", "core.commitGraph=false",
    "-c", "advice.graftFileDeprecated=false",
    "-c", "log.showSignature=false",
    "-c", "core.quotePath=false",
    "-c", "color.ui=false",
    "-c", "diff.external=",
    "-c", "log.mailmap=false",
)  # fmt: skip


def git_env() -> dict[str, str]:
    """The environment for git: the caller's, less variables that redirect or reshape git."""
    keep = {"GIT_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_TERMINAL_PROMPT"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in keep}
    env["GIT_PAGER"] = "cat"
    env["GIT_GRAFT_FILE"] = os.devnull  # an empty grafts file: the repository's is not read
    env["LC_ALL"] = "C"
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    return env


def _command(repo: Path, args: Iterable[str]) -> list[str]:
    return ["git", "-C", str(repo), *_NEUTRAL_CONFIG, *args]


def run(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    """Run git and return its standard output; a failure raises :class:`RepositoryError`."""
    proc = subprocess.run(
        _command(repo, args), input=input, capture_output=True, env=git_env(), check=False
    )
    if check and proc.returncode != 0:
        raise _failure(repo, args[0], proc.stderr)
    return proc.stdout


@contextmanager
def stream(repo: Path, *args: str, stdin_lines: Iterable[str] | None = None) -> Iterator[IO[bytes]]:
    """Start git and yield its standard output as a binary file.

    ``stdin_lines`` are fed from a thread so that large inputs never deadlock against output.
    A non-zero exit status raises :class:`RepositoryError` once the output has been read.
    """
    proc = subprocess.Popen(
        _command(repo, args),
        stdin=subprocess.PIPE if stdin_lines is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    feeder = None
    if stdin_lines is not None:
        feeder = threading.Thread(target=_feed, args=(proc, stdin_lines), daemon=True)
        feeder.start()
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    try:
        yield proc.stdout
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        if feeder is not None:
            feeder.join()
        drain.join()
    if proc.wait() != 0:
        raise _failure(repo, args[0], b"".join(stderr))


def _feed(proc: subprocess.Popen[bytes], lines: Iterable[str]) -> None:
    assert proc.stdin is not None
    try:
        for line in lines:
            proc.stdin.write(line.encode() + b"\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass


# How git says an object it needs is not in the repository (or cannot be inflated).
_MISSING_OBJECT = re.compile(
    r"(?i)(?:unable to read|could not read|cannot read \w+ object|bad object|missing \w+|"
    r"bad tree object|object file \S+ is empty|loose object|packed object)\W+([0-9a-f]{40,64})"
)


def _failure(repo: Path, command: str, stderr: bytes) -> RepositoryError | MissingObjectError:
    """The error of a failed git command: a missing object says what that means."""
    found = _MISSING_OBJECT.search(stderr.decode(errors="replace"))
    if found is not None:
        return missing_object(repo, found[1])
    return RepositoryError(f"{repo}: git {command} failed: {_first_line(stderr)}")


def missing_object(repo: Path, sha: str, what: str = "object") -> MissingObjectError:
    """A missing object, said with what it means for the evidence."""
    return MissingObjectError(
        f"{repo}: the repository is incomplete or corrupt: {what} {sha} is missing, so its"
        " history cannot be read in full and no evidence is taken from it; restore it from a"
        " complete clone (`git fsck --full` lists every missing object)"
    )


def _first_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[0].strip() if lines else "no error message"


@dataclass(frozen=True)
class RepoFacts:
    """What auditor needs to know about a repository before mining it."""

    path: Path
    git_dir: Path
    key: str
    name: str
    remote_url: str
    default_branch: BranchName
    completeness: Completeness
    boundary: frozenset[CommitSha] = frozenset()  # a shallow clone's commits with parents cut off
    commit_graph: bool = False  # whether a commit-graph file (or chain) is there, for git to trust


def inspect(path: Path) -> RepoFacts:
    """Check that ``path`` is a Git repository with history and describe it."""
    if not path.exists():
        raise RepositoryError(f"{path}: no such directory")
    out = run_or_none(
        path, "rev-parse", "--absolute-git-dir", "--is-shallow-repository",
        "--path-format=absolute", "--git-common-dir",
    )  # fmt: skip
    if out is None:
        raise RepositoryError(f"{path}: not a Git repository")
    git_dir_text, shallow, common_text = out.decode().splitlines()[:3]
    git_dir, common_dir = Path(git_dir_text), Path(common_text)
    head = run_or_none(path, "symbolic-ref", "-q", "--short", "HEAD")
    default_branch = BranchName(head.decode().strip() if head else "HEAD")
    if run_or_none(path, "rev-parse", "--verify", "-q", "HEAD^{commit}") is None:
        raise RepositoryError(f"{path}: repository has no commits on {default_branch}")
    remote = _origin_url(path)
    top = path.resolve()
    return RepoFacts(
        path=top,
        git_dir=git_dir,
        key=remote or str(top),
        name=_display_name(remote, top),
        remote_url=remote,
        default_branch=default_branch,
        completeness=_completeness(path, common_dir, shallow == "true"),
        boundary=_shallow_boundary(common_dir) if shallow == "true" else frozenset(),
        commit_graph=any(
            (common_dir / "objects" / "info" / name).exists()
            for name in ("commit-graph", "commit-graphs")
        ),
    )


def _shallow_boundary(common_dir: Path) -> frozenset[CommitSha]:
    shallow = common_dir / "shallow"
    if not shallow.is_file():
        return frozenset()
    return frozenset(CommitSha(line) for line in shallow.read_text(encoding="ascii").split())


def run_or_none(repo: Path, *args: str) -> bytes | None:
    proc = subprocess.run(_command(repo, args), capture_output=True, env=git_env(), check=False)
    return proc.stdout if proc.returncode == 0 else None


def _origin_url(repo: Path) -> str:
    """The origin remote's URL without user information; one carrying a token-like query
    parameter is refused (it would become part of the repository's name and every record)."""
    out = run_or_none(repo, "config", "--get", "remote.origin.url")
    url = out.decode().strip() if out else ""
    secret = secret_parameters(url)
    if secret:
        raise RepositoryError(
            f"{repo}: remote.origin.url: {redact(url)} carries a credential in its query "
            f"({', '.join(secret)}); remove it (a credential helper or the URL's password keeps it)"
        )
    return redact(url)


def _display_name(remote: str, top: Path) -> str:
    if remote:
        tail = remote.rstrip("/").removesuffix(".git").replace(":", "/").split("/")
        return "/".join(part for part in tail[-2:] if part)
    return top.name


def _completeness(repo: Path, common_dir: Path, shallow: bool) -> Completeness:
    """What makes the history that git shows differ from the commit objects, or be partial.

    auditor reads the objects themselves (see ``_NEUTRAL_CONFIG``); a grafts file or replace
    refs still mean that the repository's users see another history than the ledger holds.
    Git reads both from the common directory, shared by every worktree of the repository.
    """
    reasons = []
    if shallow:
        reasons.append("shallow clone: history before the shallow boundary is missing")
    partial = run_or_none(
        repo, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"
    )
    if partial and partial.strip():
        reasons.append("partial clone: objects are fetched on demand and may be missing")
    if (common_dir / "info" / "grafts").exists():
        reasons.append(
            "grafts file present (info/grafts): git shows some commits with other parents"
            " than their own; the ledger follows the commit objects"
        )
    replaced = run_or_none(
        repo, "for-each-ref", "--count=1", "--format=%(refname)", "refs/replace/"
    )
    if replaced and replaced.strip():
        reasons.append(
            "replace refs present (refs/replace/): git shows some objects substituted;"
            " the ledger follows the original objects"
        )
    return Completeness(complete=not reasons, reasons=tuple(reasons))


def resolve_branch(repo: Path, branch: str) -> CommitSha:
    """The commit a branch (or any ref) points at; a missing ref raises RepositoryError."""
    for candidate in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}", branch):
        out = run_or_none(repo, "rev-parse", "--verify", "-q", f"{candidate}^{{commit}}")
        if out:
            return CommitSha(out.decode().strip())
    raise RepositoryError(f"{repo}: branch {branch!r} not found")


def commit_graph_disagreement(repo: Path, branch: str, tip: str) -> tuple[str, ...]:
    """Why git, trusting the repository's commit-graph, shows ``branch`` otherwise than the
    commit objects do (a graph git writes itself always agrees: it has been edited), if so."""
    trusted = run(repo, "-c", "core.commitGraph=true", "rev-list", "--parents", tip)
    own = run(repo, "rev-list", "--parents", tip)
    if sorted(trusted.splitlines()) == sorted(own.splitlines()):
        return ()
    return (
        f"{branch}: the commit-graph file disagrees with the commit objects (git log, trusting"
        " it, shows another history); the ledger follows the commit objects",
    )


def mailmap_blob(repo: Path, commit: str) -> str:
    """The object id of the ``.mailmap`` file committed at ``commit``, "" without one (a symbolic
    link is none: git does not follow one either)."""
    entry = run(repo, "ls-tree", "-z", commit, "--", ".mailmap")  # "mode kind oid\tpath\0"
    if not entry:
        return ""
    mode, kind, rest = entry.split(b" ", 2)
    return rest.split(b"\t", 1)[0].decode() if kind == b"blob" and mode != b"120000" else ""


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    proc = subprocess.run(
        _command(repo, ["merge-base", "--is-ancestor", ancestor, descendant]),
        capture_output=True,
        env=git_env(),
        check=False,
    )
    return proc.returncode == 0


def object_exists(repo: Path, sha: str) -> bool:
    return run_or_none(repo, "cat-file", "-e", f"{sha}^{{commit}}") is not None

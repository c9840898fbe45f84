"""Writing a computed history into a repository with one ``git fast-import`` stream."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zlib
from pathlib import Path
from types import TracebackType
from typing import IO

from auditor.demo.objects import Changes, Commit, Tree, blob_object, file_mode
from auditor.errors import AuditorError


def git_env(home: Path) -> dict[str, str]:
    """An environment in which no user or system Git configuration applies."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        LC_ALL="C",
        TZ="UTC",
    )
    return env


def run_git(repo: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AuditorError(f"git {args[0]} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def write_packed_refs(repo: Path, refs: dict[str, str]) -> None:
    """Record many refs at once in ``packed-refs`` (the repository must have none yet)."""
    lines = [f"{sha} {ref}\n" for ref, sha in sorted(refs.items())]
    text = "# pack-refs with: peeled fully-peeled sorted \n" + "".join(lines)
    (repo / ".git" / "packed-refs").write_text(text, encoding="ascii")


class FastImport:
    """Streams commits into ``git fast-import``; signed commits are written as loose objects.

    fast-import cannot store a ``gpgsig`` header, so a signed commit (with its trees and new
    blobs) goes straight into the object directory and later commits name it by SHA.
    """

    def __init__(self, repo: Path, env: dict[str, str]) -> None:
        self._objects = repo / ".git" / "objects"
        self._process = subprocess.Popen(
            ["git", "-C", str(repo), "fast-import", "--quiet", "--active-branches=256"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert self._process.stdin is not None
        self._stream: IO[bytes] = self._process.stdin
        self._marks: dict[str, int] = {}
        self._heads: dict[str, str] = {}
        self._branches: dict[str, str] = {}
        self._loose: set[bytes] = set()
        self._stream.write(b"feature done\n")

    def __enter__(self) -> FastImport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        elif kind is BrokenPipeError:
            self._finish()
        else:
            self._process.kill()
            self._process.communicate()

    def commit(self, ref: str, commit: Commit, changes: Changes, tree: Tree) -> str:
        """Write ``commit``, whose ``tree`` is its first parent's with ``changes`` applied."""
        if commit.signature:
            self._write_loose(commit, changes, tree)
            return commit.sha
        mark = len(self._marks) + 1
        self._marks[commit.sha] = mark
        out = self._stream
        out.write(f"commit {ref}\nmark :{mark}\n".encode())
        out.write(f"author {commit.author.header()}\n".encode(commit.codec))
        out.write(f"committer {commit.committer.header()}\n".encode(commit.codec))
        if commit.encoding:
            out.write(f"encoding {commit.encoding}\n".encode())
        message = commit.message.encode(commit.codec)
        out.write(b"data %d\n%s\n" % (len(message), message))
        for keyword, parent in zip(("from", "merge", "merge"), commit.parents, strict=False):
            name = self._branch_at(parent, ref) if keyword == "from" else None
            out.write(f"{keyword} {name or self._name(parent)}\n".encode())
        if not commit.parents:
            out.write(b"deleteall\n")
        for path, content in changes.items():
            if content is None:
                out.write(f"D {path}\n".encode())
            else:
                out.write(b"M %s inline %s\n" % (file_mode(path), path.encode()))
                out.write(b"data %d\n%s\n" % (len(content), content))
        out.write(b"\n")
        self._heads[ref] = commit.sha
        self._branches[commit.sha] = ref
        return commit.sha

    def set_ref(self, ref: str, sha: str) -> None:
        self._stream.write(f"reset {ref}\nfrom {self._name(sha)}\n\n".encode())

    def delete_ref(self, ref: str) -> None:
        self._stream.write(f"reset {ref}\nfrom {'0' * 40}\n\n".encode())

    def close(self) -> None:
        self._stream.write(b"done\n")
        self._finish()

    def _finish(self) -> None:
        _, errors = self._process.communicate()
        if self._process.returncode != 0:
            raise AuditorError(f"git fast-import failed: {errors.decode(errors='replace').strip()}")

    def _branch_at(self, sha: str, ref: str) -> str | None:
        """Another branch whose tip is ``sha``: fast-import copies its tree from memory."""
        branch = self._branches.get(sha)
        if branch is None or branch == ref or self._heads.get(branch) != sha:
            return None
        return branch

    def _name(self, sha: str) -> str:
        mark = self._marks.get(sha)
        return sha if mark is None else f":{mark}"

    def _write_loose(self, commit: Commit, changes: Changes, root: Tree) -> None:
        """Store what the parent lacks: the trees on changed paths, new blobs, the commit."""
        for path, content in changes.items():
            for tree in root.along(path):
                body = tree.body()
                self._store(tree.oid, b"tree %d\0" % len(body) + body)
            if content is not None:
                data = blob_object(content)
                self._store(hashlib.sha1(data).digest(), data)
        self._store(bytes.fromhex(commit.sha), commit.object())

    def _store(self, oid: bytes, data: bytes) -> None:
        if oid in self._loose:
            return
        self._loose.add(oid)
        name = oid.hex()
        folder = self._objects / name[:2]
        folder.mkdir(exist_ok=True)
        (folder / name[2:]).write_bytes(zlib.compress(data))

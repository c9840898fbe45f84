"""Writing a computed history into a repository: one packfile, indexed by ``git index-pack``."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import zlib
from pathlib import Path
from types import TracebackType
from typing import IO

from auditor.demo.objects import Changes, Commit, Tree, blob_object
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


class PackWriter:
    """Writes a computed history into one packfile, streamed to disk, then indexed by Git.

    Every object is stored whole (no deltas): a commit with the trees on its changed paths and
    its new blobs, everything else being its parent's. ``git fast-import`` would delta them,
    but it cannot store the ``gpgsig`` header of a signed commit, and most commits are signed.
    Refs are written when the writer closes, once the pack is indexed.
    """

    def __init__(self, repo: Path, env: dict[str, str]) -> None:
        self._repo = repo
        self._env = env
        self._folder = repo.resolve() / ".git" / "objects" / "pack"  # git runs inside repo
        self._folder.mkdir(parents=True, exist_ok=True)
        self._temporary = self._folder / "tmp_demo.pack"
        self._out: IO[bytes] = self._temporary.open("wb")
        self._out.write(b"PACK" + struct.pack(">II", 2, 0))
        self._written: set[bytes] = set()
        self._refs: dict[str, str] = {}

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._out.close()
            self._temporary.unlink(missing_ok=True)

    def commit(self, ref: str, commit: Commit, changes: Changes, tree: Tree) -> str:
        """Write ``commit``, whose ``tree`` is its first parent's with ``changes`` applied, and
        move ``ref`` to it."""
        for path, content in changes.items():
            for subtree in tree.along(path):
                self._store(subtree.oid, TREE, subtree.body())
            if content is not None:
                self._store(hashlib.sha1(blob_object(content)).digest(), BLOB, content)
        if not changes:
            self._store(tree.oid, TREE, tree.body())
        self._store(bytes.fromhex(commit.sha), COMMIT, commit.raw())
        self._refs[ref] = commit.sha
        return commit.sha

    def set_ref(self, ref: str, sha: str) -> None:
        self._refs[ref] = sha

    def delete_ref(self, ref: str) -> None:
        self._refs.pop(ref, None)

    def close(self) -> None:
        """Finish the pack (object count, checksum), index it, and write the refs."""
        self._out.seek(8)
        self._out.write(struct.pack(">I", len(self._written)))
        self._out.close()
        digest = hashlib.sha1()
        with self._temporary.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        checksum = digest.digest()
        with self._temporary.open("ab") as handle:
            handle.write(checksum)
        pack = self._folder / f"pack-{checksum.hex()}.pack"
        self._temporary.rename(pack)
        run_git(self._repo, self._env, "index-pack", str(pack))
        for ref, sha in sorted(self._refs.items()):
            run_git(self._repo, self._env, "update-ref", ref, sha)

    def _store(self, oid: bytes, kind: int, data: bytes) -> None:
        if oid in self._written:
            return
        self._written.add(oid)
        self._out.write(_object_header(kind, len(data)) + zlib.compress(data, 1))


COMMIT, TREE, BLOB = 1, 2, 3
"""Object types as a packfile numbers them."""


def _object_header(kind: int, size: int) -> bytes:
    """A packed object's type and size: 3 bits of type, then the size, 4 bits then 7 a byte."""
    out = bytearray()
    byte = (kind << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)

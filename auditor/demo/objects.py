"""Git objects computed in memory, so every commit's SHA is known before Git writes it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from auditor.demo.plan import PullPlan

Overlay = dict[str, bytes | None]

Changes = Mapping[str, bytes | None]
"""Path → new content, or None for a deleted path."""


@dataclass(frozen=True)
class Blob:
    oid: bytes
    mode: bytes


def file_mode(path: str) -> bytes:
    return b"100755" if path.endswith(".sh") else b"100644"


def blob_object(content: bytes) -> bytes:
    return b"blob %d\0" % len(content) + content


def blob_for(path: str, content: bytes) -> Blob:
    return Blob(hashlib.sha1(blob_object(content)).digest(), file_mode(path))


class Tree:
    """An immutable directory; an update copies only the directories on the changed path.

    Each version remembers its entries' sort order and serialised lines, so hashing a large
    directory after one change re-serialises one line, not the whole directory.
    """

    __slots__ = ("_lines", "_oid", "_order", "entries")

    def __init__(
        self,
        entries: dict[str, Tree | Blob],
        order: list[str] | None = None,
        lines: dict[str, bytes] | None = None,
    ) -> None:
        self.entries = entries
        self._order = order
        self._lines = lines
        self._oid: bytes | None = None

    def _line(self, name: str) -> bytes:
        entry = self.entries[name]
        mode = b"40000" if isinstance(entry, Tree) else entry.mode
        return b"%s %s\0%s" % (mode, name.encode(), entry.oid)

    def body(self) -> bytes:
        if self._order is None:
            entries = self.entries
            self._order = sorted(
                entries, key=lambda name: name + "/" if isinstance(entries[name], Tree) else name
            )
        if self._lines is None:
            self._lines = {}
        lines = self._lines
        for name in self._order:
            if name not in lines:
                lines[name] = self._line(name)
        return b"".join(lines[name] for name in self._order)

    @property
    def oid(self) -> bytes:
        if self._oid is None:
            body = self.body()
            self._oid = hashlib.sha1(b"tree %d\0" % len(body) + body).digest()
        return self._oid

    def apply(self, changes: Changes) -> Tree:
        tree = self
        for path, content in changes.items():
            blob = None if content is None else blob_for(path, content)
            tree = tree._with(path.split("/"), blob)
        return tree

    def _with(self, parts: list[str], blob: Blob | None) -> Tree:
        entries = dict(self.entries)
        name = parts[0]
        old = entries.get(name)
        new: Tree | Blob | None = blob
        if len(parts) > 1:
            subtree = (old if isinstance(old, Tree) else EMPTY_TREE)._with(parts[1:], blob)
            new = subtree if subtree.entries else None
        if new is None:
            entries.pop(name, None)
        else:
            entries[name] = new
        same_names = old is not None and new is not None and type(old) is type(new)
        lines = None
        if self._lines is not None:
            lines = dict(self._lines)
            lines.pop(name, None)
        return Tree(entries, self._order if same_names else None, lines)

    def along(self, path: str) -> Iterator[Tree]:
        """This tree and its subtrees on the way to ``path``, as far as they exist."""
        tree: Tree | Blob | None = self
        for name in path.split("/"):
            if not isinstance(tree, Tree):
                return
            yield tree
            tree = tree.entries.get(name)


EMPTY_TREE = Tree({})


@dataclass(frozen=True)
class Stamp:
    """Who did something, and when (Unix seconds, UTC offset in minutes)."""

    name: str
    email: str
    when: int
    offset: int

    def header(self) -> str:
        sign = "-" if self.offset < 0 else "+"
        hours, minutes = divmod(abs(self.offset), 60)
        return f"{self.name} <{self.email}> {self.when} {sign}{hours:02d}{minutes:02d}"


@dataclass(frozen=True)
class Commit:
    """A commit as Git stores it."""

    tree: str
    """The hex SHA of the commit's tree."""
    parents: tuple[str, ...]
    author: Stamp
    committer: Stamp
    message: str
    encoding: str | None = None
    """A legacy message encoding such as ``ISO-8859-1``; None for UTF-8."""
    signature: str | None = None
    """An ASCII-armoured signature block, stored in the ``gpgsig`` header."""

    @property
    def codec(self) -> str:
        return self.encoding or "utf-8"

    def raw(self) -> bytes:
        lines = [f"tree {self.tree}"]
        lines.extend(f"parent {parent}" for parent in self.parents)
        lines.append(f"author {self.author.header()}")
        lines.append(f"committer {self.committer.header()}")
        if self.encoding:
            lines.append(f"encoding {self.encoding}")
        if self.signature:
            lines.append("gpgsig " + self.signature.rstrip("\n").replace("\n", "\n "))
        return ("\n".join(lines) + "\n\n" + self.message).encode(self.codec)

    def object(self) -> bytes:
        raw = self.raw()
        return b"commit %d\0" % len(raw) + raw

    @cached_property
    def sha(self) -> str:
        return hashlib.sha1(self.object()).hexdigest()


@dataclass
class Branch:
    """A pull request's branch while it is open."""

    plan: PullPlan
    slot: int
    """Which scratch ref the branch's commits are written under; freed when merged."""
    base: str
    tree: Tree
    overlay: Overlay = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)
    changesets: list[Overlay] = field(default_factory=list)
    title: str = ""
    body: str = ""
    name: str = ""

    @property
    def head(self) -> str:
        return self.commits[-1].sha if self.commits else self.base

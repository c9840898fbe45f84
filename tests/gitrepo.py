"""Build Git repositories on the fly with fixed identities and timestamps, no user config."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

BASE_TIME = 1_735_689_600  # 2025-01-01T00:00:00Z


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Alice Admin",
        GIT_AUTHOR_EMAIL="alice@example.com",
        GIT_COMMITTER_NAME="Alice Admin",
        GIT_COMMITTER_EMAIL="alice@example.com",
        LC_ALL="C",
    )
    return env


class GitRepo:
    """A repository under construction. Each commit advances a fixed clock by one hour."""

    def __init__(self, path: Path, *, branch: str = "main") -> None:
        self.path = path
        self.clock = BASE_TIME
        path.mkdir(parents=True, exist_ok=True)
        self.env = clean_env(path.parent)
        self.git("init", "-q", "-b", branch)

    def git(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env={**self.env, **(env or {})},
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", errors="replace").strip()

    def write(self, name: str, content: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)

    def commit(
        self,
        message: str,
        files: Mapping[str, str | bytes | None] | None = None,
        *,
        author: tuple[str, str] = ("Alice Admin", "alice@example.com"),
        committer: tuple[str, str] | None = None,
        when: int | None = None,
        offset: str = "+0000",
        extra: tuple[str, ...] = (),
    ) -> str:
        for name, content in (files or {}).items():
            if content is None:
                self.git("rm", "-q", name)
            else:
                self.write(name, content)
                self.git("add", name)
        self.clock = when if when is not None else self.clock + 3600
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_AUTHOR_DATE": f"@{self.clock} {offset}",
            "GIT_COMMITTER_DATE": f"@{self.clock} {offset}",
        }
        self.git("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", message, *extra, env=env)
        return self.head()

    def merge(
        self,
        branch: str,
        message: str,
        *,
        author: tuple[str, str] = ("Alice Admin", "alice@example.com"),
    ) -> str:
        self.clock += 3600
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
            "GIT_AUTHOR_DATE": f"@{self.clock} +0000",
            "GIT_COMMITTER_DATE": f"@{self.clock} +0000",
        }
        self.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", message, branch, env=env)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def checkout(self, *args: str) -> None:
        self.git("checkout", "-q", *args)

    def raw_commit(self, raw: bytes) -> str:
        """Write a commit object from its raw text and move the current branch to it."""
        sha = self.git("hash-object", "-t", "commit", "-w", "--stdin", input=raw)
        self.git("update-ref", "HEAD", sha)
        return sha

"""Cross-check the mined ledger against ``git log --first-parent -M --numstat`` on any repository.

Used by ``make verify-ledger REPO=path`` and by the tests. The baseline is parsed here with a
separate, deliberately plain parser so that a bug in the ledger's parser cannot hide itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from auditor import git
from auditor.ledger.mining import mine
from auditor.ledger.store import Store

FileRow = tuple[str, int, int, bool]


def baseline(repo: Path, branch: str) -> dict[str, Counter[FileRow]]:
    """Per first-parent commit, the multiset of (path, added, deleted, binary) git prints."""
    out = git.run(
        repo, "log", "--first-parent", "--diff-merges=first-parent", "-M", "--numstat",
        "--no-textconv", "--no-ext-diff", "-z", "--format=%x01%H", git.resolve_branch(repo, branch),
    )  # fmt: skip
    result: dict[str, Counter[FileRow]] = {}
    current: Counter[FileRow] = Counter()
    tokens = iter(out.split(b"\0"))
    for token in tokens:
        token = token.lstrip(b"\n")
        if token.startswith(b"\x01"):
            current = result.setdefault(token[1:].decode(), Counter())
        elif token:
            added, deleted, path = token.split(b"\t", 2)
            if not path:
                next(tokens)
                path = next(tokens)
            binary = added == b"-"
            name = path.decode("utf-8", errors="backslashreplace")
            current[(name, 0 if binary else int(added), 0 if binary else int(deleted), binary)] += 1
    return result


def mined(store: Store, repo: Path, branch: str) -> dict[str, Counter[FileRow]]:
    result = mine(store, repo, [branch], now=datetime.now(UTC))
    return {
        change.sha: Counter(
            (f.path, f.lines_added, f.lines_deleted, f.binary) for f in change.files
        )
        for change in store.changes(result.repo_id, branch)
    }


def compare(repo: Path, branch: str | None = None, store_dir: Path | None = None) -> list[str]:
    """Differences between the ledger and git's own numstat, one line each; empty when equal."""
    facts = git.inspect(repo)
    branch = branch or facts.default_branch
    with tempfile.TemporaryDirectory() as tmp, Store.open(store_dir or Path(tmp)) as store:
        ours = mined(store, repo, branch)
    theirs = baseline(repo, branch)
    problems = [f"{sha}: missing from the ledger" for sha in theirs.keys() - ours.keys()]
    problems += [
        f"{sha}: in the ledger but not on the branch" for sha in ours.keys() - theirs.keys()
    ]
    for sha in sorted(theirs.keys() & ours.keys()):
        if theirs[sha] != ours[sha]:
            only_git = sorted((theirs[sha] - ours[sha]).elements())
            only_ours = sorted((ours[sha] - theirs[sha]).elements())
            problems.append(f"{sha}: git has {only_git}, ledger has {only_ours}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--branch")
    args = parser.parse_args(argv)
    problems = compare(args.repo, args.branch)
    changes = len(baseline(args.repo, args.branch or git.inspect(args.repo).default_branch))
    for line in problems:
        print(line)
    print(f"{'MISMATCH' if problems else 'ok'}: {changes} changes compared, {len(problems)} differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

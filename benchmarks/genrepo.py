"""Generate a large sample infrastructure repository for benchmarks.

    python benchmarks/genrepo.py DIR --commits 50000 --files 5000

DIR must not exist or be empty; the repository is created in DIR/infra-live. With
``--with-reviews`` the review export and planted violations are written next to it, as
``auditor demo`` does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from auditor.demo import DemoScale, build_repository, create_demo, prepare_target
from auditor.errors import AuditorError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="workspace directory to create")
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=DemoScale.default().seed)
    parser.add_argument("--with-reviews", action="store_true", help="also write reviews.json")
    args = parser.parse_args(argv)
    scale = DemoScale(
        seed=args.seed,
        days=args.days,
        people=args.people,
        commits=args.commits,
        files=args.files,
    )
    started = time.perf_counter()
    try:
        if args.with_reviews:
            summary = create_demo(args.target, scale=scale)
            commits, pulls, head = summary.commits, summary.pull_requests, summary.head
        else:
            prepare_target(args.target)
            history = build_repository(args.target / "infra-live", scale)
            commits, pulls, head = history.commits, len(history.pulls), history.head
    except AuditorError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    elapsed = time.perf_counter() - started
    print(f"{commits} commits, {pulls} pull requests, main at {head[:12]}, in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

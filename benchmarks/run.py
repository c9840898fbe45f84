"""``make bench``: auditor's mining speed and memory against git itself, measured in the same run.

Generates (once, cached under ``bench-work/``) a large repository, then times whole processes:

- baseline: ``git log --first-parent --diff-merges=first-parent -M --numstat`` (the changes) and
  ``git log -M --numstat`` (every commit), the work auditor cannot avoid;
- ``auditor mine`` into an empty store (full), and after 100 new changes (incremental);
- pydriller doing the same per-change diff statistics on a slice of the history.

Each figure is the median of ``--repeat`` runs; ratios compare against the baseline measured here.
Targets (issue #2): full mine ≤ 1.2x the first-parent baseline (≤ 0.7x above 10,000 commits using
every core); incremental mine of 100 changes < 0.3 s plus interpreter start-up; peak memory at
most the baseline git's own peak plus 200 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench-work"
BIN = Path(sys.executable).parent


def compile_package() -> None:
    """Byte-compile auditor's modules, as installing a wheel does, so the figures are those of
    an installed tool: an editable checkout run with PYTHONDONTWRITEBYTECODE (set on some
    machines and CI images) would otherwise compile every module on every start (≈ 0.3 s)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "auditor")],
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
        stdout=subprocess.DEVNULL,
    )


@dataclass(frozen=True)
class Measure:
    seconds: float
    cpu_seconds: float
    peak_mb: float


def measure(
    cmd: list[str], *, cwd: Path | None = None, repeat: int = 1, stdin: str = ""
) -> Measure:
    """Median wall and CPU time (user + system, children included) and the largest peak RSS of
    a command run ``repeat`` times."""
    times, cpus, peaks = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryFile() as feed, tempfile.TemporaryFile() as errors:
            feed.write(stdin.encode())
            feed.seek(0)
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, cwd=cwd, stdin=feed, stdout=subprocess.DEVNULL, stderr=errors
            )
            _, status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - start)
            cpus.append(usage.ru_utime + usage.ru_stime)
            peaks.append(usage.ru_maxrss / 1024)
            if os.waitstatus_to_exitcode(status) not in (0, 4):
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip().splitlines()[-1:]
                raise SystemExit(f"benchmark command failed: {' '.join(cmd)}: {message}")
    return Measure(statistics.median(times), statistics.median(cpus), max(peaks))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def large_repository(commits: int, files: int) -> Path:
    workspace = WORK / f"large-{commits}-{files}"
    repo = workspace / "infra-live"
    if not (repo / ".git").exists():
        shutil.rmtree(workspace, ignore_errors=True)
        print(f"generating {workspace.name} (once) ...", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "genrepo.py"), str(workspace),
             "--commits", str(commits), "--files", str(files)],
            check=True,
        )  # fmt: skip
    return repo


def row(label: str, m: Measure, base: Measure | None = None) -> None:
    ratio = f"{m.seconds / base.seconds:6.2f}x" if base else "      -"
    print(
        f"  {label:<52} {m.seconds:8.2f} s {ratio}  cpu {m.cpu_seconds:6.2f} s"
        f"  peak {m.peak_mb:5.0f} MB"
    )


def bench_mining(repo: Path, repeat: int) -> None:
    top = git(repo, "rev-parse", "--show-toplevel")
    if Path(top).resolve() != repo.resolve():
        raise SystemExit(f"{repo}: not the top of a Git repository (git found {top})")
    branch = git(repo, "symbolic-ref", "--short", "HEAD")
    tip = git(repo, "rev-parse", "HEAD")
    changes = int(git(repo, "rev-list", "--count", "--first-parent", "HEAD"))
    commits = int(git(repo, "rev-list", "--count", "HEAD"))
    print(f"repository: {repo.name}: {changes} changes, {commits} commits, {os.cpu_count()} cores")
    log = ["git", "-C", str(repo), "log", "-M", "--numstat", "--format=%H"]
    fp = measure([*log, "--first-parent", "--diff-merges=first-parent", "HEAD"], repeat=repeat)
    every = measure([*log, "HEAD"], repeat=repeat)
    row("baseline: git log --first-parent -M --numstat", fp)
    row("baseline: git log -M --numstat (all commits)", every, fp)
    auditor = [str(BIN / "auditor"), "mine", str(repo), "--quiet", "--branch", branch]
    with tempfile.TemporaryDirectory() as tmp:

        def full_mine(*options: str) -> Measure:
            """Each run into a new, empty store."""
            runs = [
                measure([*auditor, *options, "--store", str(Path(tmp) / f"full{i}{options}")])
                for i in range(repeat)
            ]
            return Measure(
                statistics.median(r.seconds for r in runs),
                statistics.median(r.cpu_seconds for r in runs),
                max(r.peak_mb for r in runs),
            )

        full = full_mine()
        row("auditor mine, empty store (every core)", full, fp)
        row("auditor mine, empty store (--jobs 1)", full_mine("--jobs", "1"), fp)

        store = Path(tmp) / "incremental"
        base = git(repo, "rev-parse", "HEAD~100")
        git(repo, "update-ref", f"refs/heads/{branch}", base)
        try:
            measure([*auditor, "--store", str(store)])
        finally:
            git(repo, "update-ref", f"refs/heads/{branch}", tip)
        incremental = measure([*auditor, "--store", str(store)])
        startup = measure([str(BIN / "auditor"), "--version"], repeat=3)
        row("auditor mine, 100 new changes (incremental)", incremental)
        row("interpreter start-up (auditor --version)", startup)
        extra = incremental.seconds - startup.seconds
        print(f"  incremental minus start-up: {extra:.2f} s (target < 0.3 s)")
        over = full.peak_mb - fp.peak_mb
        print(f"  full mine memory over git's own peak: {over:.0f} MB (target <= 200 MB)")
    bench_pydriller(repo, min(changes, 2000))


def bench_pydriller(repo: Path, count: int) -> None:
    """pydriller's per-change diff statistics on the newest ``count`` changes, against git's."""
    script = (
        "import sys, pydriller\n"
        "shas = sys.stdin.read().split()\n"
        "for c in pydriller.Repository(sys.argv[1], only_commits=shas).traverse_commits():\n"
        "    [(m.added_lines, m.deleted_lines) for m in c.modified_files]\n"
    )  # fmt: skip
    newest = git(repo, "rev-list", "--first-parent", f"-{count}", "HEAD")
    theirs = measure([sys.executable, "-c", script, str(repo)], stdin=newest)
    base = measure(
        ["git", "-C", str(repo), "log", "-M", "--numstat", "--first-parent",
         "--diff-merges=first-parent", f"-{count}", "HEAD"]
    )  # fmt: skip
    row(f"baseline: git log --numstat, newest {count} changes", base)
    row(f"pydriller, newest {count} changes", theirs, base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repo", type=Path, help="benchmark this repository instead")
    args = parser.parse_args()
    compile_package()
    repo = args.repo or large_repository(args.commits, args.files)
    bench_mining(repo, args.repeat)


if __name__ == "__main__":
    main()

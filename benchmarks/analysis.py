"""Infrastructure analysis against mining alone, on the demo and on a generated repository.

    python benchmarks/analysis.py [--commits 5000] [--files 1000] [--repeat 3] [--jobs N]

For each repository, times whole processes into empty stores: ``auditor mine`` (mining alone)
and ``auditor changes --level resource`` (mining, then classification, resource diffs, secrets,
pins and signals of every change), then ``auditor changes --level resource`` again on the
second store (everything cached: nothing is parsed twice). Prints the time analysis adds as a
share of mining. Target (issue #6): analysis adds at most 50% to a full mine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BIN, WORK, Measure, compile_package, large_repository, measure, row

TARGET = 0.5


def demo_repository() -> Path:
    workspace = WORK / "demo"
    repo = workspace / "infra-live"
    if not (repo / ".git").exists():
        shutil.rmtree(workspace, ignore_errors=True)
        print("generating the demo repository (once) ...", flush=True)
        subprocess.run(
            [str(BIN / "auditor"), "demo", str(workspace)], check=True, stdout=subprocess.DEVNULL
        )
    return repo


def bench(label: str, repo: Path, repeat: int, jobs: list[str]) -> float:
    print(f"\n{label}: {repo}")
    auditor = str(BIN / "auditor")
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        mine_times, full_times = [], []
        for run in range(repeat):
            mine_store, full_store = Path(tmp) / f"mine-{run}", Path(tmp) / f"full-{run}"
            mine = [auditor, "mine", str(repo), "--store", str(mine_store), "-q", *jobs]
            mine_times.append(measure(mine))
            full_times.append(measure(_resources(auditor, repo, full_store, Path(tmp), jobs)))
        cached = measure(_resources(auditor, repo, full_store, Path(tmp), jobs), repeat=repeat)
    mined, full = _median(mine_times), _median(full_times)
    row("auditor mine (empty store)", mined)
    row("auditor changes --level resource (empty store)", full, mined)
    row("auditor changes --level resource (analysis cached)", cached, mined)
    added = (full.seconds - mined.seconds) / mined.seconds
    verdict = "within" if added <= TARGET else "over"
    print(f"  analysis adds {added:.0%} to mining ({verdict} the {TARGET:.0%} target)")
    return added


def _resources(auditor: str, repo: Path, store: Path, tmp: Path, jobs: list[str]) -> list[str]:
    level = ["--level", "resource", "-o", str(tmp / "resources.csv")]
    return [auditor, "changes", str(repo), "--store", str(store), "-q", *jobs, *level]


def _median(items: list[Measure]) -> Measure:
    ordered = sorted(items, key=lambda m: m.seconds)
    middle = ordered[len(ordered) // 2]
    return Measure(middle.seconds, middle.cpu_seconds, max(m.peak_mb for m in items))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=5_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, help="processes for mining and analysis")
    args = parser.parse_args()
    compile_package()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    ratios = [
        bench("demo repository", demo_repository(), args.repeat, jobs),
        bench(
            f"generated repository ({args.commits} commits, {args.files} files)",
            large_repository(args.commits, args.files),
            args.repeat,
            jobs,
        ),
    ]
    print(f"\nworst: analysis adds {max(ratios):.0%} to mining")


if __name__ == "__main__":
    main()

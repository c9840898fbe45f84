"""The assessment and the pack as the period grows: ratios between stages measured in one run.

    python benchmarks/scale.py [--stages 11000,110000] [--repeat 3]

Each stage is a demo workspace generated (once, cached under ``bench-work/``) by
``benchmarks/genrepo.py --with-reviews`` with that many commits: 11,000 commits give about 5,200
changes on the first-parent chain, 110,000 about 52,000. Each is mined into a fresh store and its
analysis cache warmed by one ``auditor check``; then, alternating the stages run by run (so that
the load of a shared machine falls on all of them alike), whole processes are timed:

- ``auditor check``: the assessment alone (nothing new to mine);
- ``auditor report`` writing every format into an empty directory.

Each figure is the median of ``--repeat`` runs with its spread (lowest–highest); CPU time is
user + system of the process and its children, peak memory the largest RSS seen. Then the
ratios between the stages, against the ratio of their changes (linear cost: a time ratio no
larger than the change ratio), and ``report`` ÷ ``check`` per stage. The targets of issue #17
are printed beside the figures, never asserted: every result depends on the machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack import ALL_FORMATS, AS_OF, BIN, Measure, git, run_once, workspace
from run import compile_package

# issue #17: linear cost (10x the changes within 10x the time), absolute targets on 2 cores
SMALL_PACK_SECONDS = 5.0
LARGE_CHECK_SECONDS, LARGE_PACK_SECONDS, LARGE_REPORT_MB = 15.0, 45.0, 800.0
LARGE_CHANGES = 40_000  # a stage at least this large is held to the large targets


@dataclass
class Figures:
    """The runs of one command on one stage."""

    runs: list[Measure] = field(default_factory=list)

    def median(self, what: str) -> float:
        return statistics.median(getattr(r, what) for r in self.runs)

    def spread(self, what: str) -> tuple[float, float]:
        values = [getattr(r, what) for r in self.runs]
        return min(values), max(values)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)


@dataclass
class Stage:
    commits: int
    where: Path
    changes: int = 0
    findings: int = 0
    pack_bytes: int = 0
    largest: list[tuple[int, str]] = field(default_factory=list)
    check: Figures = field(default_factory=Figures)
    report: Figures = field(default_factory=Figures)


def prepare(stage: Stage, tmp: Path, auditor: str) -> list[str]:
    """Mine the stage into a fresh store, warm its analysis cache; the common arguments."""
    repo, config = stage.where / "infra-live", stage.where / "auditor.toml"
    stage.changes = int(git(repo, "rev-list", "--count", "--first-parent", "HEAD"))
    store = tmp / f"store-{stage.commits}"
    print(f"  preparing {stage.where.name}: {stage.changes} changes (mine, warm check)", flush=True)
    run_once([auditor, "mine", str(repo), "--store", str(store), "-q"], accept=(0,))
    common = [str(repo), "--config", str(config), "--store", str(store), "--as-of", AS_OF]
    common += ["--sample", "25", "--seed", "bench", "-q"]
    run_once([auditor, "check", *common], accept=(0, 1, 4))
    return common


def measure_pack(stage: Stage, out: Path) -> None:
    """What the last report wrote: its findings, its size and its largest files."""
    with (out / "csv" / "findings.csv").open(encoding="utf-8", newline="") as stream:
        stage.findings = sum(1 for _ in csv.reader(stream)) - 1
    sizes: dict[str, int] = {}
    for path in out.rglob("*"):
        if path.is_file():
            top = path.relative_to(out).parts[0]
            top = f"{top}/" if (out / top).is_dir() else top
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    stage.pack_bytes = sum(sizes.values())
    stage.largest = sorted(((size, name) for name, size in sizes.items()), reverse=True)[:4]


def mb(size: float) -> str:
    return f"{size / 1e6:.0f} MB"


def line(label: str, figures: Figures) -> None:
    low, high = figures.spread("seconds")
    cpu_low, cpu_high = figures.spread("cpu")
    print(
        f"    {label:<8} wall {figures.median('seconds'):7.2f} s ({low:.2f}–{high:.2f})"
        f"  cpu {figures.median('cpu'):7.2f} s ({cpu_low:.2f}–{cpu_high:.2f})"
        f"  peak {figures.peak_mb:5.0f} MB"
    )


def verdict(what: str, value: float, target: float, unit: str) -> None:
    word = "within" if value <= target else "OVER"
    print(f"  {what}: {value:.2f} {unit} ({word} the target of {target:g} {unit})")


def bench(stages: list[Stage], repeat: int, auditor: str) -> None:
    print(f"scale: {len(stages)} stages, {os.cpu_count()} cores, median of {repeat} (spread)")
    with tempfile.TemporaryDirectory(prefix="auditor-bench-scale-") as tmp:
        root = Path(tmp)
        common = {s.commits: prepare(s, root, auditor) for s in stages}
        out = root / "pack"
        for _ in range(repeat):
            for stage in stages:  # alternated: the same machine load falls on every stage
                args = common[stage.commits]
                stage.check.runs.append(run_once([auditor, "check", *args], accept=(0, 1, 4)))
                shutil.rmtree(out, ignore_errors=True)
                report = [auditor, "report", *args, "--out", str(out), "--format", ALL_FORMATS]
                stage.report.runs.append(run_once(report, accept=(0, 1, 4)))
                measure_pack(stage, out)
    for stage in stages:
        print(
            f"  {stage.where.name}: {stage.changes} changes, {stage.findings} findings,"
            f" pack {mb(stage.pack_bytes)}"
            f" ({', '.join(f'{name} {mb(size)}' for size, name in stage.largest)})"
        )
        line("check", stage.check)
        line("report", stage.report)
        for what in ("seconds", "cpu"):
            ratio = stage.report.median(what) / stage.check.median(what)
            print(f"    report ÷ check ({'wall' if what == 'seconds' else 'cpu'}): {ratio:.2f}x")
    small = stages[0]
    for large in stages[1:]:
        grown = large.changes / small.changes
        print(f"  {large.where.name} ÷ {small.where.name}: {grown:.2f}x the changes")
        for label, a, b in (
            ("check", large.check, small.check),
            ("report", large.report, small.report),
        ):
            wall, cpu = a.median("seconds") / b.median("seconds"), a.median("cpu") / b.median("cpu")
            memory = a.peak_mb / b.peak_mb
            print(
                f"    {label:<8} wall {wall:5.2f}x  cpu {cpu:5.2f}x  peak memory {memory:5.2f}x"
                f"  (linear: {'yes' if cpu <= grown else 'NO'}, cpu ÷ changes {cpu / grown:.2f})"
            )
        print(f"    pack size {large.pack_bytes / small.pack_bytes:5.2f}x")
    verdict(
        f"{small.changes}-change pack, wall",
        small.report.median("seconds"),
        SMALL_PACK_SECONDS,
        "s",
    )
    for stage in stages:
        if stage.changes >= LARGE_CHANGES:
            name = f"{stage.changes}-change"
            verdict(f"{name} check, wall", stage.check.median("seconds"), LARGE_CHECK_SECONDS, "s")
            verdict(f"{name} pack, wall", stage.report.median("seconds"), LARGE_PACK_SECONDS, "s")
            verdict(f"{name} report, peak memory", stage.report.peak_mb, LARGE_REPORT_MB, "MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--stages", default="11000,110000", help="commits of each stage, comma-separated"
    )
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--auditor", default=str(BIN / "auditor"), help="the auditor command to measure"
    )
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.stages.split(",") if c.strip()})
    if not counts:
        raise SystemExit("--stages: name at least one number of commits")
    compile_package()
    stages = [Stage(c, workspace(c, args.files)) for c in counts]
    bench(stages, args.repeat, args.auditor)


if __name__ == "__main__":
    main()

"""The audit pack of a 5,000-change period: time and memory, against a plain WeasyPrint render.

    python benchmarks/pack.py [--commits 11000] [--files 1000] [--repeat 3]

Generates (once, cached under ``bench-work/``) a demo workspace at that scale with
``benchmarks/genrepo.py --with-reviews`` (11,000 commits give about 5,200 changes on the
first-parent chain), mines it into a fresh store and warms the store's analysis cache with one
``auditor check``. Then times whole processes (wall time, CPU time and peak RSS of each):

- ``auditor check``: the assessment alone (mining is incremental: nothing new), the part of
  every ``report`` that is not rendering;
- ``auditor report`` writing every format, the PDF only, and ``html,csv,json``;
- ``auditor report --from-evidence``: rendering every format again from ``evidence.json``,
  with no assessment (reading the evidence back instead);
- the baseline: a plain WeasyPrint render of one HTML table of the same changes (id, date,
  author, subject), the least a PDF of that population costs.

Each figure is the median of ``--repeat`` runs (peak memory: the largest); ratios compare wall
times with the baseline measured here. Targets (issue #5): the full pack in under 30 s, the PDF
in under 10 s, peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import compile_package

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench-work"
BIN = Path(sys.executable).parent
AS_OF = "2026-10-01T00:00:00Z"
PACK_SECONDS, PDF_SECONDS, PEAK_MB = 30.0, 10.0, 500.0
ALL_FORMATS = "pdf,html,csv,json,oscal"
BASELINE = """\
import csv, html, sys, weasyprint
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
cells = ("change_id", "landed_at", "author_name", "subject")
body = "".join(
    "<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in cells) + "</tr>" for r in rows
)
page = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><style>"
    "@page { size: A4; margin: 20mm 16mm }"
    "html { font-family: 'DejaVu Sans', sans-serif; font-size: 8pt }"
    "table { border-collapse: collapse; width: 100% } td { border-bottom: 0.5pt solid #ccc }"
    "</style></head><body><table><thead><tr><th>Change</th><th>Landed</th><th>Author</th>"
    f"<th>Subject</th></tr></thead><tbody>{body}</tbody></table></body></html>"
)
weasyprint.HTML(string=page).write_pdf(sys.argv[2])
"""


@dataclass(frozen=True)
class Measure:
    seconds: float  # wall time
    cpu: float  # user + system time of the process and its children
    peak_mb: float


def run_once(cmd: list[str], accept: tuple[int, ...]) -> Measure:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in accept:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{errors[-2000:]}")
    return Measure(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def measure(cmd: list[str], repeat: int, *, fresh: Path | None = None) -> Measure:
    """Median wall and CPU time, largest peak RSS; ``fresh`` is removed before each run."""
    runs = []
    for _ in range(repeat):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        runs.append(run_once(cmd, accept=(0, 1, 4)))  # 1: the demo plants failing controls
    return Measure(
        statistics.median(r.seconds for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.peak_mb for r in runs),
    )


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def workspace(commits: int, files: int) -> Path:
    """The generated demo workspace (repository, review export, config), made once."""
    where = WORK / f"pack-{commits}-{files}"
    if not (where / "infra-live" / ".git").exists() or not (where / "auditor.toml").exists():
        shutil.rmtree(where, ignore_errors=True)
        print(f"generating {where.name} (once) ...", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "genrepo.py"), str(where),
             "--commits", str(commits), "--files", str(files), "--with-reviews"],
            check=True,
        )  # fmt: skip
    return where


def row(label: str, m: Measure, base: Measure | None = None) -> None:
    ratio = f"{m.seconds / base.seconds:6.2f}x" if base else "      -"
    print(f"  {label:<50} {m.seconds:7.2f} s  cpu {m.cpu:7.2f} s {ratio}  peak {m.peak_mb:5.0f} MB")


def verdict(what: str, value: float, target: float, unit: str) -> None:
    word = "within" if value < target else "OVER"
    print(f"  {what}: {value:.1f} {unit} ({word} the target of {target:.0f} {unit})")


def bench(where: Path, repeat: int, auditor: str) -> None:
    repo, config = where / "infra-live", where / "auditor.toml"
    changes = int(git(repo, "rev-list", "--count", "--first-parent", "HEAD"))
    print(f"workspace: {where.name}: {changes} changes, {os.cpu_count()} cores, median of {repeat}")
    if changes < 5000:
        print(f"  warning: fewer than 5,000 changes; raise --commits (now {changes})")
    with tempfile.TemporaryDirectory(prefix="auditor-bench-pack-") as tmp:
        store, out = Path(tmp) / "store", Path(tmp) / "pack"
        common = [str(repo), "--config", str(config), "--store", str(store), "--as-of", AS_OF]
        common += ["--sample", "25", "--seed", "bench", "-q"]
        run_once([auditor, "mine", str(repo), "--store", str(store), "-q"], accept=(0,))
        run_once([auditor, "check", *common], accept=(0, 1, 4))  # caches the analysis

        def report(formats: str) -> Measure:
            cmd = [auditor, "report", *common, "--out", str(out), "--format", formats]
            return measure(cmd, repeat, fresh=out)

        check = measure([auditor, "check", *common], repeat)
        pdf = report("pdf")
        rest = report("html,csv,json")
        full = report(ALL_FORMATS)  # the last one: its evidence.json and changes.csv stay
        kept = Path(tmp) / "kept"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(out, kept)
        again = measure(
            [auditor, "report", "--from-evidence", str(kept / "evidence.json"), "--out", str(out),
             "--format", ALL_FORMATS, "-q"],
            repeat,
            fresh=out,
        )  # fmt: skip
        table = kept / "csv" / "changes.csv"
        with table.open(encoding="utf-8", newline="") as stream:
            rows = sum(1 for _ in csv.reader(stream)) - 1
        plain = Path(tmp) / "plain.pdf"
        base = measure([sys.executable, "-c", BASELINE, str(table), str(plain)], repeat)

    row(f"baseline: plain WeasyPrint table of {rows} changes", base)
    row("auditor check (assessment only)", check, base)
    row(f"auditor report --format {ALL_FORMATS}", full, base)
    row("auditor report --format pdf", pdf, base)
    row("auditor report --format html,csv,json", rest, base)
    row("auditor report --from-evidence (every format)", again, base)
    print(
        f"  rendering (report minus check): every format {full.seconds - check.seconds:.1f} s,"
        f" pdf {pdf.seconds - check.seconds:.1f} s,"
        f" html,csv,json {rest.seconds - check.seconds:.1f} s"
    )
    verdict("full pack", full.seconds, PACK_SECONDS, "s")
    verdict("PDF", pdf.seconds, PDF_SECONDS, "s")
    peak = max(m.peak_mb for m in (check, full, pdf, rest, again))
    verdict("peak memory of any auditor run", peak, PEAK_MB, "MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=11_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workspace", type=Path, help="a workspace made by genrepo.py instead")
    parser.add_argument(
        "--auditor", default=str(BIN / "auditor"), help="the auditor command to measure"
    )
    args = parser.parse_args()
    compile_package()
    bench(args.workspace or workspace(args.commits, args.files), args.repeat, args.auditor)


if __name__ == "__main__":
    main()

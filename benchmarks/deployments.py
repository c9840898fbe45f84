"""What deployment records cost a report: the 5,000-change benchmark with a deployment per change.

    python benchmarks/deployments.py [--commits 11000] [--files 1000] [--repeat 3]

Uses (or generates once, under ``bench-work/``) the demo workspace at that scale: its
``deployments.jsonl`` applies every change of ``main`` (about 5,200) and ``argocd-apps.json``
holds an Argo CD application. Mines it and warms the store (the analysis cache, and the
deployment records kept from a first read), then times whole ``auditor report`` processes with
the workspace's config as it is and with its ``deployments`` line left out: the difference is
reading the records again, keeping them (nothing new), joining them to the ledger, DEP-01 and
DEP-02, and writing them into the pack. Target (issue 16): at most 10% added to ``report``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack import AS_OF, BIN, WORK, git, measure, row, run_once
from run import compile_package

TARGET = 1.10


def workspace(commits: int, files: int) -> Path:
    """The generated demo workspace with its deployment records, made once."""
    where = WORK / f"deployments-{commits}-{files}"
    if not (where / "deployments.jsonl").exists():
        shutil.rmtree(where, ignore_errors=True)
        print(f"generating {where.name} (once) ...", flush=True)
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve().parent / "genrepo.py"), str(where),
             "--commits", str(commits), "--files", str(files), "--with-reviews"],
            check=True,
        )  # fmt: skip
    return where


def bench(where: Path, repeat: int, auditor: str, formats: str) -> float:
    repo, config = where / "infra-live", where / "auditor.toml"
    if not (where / "deployments.jsonl").exists():
        raise SystemExit(f"{where} has no deployments.jsonl: remove it to generate it again")
    changes = int(git(repo, "rev-list", "--count", "--first-parent", "HEAD"))
    lines = sum(1 for _ in (where / "deployments.jsonl").open(encoding="utf-8"))
    print(f"workspace: {where.name}: {changes} changes, {lines} deployment lines,"
          f" {os.cpu_count()} cores, median of {repeat}")  # fmt: skip
    text = config.read_text(encoding="utf-8")
    bare = where / "auditor-without-deployments.toml"
    bare.write_text(
        "".join(line for line in text.splitlines(keepends=True)
                if not line.startswith("deployments = ")),
        encoding="utf-8",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="auditor-bench-deploy-") as tmp:
        store, out = Path(tmp) / "store", Path(tmp) / "pack"
        run_once([auditor, "mine", str(repo), "--store", str(store), "-q"], accept=(0,))

        def report(with_config: Path, formats: str = formats) -> list[str]:
            common = ["--store", str(store), "--as-of", AS_OF, "-q", "--out", str(out)]
            return [auditor, "report", str(repo), "--config", str(with_config), *common,
                    "--format", formats]  # fmt: skip

        run_once(report(config, "csv"), accept=(0, 1, 4))  # warms the store
        without = measure(report(bare), repeat, fresh=out)
        with_records = measure(report(config), repeat, fresh=out)
    row(f"auditor report --format {formats}, no deployment records", without)
    row(f"auditor report --format {formats}, {lines} deployments", with_records, without)
    ratio = with_records.seconds / without.seconds
    cpu = with_records.cpu / without.cpu
    word = "within" if ratio <= TARGET else "OVER"
    print(f"  deployments add {100 * (ratio - 1):.1f}% to report's wall time ({word} the target"
          f" of {100 * (TARGET - 1):.0f}%), {100 * (cpu - 1):.1f}% to its CPU time")  # fmt: skip
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=11_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="html,csv,json")
    parser.add_argument("--workspace", type=Path, help="a workspace made by genrepo.py instead")
    parser.add_argument(
        "--auditor", default=str(BIN / "auditor"), help="the auditor command to measure"
    )
    args = parser.parse_args()
    compile_package()
    where = args.workspace or workspace(args.commits, args.files)
    bench(where, args.repeat, args.auditor, args.formats)


if __name__ == "__main__":
    main()

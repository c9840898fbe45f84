"""`pip install .` ships the control catalog, the category rules and the report templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_catalog_rules_and_templates(tmp_path: Path) -> None:
    # The venv holds the build requirements (the Makefile installs them), so no network is needed.
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("auditor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
    extras = {
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Provides-Extra:")
    }
    assert {"pdf", "oscal"} <= extras  # '.[oscal]' is a known extra, with nothing to install
    shipped_controls = {f"auditor/_controls/{p.name}" for p in (ROOT / "controls").glob("*.yaml")}
    assert shipped_controls and shipped_controls <= names
    assert "auditor/infra/rules.yaml" in names
    templates = {
        f"auditor/_templates/{p.relative_to(ROOT / 'report_templates').as_posix()}"
        for p in (ROOT / "report_templates").rglob("*")
        if p.is_file()
    }
    assert templates <= names

"""A user's mistake, or the system saying no, is exit 2 with one line naming the file or value.

Never exit 3 (which reads as a bug of ours), and nothing half-written stays behind. Where the
system has to refuse (no space left, a read-only database, a directory we may not write), the
test makes the call refuse as the system would: tests may run as root, whom modes do not stop.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

AS_OF = "2026-04-01T00:00:00Z"
WAIVER = """\
waivers:
  - id: W-1
    control: CHG-01
    change: abcdef1
    owner: platform
    ticket: SEC-1
    reason: accepted
    approved_by: ciso
    expires: {expires}
"""


@dataclass
class Result:
    code: int
    err: str

    @property
    def line(self) -> str:
        """The one line of stderr (the test fails when there are more, or none)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        return lines[0]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def invoke(*args: Any) -> Result:
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err and "internal error" not in captured.err
        return Result(code, captured.err)

    return invoke


@pytest.fixture
def infra(repo: GitRepo) -> Path:
    repo.commit("Add the network", {"network/main.tf": 'resource "aws_vpc" "main" {}\n'})
    repo.commit("Tag it", {"network/main.tf": 'resource "aws_vpc" "main" { tags = {} }\n'})
    return repo.path


def leftovers(directory: Path) -> list[str]:
    """Hidden work or temporary files left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def report_args(infra: Path, tmp_path: Path, out: Path | str) -> list[Any]:
    return ["report", infra, "--store", tmp_path / "store", "--as-of", AS_OF,
            "--format", "csv", "-q", "--out", out]  # fmt: skip


@pytest.mark.parametrize(
    ("expires", "shown"),
    [("2026-13-45", "'2026-13-45' (month must be in 1..12)"),
     ("2026-01-01T00:00:00+25:00", "'2026-01-01T00:00:00+25:00' (a UTC offset must be under")],
)  # fmt: skip
def test_waiver_with_an_impossible_date_or_offset(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, expires: str, shown: str
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER.format(expires=expires))
    result = cli("check", infra, "--store", tmp_path / "s", "--waivers", waivers, "-q")
    assert result.code == ExitCode.USAGE
    assert result.line.startswith(f"auditor: error: {waivers}: invalid YAML at line 9: ")
    assert f"not a valid date or time: {shown}" in result.line


@pytest.mark.parametrize("start", ["2026-13-45", "2026-01-01T00:00:00+25:00"])
def test_control_window_with_an_impossible_date_or_offset(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, start: str
) -> None:
    controls = tmp_path / "controls"
    controls.mkdir()
    control = controls / "ORG-08.yaml"
    control.write_text(
        "id: ORG-08\ntitle: No change in a freeze\ndescription: d\nprocedure: p\n"
        "check: freeze-window\nparameters:\n  windows:\n"
        f"    - start: {start}\n      end: 2026-12-31\n"
        "severity: low\nframeworks:\n  soc2: [CC8.1]\n"
    )
    validated = cli("controls", "validate", controls)
    assert validated.code == ExitCode.USAGE
    assert validated.line.startswith(f"{control}: invalid YAML at line 8: not a valid date")
    assert repr(start) in validated.line
    checked = cli("check", infra, "--store", tmp_path / "s", "--controls-dir", controls, "-q")
    assert checked.code == ExitCode.USAGE
    assert checked.line == f"auditor: error: {validated.line}"


def test_binary_site_css_in_a_template_directory(
    cli: Callable[..., Result], infra: Path, tmp_path: Path
) -> None:
    css = tmp_path / "templates" / "html" / "site.css"
    css.parent.mkdir(parents=True)
    css.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    args = report_args(infra, tmp_path, tmp_path / "pack")
    result = cli(*args, "--format", "html", "--template-dir", tmp_path / "templates")
    assert result.code == ExitCode.USAGE
    assert result.line == f"auditor: error: {css}: not UTF-8 text; a template or asset must be"
    assert not (tmp_path / "pack").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("key", ["output", "store"])
def test_config_output_or_store_that_is_a_file(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, key: str
) -> None:
    (tmp_path / "taken").write_text("mine")
    config = tmp_path / "auditor.toml"
    config.write_text(f'[audit]\n{key} = "taken"\n\n[[repository]]\npath = "{infra}"\n')
    result = cli("run", "--config", config, "--as-of", AS_OF, "-q")
    assert result.code == ExitCode.USAGE
    assert result.line == (
        f"auditor: error: {config}:2: audit.{key}: {tmp_path / 'taken'}"
        " exists and is not a directory"
    )
    assert (tmp_path / "taken").read_text() == "mine"


def test_toml_nested_5000_deep(cli: Callable[..., Result], tmp_path: Path) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text("[audit]\nbots = " + "[" * 5000 + "]" * 5000 + "\n")
    result = cli("run", "--config", config, "-q")
    assert result.code == ExitCode.USAGE
    assert result.line == (
        f"auditor: error: {config}: invalid TOML: arrays or tables nested too deeply"
    )


def test_out_that_is_a_symbolic_link(
    cli: Callable[..., Result], infra: Path, tmp_path: Path
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = cli(*report_args(infra, tmp_path, tmp_path / "link"))
    assert result.code == ExitCode.USAGE
    assert f"{tmp_path / 'link'} is a symbolic link" in result.line
    assert list((tmp_path / "real").iterdir()) == [] and (tmp_path / "link").is_symlink()


def test_out_under_a_file(cli: Callable[..., Result], infra: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    result = cli(*report_args(infra, tmp_path, tmp_path / "afile" / "sub"))
    assert result.code == ExitCode.USAGE
    assert result.line.endswith(
        f"cannot write {tmp_path / 'afile' / 'sub'}: {tmp_path / 'afile'} is not a directory"
    )
    assert (tmp_path / "afile").read_text() == "mine" and leftovers(tmp_path) == []


def test_out_in_proc(cli: Callable[..., Result], infra: Path, tmp_path: Path) -> None:
    result = cli(*report_args(infra, tmp_path, "/proc/auditor-pack"))
    assert result.code == ExitCode.USAGE
    assert result.line.startswith("auditor: error: cannot write /proc/auditor-pack: ")
    assert not Path("/proc/auditor-pack").exists()
    assert not any(p.name.startswith(".auditor-pack.") for p in Path("/proc").iterdir())


def test_out_whose_parent_may_not_be_written(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.evidence import workdirs

    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    real = os.access
    monkeypatch.setattr(  # what the kernel answers anyone but root
        workdirs.os, "access", lambda p, mode: Path(p) != parent and real(p, mode)
    )
    try:
        result = cli(*report_args(infra, tmp_path, parent / "pack"))
    finally:
        parent.chmod(0o755)
    assert result.code == ExitCode.USAGE
    assert result.line.endswith(f"no permission to write in {parent}")
    assert list(parent.iterdir()) == []


def test_changes_output_under_a_file(
    cli: Callable[..., Result], infra: Path, tmp_path: Path
) -> None:
    (tmp_path / "afile").write_text("mine")
    result = cli("changes", infra, "--store", tmp_path / "s", "-q", "-o", tmp_path / "afile/sub")
    assert result.code == ExitCode.USAGE
    assert result.line == (
        f"auditor: error: cannot write {tmp_path / 'afile' / 'sub'}:"
        f" {tmp_path / 'afile'} is not a directory"
    )
    assert (tmp_path / "afile").read_text() == "mine"
    assert not (tmp_path / "s").exists()  # refused before mining anything


def test_changes_output_on_a_full_disk_leaves_nothing(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.evidence import tabular

    def full_disk(out: Any, columns: Any, rows: Any) -> int:
        out.write("repo,change_id\r\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tabular, "write_csv", full_disk)
    target = tmp_path / "out" / "changes.csv"
    result = cli("changes", infra, "--store", tmp_path / "s", "-q", "-o", target)
    assert result.code == ExitCode.USAGE
    assert result.line == f"auditor: error: cannot write {target}: No space left on device"
    assert list(target.parent.iterdir()) == []


def test_report_on_a_full_disk_leaves_nothing(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.render import csv

    def full_disk(self: Any, report: Any, out: Path, context: Any) -> None:
        (out / "csv").mkdir()
        (out / "csv" / "changes.csv").write_text("repo,change")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(csv.CsvRenderer, "render", full_disk)
    out = tmp_path / "packs" / "pack"
    result = cli(*report_args(infra, tmp_path, out))
    assert result.code == ExitCode.USAGE
    assert result.line == f"auditor: error: cannot write {out}: No space left on device"
    assert list(out.parent.iterdir()) == []


def test_read_only_evidence_store(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.ledger import store

    assert cli("mine", infra, "--store", tmp_path / "s", "-q").code == ExitCode.OK
    database = tmp_path / "s" / "evidence.sqlite"
    before = database.read_bytes()
    database.chmod(0o444)
    connect = sqlite3.connect

    def read_only(path: Any, **options: Any) -> sqlite3.Connection:  # as the OS opens 0444
        return connect(f"file:{path}?mode=ro", uri=True, **options)

    monkeypatch.setattr(store.sqlite3, "connect", read_only)
    result = cli("check", infra, "--store", tmp_path / "s", "-q")
    assert result.code == ExitCode.USAGE
    assert result.line == (
        f"auditor: error: {database}: cannot open the evidence store:"
        " attempt to write a readonly database"
    )
    assert database.read_bytes() == before
    assert cli("runs", "--store", tmp_path / "s").code == ExitCode.OK  # reading still works


@pytest.mark.parametrize("command", ["check", "reviews"])
def test_forge_url_that_is_no_url(
    cli: Callable[..., Result], infra: Path, tmp_path: Path, command: str
) -> None:
    words = ["reviews", "export", infra, "-o", tmp_path / "r.json"] if command == "reviews" else [
        "check", infra, "--store", tmp_path / "s", "-q"]  # fmt: skip
    result = cli(*words, "--forge", "github", "--forge-url", "http://[::1")
    assert result.code == ExitCode.USAGE
    assert "Invalid value for '--forge-url': not a valid URL: 'http://[::1'" in result.line
    assert not (tmp_path / "r.json").exists()


def test_config_forge_url_that_is_no_url(
    cli: Callable[..., Result], infra: Path, tmp_path: Path
) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text(f'[[repository]]\npath = "{infra}"\nforge_url = "http://[::1"\n')
    result = cli("run", "--config", config, "-q")
    assert result.code == ExitCode.USAGE
    assert result.line.startswith(f"auditor: error: {config}:3: repository[0].forge_url: ")


def test_template_linking_to_etc_passwd(
    cli: Callable[..., Result], infra: Path, tmp_path: Path
) -> None:
    page = tmp_path / "templates" / "html" / "index.html"
    page.parent.mkdir(parents=True)
    page.symlink_to("/etc/passwd")
    args = report_args(infra, tmp_path, tmp_path / "pack")
    result = cli(*args, "--format", "html", "--template-dir", tmp_path / "templates")
    assert result.code == ExitCode.USAGE
    assert result.line == (f"auditor: error: {page}: leads outside the template directory; refused")
    assert not (tmp_path / "pack").exists() and leftovers(tmp_path) == []

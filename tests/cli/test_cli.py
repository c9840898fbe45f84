"""The command line: outputs, periods, exit codes and help."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from contract import CONTRACT_CHANGE_COLUMNS
from gitrepo import BASE_TIME, GitRepo

from auditor.cli import cli, run
from auditor.cli.exitcodes import ExitCode
from auditor.evidence.columns import CHANGE_COLUMNS

DAY = 86400


def invoke(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, list(args), standalone_mode=False, catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        code = run(list(args))
        return code, result.stdout, result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def history(repo: GitRepo) -> GitRepo:
    repo.commit('=HYPERLINK("http://evil") day one', {"a.tf": "1\n"}, when=BASE_TIME)
    repo.commit("day two (#4)", {"a.tf": "2\n"}, when=BASE_TIME + DAY)
    repo.commit("day three", {"b.tf": "3\n"}, when=BASE_TIME + 2 * DAY + 3600)
    return repo


def test_changes_csv_has_contract_columns_and_neutralises_formulas(
    history: GitRepo, tmp_path: Path
) -> None:
    out = tmp_path / "ledger.csv"
    result = subprocess.run(
        [sys.executable, "-m", "auditor", "changes", str(history.path),
         "--store", str(tmp_path / "s"), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.count(b"\r\n") == 4
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert set(CONTRACT_CHANGE_COLUMNS) <= set(rows[0])
    assert raw.split(b"\r\n", 1)[0].decode().split(",") == list(CHANGE_COLUMNS), "the pack's"
    assert rows[0]["subject"].startswith("'=HYPERLINK")
    assert rows[0]["landed_at"] == "2025-01-01T00:00:00Z"
    assert rows[1]["change_request"] == "4"
    assert rows[0]["signature"] == "unsigned"
    assert "3 change rows" in result.stderr


def test_formulas_behind_spaces_are_neutralised_in_every_csv_cell(
    repo: GitRepo, tmp_path: Path
) -> None:
    names = [" =2+2.tf", "\t=1.tf", "\u3000\uff1dSUM(A1).tf", "\u00a0@x.tf", "plain =1.tf"]
    bucket = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
    repo.commit("add files", dict.fromkeys(names, bucket), when=BASE_TIME)
    code, out, err = invoke("changes", str(repo.path), "--store", str(tmp_path / "s"),
                            "--level", "resource", "--format", "csv")  # fmt: skip
    assert code == 0, err
    paths = {row["path"] for row in csv.DictReader(io.StringIO(out))}
    assert paths == {"'" + n for n in names[:-1]} | {"plain =1.tf"}


def test_period_is_inclusive_dates_and_timestamps(history: GitRepo, tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    code, out, _ = invoke("changes", str(history.path), "--store", store, "--format", "jsonl",
                          "--since", "2025-01-02", "--until", "2025-01-03")  # fmt: skip
    assert code == 0
    assert [json.loads(line)["subject"] for line in out.splitlines()] == [
        "day two (#4)",
        "day three",
    ]
    code, out, _ = invoke("changes", str(history.path), "--store", store, "--format", "json",
                          "--until", "2025-01-02T00:00:00+00:00",
                          "--as-of", "2026-01-01")  # fmt: skip
    document = json.loads(out)
    assert [r["subject"] for r in document["rows"]] == [
        '=HYPERLINK("http://evil") day one',
        "day two (#4)",
    ]
    assert document["generated_at"] == "2026-01-01T00:00:00Z" and document["schema_version"] == 1


def test_commit_level_gives_chain_of_custody(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("root", {"a": "1\n"})
    repo.checkout("-b", "feature")
    side = repo.commit("side", {"b": "1\n"})
    repo.checkout("main")
    merge = repo.merge("feature", "Merge pull request #1 from acme/feature")
    code, out, _ = invoke(
        "changes",
        str(repo.path),
        "--store",
        str(tmp_path / "s"),
        "--level",
        "commit",
        "--format",
        "jsonl",
    )
    rows = {r["commit"]: r for r in map(json.loads, out.splitlines())}
    assert code == 0
    assert rows[side]["change_commit"] == merge and rows[merge]["change_commit"] == merge


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["changes", "{missing}"], "no such directory"),
        (["changes", "{plain}"], "not a Git repository"),
        (["changes", "{repo}", "--branch", "nope"], "branch 'nope' not found"),
        (["changes", "{repo}", "--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["changes", "{repo}", "--format", "xml"], "Invalid value for '--format'"),
        (["mine", "{repo}", "--store", "{badstore}"], "cannot open the evidence store"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    history: GitRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "badstore").mkdir()
    (tmp_path / "badstore" / "evidence.sqlite").write_bytes(b"x" * 4096)
    values = {
        "missing": tmp_path / "missing",
        "plain": tmp_path / "plain",
        "repo": history.path,
        "badstore": tmp_path / "badstore",
    }
    argv = [a.format(**values) for a in args]
    if "--store" not in argv:
        argv += ["--store", str(tmp_path / "s")]
    code = run(argv)
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3
    assert not (tmp_path / "out.csv").exists()


def test_shallow_clone_mine_exits_4(
    history: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{history.path}", str(clone)], check=True
    )
    assert run(["mine", str(clone), "--store", str(tmp_path / "s")]) == ExitCode.INCOMPLETE
    assert "evidence incomplete: shallow clone" in capsys.readouterr().err


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, command in cli.commands.items():
        assert command.help, name
        assert f"auditor {name}" in readme, name
        assert run([name, "--help"]) == 0


def test_module_entry_point_prints_version() -> None:
    from auditor import __version__

    out = subprocess.run(
        [sys.executable, "-m", "auditor", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"auditor, version {__version__}"

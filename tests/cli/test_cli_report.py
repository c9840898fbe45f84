"""``auditor report`` and ``auditor verify``: the audit pack through the command line."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from contract import CONTRACT_CHANGE_COLUMNS, CONTRACT_FINDING_COLUMNS
from forgerepo import PERIOD_START, ForgeRepo, build, shallow_clone
from gitrepo import GitRepo, clean_env
from pypdf import PdfReader

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.evaluation.sampling import pipeline
from auditor.evidence.builder import redact_command, redact_text

AS_OF = "2026-04-01T00:00:00Z"
HOSTILE = '=HYPERLINK("http://evil") <script>window.__xss = 1</script>'
CONTROLS_COLUMNS = (
    "control_id", "title", "framework_refs", "population", "passed", "failed", "unknown",
    "not_applicable", "waived", "status",
)  # fmt: skip
TABLES = ("changes", "commits", "findings", "controls")
GUARD_TABLES = ("protection", "bypass_actors", "checks")  # with review data from a forge or file


@dataclass
class Result:
    code: int
    out: str
    err: str


def report(capsys: pytest.CaptureFixture[str] | None, *args: Any) -> Result:
    """Run ``auditor report`` with ``args``; output from ``capsys``, or captured here."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["report", *(str(a) for a in args)])
    result = Result(code, out.getvalue(), err.getvalue())
    if capsys is not None:
        captured = capsys.readouterr()
        result = Result(code, result.out + captured.out, result.err + captured.err)
    assert "Traceback" not in result.err
    return result


def shown(path: Path) -> str:
    """How the pack's recorded command shows a path outside the current directory."""
    return shlex.quote("…/" + "/".join(path.parts[-2:]))


def verify(capsys: pytest.CaptureFixture[str], pack: Path) -> Result:
    code = run(["verify", str(pack)])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def rows(pack: Path, table: str) -> list[dict[str, str]]:
    text = (pack / "csv" / f"{table}.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def assessing(history: ForgeRepo, store: Path, *args: Any) -> list[Any]:
    """The arguments of a report over the history's period, from its review export."""
    export = history.write_export(history.path.parent / "reviews.json")
    return [history.path, "--store", store, "--since", PERIOD_START, "--reviews-file", export,
            "--as-of", AS_OF, *args]  # fmt: skip


@pytest.fixture
def history(repo: GitRepo) -> ForgeRepo:
    forge = build(repo, "github")
    forge.changes["hostile"] = repo.commit(HOSTILE, {"docs/evil.md": "x\n"})
    return forge


@pytest.fixture
def clean(repo: GitRepo) -> ForgeRepo:
    return build(repo, "github", violations=False)


@dataclass
class Packs:
    history: ForgeRepo
    first: Result
    one: Path
    two: Path


@contextlib.contextmanager
def no_user_git_config(home: Path) -> Iterator[None]:
    """What conftest's autouse fixture does per test, for a fixture shared by the module."""
    env = clean_env(home)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        for key in [k for k in os.environ if k.startswith("GIT_") and k not in env]:
            patch.delenv(key)
        yield


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Packs:
    """Two complete packs (every default format, the PDF included) of the same history and
    ``--as-of``, written by two runs into different directories. Tests must not change them."""
    root = tmp_path_factory.mktemp("full")
    with no_user_git_config(root):
        history = build(GitRepo(root / "repo"), "github")
        history.changes["hostile"] = history.repo.commit(HOSTILE, {"docs/evil.md": "x\n"})
        options = ["--sample", 2, "--seed", "s1", "--organisation", "Acme <Corp>"]
        results = [
            report(None, *assessing(history, root / "store", "--out", root / name, *options))
            for name in ("one", "two")
        ]
    return Packs(history, results[0], root / "one", root / "two")


def test_pack_has_the_contract_layout_and_exits_1_on_failures(full: Packs) -> None:
    assert full.first.code == ExitCode.CONTROLS_FAILED, full.first.err
    names = set(files(full.one))
    assert {
        "report.pdf", "index.html", "changes.html", "evidence.json", "MANIFEST.sha256",
        *(f"csv/{t}.csv" for t in (*TABLES, "sample")),
    } <= names  # fmt: skip
    assert not any(n.startswith("oscal/") for n in names), "oscal only when requested"
    assert sum(1 for n in names if n.startswith("changes/")) == 5
    assert set(CONTRACT_CHANGE_COLUMNS) <= set(rows(full.one, "changes")[0])
    assert set(CONTRACT_FINDING_COLUMNS) <= set(rows(full.one, "findings")[0])
    assert set(CONTROLS_COLUMNS) <= set(rows(full.one, "controls")[0])
    assert [p.name for p in full.one.parent.iterdir() if p.name.startswith(".")] == []
    assert f"audit pack: {full.one} (" in full.first.err
    assert "controls over 5 changes:" in full.first.err and "failed" in full.first.err


def test_hostile_commit_messages_are_neutralised_and_escaped(full: Packs) -> None:
    subjects = {r["commit"]: r["subject"] for r in rows(full.one, "changes")}
    assert subjects[full.history.changes["hostile"]] == "'" + HOSTILE
    for page in full.one.rglob("*.html"):
        assert "<script>window.__xss" not in page.read_text(encoding="utf-8"), page
    text = " ".join(page.extract_text() for page in PdfReader(full.one / "report.pdf").pages)
    assert "<script>window.__xss = 1</script>" in " ".join(text.split())


def test_two_runs_with_the_same_as_of_give_identical_bytes(full: Packs) -> None:
    first, second = files(full.one), files(full.two)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert "report.pdf" in first and "index.html" in first


def test_manifest_checks_with_sha256sum_and_verify(
    capsys: pytest.CaptureFixture[str], full: Packs
) -> None:
    listed = {line[66:] for line in (full.one / "MANIFEST.sha256").read_text().splitlines()}
    assert listed == set(files(full.one)) - {"MANIFEST.sha256"}
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", "--quiet", "MANIFEST.sha256"],
        cwd=full.one, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = verify(capsys, full.one)
    assert (result.code, result.out) == (ExitCode.OK, "")
    assert "intact" in result.err


def test_the_sample_is_redrawn_by_the_printed_shell_pipeline(full: Packs) -> None:
    sample = rows(full.one, "sample")
    assert sample and all(int(r["position"]) >= 1 for r in sample)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(full.one / "report.pdf").pages).split()
    )
    controls = sorted({r["control_id"] for r in sample})
    for control in controls:
        drawn = [r for r in sample if r["control_id"] == control]
        command = pipeline("s1", control, len(drawn))
        assert " ".join(command.split()) in text, f"the PDF prints the pipeline of {control}"
        run = subprocess.run(
            ["sh", "-c", command], cwd=full.one, capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stderr
        lines = [line.split(" ") for line in run.stdout.splitlines()]
        assert [change for _, change in lines] == [r["change_id"] for r in drawn], control
        assert [int(r["position"]) for r in drawn] == list(range(1, len(drawn) + 1))
        listed = [r for r in rows(full.one, "populations") if r["control_id"] == control]
        assert [r["draw_key"] for r in listed][: len(drawn)] == [key for key, _ in lines]
    assert len(controls) > 3


def test_the_readme_pipeline_is_the_one_the_pack_prints() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert pipeline("Q1", "CHG-01", 25) in readme.splitlines()


def test_pdf_cover_records_the_command_without_paths_of_the_output(full: Packs) -> None:
    evidence = json.loads((full.one / "evidence.json").read_text(encoding="utf-8"))
    command = evidence["command"]
    assert command.startswith(f"auditor report {shown(full.history.path)} ")
    assert f"--as-of {AS_OF}" in command and "--sample 2 --seed s1" in command
    assert "--out" not in command and str(full.one) not in command
    assert evidence["organisation"] == "Acme <Corp>"
    cover = PdfReader(full.one / "report.pdf").pages[0].extract_text()
    assert "Acme <Corp>" in cover and "auditor report" in cover


def test_verify_names_changed_missing_and_added_files(
    capsys: pytest.CaptureFixture[str], full: Packs, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(full.two, pack)
    with (pack / "csv" / "findings.csv").open("ab") as stream:
        stream.write(b"x")
    result = verify(capsys, pack)
    assert result.code == ExitCode.CONTROLS_FAILED
    assert result.out.splitlines() == ["changed: csv/findings.csv"]
    (pack / "report.pdf").unlink()
    (pack / "csv" / "extra.csv").write_text("a\r\n")
    result = verify(capsys, pack)
    assert result.code == ExitCode.CONTROLS_FAILED
    assert result.out.splitlines() == [
        "changed: csv/findings.csv",
        "missing: report.pdf",
        "added: csv/extra.csv",
    ]


def test_verify_of_something_that_is_no_pack_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "plain").mkdir()
    for target in (tmp_path / "plain", tmp_path / "missing"):
        result = verify(capsys, target)
        assert result.code == ExitCode.USAGE
        assert "not an audit pack" in result.err and len(result.err.splitlines()) == 1


def test_from_evidence_re_renders_the_same_files(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    store, pack, again = tmp_path / "store", tmp_path / "pack", tmp_path / "again"
    first = report(capsys, *assessing(history, store, "--out", pack, "--format", "csv,json,html"))
    shutil.rmtree(history.path)  # the repository is not needed to re-render
    second = report(capsys, "--from-evidence", pack / "evidence.json", "--out", again,
                    "--format", "csv,json,html")  # fmt: skip
    assert first.code == second.code == ExitCode.CONTROLS_FAILED
    before, after = files(pack), files(again)
    # The same files, and one more saying where the evidence came from (an unsigned pack).
    assert after.keys() - before.keys() == {"source.txt"} and before.keys() <= after.keys()
    source = after["source.txt"].decode()
    assert source.endswith("unsigned source (the MANIFEST.sha256 of the pack pack that lists it"
                           " is not signed).\n")  # fmt: skip
    assert {n for n in before if before[n] != after[n]} == {"MANIFEST.sha256", "index.html"}
    stated = f'<p class="source">{source.strip()}</p>'.encode()
    assert after["index.html"].replace(stated, b"") == before["index.html"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["{repo}"], "REPO"),
        (["--since", "2025-01-01"], "--since"),
        (["--reviews-file", "{evidence}"], "--reviews-file"),
        (["--as-of", AS_OF, "--framework", "soc2"], "--as-of, --framework"),
    ],
)
def test_from_evidence_refuses_assessing_options(
    capsys: pytest.CaptureFixture[str],
    repo: GitRepo,
    tmp_path: Path,
    args: list[str],
    named: str,
) -> None:
    evidence = tmp_path / "evidence.json"
    evidence.write_text("{}")
    values = {"repo": repo.path, "evidence": evidence}
    result = report(capsys, "--from-evidence", evidence, "--out", tmp_path / "out",
                    *(a.format(**values) for a in args))  # fmt: skip
    assert result.code == ExitCode.USAGE
    assert f"{named} cannot be given with it" in result.err
    assert not (tmp_path / "out").exists()


def test_exit_0_when_every_control_passes(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path
) -> None:
    result = report(capsys, *assessing(clean, tmp_path / "s", "--out", tmp_path / "pack",
                                       "--framework", "pci-dss", "--format", "csv"))  # fmt: skip
    assert result.code == ExitCode.OK, result.err
    statuses = {r["control_id"]: r["status"] for r in rows(tmp_path / "pack", "controls")}
    # INT-02: a store made by this run watched no part of the period (unknown, never failed)
    assert statuses.pop("INT-02") == "unknown"
    assert set(statuses.values()) <= {"pass", "not_applicable"}


def test_fail_on_decides_which_failures_exit_1(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    base = assessing(history, tmp_path / "s", "--format", "csv", "-q")
    assert report(capsys, *base, "--out", tmp_path / "a").code == ExitCode.CONTROLS_FAILED
    failing = {r["severity"] for r in rows(tmp_path / "a", "controls") if r["status"] == "fail"}
    spared = sorted({"low", "medium", "high", "critical"} - failing)
    assert failing and spared, "the fixture must fail some severities and not others"
    result = report(capsys, *base, "--out", tmp_path / "b", "--fail-on", ",".join(spared))
    assert result.code == ExitCode.OK


def test_review_export_declared_incomplete_exits_4_and_still_writes_the_pack(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path
) -> None:
    export = clean.export() | {"complete": False}
    (tmp_path / "partial.json").write_text(json.dumps(export), encoding="utf-8")
    result = report(capsys, clean.path, "--store", tmp_path / "s", "--since", PERIOD_START,
                    "--reviews-file", tmp_path / "partial.json", "--framework", "pci-dss",
                    "--out", tmp_path / "pack", "--format", "json")  # fmt: skip
    assert result.code == ExitCode.INCOMPLETE
    assert "evidence incomplete" in result.err
    evidence = json.loads((tmp_path / "pack" / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["complete"] is False
    assert sorted(files(tmp_path / "pack")) == ["MANIFEST.sha256", "evidence.json"]


def test_shallow_clone_exits_4(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path
) -> None:
    clone = shallow_clone(clean.path, tmp_path / "shallow")
    result = report(capsys, clone, "--store", tmp_path / "s", "--out", tmp_path / "pack",
                    "--format", "csv", "-q")  # fmt: skip
    assert result.code == ExitCode.INCOMPLETE
    assert "evidence incomplete: shallow clone" in result.err


def test_format_csv_writes_only_the_tables_and_the_manifest(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    result = report(capsys, *assessing(history, tmp_path / "s", "--out", tmp_path / "pack",
                                       "--format", "csv", "--header-profile", "title"))  # fmt: skip
    assert result.code == ExitCode.CONTROLS_FAILED
    assert sorted(files(tmp_path / "pack")) == [
        "MANIFEST.sha256", *(f"csv/{t}.csv" for t in sorted((*TABLES, *GUARD_TABLES))),
    ]  # fmt: skip
    assert "Control ID" in rows(tmp_path / "pack", "findings")[0]


def test_existing_output_is_refused_unless_force_replaces_a_pack(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    args = assessing(history, tmp_path / "s", "--out", pack, "--format", "csv", "-q")
    assert report(capsys, *args).code == ExitCode.CONTROLS_FAILED
    edited = pack / "csv" / "changes.csv"
    edited.write_bytes(b"edited\r\n")
    refused = report(capsys, *args)
    assert refused.code == ExitCode.USAGE and "--force" in refused.err
    assert edited.read_bytes() == b"edited\r\n"
    assert report(capsys, *args, "--force").code == ExitCode.CONTROLS_FAILED  # still a pack
    assert b"edited" not in edited.read_bytes()
    assert verify(capsys, pack).code == ExitCode.OK
    unlisted = pack / "csv" / "mine.csv"
    unlisted.write_bytes(b"kept\r\n")
    refused = report(capsys, *args, "--force")
    assert refused.code == ExitCode.USAGE
    assert "(csv/mine.csv not listed in MANIFEST.sha256)" in refused.err
    assert unlisted.read_bytes() == b"kept\r\n"
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    refused = report(capsys, *assessing(history, tmp_path / "s", "--out", other, "--force"))
    assert refused.code == ExitCode.USAGE and "not an audit pack" in refused.err
    assert (other / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf,docx"], "unknown format docx"),
        (["--header-profile", "camel"], "Invalid value for '--header-profile'"),
        (["--fail-on", "severe"], "--fail-on"),
        (["--template-dir", "{tmp}/broken"], "template error in"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    broken = tmp_path / "broken" / "html"
    broken.mkdir(parents=True)
    (broken / "index.html").write_text("{% if %}")
    argv = assessing(history, tmp_path / "s", "--out", tmp_path / "pack", "--format", "html", "-q")
    result = report(capsys, *argv, *(a.format(tmp=tmp_path) for a in args))
    assert result.code == ExitCode.USAGE
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "pack").exists()
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_report_needs_a_repository_or_evidence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = report(capsys, "--out", tmp_path / "pack")
    assert result.code == ExitCode.USAGE and "--from-evidence" in result.err


def test_the_recorded_command_carries_the_as_of_the_run_took(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    export = history.write_export(tmp_path / "reviews.json")
    pack = tmp_path / "pack"
    result = report(capsys, history.path, "--store", tmp_path / "s", "--reviews-file", export,
                    "--out", pack, "--format", "json")  # fmt: skip
    assert result.code == ExitCode.CONTROLS_FAILED, result.err
    document = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))
    generated = document["generated_at"].replace("+00:00", "Z")
    assert document["command"] == (
        f"auditor report {shown(history.path)} --as-of {generated} --reviews-file {shown(export)}"
    )
    assert document["config"] is None and document["overrides"] == []


def test_a_config_copy_has_its_credentials_removed() -> None:
    environ = {"GITHUB_TOKEN": "ghp_s3cr3tvalue"}
    text = (
        '[[repository]]\nurl = "https://ci:${TOKEN}@git.example/acme/infra.git"\n'
        'forge_url = "https://ghe.example/api/v3?access_token=abc&per_page=5"\n'
        "# pasted by mistake: ghp_s3cr3tvalue\n"
    )
    assert redact_text(text, environ) == (
        '[[repository]]\nurl = "https://git.example/acme/infra.git"\n'
        'forge_url = "https://ghe.example/api/v3?access_token=***&per_page=5"\n'
        "# pasted by mistake: ***\n"
    )
    clean = '[audit]\norganisation = "Acme"\n[[repository]]\npath = "../infra"\n'
    assert redact_text(clean, environ) == clean


def test_recorded_command_never_carries_a_credential() -> None:
    environ = {"GITHUB_TOKEN": "ghp_s3cr3tvalue", "GITLAB_TOKEN": ""}
    words = ["auditor", "report", "infra", "--forge-url",
             "https://bot:ghp_s3cr3tvalue@ghe.example/api/v3?access_token=abc&per_page=5",
             "--organisation", "Acme Corp", "--branch", "ghp_s3cr3tvalue"]  # fmt: skip
    command = redact_command(words, environ)
    assert "s3cr3t" not in command and "abc" not in command and "bot@" not in command
    assert command == (
        "auditor report infra --forge-url"
        " 'https://ghe.example/api/v3?access_token=***&per_page=5'"
        " --organisation 'Acme Corp' --branch '***'"
    )


def test_no_path_of_this_machine_is_recorded_in_the_command(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paths typed on the command line reach the pack relative to the current directory when
    under it, else by their last two parts: the machine's own directories never appear."""
    export = history.write_export(tmp_path / "reviews.json")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = report(capsys, history.path, "--store", work / "s", "--reviews-file", export,
                    "--out", work / "pack", "--format", "json", "--as-of", AS_OF)  # fmt: skip
    assert result.code == ExitCode.CONTROLS_FAILED, result.err
    text = (work / "pack" / "evidence.json").read_text(encoding="utf-8")
    command = json.loads(text)["command"]
    assert command == (
        f"auditor report {shown(history.path)} --as-of {AS_OF} --reviews-file {shown(export)}"
    )
    assert str(tmp_path) not in text


SOX_CONTROL = """\
id: ORG-01
title: Changes reach the branch through a request
description: Our own control, mapped to a framework of our own.
procedure: Look at each change's request.
check: via-request
severity: high
frameworks:
  sox: [ITGC-CM-1]
  soc2: [CC8.1]
"""


def test_a_control_directory_adds_a_framework_the_pack_names_in_every_format(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "frameworks.yaml").write_text("sox: SOX ITGC (internal)\n", encoding="utf-8")
    (mine / "ORG-01-request.yaml").write_text(SOX_CONTROL, encoding="utf-8")
    pack = tmp_path / "pack"
    result = report(capsys, *assessing(clean, tmp_path / "s", "--out", pack, "--controls-dir",
                                       mine, "--framework", "sox", "--format",
                                       "csv,json,html,oscal", "-q"))  # fmt: skip
    assert result.code in (ExitCode.OK, ExitCode.CONTROLS_FAILED), result.err
    controls = rows(pack, "controls")
    assert [(r["control_id"], r["framework_refs"]) for r in controls] == [
        ("ORG-01", "sox:ITGC-CM-1")
    ]
    assert {r["framework_refs"] for r in rows(pack, "findings")} == {"sox:ITGC-CM-1"}
    data = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))
    assert data["frameworks"] == ["sox"]
    html = "".join(p.read_text(encoding="utf-8") for p in pack.rglob("*.html"))
    assert "sox" in html and "ITGC-CM-1" in html
    oscal = "".join(p.read_text(encoding="utf-8") for p in (pack / "oscal").rglob("*.json"))
    assert "sox:ITGC-CM-1" in oscal


def test_frameworks_a_directory_adds_follow_the_shipped_ones(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "frameworks.yaml").write_text("sox: SOX ITGC (internal)\n", encoding="utf-8")
    (mine / "ORG-01-request.yaml").write_text(SOX_CONTROL, encoding="utf-8")
    pack = tmp_path / "pack"
    result = report(capsys, *assessing(clean, tmp_path / "s", "--out", pack, "--controls-dir",
                                       mine, "--format", "json", "-q"))  # fmt: skip
    assert result.code in (ExitCode.OK, ExitCode.CONTROLS_FAILED), result.err
    data = json.loads((pack / "evidence.json").read_text(encoding="utf-8"))
    assert data["frameworks"] == ["soc2", "iso27001", "pci-dss", "nist-800-53", "sox"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- sox\n", "frameworks.yaml: expected a non-empty mapping of framework names to labels"),
        ("SOX: SOX ITGC\n", "frameworks.yaml: SOX: a framework's name is lower-case letters"),
        ("sox: 3\n", "frameworks.yaml: sox: expected a label (text), got 3"),
        ("sox: [\n", "frameworks.yaml: invalid YAML at line 2"),
    ],
)
def test_a_bad_frameworks_file_exits_2_naming_file_and_key(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path, text: str, problem: str
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "frameworks.yaml").write_text(text, encoding="utf-8")
    (mine / "ORG-01-request.yaml").write_text(SOX_CONTROL, encoding="utf-8")
    result = report(capsys, *assessing(clean, tmp_path / "s", "--out", tmp_path / "pack",
                                       "--controls-dir", mine, "--format", "json"))  # fmt: skip
    assert result.code == ExitCode.USAGE, result.err
    [line] = result.err.strip().splitlines()
    assert problem in line and str(mine / "frameworks.yaml") in line

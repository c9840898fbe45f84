"""``auditor check``: statuses, exit codes, findings formats, frameworks, samples and forges."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract import CONTRACT_FINDING_COLUMNS, CONTRACT_STATUSES
from forge_server import ForgeServer, bad_credentials, server_error
from forgerepo import GITHUB_REPO, GITLAB_PROJECT, PERIOD_START, ForgeRepo, build, shallow_clone
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.evidence.columns import FINDING_COLUMNS

WAIVERS = """\
waivers:
  - id: W-7
    control: CHG-04
    request: 3
    owner: platform-team
    ticket: OPS-90
    reason: Erin merged her own note while the team was offline.
    approved_by: cto@acme.example
    expires: 2030-01-01
"""


@pytest.fixture
def history(repo: GitRepo) -> ForgeRepo:
    return build(repo, "github")


@pytest.fixture
def clean(repo: GitRepo) -> ForgeRepo:
    return build(repo, "github", violations=False)


def check(capsys: pytest.CaptureFixture[str], history: ForgeRepo, *args: Any) -> tuple[int, str]:
    """``check`` of the history's period (the root commit left out), from its export file."""
    export = history.write_export(history.path.parent / f"{history.forge}-reviews.json")
    argv = ["check", history.path, "--store", history.path.parent / "store", "-q",
            "--since", PERIOD_START, "--reviews-file", export, *args]  # fmt: skip
    code = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def findings(capsys: pytest.CaptureFixture[str], history: ForgeRepo, *args: Any) -> list[dict]:
    code, out = check(capsys, history, "--format", "json", *args)
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED, ExitCode.INCOMPLETE)
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def status_of(rows: list[dict[str, Any]], control: str, commit: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r["control_id"] == control and r["commit"] == commit]
    return row


def test_pass_fail_and_waived_findings(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    rows = findings(capsys, history, "--waivers", waivers)
    change = history.changes
    assert status_of(rows, "CHG-02", change["#1"])["status"] == "pass"
    assert "dave" in status_of(rows, "CHG-02", change["#1"])["reason"]
    assert status_of(rows, "CHG-02", change["#3"])["status"] == "fail"
    assert status_of(rows, "CHG-01", change["direct"])["status"] == "fail"
    waived = status_of(rows, "CHG-04", change["#3"])
    assert (waived["status"], waived["waiver_id"]) == ("waived", "W-7")
    assert waived["reason"] == (
        "request #3 merged by its contributor Erin Eager <erin@example.com> with no independent"
        " approval"
    )
    assert status_of(rows, "CHG-04", change["direct"])["status"] == "not_applicable"
    assert change["root"] not in {r["commit"] for r in rows}, "the period leaves the root out"


def test_review_data_missing_for_a_change_is_unknown_never_guessed(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    history.bundles = [b for b in history.bundles if b["pull"]["number"] != 3]
    rows = findings(capsys, history)
    for control in ("CHG-01", "CHG-02", "CHG-04", "CHG-05"):
        row = status_of(rows, control, history.changes["#3"])
        assert row["status"] == "unknown", control
        assert row["change_request"] == 3
    assert status_of(rows, "CHG-01", history.changes["#3"])["reason"] == (
        "the message names request #3, which the review data lacks; its merge cannot be confirmed"
    )
    assert status_of(rows, "CHG-02", history.changes["#3"])["reason"] == (
        "names #3, which the review data lacks; its review cannot be confirmed"
    )
    code, _ = check(capsys, history)
    assert code == ExitCode.INCOMPLETE, "review data missing where a control needs it"


def test_without_review_data_review_controls_are_unknown(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    argv = ["check", history.path, "--store", history.path.parent / "s", "--format", "json",
            "-q", "--since", PERIOD_START]  # fmt: skip
    code = run([str(a) for a in argv])
    rows = json.loads(capsys.readouterr().out)
    for control in ("CHG-01", "CHG-02", "CHG-05"):
        assert {r["status"] for r in rows if r["control_id"] == control} == {"unknown"}
    assert code == ExitCode.CONTROLS_FAILED, "unsigned commits still fail INT-01"


def test_exit_0_when_every_control_passes(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo
) -> None:
    code, out = check(capsys, clean, "--framework", "pci-dss")
    assert code == ExitCode.OK, out
    assert "INT-01" not in out, "signing maps to no PCI DSS requirement"
    assert "failing changes" not in out


def test_fail_on_high_ignores_low_failures(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo
) -> None:
    code, out = check(capsys, clean)
    assert code == ExitCode.CONTROLS_FAILED
    failing = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert set(failing) == {"INT-01"}, "unsigned commits are the only, low-severity, failure"
    assert check(capsys, clean, "--fail-on", "high")[0] == ExitCode.OK
    assert check(capsys, clean, "--fail-on", "medium,high,critical")[0] == ExitCode.OK
    assert check(capsys, clean, "--fail-on", "low")[0] == ExitCode.CONTROLS_FAILED


def test_exit_1_lists_every_failing_change(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    code, out = check(capsys, history)
    assert code == ExitCode.CONTROLS_FAILED
    header, *lines = out.splitlines()
    assert header.split() == [
        "control", "population", "passed", "failed", "unknown", "n/a", "waived", "status", "title",
    ]  # fmt: skip
    table = lines[: lines.index("")]
    summary = {line.split()[0]: line.split()[1:8] for line in table}
    assert summary["CHG-04"] == ["3", "2", "1", "0", "1", "0", "fail"]
    assert summary["INT-02"][-1] == "unknown"  # a store that first mined it with this run
    status = re.compile("  (pass|fail|unknown|not applicable|waived)  ")
    columns = {found.start() for line in table if (found := status.search(line))}
    assert len([line for line in table if status.search(line)]) == len(table)
    assert len(columns) == 1, table  # the status column starts at one place on every line
    assert any("  not applicable  " in line for line in table)  # statuses in words
    direct = history.changes["direct"][:12]
    assert re.search(rf"^  CHG-01 +acme/infra-live@{direct}", out, re.M)
    assert "pushed directly by Bob Builder <bob@example.com>; no merged request" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "urgent"], "--fail-on"),
        (["--framework", "sox"], "unknown framework 'sox'"),
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--reviews-file", "{tmp}/missing.json"], "does not exist"),
        (["--waivers", "{tmp}/bad.yaml"], "bad.yaml: expected a mapping with one key, waivers"),
        (["--sample", "0"], "--sample"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "bad.yaml").write_text("- nope\n", encoding="utf-8")
    argv = ["check", str(history.path), "--store", str(tmp_path / "s"), "-q"]
    code = run(argv + [a.format(tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert message in err and len(err.strip().splitlines()) == 1


def test_shallow_clone_is_incomplete_whatever_the_results(
    capsys: pytest.CaptureFixture[str], clean: ForgeRepo, tmp_path: Path
) -> None:
    clone = shallow_clone(clean.path, tmp_path / "shallow")
    code = run(["check", str(clone), "--store", str(tmp_path / "s"), "-q"])
    assert code == ExitCode.INCOMPLETE
    assert "evidence incomplete: shallow clone" in capsys.readouterr().err


def test_csv_and_json_findings_have_the_contract_columns(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    code, out = check(capsys, history, "--format", "csv")
    assert code == ExitCode.CONTROLS_FAILED
    assert out.count("\r\n") == out.count("\n"), "RFC 4180 line ends"
    table = list(csv.DictReader(io.StringIO(out)))
    assert set(CONTRACT_FINDING_COLUMNS) <= set(table[0])
    assert out.split("\r\n", 1)[0].split(",") == list(FINDING_COLUMNS), "findings.csv's layout"
    rows = findings(capsys, history)
    assert len(rows) == len(table)
    assert all(set(r) == set(FINDING_COLUMNS) for r in rows), "the same columns in JSON"
    assert all(isinstance(r["framework_refs"], list) for r in rows), "a list, not a CSV cell"
    per_control = Counter(r["control_id"] for r in rows)
    assert set(per_control.values()) <= {1, 4}, "each change once per control, or the repository"
    assert per_control["INT-02"] == 1 and per_control["CHG-01"] == 4
    assert {r["status"] for r in table} <= set(CONTRACT_STATUSES)
    for row, line in zip(rows, table, strict=True):
        assert set(CONTRACT_FINDING_COLUMNS) <= set(row)
        assert line["change_id"] == (row["change_id"] or "")
        assert line["status"] == row["status"] and line["control_id"] == row["control_id"]
    merged = status_of(rows, "CHG-02", history.changes["#1"])
    assert merged["change_id"] == f"acme/infra-live@{history.changes['#1'][:12]}"
    assert merged["change_request"] == 1 and merged["severity"] == "high"
    assert "soc2:CC8.1" in merged["framework_refs"]


def test_framework_filter_keeps_its_controls_and_references(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    every = findings(capsys, history)
    pci = findings(capsys, history, "--framework", "pci-dss")
    assert "INT-01" in {r["control_id"] for r in every}
    assert "INT-01" not in {r["control_id"] for r in pci}
    assert all(ref.startswith("pci-dss:") for r in pci for ref in _refs(r))
    two = findings(capsys, history, "--framework", "soc2", "--framework", "iso27001")
    prefixes = {ref.split(":")[0] for r in two for ref in _refs(r)}
    assert prefixes == {"soc2", "iso27001"}


def _refs(row: dict[str, Any]) -> list[str]:
    refs = row["framework_refs"]
    return refs if isinstance(refs, list) else [r for r in refs.split(";") if r]


def test_sample_is_deterministic_and_re_performable(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    code, first = check(capsys, history, "--sample", "2", "--seed", "q3-audit")
    second = check(capsys, history, "--sample", "2", "--seed", "q3-audit")[1]
    assert code == ExitCode.CONTROLS_FAILED and first == second
    section = first.split("\nsample (seed 'q3-audit', ")[1].splitlines()
    drawn = [line.split() for line in section[1:]]
    rows = findings(capsys, history)
    for control in sorted({r["control_id"] for r in rows}):
        population = sorted(
            {r["change_id"] for r in rows if r["control_id"] == control
             and r["change_id"] and r["status"] != "not_applicable"}
        )  # fmt: skip
        keyed = sorted(
            (hashlib.sha256(f"q3-audit:{control}:{change}".encode()).hexdigest(), change)
            for change in population
        )
        expected = [[control, f"#{n}", change] for n, (_, change) in enumerate(keyed[:2], 1)]
        assert [d for d in drawn if d[0] == control] == expected, control
    assert section[0] == f"{len(drawn)} items):"


# -- live forges ---------------------------------------------------------------------------------


@pytest.fixture
def served(
    request: pytest.FixtureRequest, repo: GitRepo
) -> Iterator[tuple[ForgeRepo, ForgeServer, str]]:
    history = build(repo, request.param)
    with ForgeServer(page_size=2) as server:
        if history.forge == "github":
            server.github[GITHUB_REPO] = history.bundles
            yield history, server, server.url
        else:
            server.gitlab[GITLAB_PROJECT] = history.bundles
            yield history, server, server.gitlab_url


def live(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, url: str, *args: Any
) -> tuple[int, list[dict[str, Any]], str]:
    argv = ["check", history.path, "--store", history.path.parent / "live", "-q",
            "--since", PERIOD_START, "--forge", history.forge, "--forge-url", url,
            "--format", "json", *args]  # fmt: skip
    code = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("served", ["github", "gitlab"], indirect=True)
def test_forge_run_links_requests_and_judges_them(
    capsys: pytest.CaptureFixture[str],
    served: tuple[ForgeRepo, ForgeServer, str],
    tmp_path: Path,
) -> None:
    history, server, url = served
    roster = history.roster(tmp_path / "people.csv")
    code, rows, err = live(capsys, history, url, "--roster", roster)
    assert code == ExitCode.CONTROLS_FAILED, err
    change = history.changes
    assert status_of(rows, "CHG-01", change["#2"])["change_request"] == 2
    assert status_of(rows, "CHG-04", change["#3"])["status"] == "fail"
    assert status_of(rows, "CHG-04", change["#1"])["status"] == "pass"
    assert status_of(rows, "CHG-05", change["#2"])["status"] == "pass"
    assert status_of(rows, "CHG-01", change["direct"])["status"] == "fail"
    assert {r["status"] for r in rows if r["control_id"] == "IAM-01"} == {"pass"}
    assert len(server.requests_to(r"/(pulls|merge_requests)$")) == 2, "two pages of requests"


@pytest.mark.parametrize("served", ["github", "gitlab"], indirect=True)
@pytest.mark.parametrize(
    ("where", "episode"),
    [("pulls|merge_requests", bad_credentials()), ("page=2", server_error(404))],
    ids=["refused", "mid-pagination"],
)
def test_forge_failure_is_incomplete_never_no_reviews(
    capsys: pytest.CaptureFixture[str],
    served: tuple[ForgeRepo, ForgeServer, str],
    where: str,
    episode: Any,
) -> None:
    history, server, url = served
    server.script(where, episode)
    code, rows, err = live(capsys, history, url)
    assert code == ExitCode.INCOMPLETE
    assert "evidence incomplete" in err
    assert {r["status"] for r in rows if r["control_id"] in ("CHG-01", "CHG-02")} == {"unknown"}
    assert (
        "no merged request named" in status_of(rows, "CHG-01", history.changes["direct"])["reason"]
    )


def test_config_supplies_period_review_source_waivers_and_overrides(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    export = history.write_export(tmp_path / "reviews.json")
    (tmp_path / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    config = tmp_path / "auditor.toml"
    config.write_text(
        f"""[audit]
since = "{PERIOD_START}"
waivers = "waivers.yaml"

[[repository]]
path = "{history.path}"
reviews_file = "{export.name}"

[[overrides."CHG-01"]]
parameters = {{ allow = ['^bob@example\\.com$'] }}
""",
        encoding="utf-8",
    )
    argv = ["check", history.path, "--store", tmp_path / "store", "-q", "--format", "json",
            "--config", config]  # fmt: skip
    assert run([str(a) for a in argv]) == ExitCode.CONTROLS_FAILED
    rows = json.loads(capsys.readouterr().out)
    change = history.changes
    assert status_of(rows, "CHG-01", change["direct"])["status"] == "pass"  # the override
    assert status_of(rows, "CHG-04", change["#3"])["waiver_id"] == "W-7"  # the waivers file
    assert status_of(rows, "CHG-02", change["#1"])["status"] == "pass"  # the review source
    assert change["root"] not in {r["commit"] for r in rows}  # the period


def test_config_errors_name_file_key_and_line(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text('[audit]\nperiod = "last-quarter"\ncolour = "blue"\n', encoding="utf-8")
    code = run(
        ["check", str(history.path), "--store", str(tmp_path / "s"), "--config", str(config)]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert f"{config}:3" in err and "colour" in err
    assert "Traceback" not in err


STALE_WAIVERS = """\
waivers:
  - id: W-1
    control: CHG-04
    change: 0123456789abcdef
    owner: platform-team
    ticket: OPS-91
    reason: A change that never landed.
    approved_by: cto@acme.example
    expires: 2030-01-01
  - id: W-2
    control: CHG-04
    request: 3
    owner: platform-team
    ticket: OPS-92
    reason: Erin merged her own note while the team was offline.
    approved_by: cto@acme.example
    expires: 2020-01-01
"""


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_every_format_warns_as_report_does(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path, fmt: str
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(STALE_WAIVERS, encoding="utf-8")
    export = history.write_export(tmp_path / "reviews.json")
    given = ["--store", tmp_path / "store", "--since", PERIOD_START, "--reviews-file", export,
             "--waivers", waivers, "-q"]  # fmt: skip
    code = run([str(a) for a in ["check", history.path, "--format", fmt, *given]])
    _, err = capsys.readouterr()
    assert code == ExitCode.CONTROLS_FAILED  # W-2 has expired: #3 fails CHG-04 again
    checked = warnings_of(err)
    assert checked == [
        "warning: waiver W-1 matched nothing",
        "warning: waiver W-2 has expired and no longer applies",
    ]
    code = run([str(a) for a in ["report", history.path, "--out", tmp_path / "pack",
                                 "--format", "json", *given]])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == ExitCode.CONTROLS_FAILED
    assert warnings_of(err) == checked

"""What the population of a period holds, and what is said when it holds nothing: a period not
yet started, an empty period, a change force-pushed away after it landed, the head as of the
period's end."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitrepo import BASE_TIME, GitRepo
from pypdf import PdfReader

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

DAY = 86_400
AS_OF = "2025-03-01T00:00:00Z"
SG = 'resource "aws_security_group" "web" {\n  name = "%s"\n}\n'


@dataclass
class Result:
    code: int
    out: str
    err: str


def auditor(*args: object) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([str(a) for a in args])
    result = Result(code, out.getvalue(), err.getvalue())
    assert "Traceback" not in result.err
    return result


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def pdf_text(path: Path) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages)


def history(repo: GitRepo) -> list[str]:
    """Three direct pushes on main, one a day from 2025-01-02."""
    return [
        repo.commit(f"change {i}", {"sg.tf": SG % i}, when=BASE_TIME + (i + 1) * DAY)
        for i in range(3)
    ]


# -- a period that has not started ------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "changes", "report"])
def test_a_period_starting_after_as_of_is_a_usage_error(
    repo: GitRepo, tmp_path: Path, command: str
) -> None:
    history(repo)
    extra = ["--out", tmp_path / "pack", "--format", "csv"] if command == "report" else []
    result = auditor(
        command, repo.path, "--store", tmp_path / "s", "--since", "2025-06-01",
        "--as-of", AS_OF, *extra,
    )  # fmt: skip
    assert result.code == ExitCode.USAGE
    [line] = result.err.strip().splitlines()
    assert "--since" in line and "--as-of" in line
    assert "2025-06-01T00:00:00Z" in line and "2025-03-01T00:00:00Z" in line
    assert not (tmp_path / "pack").exists()


def test_a_config_period_starting_after_as_of_names_the_key(repo: GitRepo, tmp_path: Path) -> None:
    history(repo)
    config = tmp_path / "auditor.toml"
    config.write_text(
        f'[audit]\nperiod = "2025-Q3"\nformats = ["csv"]\noutput = "packs"\nstore = "s"\n\n'
        f'[[repository]]\npath = "{repo.path}"\n',
        encoding="utf-8",
    )
    result = auditor("run", "--config", config, "--as-of", AS_OF)
    assert result.code == ExitCode.USAGE
    [line] = result.err.strip().splitlines()
    assert "auditor.toml" in line and "audit.period" in line and "--as-of" in line
    assert not (tmp_path / "packs").exists()


def test_a_period_that_started_is_accepted(repo: GitRepo, tmp_path: Path) -> None:
    history(repo)
    result = auditor(
        "changes", repo.path, "--store", tmp_path / "s", "--since", "2025-01-03",
        "--as-of", AS_OF, "--format", "csv",
    )  # fmt: skip
    assert result.code == ExitCode.OK
    assert [r["subject"] for r in csv.DictReader(io.StringIO(result.out))] == [
        "change 1", "change 2",
    ]  # fmt: skip


# -- an empty population --------------------------------------------------------------------


def test_an_empty_population_is_warned_about_and_stated_in_the_pack(
    repo: GitRepo, tmp_path: Path
) -> None:
    history(repo)
    out = tmp_path / "pack"
    period = ("--since", "2025-02-01", "--until", "2025-02-28")
    checked = auditor("check", repo.path, "--store", tmp_path / "s", *period, "--as-of", AS_OF)
    made = auditor(
        "report", repo.path, "--store", tmp_path / "s", *period, "--as-of", AS_OF,
        "--out", out, "--format", "pdf,html,json",
    )  # fmt: skip
    for result in (checked, made):
        assert "warning: the population is empty: no change landed on an audited branch" in (
            result.err
        )
        assert "2025-02-01..2025-02-28" in result.err
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["changes"] == []
    [said] = evidence["empty_populations"]
    assert said.startswith("the population is empty") and "2025-02-01..2025-02-28" in said
    assert said in (out / "index.html").read_text(encoding="utf-8")
    assert "Warning: the population is empty" in pdf_text(out / "report.pdf")


def test_a_population_with_changes_says_nothing_of_the_kind(repo: GitRepo, tmp_path: Path) -> None:
    history(repo)
    out = tmp_path / "pack"
    made = auditor(
        "report", repo.path, "--store", tmp_path / "s", "--as-of", AS_OF, "--out", out,
        "--format", "json",
    )  # fmt: skip
    assert "population is empty" not in made.err
    assert (
        json.loads((out / "evidence.json").read_text(encoding="utf-8"))["empty_populations"] == []
    )


# -- a change force-pushed away ---------------------------------------------------------------


@dataclass
class Pushed:
    kept: list[str]
    dropped: str  # the change that landed, was mined, then was force-pushed away
    replacement: str


MINED_AT = "2025-01-10T00:00:00Z"
DETECTED_AT = "2025-02-01T00:00:00Z"


def force_pushed(repo: GitRepo, store: Path, *, collect_garbage: bool = False) -> Pushed:
    """Two changes, mined; a third lands and is mined; main is reset and a replacement pushed."""
    kept = history(repo)[:2]
    repo.git("reset", "-q", "--hard", kept[-1])
    assert auditor("mine", repo.path, "--store", store, "--as-of", MINED_AT).code == ExitCode.OK
    dropped = repo.commit(
        "open the security group",
        {"sg.tf": SG % "open", "iam.tf": 'resource "aws_iam_role" "r" {}\n'},
        author=("Mallory Maker", "mallory@example.com"),
        when=BASE_TIME + 5 * DAY,
    )
    assert auditor("mine", repo.path, "--store", store, "--as-of", MINED_AT).code == ExitCode.OK
    repo.git("reset", "-q", "--hard", kept[-1])
    replacement = repo.commit("tidy up", {"README.md": "x\n"}, when=BASE_TIME + 6 * DAY)
    if collect_garbage:
        repo.git("reflog", "expire", "--expire=now", "--all")
        repo.git("gc", "-q", "--prune=now")
    return Pushed(kept, dropped, replacement)


def _report(repo: GitRepo, tmp_path: Path, *extra: object) -> tuple[Result, Path]:
    out = tmp_path / "pack"
    result = auditor(
        "report", repo.path, "--store", tmp_path / "s", "--as-of", DETECTED_AT, "--out", out,
        "--format", "pdf,html,csv,json", *extra,
    )  # fmt: skip
    return result, out


def test_a_change_force_pushed_away_stays_in_the_population_marked_rewritten(
    repo: GitRepo, tmp_path: Path
) -> None:
    pushed = force_pushed(repo, tmp_path / "s")
    result, out = _report(repo, tmp_path)
    assert result.code == ExitCode.CONTROLS_FAILED
    name = repo.path.name
    dropped_id = f"{name}@{pushed.dropped[:12]}"

    changes = {r["commit"]: r for r in rows(out / "csv" / "changes.csv")}
    assert set(changes) == {*pushed.kept, pushed.dropped, pushed.replacement}
    assert changes[pushed.dropped]["rewritten"] == DETECTED_AT
    assert changes[pushed.dropped]["author_name"] == "Mallory Maker"
    assert changes[pushed.dropped]["files_changed"] == "2"
    assert "network" in changes[pushed.dropped]["categories"]  # objects still in the repo
    assert {changes[c]["rewritten"] for c in (*pushed.kept, pushed.replacement)} == {""}
    custody = [r for r in rows(out / "csv" / "commits.csv") if r["commit"] == pushed.dropped]
    assert [r["change_id"] for r in custody] == [dropped_id]

    [int02] = [r for r in rows(out / "csv" / "findings.csv") if r["control_id"] == "INT-02"]
    assert int02["status"] == "fail" and "history-rewritten on main" in int02["reason"]
    assert "1 commit dropped" in int02["reason"]
    assert int02["reason"].endswith(
        f"changes of the period rewritten away (kept in the population): {dropped_id}"
    )
    on_dropped = [r for r in rows(out / "csv" / "findings.csv") if r["change_id"] == dropped_id]
    assert on_dropped, "the rewritten change is evaluated like any other"

    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    marked = {c["change"]["commit"]["sha"]: c["change"]["rewritten"] for c in evidence["changes"]}
    assert marked[pushed.dropped] == "2025-02-01T00:00:00+00:00"  # as evidence.json writes times
    assert {marked[c] for c in (*pushed.kept, pushed.replacement)} == {None}

    pages = list((out / "changes").glob("*.html"))
    page = next(p for p in pages if pushed.dropped[:12] in p.name)
    html = page.read_text(encoding="utf-8")
    assert "Rewritten away" in html and DETECTED_AT in html
    kept_page = next(p for p in pages if pushed.kept[0][:12] in p.name)
    assert "Rewritten away" not in kept_page.read_text(encoding="utf-8")

    text = pdf_text(out / "report.pdf")
    assert "Changes rewritten away" in text
    assert dropped_id in text and DETECTED_AT in text


def test_a_rewritten_change_whose_objects_are_gone_has_unknown_analysis(
    repo: GitRepo, tmp_path: Path
) -> None:
    pushed = force_pushed(repo, tmp_path / "s", collect_garbage=True)
    missing = repo.git("cat-file", "--batch-check", input=f"{pushed.dropped}\n".encode())
    assert missing.endswith("missing")  # the force-pushed commit is gone from the repository
    result, out = _report(repo, tmp_path)
    assert result.code == ExitCode.CONTROLS_FAILED
    [row] = [r for r in rows(out / "csv" / "changes.csv") if r["commit"] == pushed.dropped]
    assert row["rewritten"] == DETECTED_AT
    assert (row["files_changed"], row["paths"]) == ("2", "iam.tf;sg.tf")  # from the store
    assert row["categories"] == ""  # unknown, not "other"
    dropped_id = f"{repo.path.name}@{pushed.dropped[:12]}"
    findings = {
        r["control_id"]: r
        for r in rows(out / "csv" / "findings.csv")
        if r["change_id"] == dropped_id
    }
    assert findings["SEC-01"]["status"] == "unknown"
    assert "not analysed" in findings["SEC-01"]["reason"]
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    [facts] = [c for c in evidence["changes"] if c["change"]["commit"]["sha"] == pushed.dropped]
    assert any("no longer in the repository" in n for n in facts["notes"])


def test_a_change_force_pushed_back_is_not_marked(repo: GitRepo, tmp_path: Path) -> None:
    pushed = force_pushed(repo, tmp_path / "s")
    repo.git("reset", "-q", "--hard", pushed.dropped)  # the push is undone
    _, out = _report(repo, tmp_path)
    changes = {r["commit"]: r["rewritten"] for r in rows(out / "csv" / "changes.csv")}
    assert changes == dict.fromkeys([*pushed.kept, pushed.dropped], "")


def test_a_rewritten_change_outside_the_period_stays_out(repo: GitRepo, tmp_path: Path) -> None:
    pushed = force_pushed(repo, tmp_path / "s")
    _, out = _report(repo, tmp_path, "--until", "2025-01-04")
    commits = [r["commit"] for r in rows(out / "csv" / "changes.csv")]
    assert pushed.dropped not in commits and commits == pushed.kept[:2]


def test_the_ledger_lists_the_rewritten_change_with_its_first_detection_time(
    repo: GitRepo, tmp_path: Path
) -> None:
    pushed = force_pushed(repo, tmp_path / "s")
    store = tmp_path / "s"
    assert auditor("mine", repo.path, "--store", store, "--as-of", DETECTED_AT).code == 0
    repo.git("reset", "-q", "--hard", pushed.kept[-1])  # a second rewrite drops the replacement
    later = "2025-02-10T00:00:00Z"
    listed = auditor("changes", repo.path, "--store", store, "--as-of", later, "--format", "csv")
    assert listed.code == ExitCode.OK
    marked = {r["commit"]: r["rewritten"] for r in csv.DictReader(io.StringIO(listed.out))}
    assert marked == {
        pushed.kept[0]: "",
        pushed.kept[1]: "",
        pushed.dropped: DETECTED_AT,  # the first rewrite found it; the second does not move it
        pushed.replacement: later,
    }


def test_the_resource_ledger_keeps_whole_values(repo: GitRepo, tmp_path: Path) -> None:
    long = "allow " + " ".join(f"10.0.{i}.0/24" for i in range(40))  # 560 characters
    repo.commit("sg", {"sg.tf": SG % "web"})
    repo.commit("describe", {"sg.tf": SG.replace("}", f'  description = "{long}"\n}}') % "web"})
    listed = auditor(
        "changes", repo.path, "--store", tmp_path / "s", "--level", "resource",
        "--format", "csv", "--as-of", AS_OF,
    )  # fmt: skip
    assert listed.code == ExitCode.OK
    [row] = [
        r
        for r in csv.DictReader(io.StringIO(listed.out))
        if "description" in r["changed_attributes"]
    ]
    assert row["changed_attributes"] == f"description: (absent) → {long}"
    assert "…" not in listed.out


# -- a repository missing objects ---------------------------------------------------------------


def _remove_object(repo: GitRepo, sha: str) -> None:
    (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()


def test_a_missing_commit_says_the_repository_is_incomplete_or_corrupt(
    repo: GitRepo, tmp_path: Path
) -> None:
    commits = history(repo)
    _remove_object(repo, commits[1])
    result = auditor("mine", repo.path, "--store", tmp_path / "s", "--as-of", AS_OF)
    assert result.code == ExitCode.INCOMPLETE
    [line] = result.err.strip().splitlines()
    assert "the repository is incomplete or corrupt" in line and commits[1] in line
    assert "no evidence is taken from it" in line and "git fsck --full" in line


def test_file_contents_missing_after_mining_are_unknown_and_incomplete(
    repo: GitRepo, tmp_path: Path
) -> None:
    commits = history(repo)
    assert auditor("mine", repo.path, "--store", tmp_path / "s", "--as-of", AS_OF).code == 0
    _remove_object(repo, repo.git("rev-parse", f"{commits[1]}:sg.tf"))
    out = tmp_path / "pack"
    made = auditor(
        "report", repo.path, "--store", tmp_path / "s", "--as-of", AS_OF, "--out", out,
        "--format", "csv",
    )  # fmt: skip
    assert made.code == ExitCode.INCOMPLETE
    damaged = f"{repo.path.name}@{commits[1][:12]}"
    after = f"{repo.path.name}@{commits[2][:12]}"  # the blob is also the next change's before
    assert "the repository is incomplete or corrupt: the file contents of 2 change(s)" in made.err
    assert f"{damaged}, {after}" in made.err
    assert f"{repo.path.name}@{commits[0][:12]}" not in made.err
    changes = {r["change_id"]: r for r in rows(out / "csv" / "changes.csv")}
    assert changes[damaged]["categories"] == ""  # unknown, not analysed as an empty file
    assert changes[damaged]["rewritten"] == ""
    [sec] = [
        r
        for r in rows(out / "csv" / "findings.csv")
        if r["change_id"] == damaged and r["control_id"] == "SEC-01"
    ]
    assert sec["status"] == "unknown"


# -- the head a pack describes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "head", "end"),
    [
        (("--as-of", "2025-01-03T12:00:00Z"), 1, "2025-01-03T12:00:00Z"),
        (("--until", "2025-01-02", "--as-of", AS_OF), 0, "2025-01-02T23:59:59Z"),
    ],
    ids=["past-as-of", "period-end"],
)
def test_the_cover_shows_the_head_as_of_the_period_end(
    repo: GitRepo, tmp_path: Path, window: tuple[str, ...], head: int, end: str
) -> None:
    commits = history(repo)  # landed 2025-01-02, -03 and -04 at 00:00
    out = tmp_path / "pack"
    made = auditor(
        "report", repo.path, "--store", tmp_path / "s", *window, "--out", out,
        "--format", "pdf,html,json",
    )  # fmt: skip
    assert made.code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    [branch] = json.loads((out / "evidence.json").read_text(encoding="utf-8"))["repositories"][0][
        "branches"
    ]
    assert (branch["head"], branch["tip"]) == (commits[head], commits[2])
    assert branch["head_at"].startswith(end.removesuffix("Z"))
    text = pdf_text(out / "report.pdf")
    cover = text.split("Repositories", 1)[1].split("Contents", 1)[0]
    landed = f"2025-01-0{head + 2}T00:00:00Z"
    assert f"the last change at or before {end}, which landed {landed}" in cover
    squeezed = cover.replace(" ", "")  # the PDF's text breaks long SHAs
    assert f"main{commits[head]}thelastchange" in squeezed
    assert f"tipwhenmined:{commits[2]}" in squeezed
    index = (out / "index.html").read_text(encoding="utf-8")
    assert (
        f"<code>{commits[head]}</code>" in index and f"tip when mined: <code>{commits[2]}" in index
    )


def test_the_head_is_the_tip_when_the_period_reaches_it(repo: GitRepo, tmp_path: Path) -> None:
    commits = history(repo)
    out = tmp_path / "pack"
    auditor(
        "report", repo.path, "--store", tmp_path / "s", "--as-of", AS_OF, "--out", out,
        "--format", "html",
    )  # fmt: skip
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f"<code>{commits[2]}</code>" in index and "tip when mined" not in index


def test_the_head_at_the_period_end_may_be_a_change_rewritten_away_since(
    repo: GitRepo, tmp_path: Path
) -> None:
    pushed = force_pushed(repo, tmp_path / "s")  # landed 2025-01-06, rewritten away 2025-02-01
    _, out = _report(repo, tmp_path, "--until", "2025-01-06")
    [branch] = json.loads((out / "evidence.json").read_text(encoding="utf-8"))["repositories"][0][
        "branches"
    ]
    assert (branch["head"], branch["tip"]) == (pushed.dropped, pushed.replacement)


def test_a_pack_as_of_before_the_rewrite_shows_the_change_on_its_branch(
    repo: GitRepo, tmp_path: Path
) -> None:
    pushed = force_pushed(repo, tmp_path / "s")
    _report(repo, tmp_path)  # the rewrite is detected at DETECTED_AT
    out = tmp_path / "before"
    auditor(
        "report", repo.path, "--store", tmp_path / "s", "--as-of", "2025-01-20T00:00:00Z",
        "--out", out, "--format", "csv",
    )  # fmt: skip
    changes = {r["commit"]: r["rewritten"] for r in rows(out / "csv" / "changes.csv")}
    assert changes[pushed.dropped] == ""  # it was on the branch as of then
    [int02] = [r for r in rows(out / "csv" / "findings.csv") if r["control_id"] == "INT-02"]
    # not failed: as of then no rewrite had been seen; nor passed: the store first mined the
    # branch after that --as-of, so it watched none of the period
    assert int02["status"] == "unknown"
    assert "first mined main no earlier than this run's --as-of time" in (int02["reason"])

"""A pack from local Git alone (no forge, no reviews file): every format states the same facts.

The request a message names travels into every finding, file and page; the pack says in words
that no review data was collected and which controls that leaves unconcluded; nothing untested
reads as passed (CHG-04, INT-01, IAM-01, OSCAL); the changes table's status stays useful.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo
from pypdf import PdfReader

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

AS_OF = "2026-04-01T00:00:00Z"
MAINTAINER = ("Mona Maintainer", "mona@example.com")
CONTRIBUTOR = ("Carl Contributor", "carl@example.com")
REVIEW_CONTROLS = ("CHG-02", "CHG-03", "CHG-04", "CHG-05")
NO_REVIEW_DATA = "No review data was collected"
NO_ROSTER = "no roster given; identities without a forge account cannot be judged"


@dataclass(frozen=True)
class Pack:
    path: Path
    shas: dict[str, str]

    def rows(self, table: str) -> list[dict[str, str]]:
        text = (self.path / "csv" / f"{table}.csv").read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text)))

    def change_id(self, name: str) -> str:
        return next(r["change_id"] for r in self.rows("changes") if r["commit"] == self.shas[name])

    def findings(self, name: str) -> dict[str, dict[str, str]]:
        change = self.change_id(name)
        return {r["control_id"]: r for r in self.rows("findings") if r["change_id"] == change}

    def evidence(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.path / "evidence.json").read_text("utf-8"))
        return document

    def html(self, page: str) -> str:
        return (self.path / page).read_text(encoding="utf-8")

    def change_page(self, name: str) -> str:
        page = next(self.path.glob(f"changes/*-{self.shas[name][:12]}-*.html"))
        return page.read_text(encoding="utf-8")

    def pdf(self) -> str:
        text = "\n".join(p.extract_text() for p in PdfReader(self.path / "report.pdf").pages)
        return re.sub(r"\s+", " ", text)

    def oscal(self) -> dict[str, dict[str, str]]:
        document = json.loads((self.path / "oscal" / "assessment-results.json").read_text("utf-8"))
        findings = document["assessment-results"]["results"][0]["findings"]
        return {f["target"]["target-id"]: f["target"]["status"] for f in findings}


def history(repo: GitRepo) -> dict[str, str]:
    """A GitHub-shaped history: a merge commit authored by the maintainer who merged a
    contributor's work, a squash merge, a GitLab merge, a direct push and a ticketed push."""
    shas = {"init": repo.commit("Add README", {"README.md": "hi\n"}, author=MAINTAINER)}
    repo.checkout("-b", "feature")
    repo.commit("Add the VPC", {"vpc.tf": 'resource "aws_vpc" "main" {}\n'}, author=CONTRIBUTOR)
    repo.checkout("main")
    shas["merge"] = repo.merge(
        "feature", "Merge pull request #5117 from carl/feature\n\nAdd the VPC", author=MAINTAINER
    )
    shas["squash"] = repo.commit(
        "Tag the subnets (#3275)", {"subnet.tf": "subnet\n"}, author=CONTRIBUTOR
    )
    shas["gitlab"] = repo.commit(
        "Size the cluster\n\nSee merge request acme/infra!42",
        {"eks.tf": "eks\n"},
        author=CONTRIBUTOR,
    )
    shas["direct"] = repo.commit("Tweak outputs", {"outputs.tf": "out\n"}, author=MAINTAINER)
    shas["ticket"] = repo.commit("INFRA-7 Pin module", {"pin.tf": "pin\n"}, author=MAINTAINER)
    repo.git("remote", "add", "origin", "https://github.com/acme/infra.git")
    return shas


def make_pack(repo: GitRepo, tmp_path: Path, *args: str) -> tuple[int, Pack]:
    shas = history(repo)
    out = tmp_path / "pack"
    code = run(
        ["report", str(repo.path), "--store", str(tmp_path / "store"), "--out", str(out),
         "--as-of", AS_OF, "--format", "pdf,html,csv,json,oscal", "-q", *args]
    )  # fmt: skip
    return code, Pack(out, shas)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    """One pack for the module's read-only tests (a PDF takes seconds to make)."""
    folder = tmp_path_factory.mktemp("local-git")
    code, made = make_pack(GitRepo(folder / "repo"), folder)
    assert code == ExitCode.CONTROLS_FAILED  # unsigned commits fail
    return made


NAMED = {"merge": 5117, "squash": 3275, "gitlab": 42}


def test_the_named_request_travels_into_every_finding_and_file(pack: Pack) -> None:
    changes = {r["commit"]: r for r in pack.rows("changes")}
    evidence = pack.evidence()
    facts = {c["change"]["commit"]["sha"]: c for c in evidence["changes"]}
    for name, number in NAMED.items():
        sha = pack.shas[name]
        assert changes[sha]["change_request"] == str(number), name
        assert {r["change_request"] for r in pack.findings(name).values()} == {str(number)}, name
        assert (facts[sha]["request_number"], facts[sha]["request_unconfirmed"]) == (number, True)
        in_json = {f["change_request"] for f in evidence["findings"] if f["commit"] == sha}
        assert in_json == {number}, name
    assert {r["change_request"] for r in pack.findings("direct").values()} == {""}
    assert facts[pack.shas["direct"]]["request_number"] is None


def test_reasons_say_what_is_known_of_a_named_request(pack: Pack) -> None:
    for name, number in NAMED.items():
        found = pack.findings(name)
        assert found["CHG-01"]["status"] == "unknown", name
        assert found["CHG-01"]["reason"] == (
            f"names #{number}; no review data to confirm it landed through that request"
        )
        for control in REVIEW_CONTROLS:
            assert found[control]["status"] == "unknown", (name, control)
            assert found[control]["reason"] == (
                f"names #{number}; no review data to confirm it was reviewed"
            )
    reasons = [r["reason"] for n in NAMED for r in pack.findings(n).values()]
    assert not [r for r in reasons if "no merged request named" in r or "direct push" in r]
    direct = pack.findings("direct")["CHG-01"]
    assert direct["status"] == "unknown"
    assert direct["reason"].startswith("no merged request named in the message of")


def test_chg04_on_a_merge_commit_without_review_data_is_unknown(pack: Pack) -> None:
    for name in ("merge", "direct"):
        chg04 = pack.findings(name)["CHG-04"]
        assert chg04["status"] == "unknown", name
        assert "nothing was merged by anyone" not in chg04["reason"]
    totals = {r["control_id"]: r for r in pack.rows("controls")}
    assert totals["CHG-04"]["not_applicable"] == "0"
    assert totals["CHG-04"]["status"] == "unknown"


def test_iam01_without_a_roster_is_unknown_and_said_once(pack: Pack) -> None:
    iam = [r for r in pack.rows("findings") if r["control_id"] == "IAM-01"]
    assert {(r["status"], r["reason"]) for r in iam} == {("unknown", NO_ROSTER)}
    pdf = pack.pdf()
    assert "identities that map to nobody in the roster" not in pdf
    assert pdf.count("No roster was given") == 1  # in the scope
    assert pack.html("index.html").count("No roster was given") == 1


def test_int01_unsigned_fails_and_no_unverified_pass(pack: Pack) -> None:
    int01 = {r["status"] for r in pack.rows("findings") if r["control_id"] == "INT-01"}
    assert int01 == {"fail"}  # every commit here is unsigned


def test_html_and_pdf_name_the_request_and_say_direct_push_only_when_true(pack: Pack) -> None:
    merge = pack.change_page("merge")
    assert ">#5117</a>" in merge
    assert "(named in the message; no review data to confirm it)" in merge
    assert "direct push" not in merge.split("<dt>Change request</dt>")[1].split("</dd>")[0]
    direct = pack.change_page("direct")
    assert "none (direct push)" not in direct
    assert "none named; no review data to tell a direct push from a rebase merge" in direct
    pdf = pack.pdf()
    assert "#5117 (named in the message; no review data to confirm it)" in pdf
    assert "#3275 (named in the message; no review data to confirm it)" in pdf
    assert "direct push ·" not in pdf and "none (direct push)" not in pdf


def test_the_pack_says_no_review_data_was_collected(pack: Pack) -> None:
    evidence = pack.evidence()
    assert [r["review_source"] for r in evidence["repositories"]] == ["none"]
    complete = "yes (Git history); review data: not collected"
    index = pack.html("index.html")
    pdf = pack.pdf()
    for text in (index, pdf):
        assert NO_REVIEW_DATA in text
        assert complete in text
        assert "These controls therefore cannot be concluded: CHG-01 (" in text
        assert "CHG-01 (Changes land through a merged change request: 6 of 6 changes)" in text
        # CHG-07 concludes only where a message names a ticket: without review data the
        # request's title and body, where tickets are usually named, were not collected
        assert "CHG-07 (Changes reference a change ticket: 5 of 6 changes)" in text
        for control in ("CHG-02", "CHG-03", "CHG-04", "CHG-05", "CHG-07"):
            assert f"{control} (" in text.split("cannot be concluded:")[1].split(".")[0]
        for control in ("IAM-01", "INT-01"):  # unknown or failed, but not for want of reviews
            assert f"{control} (" not in text.split("cannot be concluded:")[1].split(".")[0]
    assert pdf.count(NO_REVIEW_DATA) == 2  # the cover and the scope
    assert "Review data trailers" not in pdf and ">trailers<" not in index


def test_oscal_satisfies_only_passed_controls(pack: Pack) -> None:
    statuses = pack.oscal()
    totals = {r["control_id"]: r["status"] for r in pack.rows("controls")}
    expected = {
        "pass": ("satisfied", "pass"),
        "fail": ("not-satisfied", "fail"),
        "unknown": ("not-satisfied", "other"),
        "not_applicable": ("not-satisfied", "other"),
    }
    for control, status in totals.items():
        assert (statuses[control]["state"], statuses[control]["reason"]) == expected[status]
        assert ("remarks" in statuses[control]) is (expected[status][1] == "other")
    assert {"unknown", "not_applicable", "pass", "fail"} <= set(totals.values())


def test_the_changes_table_status_leaves_out_controls_that_judge_every_change_alike(
    pack: Pack,
) -> None:
    page = pack.html("changes.html")
    data = page.split('<script type="application/json" id="changes-data">')[1]
    rows = json.loads(data.split("</script>")[0])["rows"]
    by_commit = {r["id"]: r for r in rows}
    statuses = {name: by_commit[pack.change_id(name)]["st"] for name in pack.shas}
    # CHG-01…05, IAM-01 (unknown on all) and INT-01 (fail on all) tell no change apart; CHG-07
    # (ticket) does: pass with a ticket, unknown without one (no review data to search)
    assert statuses["direct"] == "unknown"
    assert statuses["ticket"] == "pass"
    assert statuses["squash"] == "unknown"
    assert by_commit[pack.change_id("ticket")]["ctl"]["INT-01"] == "fail"  # still filterable
    note = page.split('id="status-note">')[1].split("</p>")[0]
    assert "INT-01 (fail)" in note and "IAM-01 (unknown)" in note and "CHG-07" not in note


def test_trailers_are_a_review_source_only_when_some_exist(repo: GitRepo, tmp_path: Path) -> None:
    code, pack = make_pack(repo, tmp_path / "first")
    assert code == ExitCode.CONTROLS_FAILED
    assert pack.evidence()["repositories"][0]["review_source"] == "none"
    repo.commit(
        "Rotate the key\n\nReviewed-by: Rita Reviewer <rita@example.com>",
        {"key.tf": "k\n"},
        author=MAINTAINER,
    )
    out = tmp_path / "second"
    run(["report", str(repo.path), "--store", str(tmp_path / "first" / "store"), "--out",
         str(out), "--as-of", AS_OF, "--format", "html,json", "-q"])  # fmt: skip
    evidence = json.loads((out / "evidence.json").read_text("utf-8"))
    assert evidence["repositories"][0]["review_source"] == "trailers"
    index = (out / "index.html").read_text("utf-8")
    assert NO_REVIEW_DATA not in index
    assert "yes (Git history and review data from commit trailers)" in index

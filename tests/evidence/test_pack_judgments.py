"""The pack's judgments are true of the history, and read the same in every format.

A GitHub-shaped history (requests merged by merge commits that GitHub commits, a self-merge,
direct pushes, a Docker action, Kubernetes objects kept in a values-named file), audited from
local Git alone and with its review data: CHG-07 without review data, REP-01 on an action's
``runs.image``, values-named manifests, ``merged_by`` and INT-02's watch of the branch.
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
from forgerepo import ALICE, BOB, ForgeRepo, build
from gitrepo import GitRepo
from markupsafe import escape
from pypdf import PdfReader

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

AS_OF = "2026-04-01T00:00:00Z"
UNCOLLECTED = "the request's title and body, where tickets are usually named, were not collected"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  namespace: apps\n"
    "spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: podinfo\n"
    f"          image: ghcr.io/stefanprodan/podinfo@sha256:{'c' * 64}\n"
)
RELEASE_BOT = ("semantic-release-bot", "semantic-release-bot@martynus.net")
ACTION = "name: Lint\ndescription: Lints the manifests\nruns:\n  using: docker\n  image: {image}\n"


@dataclass(frozen=True)
class Pack:
    path: Path

    def rows(self, table: str) -> list[dict[str, str]]:
        text = (self.path / "csv" / f"{table}.csv").read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text)))

    def finding(self, control: str, commit: str = "") -> dict[str, str]:
        (found,) = [
            r
            for r in self.rows("findings")
            if r["control_id"] == control and (not commit or r["commit"] == commit)
        ]
        return found

    def change(self, commit: str) -> dict[str, str]:
        return next(r for r in self.rows("changes") if r["commit"] == commit)

    def evidence(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.path / "evidence.json").read_text("utf-8"))
        return document

    def json_finding(self, control: str, commit: str = "") -> dict[str, Any]:
        (found,) = [
            f
            for f in self.evidence()["findings"]
            if f["control_id"] == control and (not commit or f["commit"] == commit)
        ]
        return found

    def json_change(self, commit: str) -> dict[str, Any]:
        return next(c for c in self.evidence()["changes"] if c["change"]["commit"]["sha"] == commit)

    def page(self, commit: str) -> str:
        page = next(self.path.glob(f"changes/*-{commit[:12]}-*.html"))
        return page.read_text(encoding="utf-8")

    def control_page(self, control: str) -> str:
        return (self.path / "controls" / f"{control}.html").read_text(encoding="utf-8")

    def pdf(self) -> str:
        text = "\n".join(p.extract_text() for p in PdfReader(self.path / "report.pdf").pages)
        return re.sub(r"\s+", " ", text)

    def oscal(self) -> str:
        return (self.path / "oscal" / "assessment-results.json").read_text("utf-8")


def _history(repo: GitRepo) -> tuple[ForgeRepo, dict[str, str]]:
    """forgerepo's GitHub history (requests #1-#3, #3 self-merged, a direct push by Bob), then
    direct pushes shaped like public projects': a Docker action built from its Dockerfile, one
    pulling a registry image, and a Deployment kept in a file named values.yaml."""
    history = build(repo, "github")
    shas = {
        "local-action": repo.commit(
            "Add the lint action",
            {
                ".github/actions/lint/action.yml": ACTION.format(image="'Dockerfile'"),
                ".github/actions/lint/Dockerfile": f"FROM alpine@sha256:{'a' * 64}\n",
                "tools/action.yml": ACTION.format(image="./docker/Dockerfile"),
            },
            author=ALICE,
        ),
        "registry-action": repo.commit(
            "Run the scanner from its image",
            {"action.yml": ACTION.format(image="'docker://ghcr.io/acme/scan:latest'")},
            author=ALICE,
        ),
        "values-manifest": repo.commit(
            "Scale podinfo", {"apps/podinfo/values.yaml": DEPLOYMENT}, author=BOB
        ),
        "release": repo.commit(  # semantic-release pushing its changelog straight to main
            "chore(release): version 1.2.0 [skip ci]",
            {"CHANGELOG.md": "## 1.2.0\n"},
            author=RELEASE_BOT,
        ),
    }
    return history, shas


def _report(repo: GitRepo, out: Path, store: Path, *args: str) -> int:
    return run(
        ["report", str(repo.path), "--store", str(store), "--out", str(out), "--as-of", AS_OF,
         "--format", "pdf,html,csv,json,oscal", "-q", *args]
    )  # fmt: skip


@dataclass(frozen=True)
class Packs:
    history: ForgeRepo
    shas: dict[str, str]
    local: Pack  # from local Git alone
    reviewed: Pack  # with the forge's review data (a reviews file)


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Packs:
    """Two packs of the same history for the module's read-only tests (a PDF takes seconds)."""
    folder = tmp_path_factory.mktemp("judgments")
    history, shas = _history(GitRepo(folder / "repo"))
    local, reviewed = folder / "local", folder / "reviewed"
    assert _report(history.repo, local, folder / "store") == ExitCode.CONTROLS_FAILED
    reviews = history.write_export(folder / "reviews.json")
    code = _report(history.repo, reviewed, folder / "store-2", "--reviews-file", str(reviews))
    assert code == ExitCode.CONTROLS_FAILED
    return Packs(history, shas, Pack(local), Pack(reviewed))


def test_chg07_without_review_data_is_unknown_and_said_so_everywhere(packs: Packs) -> None:
    pack = packs.local
    direct = packs.history.changes["direct"]  # "Fix a typo in the layout notes": no ticket
    reason = f"no review data: {UNCOLLECTED}"
    assert (pack.finding("CHG-07", direct)["status"], pack.finding("CHG-07", direct)["reason"]) == (
        "unknown",
        reason,
    )
    assert (
        pack.json_finding("CHG-07", direct)["status"],
        pack.json_finding("CHG-07", direct)["reason"],
    ) == ("unknown", reason)
    assert escape(reason) in pack.page(direct)
    assert f"{pack.change(direct)['change_id']}: unknown: {reason}" in pack.oscal()
    chg07 = {r["commit"]: r["status"] for r in pack.rows("findings") if r["control_id"] == "CHG-07"}
    assert "fail" not in chg07.values()  # nothing fails for want of the request's text
    assert chg07[packs.history.changes["#1"]] == "pass"  # OPS-1 in the merged commit's message
    totals = {r["control_id"]: r for r in pack.rows("controls")}["CHG-07"]
    assert (totals["failed"], totals["status"]) == ("0", "unknown")
    pdf = pack.pdf()
    blocked = pdf.split("cannot be concluded:")[1].split(".")[0]
    assert "CHG-07 (Changes reference a change ticket:" in blocked


def test_chg07_with_review_data_is_judged_on_messages_and_request(packs: Packs) -> None:
    pack = packs.reviewed
    direct = packs.history.changes["direct"]
    assert pack.finding("CHG-07", direct)["status"] == "fail"
    assert pack.finding("CHG-07", packs.history.changes["#2"])["reason"] == (
        "ticket OPS-2 in the request title"
    )


def test_rep01_judges_only_an_actions_docker_image(packs: Packs) -> None:
    for pack in (packs.local, packs.reviewed):
        local = pack.finding("REP-01", packs.shas["local-action"])
        assert local["status"] == "pass", local["reason"]
        pulled = pack.finding("REP-01", packs.shas["registry-action"])
        assert pulled["status"] == "fail"
        assert "ghcr.io/acme/scan:latest" in pulled["reason"]
        assert "Dockerfile" not in pulled["reason"]
        assert pack.json_finding("REP-01", packs.shas["local-action"])["status"] == "pass"
    assert "Dockerfile" not in packs.local.control_page("REP-01")
    assert "'Dockerfile'" not in packs.local.pdf()


def test_a_values_named_file_of_objects_changes_resources(packs: Packs) -> None:
    sha = packs.shas["values-manifest"]
    for pack in (packs.local, packs.reviewed):
        assert pack.change(sha)["categories"] == "compute"
        assert pack.json_change(sha)["categories"] == ["compute"]
        page = pack.page(sha)
        assert "Deployment/apps/podinfo" in page
        assert "replicaCount" not in page and "kind</" not in page


def test_merged_by_reads_name_and_email_in_every_format(packs: Packs) -> None:
    dave = "Dave Merger <dave@example.com>"  # merged #1: GitHub's merge commit is his
    erin = "Erin Eager <erin@example.com>"  # merged #3, her own
    history = packs.history
    for pack in (packs.local, packs.reviewed):
        first, third = pack.change(history.changes["#1"]), pack.change(history.changes["#3"])
        assert (first["merged_by"], third["merged_by"]) == (dave, erin)
        assert erin in third["contributors"].split(";")  # the same spelling as contributors
        merged = pack.json_change(history.changes["#3"])["merged_by"]
        assert merged["display"] == erin
        assert f"<dt>Merged by</dt><dd>{escape(dave)}</dd>" in pack.page(history.changes["#1"])
    reviewed = packs.reviewed
    self_merge = reviewed.finding("CHG-04", history.changes["#3"])
    assert self_merge["status"] == "fail"
    assert self_merge["reason"] == (
        f"request #3 merged by its contributor {erin} with no independent approval"
    )
    assert reviewed.finding("CHG-04", history.changes["#1"])["reason"] == (
        f"request #1 merged by {dave}, not a contributor"
    )
    observations = json.loads(reviewed.oscal())["assessment-results"]["results"][0]
    described = [
        e["description"] for o in observations["observations"] for e in o["relevant-evidence"]
    ]
    assert f"{third['change_id']}: fail: {self_merge['reason']}" in described
    pdf = reviewed.pdf()
    assert "merged by its contributor Erin Eager <erin@example.com>" in pdf


def test_a_release_bot_is_known_as_a_bot_not_as_a_person(packs: Packs) -> None:
    sha = packs.shas["release"]
    reason = (
        "1 identity maps to a known bot (semantic-release-bot <semantic-release-bot@martynus.net>)"
    )
    for pack in (packs.local, packs.reviewed):
        assert pack.change(sha)["is_bot"] == "true"
        assert (pack.finding("IAM-01", sha)["status"], pack.finding("IAM-01", sha)["reason"]) == (
            "pass",
            reason,
        )
        assert pack.json_finding("IAM-01", sha)["reason"] == reason
        assert escape(reason) in pack.page(sha)
        assert pack.finding("CHG-07", sha)["status"] == "not_applicable"  # bots need no ticket


def test_int02_is_unknown_for_a_store_that_first_mined_the_branch_after_the_period_began(
    packs: Packs,
) -> None:
    pack = packs.local
    reason = (
        "no rewrite detected since auditor first mined the branch, but the period's first change "
        "landed 2025-01-01T00:00:00Z and auditor first mined main no earlier than this run's "
        "--as-of time: a rewrite before a branch's first mining cannot be seen (mine on a "
        "schedule from before the period's start)"
    )
    finding = pack.finding("INT-02")
    assert (finding["status"], finding["reason"]) == ("unknown", reason)
    assert pack.json_finding("INT-02")["reason"] == reason
    assert escape(reason) in pack.control_page("INT-02")
    assert reason in pack.pdf()
    assert f": unknown: {reason}" in pack.oscal()
    totals = {r["control_id"]: r["status"] for r in pack.rows("controls")}
    assert totals["INT-02"] == "unknown"


def test_int02_passes_only_for_a_store_that_watched_the_branch_through_the_period(
    repo: GitRepo, tmp_path: Path
) -> None:
    """Commits dated after any clock this test runs on: the store's first mining (at the
    run's --as-of, later than the clock) is then before the period, as a scheduled mine is."""
    year = 4_070_908_800  # 2099-01-01T00:00:00Z
    repo.commit("Initial commit", {"README.md": "# infra\n"}, author=ALICE, when=year)
    store = tmp_path / "store"
    mined = ["mine", str(repo.path), "--store", str(store), "-q"]
    assert run([*mined, "--as-of", "2099-01-02T00:00:00Z"]) == ExitCode.OK
    repo.commit("OPS-5 Open the VPC", {"vpc.tf": "vpc\n"}, author=BOB, when=year + 40 * 86400)
    period = ["--since", "2099-02-01", "--until", "2099-02-28", "--format", "csv,json"]

    def int02(out: str, *extra: str) -> dict[str, str]:
        run(["report", str(repo.path), "--store", str(store), "--out", str(tmp_path / out),
             "--as-of", "2099-03-01T00:00:00Z", "-q", *period, *extra])  # fmt: skip
        return Pack(tmp_path / out).finding("INT-02")

    watched = int02("watched")
    assert (watched["status"], watched["reason"]) == (
        "pass",
        "no rewrite of an audited branch detected in the period; watched from before it began "
        "(main since 2099-01-02T00:00:00Z)",
    )
    store = tmp_path / "new-store"  # first mined by the report itself, after the period began
    late = int02("late")
    assert late["status"] == "unknown"
    assert late["reason"].startswith(
        "no rewrite detected since auditor first mined the branch, but the period began "
        "2099-02-01T00:00:00Z and auditor first mined main no earlier than this run's --as-of "
        "time:"
    )

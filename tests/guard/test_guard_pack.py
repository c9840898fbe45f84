"""CFG-01 and CHG-12 end to end: planted cases found by the control meant for each, from a
reviews file that carries protection snapshots and checks, shown alike in every format."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from forge_server import ForgeServer, github_check_run, github_protection, github_status
from forgerepo import ALICE, BOB, CAROL, DAVE, GITHUB_REPO, REMOTES, ForgeRepo, _merged
from gitrepo import BASE_TIME, GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.guard import github as guard_github
from auditor.reviews.github import GitHubSource
from auditor.reviews.http import ForgeClient
from auditor.reviews.interface import Payload

DAY = 86400
SINCE, UNTIL, AS_OF = "2025-01-02", "2025-01-10", "2025-02-01T00:00:00Z"


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_history(repo: GitRepo) -> ForgeRepo:
    """Four requests changing Terraform, and a direct push."""
    history = ForgeRepo(repo, "github")
    repo.git("remote", "add", "origin", REMOTES["github"])
    history.changes["root"] = repo.commit("Initial commit", {"README.md": "#\n"}, author=ALICE,
                                          when=BASE_TIME)  # fmt: skip
    repo.clock = BASE_TIME + 2 * DAY
    _merged(history, 1, CAROL, DAVE, DAVE, "OPS-1: add the network", "infra/network.tf")
    _merged(history, 2, BOB, CAROL, BOB, "OPS-2: widen the subnet", "infra/subnet.tf")
    _merged(history, 3, CAROL, BOB, BOB, "OPS-3: tag resources", "infra/tags.tf")
    _merged(history, 4, BOB, CAROL, CAROL, "OPS-4: add a zone", "infra/dns.tf")
    history.changes["direct"] = repo.commit(
        "Hotfix the subnet", {"infra/subnet.tf": 'variable "cidr" {}\n'}, author=BOB
    )
    return history


def merged_at(history: ForgeRepo, number: int) -> int:
    text = history.bundles[number - 1]["pull"]["merged_at"]
    return int(datetime.fromisoformat(text).timestamp())


def guard_raw(history: ForgeRepo) -> tuple[list[Any], list[Any]]:
    """Raw snapshots (protected; force pushes allowed; protected again) and raw checks: #1 a
    scanner passed, #2 it failed, #3 it finished after the merge, #4 no scanner ran."""
    requests = [GitHubSource.parse(Payload.of(b, "")) for b in history.bundles]
    with ForgeServer() as server:
        server.github[GITHUB_REPO] = []
        client = ForgeClient(server.url, name="GitHub", token=None)
        snapshots = []
        for day, force in ((2, False), (5, True), (8, False)):
            server.protection[(GITHUB_REPO, "main")] = github_protection(force_pushes=force)
            at = datetime.fromtimestamp(BASE_TIME + day * DAY, UTC)
            snapshots.append(guard_github.collect_snapshot(client, GITHUB_REPO, "main", at))
        plans = {1: ("checkov", "success", -600), 2: ("tfsec", "failure", -600),
                 3: ("checkov", "success", +600), 4: ("lint", "success", -600)}  # fmt: skip
        for request in requests:
            name, conclusion, offset = plans[request.number]
            done = merged_at(history, request.number) + offset
            server.check_runs[(GITHUB_REPO, request.head_sha)] = [
                github_check_run(request.number * 10, name, request.head_sha,
                                 conclusion=conclusion, started_at=_iso(done - 300),
                                 completed_at=_iso(done))
            ]  # fmt: skip
            server.statuses[(GITHUB_REPO, request.head_sha)] = [
                github_status(request.number, "ci/jenkins", created_at=_iso(done - 900),
                              updated_at=_iso(done - 800))
            ]  # fmt: skip
        checks = [guard_github.collect_checks(client, GITHUB_REPO, r) for r in requests]
        client.close()
    return snapshots, checks


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[ForgeRepo, Path, int, str]:
    base = tmp_path_factory.mktemp("guard")
    repo = GitRepo(base / "infra-live")
    history = build_history(repo)
    snapshots, checks = guard_raw(history)
    document = {**history.export(), "protection": snapshots, "checks": checks}
    export = base / "reviews.json"
    export.write_text(json.dumps(document), encoding="utf-8")
    out = base / "pack"
    argv = ["report", history.path, "--store", base / "store", "-q", "--since", SINCE,
            "--until", UNTIL, "--as-of", AS_OF, "--reviews-file", export, "--out", out,
            "--format", "csv,json,html,pdf,oscal"]  # fmt: skip
    code = run([str(a) for a in argv])
    return history, out, code, ""


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def finding(pack_dir: Path, control: str, commit: str = "") -> dict[str, str]:
    found = [r for r in rows(pack_dir / "csv/findings.csv")
             if r["control_id"] == control and r["commit"] == commit]  # fmt: skip
    assert len(found) == 1, (control, commit)
    return found[0]


def test_each_planted_case_is_found_by_its_control(pack: tuple[ForgeRepo, Path, int, str]) -> None:
    history, out, code, _ = pack
    assert code == ExitCode.CONTROLS_FAILED
    cfg = rows(out / "csv/findings.csv")
    (protection,) = [r for r in cfg if r["control_id"] == "CFG-01"]
    assert protection["status"] == "fail"
    assert protection["reason"] == "main: the snapshot of 2025-01-06T00:00:00Z allows force pushes"
    change = history.changes
    one = finding(out, "CHG-12", change["#1"])
    assert one["status"] == "pass" and "checkov (github-actions) at" in one["reason"]
    two = finding(out, "CHG-12", change["#2"])
    assert two["status"] == "fail" and "tfsec (github-actions) concluded failure" in two["reason"]
    three = finding(out, "CHG-12", change["#3"])
    assert three["status"] == "fail" and "after the merge at" in three["reason"]
    four = finding(out, "CHG-12", change["#4"])
    assert four["status"] == "fail" and "no required check ran on request #4" in four["reason"]
    assert "lint (github-actions)" in four["reason"] and "ci/jenkins" in four["reason"]
    direct = finding(out, "CHG-12", change["direct"])
    assert direct["status"] == "fail" and direct["reason"].startswith("pushed directly by Bob")
    # the protection in force when the push landed blocked direct pushes: the contradiction
    pushed = finding(out, "CHG-01", change["direct"])
    assert pushed["status"] == "fail"
    assert pushed["reason"].endswith(
        "no merged request; yet the branch protection snapshot of 2025-01-03T00:00:00Z says "
        "direct pushes to it were blocked: a bypass, a settings change or a rewritten history"
    )


def test_the_timeline_and_checks_are_tables_of_the_pack(
    pack: tuple[ForgeRepo, Path, int, str],
) -> None:
    history, out, _, _ = pack
    protection = rows(out / "csv/protection.csv")
    assert {r["collected_at"] for r in protection} == {
        "2025-01-03T00:00:00Z", "2025-01-06T00:00:00Z", "2025-01-09T00:00:00Z",
    }  # fmt: skip
    force = {
        r["collected_at"]: r["value"] for r in protection if r["setting"] == "blocks_force_push"
    }
    assert force == {"2025-01-03T00:00:00Z": "true", "2025-01-06T00:00:00Z": "false",
                     "2025-01-09T00:00:00Z": "true"}  # fmt: skip
    assert all(r["collection"] == "collected" and r["sources"] == "classic protection"
               for r in protection)  # fmt: skip
    checks = rows(out / "csv/checks.csv")
    tfsec = [r for r in checks if r["name"] == "tfsec"]
    assert len(tfsec) == 1 and tfsec[0]["conclusion"] == "failure"
    assert tfsec[0]["change_id"].endswith(history.changes["#2"][:12])
    assert tfsec[0]["change_request"] == "2" and tfsec[0]["kind"] == "check_run"
    assert {r["name"] for r in checks if r["change_request"] == "1"} == {"checkov", "ci/jenkins"}


def test_the_same_facts_read_the_same_in_json_html_pdf_and_oscal(
    pack: tuple[ForgeRepo, Path, int, str],
) -> None:
    history, out, _, _ = pack
    evidence = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    guard = evidence["repositories"][0]["guard"]
    assert [s["collected_at"][:10] for s in guard["snapshots"]] == [
        "2025-01-03", "2025-01-06", "2025-01-09",
    ]  # fmt: skip
    assert guard["snapshots"][1]["settings"]["blocks_force_push"] is False
    (cfg,) = [f for f in evidence["findings"] if f["control_id"] == "CFG-01"]
    assert cfg["status"] == "fail" and "2025-01-06T00:00:00Z allows force pushes" in cfg["reason"]
    page = (out / "controls/CFG-01.html").read_text(encoding="utf-8")
    assert "Branch protection over time (3 snapshots)" in page
    assert page.count("<td>false</td>") == 1  # the one snapshot allowing force pushes
    sha = history.changes["#2"]
    (text,) = [p.read_text(encoding="utf-8") for p in (out / "changes").glob("*.html")
               if sha[:12] in p.name]  # fmt: skip
    assert "Automated checks (2)" in text and ">tfsec</a>" in text and "<td>failure</td>" in text
    pdf = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Branch protection over time (3 snapshots)" in pdf
    assert "2025-01-06T00:00:00Z allows force pushes" in " ".join(pdf.split())
    oscal = json.loads((out / "oscal/assessment-results.json").read_text(encoding="utf-8"))
    text = json.dumps(oscal)
    assert "CFG-01" in text and "CHG-12" in text

"""Deployments on the command line: ``--deployments`` on check, report and changes; DEP-01 and
DEP-02 found on planted cases, and unreadable records a gap (exit 4) naming the file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from deployfixtures import application, history_entry, kube_list, operation_state
from forgerepo import PERIOD_START, REMOTES, ForgeRepo, build
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.render.json import load_evidence
from auditor.render.views import change_page
from auditor.runs.config import load_config


def landed(history: ForgeRepo, step: str) -> datetime:
    when = history.repo.git("log", "-1", "--format=%ct", history.changes[step]).strip()
    return datetime.fromtimestamp(int(when), UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def history(repo: GitRepo) -> ForgeRepo:
    return build(repo, "github")


def feature_commit(history: ForgeRepo, number: int) -> str:
    """The head commit of request ``number``'s branch (brought in by its merge)."""
    return history.repo.git("rev-parse", f"{history.changes[f'#{number}']}^2").strip()


def argocd_export(history: ForgeRepo, tmp_path: Path) -> Path:
    """web: #1 and #2 synced automatically; then mallory force-syncs #3's branch by hand."""
    one, two = landed(history, "#1"), landed(history, "#2")
    manual = landed(history, "#3") - timedelta(minutes=10)
    started = stamp(manual - timedelta(seconds=20))
    entries = [
        history_entry(1, history.changes["#1"], stamp(one + timedelta(minutes=3)), automated=True,
                      repo_url=REMOTES["github"], path="docs"),
        history_entry(2, history.changes["#2"], stamp(two + timedelta(minutes=3)), automated=True,
                      repo_url=REMOTES["github"], path="docs"),
        history_entry(3, feature_commit(history, 3), stamp(manual), started_at=started,
                      username="mallory", repo_url=REMOTES["github"], path="docs"),
    ]  # fmt: skip
    app = application(
        "web",
        entries,
        repo_url=REMOTES["github"],
        reconciled_at=stamp(manual + timedelta(minutes=1)),
        operation=operation_state(entries[-1]["revision"], started, stamp(manual),
                                  username="mallory", force=True),
    )  # fmt: skip
    path = tmp_path / "argocd-apps.json"
    path.write_text(json.dumps(kube_list([app])))
    return path


def pipeline_file(history: ForgeRepo, tmp_path: Path) -> Path:
    """terraform applies the direct push (which brings the unapproved #3 and itself)."""
    line = {
        "system": "terraform", "environment": "prod", "revision": history.changes["direct"],
        "deployed_at": stamp(landed(history, "direct") + timedelta(minutes=7)), "actor": "ci",
        "automated": True, "kind": "apply", "url": "https://ci.example.com/jobs/9",
    }  # fmt: skip
    path = tmp_path / "deployments.jsonl"
    path.write_text(json.dumps(line) + "\n")
    return path


def check(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, *args: Any
) -> tuple[int, list[dict[str, Any]], str]:
    export = history.write_export(history.path.parent / "reviews.json")
    argv = ["check", history.path, "--store", history.path.parent / "store", "-q",
            "--since", PERIOD_START, "--reviews-file", export, "--format", "json",
            "--as-of", "2026-01-01T00:00:00Z", *args]  # fmt: skip
    code = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out), err


def by_control(findings: list[dict[str, Any]], control: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["control_id"] == control]


def test_planted_deployments_are_found(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    argo, pipeline = argocd_export(history, tmp_path), pipeline_file(history, tmp_path)
    code, findings, _ = check(capsys, history, "--deployments", argo, "--deployments", pipeline)
    assert code == ExitCode.CONTROLS_FAILED
    dep1 = by_control(findings, "DEP-01")
    assert [(f["commit"], f["status"]) for f in dep1] == [
        (history.changes["#1"], "pass"),
        (history.changes["#2"], "pass"),
        (feature_commit(history, 3), "fail"),
        (history.changes["direct"], "fail"),
    ]
    one, two, manual, apply = dep1
    assert one["change_id"].endswith(history.changes["#1"][:12])
    assert "brought 1 change(s), each passed CHG-02" in two["reason"]
    assert "not on the audited branch's first-parent chain" in manual["reason"]
    assert f"brought in by change {one['repo']}@{history.changes['#3'][:12]}" in (manual["reason"])
    assert manual["change_id"] == ""
    assert "brought 5 change(s), not approved" in apply["reason"]  # its first: all of them
    assert f"@{history.changes['#3'][:12]} (CHG-02)" in apply["reason"]
    assert apply["change_id"].endswith(history.changes["direct"][:12])
    dep2 = by_control(findings, "DEP-02")
    assert [f["status"] for f in dep2] == ["pass", "pass", "fail", "pass"]
    reason = dep2[2]["reason"]
    assert "manual sync by mallory" in reason and "forced or replacing sync by mallory" in reason
    assert "automated" in dep2[0]["reason"]


def test_without_records_the_deployment_controls_do_not_apply(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo
) -> None:
    _, findings, _ = check(capsys, history)
    (dep1,) = by_control(findings, "DEP-01")
    assert dep1["status"] == "not_applicable" and "no deployment records" in dep1["reason"]


def test_malformed_records_are_a_gap_naming_the_file(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    broken = tmp_path / "argocd-apps.json"
    broken.write_text('{"apiVersion": "v1", "items": [{"apiVersion": "argoproj.io/v1alpha1"')
    code, _, err = check(capsys, history, "--deployments", broken)
    assert code == ExitCode.INCOMPLETE
    assert "evidence incomplete: argocd-apps.json: not valid JSON (truncated?)" in err


def test_changes_gain_their_deployments(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    pipeline = pipeline_file(history, tmp_path)
    argv = ["changes", history.path, "--store", tmp_path / "store", "-q", "--since",
            PERIOD_START, "--deployments", pipeline]  # fmt: skip
    assert run([str(a) for a in argv]) == 0
    rows = {r["commit"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    direct = rows[history.changes["direct"]]
    assert direct["deployment_status"] == "deployed"
    assert direct["deployed_to"] == "terraform (prod)" and direct["lead_time_minutes"] == "7"
    # #3 landed before the direct push: the apply of the push brought it too
    three = rows[history.changes["#3"]]
    assert three["deployment_status"] == "deployed"
    assert int(three["lead_time_minutes"]) > 7
    # #1 landed before the only deployment known? It was brought by it too (the first one)
    assert rows[history.changes["#1"]]["deployment_status"] == "deployed"


def test_report_writes_deployments_everywhere(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    argo, pipeline = argocd_export(history, tmp_path), pipeline_file(history, tmp_path)
    export = history.write_export(tmp_path / "reviews.json")
    out = tmp_path / "pack"
    argv = ["report", history.path, "--store", tmp_path / "store", "-q", "--since", PERIOD_START,
            "--reviews-file", export, "--deployments", argo, "--deployments", pipeline,
            "--format", "csv,json,html,pdf", "--out", out,
            "--as-of", "2026-01-01T00:00:00Z"]  # fmt: skip
    assert run([str(a) for a in argv]) == ExitCode.CONTROLS_FAILED
    assert "Traceback" not in capsys.readouterr().err
    rows = list(csv.DictReader((out / "csv" / "deployments.csv").open(encoding="utf-8")))
    assert [(r["system"], r["revision"], r["on_branch"]) for r in rows] == [
        ("web", history.changes["#1"], "true"),
        ("web", history.changes["#2"], "true"),
        ("web", feature_commit(history, 3), "false"),
        ("terraform", history.changes["direct"], "true"),
    ]
    manual = rows[2]
    assert manual["actor"] == "mallory" and manual["forced"] == "true"
    assert manual["change_id"] == "" and manual["source"] == "argocd:argocd/web"
    assert rows[3]["url"] == "https://ci.example.com/jobs/9" and rows[3]["automated"] == "true"
    changes = {r["commit"]: r for r in csv.DictReader((out / "csv" / "changes.csv").open())}
    assert changes[history.changes["#1"]]["deployed_to"] == (
        "web (https://kubernetes.default.svc/web);terraform (prod)"
    )
    assert changes[history.changes["#1"]]["lead_time_minutes"] == "3"
    document = json.loads((out / "evidence.json").read_text())
    assert document["schema_version"] == 5  # 4 brought deployments, 5 the guard data
    assert [d["revision"] for d in document["deployments"]] == [r["revision"] for r in rows]
    assert document["deployments"][2]["actor"] == "mallory"
    assert {c["source"] for c in document["deployment_coverage"]} == {
        "argocd:argocd/web",
        "pipeline:terraform/prod",
    }
    again = load_evidence(out / "evidence.json")  # --from-evidence re-renders them
    assert [d.revision for d in again.deployments] == [r["revision"] for r in rows]
    assert again.deployment_repos == (rows[0]["repo"],) and again.change_runs
    manifest = (out / "MANIFEST.sha256").read_text()
    assert "csv/deployments.csv" in manifest
    page = (out / change_page(changes[history.changes["#1"]]["change_id"])).read_text()
    assert "<h2>Deployments</h2>" in page and "<td>3 min</td>" in page
    assert "<code>pipeline:terraform/prod</code>" in page
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "Deployment records and their coverage" in text
    assert "argocd:argocd/" in text and "pipeline:terrafo" in text  # the cells wrap
    assert text.count("Deployment records and their coverage") == 2  # DEP-01 and DEP-02


def test_config_names_the_records_of_a_repository(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, tmp_path: Path
) -> None:
    pipeline = pipeline_file(history, tmp_path)
    config = tmp_path / "auditor.toml"
    config.write_text(
        f'[audit]\nsince = "{PERIOD_START}"\n\n[[repository]]\npath = "{history.path}"\n'
        f'deployments = ["{pipeline.name}"]\nargocd_url = "https://argocd.example.com"\n'
    )
    options = load_config(config)
    (entry,) = options.repositories
    assert entry.deployments.files == (pipeline,)
    assert entry.deployments.argocd_urls == ("https://argocd.example.com",)
    config.write_text(config.read_text().replace("argocd_url", "argocd_uri"))
    argv = ["check", history.path, "--store", tmp_path / "store", "--config", config]
    assert run([str(a) for a in argv]) == ExitCode.USAGE
    assert "argocd_uri" in capsys.readouterr().err

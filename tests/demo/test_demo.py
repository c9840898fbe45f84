"""The sample repository generator: determinism, history shape, review data, planted violations."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from auditor.audit import AssessOptions, assess
from auditor.demo import DemoScale, DemoSummary, create_demo
from auditor.errors import UsageError
from auditor.ledger.queries import LedgerOptions
from auditor.ledger.store import Store
from auditor.model import Finding, Status
from auditor.reviews.collect import ForgeOptions
from auditor.reviews.offline import OfflineSource
from auditor.runs.config import load_config

SMALL = DemoScale.small()
TICKET = re.compile(r"\bOPS-\d+\b")
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
CATALOG = {f"CHG-{n:02d}" for n in range(1, 12)} | {
    "IAM-01",
    "INT-01",
    "INT-02",
    "OPS-01",
    "SEC-01",
    "DEP-01",
    "DEP-02",
}
"""The controls the demo is held to. Not REP-01: it flags Argo CD applications that track the
repository's own branch (``targetRevision: main``), GitOps as intended; not KNW-01, a
repository-level figure."""
FOUND_BY = {
    "direct-push": {"CHG-01", "CHG-02"},
    "self-approval": {"CHG-02"},
    "stale-approval": {"CHG-03"},
    "self-merge": {"CHG-04", "CHG-02"},
    "approval-after-merge": {"CHG-05"},
    "unresolved-identity": {"IAM-01"},
    "emergency-no-retro": {"CHG-06", "CHG-02"},
    "missing-ticket": {"CHG-07"},
    "freeze-window": {"CHG-08"},
    "sensitive-single-approval": {"CHG-09"},
    "bot-no-approval": {"CHG-10"},
    "secret-in-code": {"SEC-01"},
    "unapproved-deployment": {"DEP-01", "DEP-02"},
    "manual-forced-sync": {"DEP-02"},
}
"""The controls that fail each planted violation's change: the intended one first, then those
it violates too by its nature (a change nobody approved is unapproved as well: CHG-02)."""
ROOT_ALSO = {"CHG-07"}
"""The repository's creation commit, made on GitHub's web page, names no ticket either."""
PLANTED_KINDS = {
    "direct-push",
    "self-approval",
    "stale-approval",
    "self-merge",
    "approval-after-merge",
    "unresolved-identity",
    "emergency-no-retro",
    "missing-ticket",
    "freeze-window",
    "bot-no-approval",
    "secret-in-code",
    "sensitive-single-approval",
    "unapproved-deployment",
    "manual-forced-sync",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=True, env=_env()
    )
    return result.stdout.decode("utf-8", errors="replace")


def _env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/nonexistent", "LC_ALL": "C"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return create_demo(tmp_path_factory.mktemp("small") / "workspace", scale=SMALL)


@pytest.fixture(scope="module")
def pulls(demo: DemoSummary) -> list[dict[str, Any]]:
    document = json.loads(demo.reviews.read_text(encoding="utf-8"))
    return list(document["pulls"])


def _main_log(repo: Path, fmt: str, *args: str) -> list[str]:
    return git(repo, "log", f"--format={fmt}", *args, "main").splitlines()


def test_same_scale_gives_identical_output(
    demo: DemoSummary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative target, as `make demo` gives it
    again = create_demo(Path("again"), scale=SMALL)
    assert again.head == demo.head
    assert git(again.repository, "for-each-ref") == git(demo.repository, "for-each-ref")
    assert again.reviews.read_bytes() == demo.reviews.read_bytes()
    assert again.planted_file.read_bytes() == demo.planted_file.read_bytes()
    for name in ("deployments.jsonl", "argocd-apps.json"):
        assert (again.repository.parent / name).read_bytes() == (
            demo.repository.parent / name
        ).read_bytes()


def test_refuses_a_non_empty_target(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me\n")
    with pytest.raises(UsageError, match=re.escape(str(tmp_path))):
        create_demo(tmp_path, scale=SMALL)


def test_work_tree_is_checked_out_on_main(demo: DemoSummary) -> None:
    assert git(demo.repository, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(demo.repository, "status", "--porcelain") == ""
    assert (demo.repository / ".github" / "CODEOWNERS").is_file()


def test_history_shape(demo: DemoSummary) -> None:
    repo = demo.repository
    total = int(git(repo, "rev-list", "--count", "--all"))
    assert total == demo.commits
    assert SMALL.commits <= total <= SMALL.commits * 1.2
    assert int(git(repo, "rev-list", "--merges", "--count", "main")) > 10
    subjects = _main_log(repo, "%s", "--first-parent")
    assert sum(bool(re.search(r" \(#\d+\)$", subject)) for subject in subjects) > 10
    assert any(subject.startswith("build: automatic update of") for subject in subjects)
    authors = set(_main_log(repo, "%an"))
    assert {"renovate[bot]", "dependabot[bot]", "argocd-image-updater"} <= authors
    assert demo.direct_pushes > 0
    assert demo.bot_changes > 0


def test_every_merge_method_is_used(demo: DemoSummary, pulls: list[dict[str, Any]]) -> None:
    repo = demo.repository
    methods = set()
    for bundle in pulls:
        pull = bundle["pull"]
        merge = pull["merge_commit_sha"]
        parents = git(repo, "rev-list", "--parents", "-n1", merge).split()[1:]
        subject = git(repo, "log", "-1", "--format=%s", merge).strip()
        if len(parents) == 2:
            assert parents[1] == pull["head"]["sha"]
            assert subject.startswith(f"Merge pull request #{pull['number']} from acme/")
            methods.add("merge")
        elif subject.endswith(f"(#{pull['number']})"):
            methods.add("squash")
        else:
            assert subject == bundle["commits"][-1]["commit"]["message"].splitlines()[0]
            methods.add("rebase")
    assert methods == {"merge", "squash", "rebase"}


def test_renames_are_detected(demo: DemoSummary) -> None:
    statuses = git(demo.repository, "log", "-M", "--name-status", "--format=", "--all")
    assert re.search(r"^R\d+\t", statuses, re.MULTILINE)


def test_mailmap_unifies_identities(demo: DemoSummary) -> None:
    repo = demo.repository
    raw = set(_main_log(repo, "%ae"))
    mapped = set(_main_log(repo, "%aE", "--use-mailmap"))
    assert len(mapped) < len(raw)
    assert any(email.endswith("@users.noreply.github.com") for email in mapped - {""}), (
        "one noreply identity is left out of .mailmap on purpose"
    )


def test_edge_cases_are_present(demo: DemoSummary) -> None:
    repo = demo.repository
    listing = "\n".join(_all_commits(repo)) + "\n"
    objects = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input=listing.encode(),
        capture_output=True,
        check=True,
        env=_env(),
    ).stdout
    assert b"\ngpgsig -----BEGIN PGP SIGNATURE-----\n" in objects
    assert b"\ngpgsig -----BEGIN SSH SIGNATURE-----\n" in objects
    assert b"\nencoding ISO-8859-1\n" in objects
    assert git(repo, "ls-files", "-s", "scripts/fmt-check.sh").startswith("100755")
    assert (repo / "docs" / "architecture.png").read_bytes().startswith(b"\x89PNG")


def _all_commits(repo: Path) -> list[str]:
    return git(repo, "rev-list", "--all").split()


def test_review_data_matches_the_repository(demo: DemoSummary, pulls: list[dict[str, Any]]) -> None:
    repo = demo.repository
    known = set(_all_commits(repo))
    listing = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/pull")
    refs = dict(line.split(" ") for line in listing.splitlines())
    assert len(pulls) == demo.pull_requests
    assert sorted(f"refs/pull/{bundle['pull']['number']}/head" for bundle in pulls) == sorted(refs)
    for bundle in pulls:
        pull = bundle["pull"]
        shas = [commit["sha"] for commit in bundle["commits"]]
        assert pull["merge_commit_sha"] in known
        assert set(shas) <= known
        assert refs[f"refs/pull/{pull['number']}/head"] == pull["head"]["sha"] == shas[-1]
        assert {review["commit_id"] for review in bundle["reviews"]} <= set(shas)


def test_review_data_loads_as_an_offline_source(demo: DemoSummary) -> None:
    source = OfflineSource(demo.reviews)
    assert len(source.requests) == demo.pull_requests


def test_planted_violations_point_at_real_objects(
    demo: DemoSummary, pulls: list[dict[str, Any]]
) -> None:
    entries = json.loads(demo.planted_file.read_text(encoding="utf-8"))
    assert {entry["kind"] for entry in entries} == PLANTED_KINDS
    numbers = {bundle["pull"]["number"] for bundle in pulls}
    known = set(_all_commits(demo.repository))
    landed = set(_main_log(demo.repository, "%H", "--first-parent"))
    for entry in entries:
        assert entry["commit"] in known
        # the branch deployed before it was approved is off main by design
        assert entry["change"] in landed or entry["kind"] == "unapproved-deployment"
        assert entry["pull"] is None or entry["pull"] in numbers
        assert entry["note"]


def _evaluate(summary: DemoSummary, store: Path, *, config: bool) -> tuple[Finding, ...]:
    """The findings of `auditor check` on the demo: with its auditor.toml (what `auditor run`
    evaluates), or with the catalog's defaults alone."""
    if config:
        loaded = load_config(summary.config)
        options = loaded.assess_options(
            loaded.repositories[0],
            as_of=AS_OF,
            period=loaded.period.at(AS_OF).period,
            store=store,
        )
    else:
        ledger = LedgerOptions(store=store, repos=(summary.repository,), as_of=AS_OF)
        options = AssessOptions(ledger, ForgeOptions(reviews_file=summary.reviews))
    with Store.open(store) as opened:
        result = assess(opened, options)
    assert result.complete
    return result.evaluation.findings


def _failures(findings: tuple[Finding, ...]) -> set[tuple[str, str]]:
    return {
        (f.control_id, f.commit)
        for f in findings
        if f.status is Status.FAIL and f.control_id in CATALOG
    }


def _expected(summary: DemoSummary) -> set[tuple[str, str]]:
    """The planted violations, and the change that introduced CODEOWNERS: no code owner can
    have approved it (CHG-11 reads the file at the change's parent)."""
    (codeowners,) = _main_log(
        summary.repository, "%H", "--first-parent", "--diff-filter=A", "--", ".github/CODEOWNERS"
    )
    expected = {("CHG-11", codeowners)}
    for entry in summary.planted:
        controls = FOUND_BY[entry.kind] | (
            ROOT_ALSO if entry.note.startswith("the repository") else set()
        )
        expected |= {(control, entry.change) for control in controls}
    # the pipeline applies every change on its own: each unapproved one fails DEP-01 there
    return expected | {("DEP-01", sha) for control, sha in expected if control == "CHG-02"}


def _assert_only_planted_violations_fail(summary: DemoSummary, store: Path) -> None:
    findings = _evaluate(summary, store, config=True)
    assert _failures(findings) == _expected(summary)
    signed = [f for f in findings if f.control_id == "INT-01"]
    # every commit carries a signature, but the demo's keys are not given: present, unverified
    assert signed and all(f.status is Status.UNKNOWN for f in signed)
    assert all(f.reason.endswith("not verified against the organisation's keys") for f in signed)
    rebased = [f for f in signed if "rebased by the forge from signed originals" in f.reason]
    assert rebased, "GitHub's rebase merges leave unsigned copies of signed commits"


def test_each_planted_violation_is_found_by_its_control_and_nothing_else_fails(
    demo: DemoSummary, tmp_path: Path
) -> None:
    _assert_only_planted_violations_fail(demo, tmp_path / "store")


def test_without_the_config_only_the_image_updater_the_freeze_and_the_roster_differ(
    demo: DemoSummary, tmp_path: Path
) -> None:
    findings = _evaluate(demo, tmp_path / "store", config=False)
    updater = {
        (f.control_id, f.commit)
        for f in findings
        if f.status is Status.FAIL and "argocd-image-updater" in f.reason
    }
    # its direct pushes had no pre-merge check either (CHG-12)
    assert {control for control, _ in updater} == {"CHG-01", "CHG-10", "CHG-12"}
    pushes = set(
        _main_log(demo.repository, "%H", "--first-parent", "--author=argocd-image-updater")
    )
    assert {commit for _, commit in updater} == pushes
    freeze = {(control, commit) for control, commit in _expected(demo) if control == "CHG-08"}
    # without the config's roster, the contractor's identity cannot be judged: unknown
    stranger = {(control, commit) for control, commit in _expected(demo) if control == "IAM-01"}
    assert stranger
    # without the config, no deployment records: DEP-01 and DEP-02 test nothing
    deployed = {(control, commit) for control, commit in _expected(demo) if control[:4] == "DEP-"}
    assert deployed
    assert _failures(findings) == (_expected(demo) - freeze - stranger - deployed) | {
        (control, commit) for control, commit in updater if control in CATALOG
    }
    assert {f.status for f in findings if f.control_id == "CHG-08"} == {Status.NOT_APPLICABLE}
    unjudged = {(f.control_id, f.commit) for f in findings if f.status is Status.UNKNOWN}
    assert stranger <= unjudged


def _problems(bundle: dict[str, Any]) -> set[str]:
    pull, commits, reviews = bundle["pull"], bundle["commits"], bundle["reviews"]
    pushers = {pull["user"]["login"]} | {c["author"]["login"] for c in commits if c["author"]}
    approvals = [r for r in reviews if r["state"] == "APPROVED"]
    independent = [r for r in approvals if r["user"]["login"] not in pushers]
    problems = set()
    if not independent:
        problems.add("no independent approval")
    elif not any(
        r["commit_id"] == pull["head"]["sha"] and r["submitted_at"] <= pull["merged_at"]
        for r in independent
    ):
        problems.add("no approval of the final head before merge")
    text = pull["title"] + pull["body"] + "".join(c["commit"]["message"] for c in commits)
    if not TICKET.search(text):
        problems.add("no ticket")
    if any(c["author"] is None and "blake" in c["commit"]["author"]["email"] for c in commits):
        problems.add("unresolved author")
    return problems


def test_only_planted_pull_requests_break_the_rules(
    demo: DemoSummary, pulls: list[dict[str, Any]]
) -> None:
    planted = {entry.pull: entry.kind for entry in demo.planted if entry.pull is not None}
    content_only = {"freeze-window", "secret-in-code", "sensitive-single-approval"}
    for bundle in pulls:
        number = bundle["pull"]["number"]
        kind = planted.get(number)
        if kind is None or kind in content_only:
            assert _problems(bundle) == set(), number
        else:
            assert _problems(bundle), (number, kind)


def test_planted_content_violations(demo: DemoSummary, pulls: list[dict[str, Any]]) -> None:
    by_kind = {entry.kind: entry for entry in demo.planted}
    by_number = {bundle["pull"]["number"]: bundle for bundle in pulls}
    secret = git(demo.repository, "show", "--format=", by_kind["secret-in-code"].commit)
    assert re.search(r'^\+ci_access_key_id\s+= "AKIA[A-Z0-9]{16}"$', secret, re.MULTILINE)
    assert "PRIVATE KEY-----" in secret
    freeze = by_number[by_kind["freeze-window"].pull]["pull"]["merged_at"]
    assert "2025-12-22T00:00:00Z" <= freeze < "2026-01-03T00:00:00Z"
    sensitive = by_number[by_kind["sensitive-single-approval"].pull]
    assert [r["state"] for r in sensitive["reviews"]].count("APPROVED") == 1
    for bundle in pulls:
        touched = git(demo.repository, "diff", "--name-only", bundle["pull"]["base"]["sha"],
                      bundle["pull"]["head"]["sha"])  # fmt: skip
        approvals = [r for r in bundle["reviews"] if r["state"] == "APPROVED"]
        if "envs/prod/iam/" in touched and bundle is not sensitive:
            assert len(approvals) >= 2
    bot = by_number[by_kind["bot-no-approval"].pull]
    assert bot["pull"]["user"]["login"] == "renovate[bot]" and not bot["reviews"]


def test_no_change_lands_in_the_freeze_window_except_the_planted_one(demo: DemoSummary) -> None:
    start = datetime(2025, 12, 22, tzinfo=UTC).timestamp()
    end = datetime(2026, 1, 3, tzinfo=UTC).timestamp()
    landed = [int(t) for t in _main_log(demo.repository, "%ct", "--first-parent")]
    assert sum(start <= t < end for t in landed) == 1


def _tracked(repo: Path) -> Iterator[Path]:
    for name in git(repo, "ls-files").splitlines():
        yield repo / name


def test_files_are_valid_yaml_hcl_and_json(demo: DemoSummary) -> None:
    """Every YAML and JSON file parses; so does the HCL of production, of the root module the
    leaked credentials went to, and of the shared modules (HCL parsing is slow)."""
    hcl_roots = ("envs/prod/", "envs/staging/compute/", "modules/")
    checked = 0
    for path in _tracked(demo.repository):
        name = path.relative_to(demo.repository).as_posix()
        text = path.read_text(encoding="utf-8") if path.suffix != ".png" else ""
        if path.suffix in (".yaml", ".yml") and "templates" not in path.parts:
            list(yaml.safe_load_all(text))
        elif path.suffix in (".tf", ".hcl", ".tfvars") and name.startswith(hcl_roots):
            hcl2.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        else:
            continue
        checked += 1
    assert checked > 200


def test_default_scale(tmp_path: Path) -> None:
    summary = create_demo(tmp_path / "workspace")
    assert 2500 <= summary.commits <= 4000
    assert summary.pull_requests > 500
    assert {entry.kind for entry in summary.planted} == PLANTED_KINDS
    document = json.loads(summary.reviews.read_text(encoding="utf-8"))
    assert document["exported_at"] == "2026-10-01T00:00:00Z"
    assert all(_problems(b) == set() for b in document["pulls"] if not _is_planted(summary, b))
    _assert_only_planted_violations_fail(summary, tmp_path / "store")


def _is_planted(summary: DemoSummary, bundle: dict[str, Any]) -> bool:
    return any(entry.pull == bundle["pull"]["number"] for entry in summary.planted)


def test_the_guard_plants_are_found_by_cfg01_and_chg12(demo: DemoSummary, tmp_path: Path) -> None:
    """One snapshot lets main take force pushes (CFG-01), one pull request was merged with
    its tfsec scan failed (CHG-12); every other request passed checkov before its merge, and
    the planted direct pushes had no check at all."""
    from auditor.demo.guard import weakened_at

    findings = _evaluate(demo, tmp_path / "store", config=True)
    (protection,) = [f for f in findings if f.control_id == "CFG-01"]
    weak = datetime.fromtimestamp(weakened_at(SMALL.start_time, SMALL.end_time), UTC)
    assert protection.status is Status.FAIL
    assert (
        protection.reason == f"main: the snapshot of {weak:%Y-%m-%dT%H:%M:%SZ} allows force pushes"
    )
    document = json.loads(demo.reviews.read_text(encoding="utf-8"))
    (failing,) = [
        checks["number"]
        for checks in document["checks"]
        for commit in checks["commits"]
        for run in commit["check_runs"]["body"]["check_runs"]
        if run["conclusion"] == "failure"
    ]
    scanned = [f for f in findings if f.control_id == "CHG-12"]
    failed = [f for f in scanned if f.status is Status.FAIL]
    assert {f.change_request for f in failed if f.change_request} == {failing}
    (late,) = [f for f in failed if f.change_request == failing]
    assert "tfsec (github-actions) concluded failure" in late.reason
    pushes = {entry.change for entry in demo.planted if entry.kind == "direct-push"}
    # the planted direct pushes that changed infrastructure code (not each one does)
    assert set() < {f.commit for f in failed if not f.change_request} <= pushes
    assert all(f.reason.startswith("pushed directly by") for f in failed if not f.change_request)
    others = {f.status for f in scanned if f not in failed}
    assert others <= {Status.PASS, Status.NOT_APPLICABLE} and Status.PASS in others
    updater = [f for f in scanned if "an automation allowed by" in f.reason]
    assert updater and all(f.status is Status.NOT_APPLICABLE for f in updater)

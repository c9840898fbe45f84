"""``auditor reviews export``: the forge's review data saved for ``--reviews-file``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from forge_server import Episode, ForgeServer, forbidden
from forgerepo import GITHUB_REPO, GITLAB_PROJECT, PERIOD_START, ForgeRepo, build
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.demo import DemoScale, create_demo
from auditor.reviews import OfflineSource

TOKEN = "ghp_CliS3cretT0kenValue42"


@pytest.fixture(params=["github", "gitlab"])
def history(request: pytest.FixtureRequest, repo: GitRepo) -> ForgeRepo:
    return build(repo, request.param)


@pytest.fixture
def server(history: ForgeRepo) -> Iterator[ForgeServer]:
    with ForgeServer(page_size=1) as forge:
        if history.forge == "github":
            forge.github[GITHUB_REPO] = history.bundles
        else:
            forge.gitlab[GITLAB_PROJECT] = history.bundles
        yield forge


def api(server: ForgeServer, history: ForgeRepo) -> str:
    return server.url if history.forge == "github" else server.gitlab_url


def call(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = run([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def export(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    out: Path,
    store: Path,
    *extra: str,
) -> tuple[int, str, str]:
    return call(
        capsys, "reviews", "export", history.path, "-o", out, "--store", store,
        "--forge", history.forge, "--forge-url", api(server, history),
        "--as-of", "2026-04-01T00:00:00Z", *extra,
    )  # fmt: skip


def findings(capsys: pytest.CaptureFixture[str], history: ForgeRepo, *source: str | Path) -> str:
    code, out, err = call(
        capsys, "check", history.path, "--store", history.path.parent / "check-store",
        "--since", PERIOD_START, "--as-of", "2026-04-01T00:00:00Z", "--format", "json", "-q",
        *source,
    )  # fmt: skip
    assert code == ExitCode.CONTROLS_FAILED, err
    return out


def test_round_trip_gives_the_same_findings_as_the_forge(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, tmp_path: Path
) -> None:
    live = findings(capsys, history, "--forge", history.forge, "--forge-url", api(server, history))
    code, _, err = export(capsys, history, server, tmp_path / "reviews.json", tmp_path / "s")
    assert code == ExitCode.OK, err
    assert "3 merged requests" in err and "marked incomplete" not in err
    offline = findings(capsys, history, "--reviews-file", tmp_path / "reviews.json")
    assert offline == live
    rows = json.loads(offline)
    assert {r["status"] for r in rows} >= {"pass", "fail"}
    assert any(r["control_id"] == "CHG-04" and r["change_request"] == 3 for r in rows)


def test_export_file_is_the_offline_document(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert export(capsys, history, server, first, tmp_path / "s")[0] == ExitCode.OK
    assert export(capsys, history, server, second, tmp_path / "s")[0] == ExitCode.OK
    document = json.loads(first.read_text(encoding="utf-8"))
    again = json.loads(second.read_text(encoding="utf-8"))
    # each export adds the protection snapshot it took to the timeline; the rest is the same
    snapshots, later = document.pop("protection"), again.pop("protection")
    assert later[: len(snapshots)] == snapshots and len(later) - len(snapshots) in (0, 1)
    assert again == document
    repository = GITHUB_REPO if history.forge == "github" else GITLAB_PROJECT
    assert (document["forge"], document["repository"]) == (history.forge, repository)
    assert document["exported_at"] == "2026-04-01T00:00:00Z" and document["complete"] is True
    assert document["base_url"] == api(server, history) and "gaps" not in document
    source = OfflineSource(first)
    merged = list(source.fetch(base_branch="main", updated_since=None))
    assert [r.number for r in merged] == [1, 2, 3] and source.complete
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_second_export_reads_only_what_changed(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, tmp_path: Path
) -> None:
    export(capsys, history, server, tmp_path / "a.json", tmp_path / "s")
    before = len(server.requests)
    assert export(capsys, history, server, tmp_path / "b.json", tmp_path / "s")[0] == 0
    again = server.requests[before:]
    details = [m[1] for r in again if (m := re.search(r"/(?:pulls|merge_requests)/(\d+)", r.path))]
    assert set(details) == {"3"}, "only the request updated within the cursor's overlap"
    assert {r.status for r in again if "/3" in r.path} == {304}
    first, second = (json.loads((tmp_path / n).read_text("utf-8")) for n in ("a.json", "b.json"))
    # the same but for the protection snapshot the second export took (unless in the same second)
    assert second.pop("protection")[: len(first["protection"])] == first.pop("protection")
    assert first == second


@pytest.mark.parametrize(
    ("where", "episode", "reason"),
    [
        ("pulls|merge_requests", Episode(401, body={"message": "Bad credentials"}), "(401)"),
        ("page=2", forbidden(), "(403)"),
    ],
    ids=["refused", "mid-pagination"],
)
def test_incomplete_forge_answer_marks_the_export_and_exits_4(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    server: ForgeServer,
    tmp_path: Path,
    where: str,
    episode: Episode,
    reason: str,
) -> None:
    server.script(where, episode)
    out = tmp_path / "reviews.json"
    code, _, err = export(capsys, history, server, out, tmp_path / "s")
    assert code == ExitCode.INCOMPLETE
    assert "evidence incomplete" in err and reason in err and "marked incomplete" in err
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["complete"] is False
    assert len(document["gaps"]) == 1 and reason in document["gaps"][0]
    source = OfflineSource(out)
    list(source.fetch(base_branch="main", updated_since=None))
    assert not source.complete
    assert any(reason in gap.reason for gap in source.gaps)
    code, _, err = call(capsys, "check", history.path, "--store", tmp_path / "c",
                        "--reviews-file", out, "-q")  # fmt: skip
    assert code == ExitCode.INCOMPLETE and reason in err


def test_failed_export_keeps_what_an_earlier_run_collected(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, tmp_path: Path
) -> None:
    assert export(capsys, history, server, tmp_path / "a.json", tmp_path / "s")[0] == 0
    server.script("pulls|merge_requests", forbidden())
    code, _, _ = export(capsys, history, server, tmp_path / "b.json", tmp_path / "s")
    document = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    key = "pulls" if history.forge == "github" else "merge_requests"
    assert code == ExitCode.INCOMPLETE and len(document[key]) == 3
    assert document["complete"] is False


def test_token_never_reaches_the_file_or_the_output(
    capsys: pytest.CaptureFixture[str],
    history: ForgeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variable = "GITHUB_TOKEN" if history.forge == "github" else "GITLAB_TOKEN"
    monkeypatch.setenv(variable, TOKEN)
    with ForgeServer(token=TOKEN) as server:
        if history.forge == "github":
            server.github[GITHUB_REPO] = history.bundles
        else:
            server.gitlab[GITLAB_PROJECT] = history.bundles
        good, bad = tmp_path / "good.json", tmp_path / "bad.json"
        code, out, err = export(capsys, history, server, good, tmp_path / "s1")
        assert code == ExitCode.OK, err
        assert all(TOKEN in r.headers.get("authorization", r.headers.get("private-token", ""))
                   for r in server.requests)  # fmt: skip
        echoed = Episode(401, body={"message": f"Bad credentials: {TOKEN} is revoked"})
        server.script("pulls|merge_requests", echoed)
        code2, out2, err2 = export(capsys, history, server, bad, tmp_path / "s2")
    assert code2 == ExitCode.INCOMPLETE and "is revoked" in err2
    for text in (out, err, out2, err2, good.read_text(), bad.read_text()):
        assert TOKEN not in text
    for path in (tmp_path / "s1", tmp_path / "s2"):
        assert TOKEN.encode() not in (path / "evidence.sqlite").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--forge", "none"], "--forge: name the forge to export from"),
        (["--forge", "github", "-o", "{tmp}/missing/r.json"], "missing: no such directory"),
        (["--forge", "github", "--branch", "nope"], "branch 'nope' not found"),
        (["--forge", "github", "--forge-repo", "justaname"], "--forge-repo: expected OWNER/REPO"),
    ],
)
def test_bad_export_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], repo: GitRepo, tmp_path: Path, args: list[str],
    message: str,
) -> None:  # fmt: skip
    history = build(repo, "github")
    argv = ["reviews", "export", str(history.path), "--store", str(tmp_path / "s")]
    if "-o" not in args:
        argv += ["-o", str(tmp_path / "r.json")]
    argv += [a.format(tmp=tmp_path) for a in args]
    code, _, err = call(capsys, *argv)
    assert code == ExitCode.USAGE
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_export_requires_an_output_file(capsys: pytest.CaptureFixture[str], repo: GitRepo) -> None:
    code, _, err = call(capsys, "reviews", "export", repo.path, "--forge", "github")
    assert code == ExitCode.USAGE and "'-o' / '--output'" in err


def test_exporting_the_demo_from_a_forge_reproduces_its_review_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo's reviews.json is what GitHub would return: served by the fake forge and
    exported again, it comes back identical but for where it was read from."""
    summary = create_demo(tmp_path / "demo", scale=DemoScale.small())
    original = json.loads(summary.reviews.read_text(encoding="utf-8"))
    with ForgeServer() as server:
        server.load_export(original)
        out = tmp_path / "again.json"
        code, _, err = call(
            capsys, "reviews", "export", summary.repository, "-o", out, "--store",
            tmp_path / "s", "--forge", "github", "--forge-url", server.url,
            "--as-of", original["exported_at"],
        )  # fmt: skip
    assert code == ExitCode.OK, err
    again = json.loads(out.read_text(encoding="utf-8"))
    assert again.pop("base_url") == server.url and original.pop("base_url").endswith("github.com")
    # the export adds the snapshot of main's protection taken as it ran
    (snapshot,) = [s for s in again.pop("protection") if s not in original.get("protection", [])]
    assert snapshot["branch"] == "main" and snapshot["rules"] == {"status": 200, "body": []}
    original.pop("protection", None)
    if "checks" not in original:  # a demo without checks: the forge served none
        runs = [
            c["check_runs"]["body"]["check_runs"] for r in again.pop("checks") for c in r["commits"]
        ]
        assert runs and not any(runs)
    assert again == original


def test_changes_ledger_carries_requests_approvers_and_mergers(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, tmp_path: Path
) -> None:
    """``auditor changes`` with a forge fills the contract's review columns of every change."""
    code, out, err = call(
        capsys, "changes", history.path, "--store", tmp_path / "store", "-q", "--format", "json",
        "--since", PERIOD_START, "--forge", history.forge, "--forge-url", api(server, history),
    )  # fmt: skip
    assert code == ExitCode.OK, err
    rows = {r["commit"]: r for r in json.loads(out)["rows"]}
    first = rows[history.changes["#1"]]
    assert first["change_request"] == 1
    assert first["change_request_url"].endswith("1")
    assert first["approvers"] and first["merged_by"]
    direct = rows[history.changes["direct"]]
    assert (direct["change_request"], direct["approvers"], direct["merged_by"]) == (None, [], "")
    offline = history.write_export(tmp_path / "reviews.json")
    code, again, _ = call(
        capsys, "changes", history.path, "--store", tmp_path / "store", "-q", "--format", "json",
        "--since", PERIOD_START, "--reviews-file", offline,
    )  # fmt: skip
    assert [r["approvers"] for r in json.loads(again)["rows"]] == [
        r["approvers"] for r in json.loads(out)["rows"]
    ]

"""``auditor mine --forge``: review data, protection snapshots and checks collected into the
store incrementally, like commits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from forge_server import Episode, ForgeServer, github_check_run, github_protection
from forgerepo import GITHUB_REPO, ForgeRepo, build
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.ledger.store import Store


@pytest.fixture
def served(repo: GitRepo) -> Iterator[tuple[ForgeRepo, ForgeServer]]:
    history = build(repo, "github")
    with ForgeServer(page_size=2) as server:
        server.github[GITHUB_REPO] = history.bundles
        server.protection[(GITHUB_REPO, "main")] = github_protection()
        for bundle in history.bundles:
            sha = bundle["pull"]["head"]["sha"]
            server.check_runs[(GITHUB_REPO, sha)] = [github_check_run(1, "checkov", sha)]
        yield history, server


def mine(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, store: Path
) -> tuple[int, str]:
    argv = ["mine", history.path, "--store", store, "--forge", "github", "--forge-url", server.url]
    code = run([str(a) for a in argv])
    err = capsys.readouterr().err  # the summary lines and warnings go to stderr
    assert "Traceback" not in err
    return code, err


def test_mine_collects_requests_snapshots_and_checks_and_rereads_little(
    capsys: pytest.CaptureFixture[str], served: tuple[ForgeRepo, ForgeServer], tmp_path: Path
) -> None:
    history, server = served
    code, err = mine(capsys, history, server, tmp_path / "store")
    assert code == ExitCode.OK, err
    assert "main: 3 merged requests, protection snapshot collected, checks of 3 requests" in err
    with Store.open(tmp_path / "store") as store:
        assert len(store.snapshots(1, "github", "main")) == 1
        assert sorted(store.request_checks(1, "github")) == [1, 2, 3]
    checks_before = len(server.requests_to(r"/check-runs$"))
    assert checks_before == 3 * 2  # head and merge commit of each request
    code, err = mine(capsys, history, server, tmp_path / "store")
    assert code == ExitCode.OK, err
    # nothing new: no check is asked for again, one more snapshot joins the timeline
    assert len(server.requests_to(r"/check-runs$")) == checks_before
    assert len(server.requests_to(r"/branches/main/protection$")) == 2
    with Store.open(tmp_path / "store") as store:
        assert 1 <= len(store.snapshots(1, "github", "main")) <= 2  # two unless in one second


def test_a_refused_protection_read_is_named_and_exits_4(
    capsys: pytest.CaptureFixture[str], served: tuple[ForgeRepo, ForgeServer], tmp_path: Path
) -> None:
    history, server = served
    message = "Must have admin rights to Repository."
    server.script(r"/protection$", Episode(403, body={"message": message}))
    code, err = mine(capsys, history, server, tmp_path / "store")
    assert code == ExitCode.INCOMPLETE
    assert "protection snapshot denied" in err
    assert (
        "evidence incomplete: GitHub branch protection of main: GitHub denied access (403)" in err
    )
    assert message in err and "administration" in err


def check(
    capsys: pytest.CaptureFixture[str], history: ForgeRepo, server: ForgeServer, *args: object
) -> tuple[int, str, str]:
    argv = ["check", history.path, "--forge", "github", "--forge-url", server.url, *args]
    code = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_a_refused_protection_read_leaves_incomplete_only_a_catalog_that_judges_it(
    capsys: pytest.CaptureFixture[str], served: tuple[ForgeRepo, ForgeServer], tmp_path: Path
) -> None:
    """A token without admin read is a gap (exit 4) where CFG-01 or CHG-12 is evaluated; a
    catalog without them neither asks for protection nor calls its evidence incomplete."""
    history, server = served
    server.script(r"/protection$", Episode(403, body={"message": "Must have admin rights."}))
    own = tmp_path / "controls"
    own.mkdir()
    (own / "frameworks.yaml").write_text("sox: SOX ITGC\n", encoding="utf-8")
    shipped = Path(__file__).resolve().parents[2] / "controls" / "CHG-01-via-request.yaml"
    text = shipped.read_text(encoding="utf-8").replace("id: CHG-01", "id: ACME-01")
    head, _, _ = text.partition("frameworks:")
    (own / "ACME-01.yaml").write_text(head + "frameworks:\n  sox: [ITGC-1]\n", encoding="utf-8")

    code, out, err = check(
        capsys, history, server, "--store", tmp_path / "a", "--framework", "soc2"
    )
    assert code == ExitCode.INCOMPLETE, err
    assert "CFG-01" in out
    assert "GitHub denied access (403)" in err

    before = len(server.requests_to(r"/protection$"))
    code, out, err = check(capsys, history, server, "--store", tmp_path / "b", "--framework", "sox",
                           "--controls-dir", own)  # fmt: skip
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED), err
    assert "ACME-01" in out and "CFG-01" not in out and "CHG-12" not in out
    assert "denied access" not in err and "incomplete" not in err
    assert len(server.requests_to(r"/protection$")) == before  # not even asked

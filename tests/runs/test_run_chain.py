"""The chain of runs: each run records and states the manifest digest of the run before it, and
``auditor runs --verify`` names every break (a pack edited, removed or slipped in)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode

Q3 = 1_782_864_000  # 2026-07-01T00:00:00Z
TIMES = ("2026-10-01T02:00:00Z", "2026-10-02T02:00:00Z", "2026-10-03T02:00:00Z")


def _auditor(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([str(a) for a in args])
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A config and the three packs its three runs wrote, oldest first (never edited: tests
    copy the directory before breaking it)."""
    root = tmp_path_factory.mktemp("chain")
    repo = GitRepo(root / "infra")
    for day in range(3):
        repo.commit(f"change {day}", {f"envs/prod/{day}.tf": f"{day}\n"}, when=Q3 + day * 86_400)
    ops = root / "ops"
    ops.mkdir()
    config = ops / "auditor.toml"
    config.write_text(
        '[audit]\nperiod = "last-quarter"\nformats = ["csv", "json", "html", "pdf"]\n'
        f'[[repository]]\npath = "{repo.path}"\n'
    )
    packs = []
    for when in TIMES:
        code, out, _ = _auditor("run", "--config", config, "--as-of", when, "-q")
        assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
        packs.append(Path(out.strip()))
    return config, packs


def _copy(chained: tuple[Path, list[Path]], tmp_path: Path) -> tuple[Path, list[Path], Path]:
    """The config's directory copied, with its store and packs: ``(config, packs, store)``.
    The records name the packs by absolute path, so they are rewritten to the copy's."""
    config, packs = chained
    target = tmp_path / "ops"
    shutil.copytree(config.parent, target)
    store = target / ".auditor"
    db = sqlite3.connect(store / "evidence.sqlite", isolation_level=None)
    db.execute("UPDATE runs SET pack = replace(pack, ?, ?)", (str(config.parent), str(target)))
    db.close()
    return target / "auditor.toml", [target / "audit-packs" / p.name for p in packs], store


def _records(config: Path) -> list[dict]:  # type: ignore[type-arg]
    code, out, _ = _auditor("runs", "--config", config, "--format", "json")
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_run_records_and_states_the_previous_manifest(
    chained: tuple[Path, list[Path]],
) -> None:
    config, packs = chained
    first, second, third = _records(config)
    assert (first["previous_run"], first["previous_manifest_sha256"]) == (None, "")
    assert second["previous_run"] == first["id"]
    assert second["previous_manifest_sha256"] == _sha256(packs[0] / "MANIFEST.sha256")
    assert third["previous_manifest_sha256"] == _sha256(packs[1] / "MANIFEST.sha256")
    assert first["chained"] and second["chained"] and third["chained"]
    evidence = json.loads((packs[1] / "evidence.json").read_text())
    assert evidence["chain"] == {
        "previous_run": first["id"],
        "previous_pack": packs[0].name,
        "previous_manifest_sha256": second["previous_manifest_sha256"],
    }
    assert json.loads((packs[0] / "evidence.json").read_text())["chain"] == {
        "previous_run": None,
        "previous_pack": "",
        "previous_manifest_sha256": "",
    }
    sentence = (
        f"Run chain: the previous run recorded in this store (run {first['id']}) wrote the pack"
        f" {packs[0].name}, whose MANIFEST.sha256 has SHA-256"
        f" {second['previous_manifest_sha256']}."
    )
    assert sentence in (packs[1] / "index.html").read_text()
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(packs[1] / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert " ".join(pdf.split()).count(sentence) == 1
    assert "this pack starts the chain." in (packs[0] / "index.html").read_text()
    code, out, err = _auditor("runs", "--config", config, "--verify")
    assert (code, out) == (0, "")
    assert "run chain: whole over 3 packs" in err


def test_a_pack_edited_after_it_was_written_is_named(
    chained: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    config, packs, _ = _copy(chained, tmp_path)
    with (packs[1] / "csv" / "findings.csv").open("ab") as stream:
        stream.write(b"CHG-01,forged\r\n")
    code, out, _ = _auditor("runs", "--config", config, "--verify")
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [f"edited: run 2 ({packs[1].name}): changed: csv/findings.csv"]
    # The manifest rewritten to match: not the one recorded, and the next run names the old one.
    lines = (packs[1] / "MANIFEST.sha256").read_text().splitlines()
    digest = _sha256(packs[1] / "csv" / "findings.csv")
    fixed = [
        f"{digest}  csv/findings.csv" if ln.endswith("  csv/findings.csv") else ln for ln in lines
    ]
    (packs[1] / "MANIFEST.sha256").write_text("\n".join(fixed) + "\n")
    code, out, _ = _auditor("runs", "--config", config, "--verify")
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        f"edited: run 2 ({packs[1].name}): MANIFEST.sha256 is not the manifest recorded"
    ]


def test_a_pack_removed_and_a_pack_slipped_in_are_named(
    chained: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    config, packs, _ = _copy(chained, tmp_path)
    shutil.rmtree(packs[0])
    forged = packs[0].parent / "2026-Q3_20261001T030000Z"
    shutil.copytree(packs[2], forged)
    code, out, _ = _auditor("runs", "--config", config, "--verify")
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        f"removed: run 1 ({packs[0].name}): {packs[0]} is no longer on disk",
        f"slipped in: {forged} is a pack no recorded run wrote",
    ]


def test_a_run_record_removed_from_the_store_breaks_the_chain(
    chained: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    config, packs, store = _copy(chained, tmp_path)
    db = sqlite3.connect(store / "evidence.sqlite", isolation_level=None)
    db.execute("DELETE FROM runs WHERE id = 2")
    db.close()
    shutil.rmtree(packs[1])  # and its pack, so that no directory tells
    code, out, _ = _auditor("runs", "--config", config, "--verify")
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        f"break: run 3 ({packs[2].name}) follows run 2, but the store holds run 1 before it"
        " (a run record was removed or slipped in)"
    ]


def test_runs_recorded_before_chaining_are_not_breaks(
    chained: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    config, _, store = _copy(chained, tmp_path)
    db = sqlite3.connect(store / "evidence.sqlite", isolation_level=None)
    db.execute("UPDATE runs SET chained = 0, previous_run = NULL, previous_manifest_sha256 = ''")
    db.close()
    assert [r["chained"] for r in _records(config)] == [False, False, False]
    code, out, _ = _auditor("runs", "--config", config, "--verify")
    assert (code, out) == (0, "")

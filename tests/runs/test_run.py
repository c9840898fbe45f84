"""``auditor run``, ``runs`` and ``init``: scheduled runs over many repositories from one config."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.ledger.store import _MIGRATIONS, SCHEMA_VERSION, Store
from auditor.render import verify_pack
from auditor.runs.config import load_config

Q3 = 1_782_864_000  # 2026-07-01T00:00:00Z
DAY = 86_400
AS_OF = "2026-10-01T02:00:00Z"  # last-quarter is 2026-Q3
PACK = "2026-Q3_20261001T020000Z"


def build(root: Path, name: str, subjects: tuple[str, ...] = ("one", "two", "three")) -> GitRepo:
    repo = GitRepo(root / name)
    for day, subject in enumerate(subjects):
        repo.commit(subject, {f"stacks/blue/{day}.tf": f"{day}\n"}, when=Q3 + day * DAY)
    return repo


def write_config(directory: Path, repositories: str, audit: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "auditor.toml"
    path.write_text(
        '[audit]\norganisation = "Acme"\nperiod = "last-quarter"\nformats = ["csv", "json"]\n'
        f"{audit}\n{repositories}",
        encoding="utf-8",
    )
    return path


def auditor(*args: str) -> int:
    return run(list(args))


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def evidence(pack: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((pack / "evidence.json").read_text(encoding="utf-8"))


def rows(pack: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((pack / "csv" / name).read_text(encoding="utf-8"))))


def recorded(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert auditor("runs", "--config", str(config), "--format", "json") == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.fixture
def repos(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    return build(tmp_path, "alpha"), build(tmp_path, "beta", ("x", "y"))


def test_two_runs_write_two_packs_and_two_records(
    tmp_path: Path, repos: tuple[GitRepo, GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta = repos
    config = write_config(
        tmp_path / "ops",
        f'[[repository]]\npath = "{alpha.path}"\n[[repository]]\npath = "../beta"\n',
    )
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") in (0, 1)
    first = capsys.readouterr()
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1", "-q") in (0, 1)
    second = capsys.readouterr()
    output = tmp_path / "ops" / "audit-packs"
    packs = sorted(p.name for p in output.iterdir())
    assert packs == [PACK, f"{PACK}-2"]  # the same time again: a new name, nothing overwritten
    assert first.out.strip() == str(output / PACK) and second.out.strip() == str(output / packs[1])
    assert "auditor run: 2 repositories, period 2026-Q3 (2026-07-01..2026-09-30)" in first.err
    assert second.err == ""
    for name in packs:
        assert verify_pack(output / name) == []
    # Same as-of, same bytes, but for the chain: the second pack states the first's manifest.
    one, two = files(output / packs[0]), files(output / packs[1])
    assert one.keys() == two.keys()
    assert {n for n in one if one[n] != two[n]} == {"evidence.json", "MANIFEST.sha256"}
    chains = [evidence(output / name).pop("chain") for name in packs]
    assert [c["previous_pack"] for c in chains] == ["", PACK]
    unchained = [{k: v for k, v in evidence(output / n).items() if k != "chain"} for n in packs]
    assert unchained[0] == unchained[1]
    document = evidence(output / PACK)
    assert document["organisation"] == "Acme" and document["command"] == (
        f"auditor run --config auditor.toml --as-of {AS_OF}"
    )
    assert document["config"]["sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert (output / PACK / "config.toml").read_bytes() == config.read_bytes(), "no credentials"
    assert [r["name"] for r in document["repositories"]] == ["alpha", "beta"]
    # given as an absolute path and as ../beta: both written relative to the config
    assert [r["path"] for r in document["repositories"]] == ["../alpha", "../beta"]
    assert {r["repo"] for r in rows(output / PACK, "changes.csv")} == {"alpha", "beta"}
    assert len(rows(output / PACK, "changes.csv")) == 5

    records = recorded(config, capsys)
    assert [r["id"] for r in records] == [1, 2]
    latest = records[-1]
    assert latest["pack"] == str(output / packs[1]) and latest["period"] == "2026-Q3"
    assert latest["as_of"] == AS_OF and latest["since"] == "2026-07-01T00:00:00Z"
    manifest = (output / packs[1] / "MANIFEST.sha256").read_bytes()
    assert latest["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert latest["config_sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert latest["status"] in ("passed", "failed") and latest["exit_code"] in (0, 1)
    heads = {r["name"]: r["heads"] for r in latest["repositories"]}
    assert heads == {
        "alpha": [{"branch": "main", "commit": alpha.head()}],
        "beta": [{"branch": "main", "commit": beta.head()}],
    }
    assert all(r["complete"] for r in latest["repositories"])

    assert auditor("runs", "--store", str(tmp_path / "ops" / ".auditor")) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["id", "time", "period", "repositories", "status", "pack"]
    assert table[2].split()[:4] == ["2", AS_OF, "2026-Q3", "2"]
    assert table[2].endswith(f"{PACK}-2")


def test_failing_repositories_are_reported_and_the_others_audited(
    tmp_path: Path, repos: tuple[GitRepo, GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, _ = repos
    corrupt = build(tmp_path, "corrupt")
    middle = corrupt.head("HEAD~1")
    (corrupt.path / ".git" / "objects" / middle[:2] / middle[2:]).unlink()
    config = write_config(
        tmp_path / "ops",
        f'[[repository]]\npath = "{alpha.path}"\n'
        '[[repository]]\npath = "../gone"\n'
        f'[[repository]]\npath = "{corrupt.path}"\n'
        '[[repository]]\nurl = "https://127.0.0.1:9/acme/unreachable.git"\n',
    )
    code = auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1")
    err = capsys.readouterr().err
    assert code == ExitCode.INCOMPLETE
    assert "status: incomplete (exit 4)" in err
    pack = tmp_path / "ops" / "audit-packs" / PACK
    scopes = {r["name"]: r for r in evidence(pack)["repositories"]}
    assert list(scopes) == ["alpha", "gone", "corrupt", "acme/unreachable"]
    assert scopes["alpha"]["complete"] is True
    for name in ("gone", "corrupt", "acme/unreachable"):
        assert scopes[name]["complete"] is False
        (reason,) = scopes[name]["incomplete_reasons"]
        assert reason.startswith("not audited: ")
    assert scopes["gone"]["incomplete_reasons"][0] == "not audited: ../gone: no such directory"
    assert scopes["gone"]["path"] == "../gone" and scopes["corrupt"]["path"] == "../corrupt"
    assert middle in scopes["corrupt"]["incomplete_reasons"][0]
    document = evidence(pack)
    assert str(tmp_path) in document.pop("config")["text"], "the config as the user wrote it"
    assert str(tmp_path) not in json.dumps(document), "every other path as the pack writes it"
    assert "git clone failed" in scopes["acme/unreachable"]["incomplete_reasons"][0]
    assert evidence(pack)["complete"] is False
    assert {r["repo"] for r in rows(pack, "changes.csv")} == {"alpha"}
    (latest,) = recorded(config, capsys)
    assert latest["status"] == "incomplete" and latest["exit_code"] == 4
    assert [r["complete"] for r in latest["repositories"]] == [True, False, False, False]


def test_history_rewrite_since_the_previous_run_is_a_finding_and_a_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build(tmp_path, "alpha")
    old_tip, first = repo.head(), repo.head("HEAD~2")
    config = write_config(
        tmp_path / "ops", f'[[repository]]\npath = "{repo.path}"\n', 'fail_on = ["critical"]\n'
    )
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") == 0
    capsys.readouterr()
    repo.git("update-ref", "refs/heads/main", first)  # a force-push dropping two commits
    new_tip = repo.commit("rewritten", {"stacks/blue/9.tf": "9\n"}, when=Q3 + 5 * DAY)
    as_of = "2026-10-02T02:00:00Z"
    code = auditor("run", "--config", str(config), "--as-of", as_of, "--jobs", "1")
    err = capsys.readouterr().err
    assert code == ExitCode.CONTROLS_FAILED  # INT-02 is critical
    line = (
        f"history rewritten since the previous run: alpha main: history-rewritten "
        f"({old_tip[:12]} -> {new_tip[:12]}, 2 commits dropped)"
    )
    assert line in err.splitlines()
    pack = tmp_path / "ops" / "audit-packs" / "2026-Q3_20261002T020000Z"
    (int02,) = [f for f in rows(pack, "findings.csv") if f["control_id"] == "INT-02"]
    assert int02["status"] == "fail" and "history-rewritten on main" in int02["reason"]
    assert line.removeprefix("history rewritten since the previous run: ") in " ".join(
        evidence(pack)["notes"]
    )
    records = recorded(config, capsys)
    assert records[0]["repositories"][0]["rewrites"] == []
    assert len(records[1]["repositories"][0]["rewrites"]) == 1


def test_clone_cache_mirrors_a_url_and_follows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = build(tmp_path, "upstream")
    config = write_config(
        tmp_path / "ops", f'[[repository]]\nurl = "file://{upstream.path}"\nname = "acme/infra"\n'
    )
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") in (0, 1)
    (mirror,) = (tmp_path / "ops" / ".auditor" / "clones").glob("*.git")
    git = ["git", "-C", str(mirror)]
    assert subprocess.run([*git, "rev-parse", "--is-bare-repository"], capture_output=True,
                          text=True, check=True).stdout.strip() == "true"  # fmt: skip
    assert subprocess.run([*git, "rev-parse", "--is-shallow-repository"], capture_output=True,
                          text=True, check=True).stdout.strip() == "false"  # fmt: skip
    newer = upstream.commit("four", {"stacks/blue/4.tf": "4\n"}, when=Q3 + 10 * DAY)
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") in (0, 1)
    records = recorded(config, capsys)
    assert [r["repositories"][0]["heads"][0]["commit"] for r in records] == [
        upstream.head("HEAD~1"),
        newer,
    ]
    assert records[1]["repositories"][0]["source"] == f"file://{upstream.path}"
    pack = tmp_path / "ops" / "audit-packs" / f"{PACK}-2"
    (scope,) = evidence(pack)["repositories"]
    assert scope["path"] == f"file://{upstream.path}"  # where it came from, not the cache
    assert len(rows(pack, "changes.csv")) == 4


def test_credentials_never_reach_outputs_store_or_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "s3cret-t0ken-4d1f"
    monkeypatch.setenv("AUDITOR_TEST_TOKEN", token)
    upstream = build(tmp_path, "upstream")
    config = write_config(
        tmp_path / "ops",
        f'[[repository]]\nurl = "file://ci:${{AUDITOR_TEST_TOKEN}}@{upstream.path}"\n'
        f'[[repository]]\nurl = "https://ci:{token}@127.0.0.1:9/acme/down.git"\n',
    )
    code = auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1")
    captured = capsys.readouterr()
    assert code == ExitCode.INCOMPLETE
    assert "https://127.0.0.1:9/acme/down.git: git clone failed" in captured.err
    recorded(config, capsys)
    everything = b"".join(
        p.read_bytes()
        for p in (tmp_path / "ops").rglob("*")
        if p.is_file() and p.name != "auditor.toml"
    )
    assert b"//ci:" not in everything and b"AUDITOR_TEST_TOKEN" not in everything
    for text in (captured.out, captured.err, everything.decode("utf-8", errors="replace")):
        assert token not in text


def test_parallel_and_dask_runs_give_the_same_pack_as_a_sequential_run(
    tmp_path: Path, repos: tuple[GitRepo, GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import LocalCluster

    alpha, beta = repos
    upstream = build(tmp_path, "gamma", ("p", "q", "r", "s"))
    repositories = (
        f'[[repository]]\npath = "{alpha.path}"\n[[repository]]\npath = "{beta.path}"\n'
        f'[[repository]]\nurl = "file://{upstream.path}"\n'
        f'[[repository]]\npath = "{tmp_path / "gone"}"\n'
    )
    packs = {}
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        for label, args in {
            "sequential": ["--jobs", "1"],
            "processes": ["--jobs", "2"],
            "dask": ["--scheduler", cluster.scheduler_address],
        }.items():
            config = write_config(tmp_path / label, repositories)
            code = auditor("run", "--config", str(config), "--as-of", AS_OF, "-q", *args)
            assert code == ExitCode.INCOMPLETE, capsys.readouterr().err
            packs[label] = files(tmp_path / label / "audit-packs" / PACK)
    assert packs["sequential"]["csv/changes.csv"].count(b"\r\n") == 1 + 3 + 2 + 4
    assert packs["processes"] == packs["sequential"]
    assert packs["dask"] == packs["sequential"]


def test_scheduler_without_dask_is_a_usage_error(
    tmp_path: Path,
    repos: tuple[GitRepo, GitRepo],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    config = write_config(tmp_path / "ops", f'[[repository]]\npath = "{repos[0].path}"\n')
    code = auditor("run", "--config", str(config), "--scheduler", "tcp://127.0.0.1:8786")
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert err.strip() == (
        "auditor: error: --scheduler needs Dask distributed: pip install 'auditor[dask]'"
    )
    assert not (tmp_path / "ops" / "audit-packs").exists()


def test_per_repository_overrides_and_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ops = build(tmp_path, "ops-repo", ("ops42 one", "ops43 two"))
    other = build(tmp_path, "other", ("ops44 three",))
    config = write_config(
        tmp_path / "ops",
        f'[[repository]]\npath = "{ops.path}"\nenvironments = ["stacks/<env>/**"]\n'
        "[[repository.overrides.CHG-07]]\nparameters = { pattern = 'ops\\d+' }\n"
        f'[[repository]]\npath = "{other.path}"\n',
    )
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") in (0, 1)
    pack = tmp_path / "ops" / "audit-packs" / PACK
    chg07 = {
        f["change_id"]: f["status"]
        for f in rows(pack, "findings.csv")
        if f["control_id"] == "CHG-07"
    }
    # the override's pattern finds the tickets of ops-repo only; in the other repository no
    # ticket is found, and without review data that is unknown, not failed
    assert sorted(chg07.values()) == ["pass", "pass", "unknown"]
    assert [s for c, s in chg07.items() if c.startswith("other@")] == ["unknown"]
    environments = {r["repo"]: r["environments"] for r in rows(pack, "changes.csv")}
    assert environments == {"ops-repo": "blue", "other": ""}


def _workspace(root: Path) -> Path:
    """A config beside its repository and a control directory of its own, paths relative."""
    build(root, "infra", ("one", "ops7 two", "three"))
    ours = root / "ours"
    ours.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "controls" / "CHG-07-ticket-linked.yaml"
    text = shipped.read_text(encoding="utf-8").replace("id: CHG-07", "id: OWN-07")
    (ours / "OWN-07-ticket-linked.yaml").write_text(text, encoding="utf-8")
    config = root / "auditor.toml"
    config.write_text(
        '[audit]\norganisation = "Acme"\nperiod = "last-quarter"\ncontrols_dirs = ["ours"]\n'
        'formats = ["pdf", "html", "csv", "json"]\n'
        '[[repository]]\npath = "infra"\n'
        '[[overrides."CHG-07"]]\nrepositories = ["infra"]\npaths = ["stacks/blue/1.tf"]\n'
        "parameters = { pattern = 'ops\\d+' }\n",
        encoding="utf-8",
    )
    return config


def test_a_pack_is_the_same_bytes_from_two_checkout_locations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    packs = {}
    for place in ("here", "elsewhere/deeper"):
        root = tmp_path / place
        config = _workspace(root)
        assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") in (0, 1)
        monkeypatch.chdir(root)
        code = auditor("report", "infra", "--config", "auditor.toml", "--as-of", AS_OF,
                       "--out", "pack", "--sample", "2", "--seed", "q3", "-q")  # fmt: skip
        assert code in (0, 1), capsys.readouterr().err
        packs[place] = {
            "run": files(root / "audit-packs" / PACK),
            "report": files(root / "pack"),
        }
        for kind, written in packs[place].items():
            assert "config.toml" in written and "report.pdf" in written, kind
            for name, data in written.items():
                for absolute in {str(tmp_path), str(tmp_path.resolve())}:
                    assert absolute.encode() not in data, f"{kind}: {name} names {absolute}"
    assert packs["here"] == packs["elsewhere/deeper"]

    pack = tmp_path / "here" / "pack"
    document = evidence(pack)
    assert document["command"] == (
        f"auditor report infra --as-of {AS_OF} --config auditor.toml --sample 2 --seed q3"
    )
    sources = {r["control"]["id"]: r["control"]["source"] for r in document["controls"]}
    assert sources["OWN-07"] == "ours/OWN-07-ticket-linked.yaml"
    assert sources["CHG-07"] == "controls/CHG-07-ticket-linked.yaml"
    assert [r["path"] for r in document["repositories"]] == ["infra"]
    assert document["overrides"] == [
        {"control_id": "CHG-07", "parameters": {"pattern": "ops\\d+"}, "repositories": ["infra"],
         "paths": ["stacks/blue/1.tf"], "changes": 1}
    ]  # fmt: skip
    html = (pack / "controls" / "CHG-07.html").read_text(encoding="utf-8")
    assert "Override for repositories infra; changes touching stacks/blue/1.tf" in html
    assert "<code>pattern = ops\\d+</code>" in html and "matched 1 change of" in html
    text = subprocess.run(
        ["pdftotext", "-layout", str(pack / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "pattern = ops\\d+" in flat and "Override for" in flat
    assert f"SHA-256 {document['config']['sha256']}" in flat
    assert "copied into the pack as config.toml" in flat


def test_config_errors_exit_2_with_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "ops", '[[repository]]\npath = "."\nforge = "svn"\n')
    assert auditor("run", "--config", str(config)) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err == (
        f"auditor: error: {config}:8: repository[0].forge: "
        "expected one of github, gitlab, none, got 'svn'"
    )
    assert not (tmp_path / "ops" / ".auditor").exists()


def test_duplicate_repository_names_are_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = build(tmp_path / "a", "infra"), build(tmp_path / "b", "infra")
    config = write_config(
        tmp_path / "ops",
        f'[[repository]]\npath = "{first.path}"\n[[repository]]\npath = "{second.path}"\n',
    )
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") == 2
    assert "repository[1]: named 'infra' like repository[0]; set name" in capsys.readouterr().err


def test_a_second_run_on_the_same_store_is_refused(
    tmp_path: Path, repos: tuple[GitRepo, GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    import fcntl

    config = write_config(tmp_path / "ops", f'[[repository]]\npath = "{repos[0].path}"\n')
    store = tmp_path / "ops" / ".auditor"
    store.mkdir(parents=True)
    with (store / "run.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert auditor("run", "--config", str(config), "--jobs", "1") == ExitCode.USAGE
    assert "another auditor run is using this store" in capsys.readouterr().err


def test_an_older_store_gains_the_runs_table(tmp_path: Path) -> None:
    path = tmp_path / "old" / "evidence.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for version in (1, 2, 3):
        db.executescript(_MIGRATIONS[version])
    db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    db.close()
    with Store.open(path.parent, create=False) as store:
        assert store.runs() == []
        version = store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert int(version.fetchone()[0]) == SCHEMA_VERSION == 12


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitRepo]:
    repo = build(tmp_path, "infra-live")
    repo.git("checkout", "-q", "-b", "trunk")
    repo.git("remote", "add", "origin", "https://bot:hunter2-token@github.com/acme/infra-live.git")
    monkeypatch.chdir(repo.path)
    yield repo


def test_init_writes_a_commented_starter_config_that_loads(
    checkout: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert auditor("init", "--organisation", "Acme Corp") == 0
    target = checkout.path / "auditor.toml"
    text = target.read_text(encoding="utf-8")
    assert "hunter2" not in text and "# origin: https://github.com/acme/infra-live.git" in text
    assert text.count("\n#") > 10  # the optional keys are there, commented
    config = load_config(target)
    (repo,) = config.repositories
    assert repo.path == checkout.path / "." and repo.branches == ("trunk",)
    assert repo.forge.forge.value == "github" and config.organisation == "Acme Corp"
    assert "wrote auditor.toml" in capsys.readouterr().err

    target.write_text("# mine\n", encoding="utf-8")
    assert auditor("init") == ExitCode.USAGE
    assert "auditor.toml already exists; not overwriting it" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mine\n"


def test_init_names_the_api_of_a_self_hosted_forge(
    checkout: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout.git("remote", "set-url", "origin", "git@gitlab.acme.io:platform/infra-live.git")
    assert auditor("init") == 0
    config = load_config(checkout.path / "auditor.toml")
    (repo,) = config.repositories
    assert repo.forge.forge.value == "gitlab"
    assert repo.forge.forge_url == "https://gitlab.acme.io/api/v4"  # written, for the user to check


def test_init_outside_a_repository_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert auditor("init") == ExitCode.USAGE
    assert "not a Git repository" in capsys.readouterr().err
    assert not (tmp_path / "auditor.toml").exists()


@pytest.mark.parametrize(
    ("raw", "url", "username", "password"),
    [
        ("https://ci:${AUDITOR_TEST_TOKEN}@git.example.com/a/b.git",
         "https://git.example.com/a/b.git", "ci", "tok-123456"),
        ("https://ci:literal%40pw@git.example.com:8443/a/b.git",
         "https://git.example.com:8443/a/b.git", "ci", "literal@pw"),
        ("https://ci@git.example.com/a/b.git", "https://ci@git.example.com/a/b.git", "", ""),
        ("ssh://git@git.example.com/a/b.git", "ssh://git@git.example.com/a/b.git", "", ""),
        ("git@github.com:acme/infra.git", "git@github.com:acme/infra.git", "", ""),
        ("file:///srv/git/infra", "file:///srv/git/infra", "", ""),
    ],
)  # fmt: skip
def test_clone_urls_keep_credentials_apart(
    raw: str, url: str, username: str, password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.redaction import redact
    from auditor.runs.clones import CloneURL, cache_name

    monkeypatch.setenv("AUDITOR_TEST_TOKEN", "tok-123456")
    remote = CloneURL.parse(raw)
    assert (remote.url, remote.username, remote.password) == (url, username, password)
    assert "@git.example.com" not in redact(raw)
    assert cache_name(raw) == cache_name(redact(raw))  # the same mirror, whatever the user


def test_a_url_naming_an_unset_variable_is_not_audited(
    tmp_path: Path, repos: tuple[GitRepo, GitRepo], capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "ops",
        f'[[repository]]\npath = "{repos[0].path}"\n'
        '[[repository]]\nurl = "https://ci:${AUDITOR_UNSET_VARIABLE}@127.0.0.1:9/a/b.git"\n',
    )
    assert auditor("run", "--config", str(config), "--as-of", AS_OF, "--jobs", "1") == 4
    assert "${AUDITOR_UNSET_VARIABLE}, which is not set in the environment" in (
        capsys.readouterr().err
    )


def test_a_clone_of_a_local_repository_names_no_path_of_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone of a bundle or a directory has a machine path as its origin: the pack names the
    origin by its last two parts only (the repository's name is made of the same)."""
    source = build(tmp_path / "machine" / "private", "infra")
    clone = tmp_path / "work" / "infra"
    subprocess.run(["git", "clone", "-q", str(source.path), str(clone)], env=source.env, check=True)
    monkeypatch.chdir(tmp_path / "work")
    code = auditor("report", "infra", "--as-of", AS_OF, "--out", "pack", "-q",
                   "--format", "pdf,html,csv,json,oscal")  # fmt: skip
    assert code in (0, 1)
    for name, data in files(tmp_path / "work" / "pack").items():
        for absolute in {str(tmp_path), str(tmp_path.resolve())}:
            assert absolute.encode() not in data, f"{name} names {absolute}"
    (repository,) = evidence(tmp_path / "work" / "pack")["repositories"]
    assert repository["remote"] == "local path …/private/infra"


@pytest.mark.parametrize(
    ("origin", "forge", "forge_url"),
    [
        ("git@github.com:acme/infra-live.git", "github", None),
        ("https://www.github.com/acme/infra-live.git", "github", None),  # its API is derived
        ("git@github.acme.io:acme/infra-live.git", "github", "https://github.acme.io/api/v3"),
        ("https://code.github-mirror.acme.io/acme/infra-live.git", "none", None),
        (
            "https://git.gitlab.acme.io/acme/infra-live.git",
            "gitlab",
            "https://git.gitlab.acme.io/api/v4",
        ),
        ("https://bitbucket.org/acme/infra-live.git", "none", None),
    ],
)
def test_init_guesses_the_forge_as_the_pack_links_it(
    checkout: GitRepo,
    capsys: pytest.CaptureFixture[str],
    origin: str,
    forge: str,
    forge_url: str | None,
) -> None:
    checkout.git("remote", "set-url", "origin", origin)
    assert auditor("init") == 0
    (repo,) = load_config(checkout.path / "auditor.toml").repositories
    assert (repo.forge.forge.value if repo.forge.forge else "none") == forge
    assert repo.forge.forge_url == forge_url

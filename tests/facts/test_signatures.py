"""Signatures verified against the organisation's keys: SSH allowed signers and OpenPGP keys."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitrepo import GitRepo

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.facts.signatures import SignerKeys, verify_commits
from auditor.ledger.changes import read_commits
from auditor.ledger.commits import DEFAULT_BOTS
from auditor.model import SignatureKind

ALICE = ("Alice Admin", "alice@example.com")
BOB = ("Bob Builder", "bob@example.com")


def ssh_key(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def gpg_home(folder: Path) -> Path:
    home = folder / "gnupg"
    home.mkdir(mode=0o700)
    subprocess.run(
        ["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key",
         "Bob Builder <bob@example.com>", "ed25519", "sign", "never"],
        check=True, capture_output=True, env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return home


def signed_commit(
    repo: GitRepo, message: str, *, config: dict[str, str], env: dict[str, str]
) -> str:
    settings = {"GIT_CONFIG_COUNT": str(len(config))}
    for index, (key, value) in enumerate(config.items()):
        settings[f"GIT_CONFIG_KEY_{index}"] = key
        settings[f"GIT_CONFIG_VALUE_{index}"] = value
    saved = dict(repo.env)
    repo.env.update(settings, **env)
    try:
        return repo.commit(message, {f"{message}.txt": message}, author=ALICE, extra=("-S",))
    finally:
        repo.env = saved


@dataclass(frozen=True)
class Signed:
    shas: dict[str, str]
    allowed: Path  # SSH allowed signers: Alice's key only
    gpg_keys: Path  # Bob's OpenPGP key, armoured


@pytest.fixture
def history(repo: GitRepo, tmp_path: Path) -> Signed:
    keys = tmp_path / "keys"
    keys.mkdir()
    alice, mallory = ssh_key(keys, "alice"), ssh_key(keys, "mallory")
    home = gpg_home(keys)
    ssh = {"gpg.format": "ssh"}
    shas = {
        "root": repo.commit("root", {"README.md": "hi\n"}, author=ALICE),
        "ssh": signed_commit(repo, "ssh", config={**ssh, "user.signingkey": str(alice)}, env={}),
        "stranger": signed_commit(
            repo, "stranger", config={**ssh, "user.signingkey": str(mallory)}, env={}
        ),
        "gpg": signed_commit(
            repo,
            "gpg",
            config={"user.signingkey": "bob@example.com"},
            env={"GNUPGHOME": str(home)},
        ),
        "unsigned": repo.commit("unsigned", {"x.txt": "x\n"}, author=ALICE),
    }
    allowed = keys / "allowed_signers"
    public = (keys / "alice.pub").read_text().split()
    allowed.write_text(f"alice@example.com {public[0]} {public[1]}\n")
    armoured = keys / "org.asc"
    armoured.write_bytes(
        subprocess.run(
            ["gpg", "--armor", "--export", "bob@example.com"],
            check=True,
            capture_output=True,
            env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"},
        ).stdout
    )
    return Signed(shas, allowed, armoured)


def test_verdicts_per_commit(repo: GitRepo, history: Signed) -> None:
    shas = history.shas
    commits = list(read_commits(repo.path, list(shas.values()), lambda n, e: (n, e), DEFAULT_BOTS))
    assert {c.sha: c.signature for c in commits}[shas["gpg"]] is SignatureKind.GPG
    keys = SignerKeys(history.allowed, history.gpg_keys)
    verdicts = verify_commits(repo.path, commits, keys)
    assert set(verdicts) == {shas["ssh"], shas["stranger"], shas["gpg"]}, "unsigned: no verdict"
    assert verdicts[shas["ssh"]].verified
    assert verdicts[shas["ssh"]].detail.startswith("alice@example.com (ED25519 key SHA256:")
    assert verdicts[shas["gpg"]].verified
    assert verdicts[shas["gpg"]].detail.startswith("Bob Builder <bob@example.com> (key ")
    stranger = verdicts[shas["stranger"]]
    assert not stranger.verified and "not in the allowed-signers file" in stranger.detail
    only_ssh = verify_commits(repo.path, commits, SignerKeys(allowed_signers=history.allowed))
    assert only_ssh[shas["gpg"]].detail == "OpenPGP signature, but no OpenPGP keys were given"


def test_check_verifies_signatures_and_fills_the_signature_column(
    repo: GitRepo, history: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = history.shas
    keys = ["--allowed-signers", str(history.allowed), "--gpg-keys", str(history.gpg_keys)]
    store = ["--store", str(tmp_path / "store"), "-q"]
    code = run(["check", str(repo.path), *store, "--format", "json", *keys])
    assert code == ExitCode.CONTROLS_FAILED
    int01 = {
        r["commit"]: r for r in json.loads(capsys.readouterr().out) if r["control_id"] == "INT-01"
    }
    assert int01[shas["ssh"]]["status"] == "pass"
    assert "signature verified: alice@example.com" in int01[shas["ssh"]]["reason"]
    assert int01[shas["gpg"]]["status"] == "pass"
    assert int01[shas["stranger"]]["status"] == "fail"
    assert "do not verify" in int01[shas["stranger"]]["reason"]
    assert int01[shas["unsigned"]]["status"] == "fail"

    assert run(["changes", str(repo.path), *store, "--format", "json"]) == ExitCode.OK
    plain = {r["commit"]: r["signature"] for r in json.loads(capsys.readouterr().out)["rows"]}
    assert plain[shas["ssh"]] == "unverified", "without keys a signature is only present"
    assert plain[shas["unsigned"]] == "unsigned"


def test_a_signature_no_key_verifies_is_unknown_never_a_pass(
    repo: GitRepo, history: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shas = history.shas
    store = ["--store", str(tmp_path / "store"), "-q"]
    run(["check", str(repo.path), *store, "--format", "json"])
    int01 = {
        r["commit"]: r for r in json.loads(capsys.readouterr().out) if r["control_id"] == "INT-01"
    }
    for name in ("ssh", "stranger", "gpg"):
        assert int01[shas[name]]["status"] == "unknown", name
        assert int01[shas[name]]["reason"].endswith("not verified against the organisation's keys")
    assert int01[shas["unsigned"]]["status"] == "fail"
    assert "pass" not in {r["status"] for r in int01.values()}

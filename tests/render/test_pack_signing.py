"""Signed packs: ``--sign-key`` signs MANIFEST.sha256 with SSH, ``verify --allowed-signers``
checks it and names the signer; tampering, swapped signatures and unknown keys exit 1."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitrepo import GitRepo
from reportfactory import build_report
from sshkeys import keygen as _keygen
from sshkeys import verify as _verify

from auditor.cli import run
from auditor.cli.exitcodes import ExitCode
from auditor.errors import UsageError
from auditor.render import Format, RenderOptions, verify_pack, write_pack
from auditor.render.pack import manifest_text, verify_signature

AS_OF = "2026-10-01T02:00:00Z"


@dataclass(frozen=True)
class Keys:
    alice: Path  # the organisation's signing key, listed in ``allowed``
    mallory: Path  # a key nobody allowed
    locked: Path  # needs a passphrase
    allowed: Path  # allowed signers: alice only, as audit@acme.example
    git_only: Path  # allowed signers: alice, but for the git namespace only


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("keys")
    alice, mallory = _keygen(root / "alice"), _keygen(root / "mallory")
    locked = _keygen(root / "locked", "correct horse")
    public = " ".join((root / "alice.pub").read_text().split()[:2])
    allowed = root / "allowed_signers"
    allowed.write_text(f"audit@acme.example {public}\n")
    git_only = root / "git_signers"
    git_only.write_text(f'audit@acme.example namespaces="git" {public}\n')
    return Keys(alice, mallory, locked, allowed, git_only)


def _options(key: Path | None) -> RenderOptions:
    return RenderOptions(formats=(Format.CSV, Format.JSON, Format.HTML), sign_key=key)


def _resign(pack: Path, key: Path) -> None:
    """What someone with ``key`` does after editing the pack: a new manifest, signed."""
    lines = (pack / "MANIFEST.sha256").read_text().splitlines()
    listed = [line.split("  ", 1)[1] for line in lines]
    files = [(name, hashlib.sha256((pack / name).read_bytes()).hexdigest()) for name in listed]
    (pack / "MANIFEST.sha256").write_text(manifest_text(files))
    (pack / "MANIFEST.sha256.sig").unlink()
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", "auditor-pack", "MANIFEST.sha256"],
        cwd=pack,
        check=True,
        capture_output=True,
    )


def test_a_signed_pack_verifies_and_names_its_signer(tmp_path: Path, keys: Keys) -> None:
    pack = write_pack(build_report(changes=6), tmp_path / "pack", _options(keys.alice))
    assert pack.signed
    signature = (tmp_path / "pack" / "MANIFEST.sha256.sig").read_text()
    assert signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert "MANIFEST.sha256.sig" not in (tmp_path / "pack" / "MANIFEST.sha256").read_text()
    assert verify_pack(pack.path) == []
    checked = verify_signature(pack.path, keys.allowed)
    assert checked.problem is None and checked.signer is not None
    assert checked.signer.principal == "audit@acme.example"
    assert checked.signer.key.startswith("ED25519 key SHA256:")
    code, out, err = _verify(pack.path, "--allowed-signers", keys.allowed)
    assert (code, out) == (0, "")
    assert f"signed by audit@acme.example ({checked.signer.key})" in err
    # Without auditor, as the README shows it.
    plain = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(keys.allowed), "-I", "audit@acme.example",
         "-n", "auditor-pack", "-s", "MANIFEST.sha256.sig"],
        cwd=pack.path, stdin=(pack.path / "MANIFEST.sha256").open("rb"),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith('Good "auditor-pack" signature for audit@acme.example')
    # Not checked without the allowed signers, and said so.
    code, out, err = _verify(pack.path)
    assert code == 0 and "MANIFEST.sha256.sig not checked (give --allowed-signers)" in err


def test_signed_packs_of_the_same_report_are_byte_identical(tmp_path: Path, keys: Keys) -> None:
    first = write_pack(build_report(changes=4), tmp_path / "a", _options(keys.alice)).path
    second = write_pack(build_report(changes=4), tmp_path / "b", _options(keys.alice)).path
    for name in ("MANIFEST.sha256", "MANIFEST.sha256.sig"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_one_byte_changed_in_the_signed_manifest_is_exit_1(tmp_path: Path, keys: Keys) -> None:
    pack = write_pack(build_report(changes=4), tmp_path / "pack", _options(keys.alice)).path
    manifest = pack / "MANIFEST.sha256"
    data = bytearray(manifest.read_bytes())
    data[0] = ord("0") if data[0] != ord("0") else ord("1")
    manifest.write_bytes(bytes(data))
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert (
        "signature: MANIFEST.sha256.sig is not a signature of this manifest by audit@acme.example"
        " (the manifest changed since it was signed, or the signature is another's)"
    ) in out.splitlines()


def test_a_rewritten_manifest_is_caught_by_the_signature_alone(tmp_path: Path, keys: Keys) -> None:
    """Someone edits a CSV and writes a matching manifest: every hash checks, the signature not."""
    pack = write_pack(build_report(changes=4), tmp_path / "pack", _options(keys.alice)).path
    signature = (pack / "MANIFEST.sha256.sig").read_bytes()
    with (pack / "csv" / "findings.csv").open("ab") as stream:
        stream.write(b"CHG-01,,,forged\r\n")
    _resign(pack, keys.alice)
    (pack / "MANIFEST.sha256.sig").write_bytes(signature)  # the old signature put back
    assert verify_pack(pack) == []
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert len(out.splitlines()) == 1 and "is not a signature of this manifest" in out


def test_a_signature_swapped_in_from_another_pack_is_exit_1(tmp_path: Path, keys: Keys) -> None:
    one = write_pack(build_report(changes=4), tmp_path / "one", _options(keys.alice)).path
    other = write_pack(build_report(changes=5), tmp_path / "two", _options(keys.alice)).path
    shutil.copyfile(other / "MANIFEST.sha256.sig", one / "MANIFEST.sha256.sig")
    assert verify_pack(one) == []
    code, out, _ = _verify(one, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        "signature: MANIFEST.sha256.sig is not a signature of this manifest by audit@acme.example"
        " (the manifest changed since it was signed, or the signature is another's)"
    ]


def test_a_pack_signed_by_a_key_not_allowed_is_exit_1_naming_the_key(
    tmp_path: Path, keys: Keys
) -> None:
    pack = write_pack(build_report(changes=4), tmp_path / "pack", _options(keys.alice)).path
    (pack / "csv" / "controls.csv").write_bytes(b"control_id\r\nforged\r\n")
    _resign(pack, keys.mallory)
    assert verify_pack(pack) == []
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{keys.mallory}.pub"], capture_output=True, text=True,
        check=True,
    ).stdout.split()[1]  # fmt: skip
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        "signature: MANIFEST.sha256.sig is by a key not in allowed_signers"
        f" (ED25519 key {fingerprint})"
    ]


def test_a_key_allowed_for_git_only_may_not_sign_packs(tmp_path: Path, keys: Keys) -> None:
    pack = write_pack(build_report(changes=3), tmp_path / "pack", _options(keys.alice)).path
    code, out, _ = _verify(pack, "--allowed-signers", keys.git_only)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.startswith(
        "signature: git_signers does not allow the key of audit@acme.example to sign auditor"
        " packs ("
    )
    assert "namespace" in out and len(out.splitlines()) == 1


def test_an_unsigned_pack_fails_verification_against_allowed_signers(
    tmp_path: Path, keys: Keys
) -> None:
    pack = write_pack(build_report(changes=3), tmp_path / "pack", _options(None)).path
    assert not (pack / "MANIFEST.sha256.sig").exists()
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == ["unsigned: pack has no MANIFEST.sha256.sig"]
    (pack / "MANIFEST.sha256.sig").write_text("not a signature\n")
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.startswith("signature: MANIFEST.sha256.sig is not a sound signature")


def test_a_key_that_needs_a_passphrase_is_refused_and_no_pack_is_written(
    tmp_path: Path, keys: Keys
) -> None:
    with pytest.raises(UsageError, match=r"^--sign-key: cannot sign with .*locked: "):
        write_pack(build_report(changes=3), tmp_path / "pack", _options(keys.locked))
    assert not (tmp_path / "pack").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def _repository(root: Path) -> GitRepo:
    repo = GitRepo(root / "infra")
    for day in range(3):
        repo.commit(f"change {day}", {f"envs/prod/{day}.tf": f"{day}\n"}, when=1_782_864_000 + day)
    return repo


def test_report_and_run_sign_with_the_option_or_the_config_key(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repository(tmp_path)
    out = tmp_path / "signed"
    code = run(
        ["report", str(repo.path), "--store", str(tmp_path / "store"), "--out", str(out),
         "--format", "csv,json", "--as-of", AS_OF, "--sign-key", str(keys.alice)]
    )  # fmt: skip
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    assert "manifest signed" in capsys.readouterr().err
    command = json.loads((out / "evidence.json").read_text())["command"]
    assert "--sign-key" not in command and str(keys.alice) not in json.dumps(command)
    assert _verify(out, "--allowed-signers", keys.allowed)[0] == 0
    # auditor run: signing_key in the config, relative to it.
    ops = tmp_path / "ops"
    ops.mkdir()
    shutil.copyfile(keys.alice, ops / "signing")
    (ops / "signing").chmod(0o600)
    config = ops / "auditor.toml"
    config.write_text(
        '[audit]\nperiod = "last-quarter"\nformats = ["csv"]\nsigning_key = "signing"\n'
        f'[[repository]]\npath = "{repo.path}"\n'
    )
    code = run(["run", "--config", str(config), "--as-of", AS_OF, "-q"])
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    (pack,) = (ops / "audit-packs").iterdir()
    assert _verify(pack, "--allowed-signers", keys.allowed)[0] == 0
    # --sign-key wins over the config's key.
    code = run(
        ["run", "--config", str(config), "--as-of", AS_OF, "-q", "--sign-key", str(keys.mallory)]
    )
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    later = sorted((ops / "audit-packs").iterdir())[-1]
    assert later != pack
    code, out, _ = _verify(later, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED and "is by a key not in allowed_signers" in out
    # auditor report --config: the config's key too; the key's path is in no file of the pack.
    reported = tmp_path / "reported"
    code = run(
        ["report", str(repo.path), "--config", str(config), "--store", str(tmp_path / "store"),
         "--out", str(reported), "--format", "csv,json", "--as-of", AS_OF, "-q"]
    )  # fmt: skip
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    code, _, err = _verify(reported, "--allowed-signers", keys.allowed)
    assert code == 0 and "signed by audit@acme.example" in err
    for path in reported.rglob("*"):
        if path.is_file():
            assert str(ops / "signing").encode() not in path.read_bytes(), path


def test_a_signing_key_the_config_names_must_exist(tmp_path: Path) -> None:
    repo = _repository(tmp_path)
    config = tmp_path / "auditor.toml"
    config.write_text(f'[audit]\nsigning_key = "missing"\n[[repository]]\npath = "{repo.path}"\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run(["run", "--config", str(config), "--as-of", AS_OF])
    assert code == ExitCode.USAGE
    assert err.getvalue().splitlines() == [
        f"auditor: error: {config}:2: audit.signing_key: no such file: {tmp_path / 'missing'}"
    ]


# -- re-rendering from evidence: the source vouched for by a signed manifest, or not ------------


def _rerender(evidence: Path, out: Path, *extra: object) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run(
            ["report", "--from-evidence", str(evidence), "--out", str(out), "--format",
             "csv,json,html", *(str(e) for e in extra)]
        )  # fmt: skip
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED, ExitCode.INCOMPLETE), err.getvalue()
    assert "Traceback" not in err.getvalue()
    return code, err.getvalue()


@pytest.fixture(scope="module")
def signed_pack(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    root = tmp_path_factory.mktemp("signed")
    return write_pack(build_report(changes=5), root / "audit-2026-Q1", _options(keys.alice)).path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_source_its_signed_manifest_vouches_for_names_the_pack_and_signer(
    signed_pack: Path, keys: Keys, tmp_path: Path
) -> None:
    evidence = signed_pack / "evidence.json"
    out = tmp_path / "branded"
    _, err = _rerender(evidence, out, "--allowed-signers", keys.allowed)
    checked = verify_signature(signed_pack, keys.allowed)
    assert checked.signer is not None
    statement = (
        f"Re-rendered from evidence.json (SHA-256 {_digest(evidence)}): as listed in the"
        " MANIFEST.sha256 of the pack audit-2026-Q1, signed by audit@acme.example"
        f" ({checked.signer.key})."
    )
    assert "warning" not in err
    assert (out / "source.txt").read_text() == statement + "\n"
    assert statement in (out / "index.html").read_text()
    assert "source.txt" in (out / "MANIFEST.sha256").read_text()
    assert (out / "evidence.json").read_bytes() == evidence.read_bytes()
    # Without the allowed signers: listed, but the signature is not checked, and said so.
    _, err = _rerender(evidence, tmp_path / "unchecked")
    assert err.startswith("warning: Re-rendered from evidence.json")
    assert "(signature not checked: no allowed signers were given)." in err.splitlines()[0]


def test_an_edited_source_does_not_match_its_signed_manifest(
    signed_pack: Path, keys: Keys, tmp_path: Path
) -> None:
    copy = tmp_path / "audit-2026-Q1"
    shutil.copytree(signed_pack, copy)
    listed = _digest(copy / "evidence.json")
    with (copy / "evidence.json").open("ab") as stream:
        stream.write(b"\n")  # still the same document, no longer the same bytes
    _, err = _rerender(copy / "evidence.json", tmp_path / "out", "--allowed-signers", keys.allowed)
    expected = (
        f"Re-rendered from evidence.json (SHA-256 {_digest(copy / 'evidence.json')}): it does not"
        " match the signed MANIFEST.sha256 of the pack audit-2026-Q1, which lists evidence.json"
        f" with SHA-256 {listed}: the evidence was changed after the pack was signed."
    )
    assert err.splitlines()[0] == f"warning: {expected}"
    assert (tmp_path / "out" / "source.txt").read_text() == expected + "\n"


def test_unsigned_sources_are_said_to_be_unsigned(
    signed_pack: Path, keys: Keys, tmp_path: Path
) -> None:
    loose = tmp_path / "loose" / "evidence.json"
    loose.parent.mkdir()
    shutil.copyfile(signed_pack / "evidence.json", loose)
    _, err = _rerender(loose, tmp_path / "a", "--allowed-signers", keys.allowed)
    assert err.splitlines()[0].endswith(
        ": unsigned source (no MANIFEST.sha256 beside it lists it)."
    )
    plain = write_pack(build_report(changes=5), tmp_path / "plain", _options(None)).path
    _, err = _rerender(plain / "evidence.json", tmp_path / "b", "--allowed-signers", keys.allowed)
    assert err.splitlines()[0].endswith(
        ": unsigned source (the MANIFEST.sha256 of the pack plain that lists it is not signed)."
    )
    assert "unsigned source" in (tmp_path / "b" / "source.txt").read_text()


def test_a_source_signed_by_a_key_not_allowed_is_not_vouched_for(
    signed_pack: Path, keys: Keys, tmp_path: Path
) -> None:
    forged = write_pack(build_report(changes=5), tmp_path / "forged", _options(keys.mallory)).path
    _, err = _rerender(
        forged / "evidence.json", tmp_path / "out", "--allowed-signers", keys.allowed
    )
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{keys.mallory}.pub"], capture_output=True, text=True,
        check=True,
    ).stdout.split()[1]  # fmt: skip
    assert err.splitlines()[0].endswith(
        "as listed in the MANIFEST.sha256 of the pack forged, but its signature does not hold"
        f" (MANIFEST.sha256.sig is by a key not in allowed_signers (ED25519 key {fingerprint}))."
    )

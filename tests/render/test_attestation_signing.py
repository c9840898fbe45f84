"""Signed attestations: with a signing key, each attestation gets its SSH signature beside it
(``<file>.sig``, namespace ``auditor-attestation``), listed in the manifest; ``verify
--allowed-signers`` checks every one and names each that fails, one line each, exit 1."""

from __future__ import annotations

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
from auditor.render import RenderOptions, parse_formats, verify_pack, write_pack
from auditor.render.pack import verify_attestation_signatures

AS_OF = "2026-10-01T02:00:00Z"
PRINCIPAL = "audit@acme.example"


@dataclass(frozen=True)
class Keys:
    alice: Path  # the organisation's key, allowed for everything
    mallory: Path  # a key nobody allowed
    allowed: Path  # alice, any namespace
    packs_only: Path  # alice, for the auditor-pack namespace only


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("keys")
    alice, mallory = _keygen(root / "alice"), _keygen(root / "mallory")
    public = " ".join((root / "alice.pub").read_text().split()[:2])
    allowed = root / "allowed_signers"
    allowed.write_text(f"{PRINCIPAL} {public}\n")
    packs_only = root / "pack_signers"
    packs_only.write_text(f'{PRINCIPAL} namespaces="auditor-pack" {public}\n')
    return Keys(alice, mallory, allowed, packs_only)


def _pack(out: Path, key: Path | None, formats: str = "attestation,csv,json") -> Path:
    options = RenderOptions(formats=parse_formats(formats), sign_key=key)
    return write_pack(build_report(changes=12), out, options).path


def _attestations(pack: Path) -> list[str]:
    return sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*.intoto.json"))


def _fingerprint(key: Path) -> str:
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{key}.pub"], capture_output=True, text=True, check=True
    )
    return listed.stdout.split()[1]


def _ssh_verify(
    pack: Path, allowed: Path, name: str, namespace: str
) -> subprocess.CompletedProcess[str]:
    """The README's command, without auditor."""
    with (pack / name).open("rb") as stream:
        return subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", PRINCIPAL,
             "-n", namespace, "-s", f"{name}.sig"],
            cwd=pack, stdin=stream, capture_output=True, text=True, check=False,
        )  # fmt: skip


def test_each_attestation_is_signed_beside_it_and_listed_in_the_manifest(
    tmp_path: Path, keys: Keys
) -> None:
    pack = _pack(tmp_path / "pack", keys.alice, "attestation,csv,json,html")
    attestations = _attestations(pack)
    assert len(attestations) == 6  # a statement and a VSA for each of the three branches
    listed = {
        line.split("  ", 1)[1]
        for line in (pack / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    }
    for name in attestations:
        signature = (pack / f"{name}.sig").read_text(encoding="ascii")
        assert signature.startswith("-----BEGIN SSH SIGNATURE-----\n")
        assert {name, f"{name}.sig"} <= listed
        # The plain ssh-keygen command of the README holds for each, in its own namespace.
        plain = _ssh_verify(pack, keys.allowed, name, "auditor-attestation")
        assert plain.returncode == 0, plain.stderr
        assert plain.stdout.startswith(f'Good "auditor-attestation" signature for {PRINCIPAL}')
        # An attestation's signature is no manifest signature, nor the other way round.
        assert _ssh_verify(pack, keys.allowed, name, "auditor-pack").returncode != 0
    # The HTML overview links the signatures with the attestations.
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}.sig"' in index for name in attestations)
    assert verify_pack(pack) == []
    checked = verify_attestation_signatures(pack, keys.allowed)
    assert checked.problems == () and checked.checked == 6
    assert [(s.principal, s.key) for s in checked.signers] == [
        (PRINCIPAL, f"ED25519 key {_fingerprint(keys.alice)}")
    ]
    code, out, err = _verify(pack, "--allowed-signers", keys.allowed)
    assert (code, out) == (0, "")
    assert f"; 6 attestations signed by {PRINCIPAL} (ED25519 key " in err


def test_unsigned_packs_have_no_attestation_signatures(tmp_path: Path) -> None:
    pack = _pack(tmp_path / "pack", None)
    assert _attestations(pack) and not list(pack.rglob("*.sig"))


def test_two_signed_renders_are_byte_identical(tmp_path: Path, keys: Keys) -> None:
    first = _pack(tmp_path / "a", keys.alice)
    second = _pack(tmp_path / "b", keys.alice)
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert any(name.endswith(".intoto.json.sig") for name in names)
    assert names == sorted(
        p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()
    )
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_one_byte_changed_in_an_attestation_is_named_exit_1(tmp_path: Path, keys: Keys) -> None:
    pack = _pack(tmp_path / "pack", keys.alice)
    name = _attestations(pack)[0]
    data = bytearray((pack / name).read_bytes())
    data[data.index(b'"_type"') + 2] ^= 0x20  # one byte: "_type" becomes "_Type"
    (pack / name).write_bytes(bytes(data))
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        f"changed: {name}",
        f"signature: {name}.sig is not a signature of this attestation by {PRINCIPAL}"
        " (the attestation changed since it was signed, or the signature is another's)",
    ]


def test_a_reforged_attestation_is_caught_by_its_signature_alone(
    tmp_path: Path, keys: Keys
) -> None:
    """Someone edits an attestation and rewrites the manifest to match, keeping the old
    signatures: every hash checks, the attestation's signature (and the manifest's) do not."""
    pack = _pack(tmp_path / "pack", keys.alice)
    name = next(n for n in _attestations(pack) if ".source-vsa." in n)
    vsa = json.loads((pack / name).read_text(encoding="utf-8"))
    vsa["predicate"]["verifiedLevels"] = ["SLSA_SOURCE_LEVEL_3"]
    (pack / name).write_text(json.dumps(vsa, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    manifest = pack / "MANIFEST.sha256"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    digest = subprocess.run(
        ["sha256sum", name], cwd=pack, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    manifest.write_text(
        "".join(
            f"{digest}  {name}\n" if line.endswith(f"  {name}") else f"{line}\n" for line in lines
        ),
        encoding="utf-8",
    )
    assert verify_pack(pack) == []
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    assert out.splitlines() == [
        "signature: MANIFEST.sha256.sig is not a signature of this manifest by"
        f" {PRINCIPAL} (the manifest changed since it was signed, or the signature is another's)",
        f"signature: {name}.sig is not a signature of this attestation by {PRINCIPAL}"
        " (the attestation changed since it was signed, or the signature is another's)",
    ]


def test_signatures_swapped_between_attestations_are_both_named(tmp_path: Path, keys: Keys) -> None:
    pack = _pack(tmp_path / "pack", keys.alice)
    one, two = _attestations(pack)[:2]
    a, b = (pack / f"{one}.sig").read_bytes(), (pack / f"{two}.sig").read_bytes()
    (pack / f"{one}.sig").write_bytes(b)
    (pack / f"{two}.sig").write_bytes(a)
    checked = verify_attestation_signatures(pack, keys.allowed)
    assert [p.split(" is ", 1)[0] for p in checked.problems] == [
        f"signature: {one}.sig",
        f"signature: {two}.sig",
    ]


def test_a_missing_or_foreign_attestation_signature_is_named(tmp_path: Path, keys: Keys) -> None:
    pack = _pack(tmp_path / "pack", keys.alice)
    gone, foreign = _attestations(pack)[:2]
    (pack / f"{gone}.sig").unlink()
    forged = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(keys.mallory), "-n", "auditor-attestation", "-"],
        input=(pack / foreign).read_bytes(), capture_output=True, check=True,
    ).stdout  # fmt: skip
    (pack / f"{foreign}.sig").write_bytes(forged)
    code, out, _ = _verify(pack, "--allowed-signers", keys.allowed)
    assert code == ExitCode.CONTROLS_FAILED
    lines = out.splitlines()
    assert f"missing: {gone}.sig" in lines and f"changed: {foreign}.sig" in lines
    assert f"unsigned: {gone} has no {Path(gone).name}.sig" in lines
    assert (
        f"signature: {foreign}.sig is by a key not in allowed_signers"
        f" (ED25519 key {_fingerprint(keys.mallory)})"
    ) in lines
    assert len(lines) == 4


def test_a_key_allowed_for_packs_only_may_not_sign_attestations(tmp_path: Path, keys: Keys) -> None:
    pack = _pack(tmp_path / "pack", keys.alice)
    code, out, _ = _verify(pack, "--allowed-signers", keys.packs_only)
    assert code == ExitCode.CONTROLS_FAILED
    lines = out.splitlines()
    assert len(lines) == len(_attestations(pack)) == 6
    assert all(
        line.startswith(
            f"signature: pack_signers does not allow the key of {PRINCIPAL} to sign auditor"
            " attestations ("
        )
        for line in lines
    )
    assert "MANIFEST" not in out  # the manifest's own signature holds


def _repository(root: Path) -> GitRepo:
    repo = GitRepo(root / "infra")
    for day in range(3):
        repo.commit(f"change {day}", {f"envs/prod/{day}.tf": f"{day}\n"}, when=1_782_864_000 + day)
    return repo


def test_report_and_run_sign_the_attestations_with_the_manifest(tmp_path: Path, keys: Keys) -> None:
    repo = _repository(tmp_path)
    out = tmp_path / "signed"
    code = run(
        ["report", str(repo.path), "--store", str(tmp_path / "store"), "--out", str(out),
         "--format", "attestation,csv", "--as-of", AS_OF, "--sign-key", str(keys.alice), "-q"]
    )  # fmt: skip
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    assert sorted(p.relative_to(out).as_posix() for p in (out / "attestations").rglob("*")
                  if p.is_file()) == [
        "attestations/infra/main.intoto.json",
        "attestations/infra/main.intoto.json.sig",
        "attestations/infra/main.source-vsa.intoto.json",
        "attestations/infra/main.source-vsa.intoto.json.sig",
    ]  # fmt: skip
    code, _, err = _verify(out, "--allowed-signers", keys.allowed)
    assert code == 0 and f"2 attestations signed by {PRINCIPAL}" in err
    # auditor run, the config's signing_key.
    ops = tmp_path / "ops"
    ops.mkdir()
    shutil.copyfile(keys.alice, ops / "signing")
    (ops / "signing").chmod(0o600)
    config = ops / "auditor.toml"
    config.write_text(
        '[audit]\nperiod = "last-quarter"\nformats = ["attestation"]\nsigning_key = "signing"\n'
        f'[[repository]]\npath = "{repo.path}"\n'
    )
    code = run(["run", "--config", str(config), "--as-of", AS_OF, "-q"])
    assert code in (ExitCode.OK, ExitCode.CONTROLS_FAILED)
    (pack,) = (ops / "audit-packs").iterdir()
    assert (pack / "attestations/infra/main.source-vsa.intoto.json.sig").is_file()
    code, out_, err = _verify(pack, "--allowed-signers", keys.allowed)
    assert (code, out_) == (0, "") and "2 attestations signed by" in err

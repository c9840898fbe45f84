"""Signatures verified against the organisation's keys, the way git verifies them.

A signature's presence is read from the commit object while mining; whether it was made by one
of the organisation's keys needs those keys: an SSH allowed-signers file (git's
``gpg.ssh.allowedSignersFile`` format) and/or a file of armoured OpenPGP public keys. Each signed
commit is checked with ``git verify-commit`` in a throw-away GnuPG home holding only those keys,
so the user's own keyring and trust settings never decide an audit result.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError
from auditor.git import git_env
from auditor.model import Commit, SignatureKind, SignatureVerdict

_GOOD_SSH = re.compile(r'Good "git" signature for (?P<who>.+?) with (?P<key>.+)$', re.M)
_GOOD_GPG = re.compile(r"^\[GNUPG:\] GOODSIG \S+ (?P<who>.+)$", re.M)
_VALID_GPG = re.compile(r"^\[GNUPG:\] VALIDSIG (?P<fpr>[0-9A-F]+)", re.M)


@dataclass(frozen=True)
class SignerKeys:
    """The keys signatures are verified against; neither given means no verification."""

    allowed_signers: Path | None = None
    gpg_keys: Path | None = None

    def __bool__(self) -> bool:
        return self.allowed_signers is not None or self.gpg_keys is not None


def verify_commits(
    repo: Path, commits: Iterable[Commit], keys: SignerKeys
) -> dict[str, SignatureVerdict]:
    """A verdict for every signed commit among ``commits`` (unsigned ones have none)."""
    signed = {c.sha: c for c in commits if c.signature is not SignatureKind.NONE}
    if not signed or not keys:
        return {}
    with tempfile.TemporaryDirectory(prefix="auditor-gnupg-") as home:
        env = {**git_env(), "GNUPGHOME": home}
        if keys.gpg_keys is not None:
            _import_keys(keys.gpg_keys, env)
        config = ["-c", "gpg.ssh.allowedSignersFile=" + str(keys.allowed_signers or "/dev/null")]
        return {
            sha: _verify(repo, commit, config, env, keys) for sha, commit in sorted(signed.items())
        }


def _import_keys(path: Path, env: dict[str, str]) -> None:
    if not path.is_file():
        raise UsageError(f"{path}: no such file of OpenPGP public keys")
    proc = subprocess.run(
        ["gpg", "--batch", "--quiet", "--import", str(path)],
        capture_output=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        first = proc.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise UsageError(f"{path}: cannot import the OpenPGP keys: {' '.join(first)}")


def _verify(
    repo: Path, commit: Commit, config: list[str], env: dict[str, str], keys: SignerKeys
) -> SignatureVerdict:
    command = ["git", "-C", str(repo), "--no-replace-objects", *config]  # never a replacement
    proc = subprocess.run(
        [*command, "verify-commit", "--raw", commit.sha],
        capture_output=True,
        env=env,
        check=False,
    )
    output = proc.stderr.decode(errors="replace")
    if proc.returncode == 0:
        return SignatureVerdict(commit.sha, True, _signer(output))
    return SignatureVerdict(commit.sha, False, _why(commit.signature, output, keys))


def _signer(output: str) -> str:
    if match := _GOOD_SSH.search(output):
        return f"{match['who']} ({match['key'].strip()})"
    good, valid = _GOOD_GPG.search(output), _VALID_GPG.search(output)
    if good and valid:
        return f"{good['who'].strip()} (key {valid['fpr']})"
    return "verified"


def _why(kind: SignatureKind, output: str, keys: SignerKeys) -> str:
    if kind is SignatureKind.SSH and keys.allowed_signers is None:
        return "SSH signature, but no allowed-signers file was given"
    if kind is SignatureKind.GPG and keys.gpg_keys is None:
        return "OpenPGP signature, but no OpenPGP keys were given"
    if kind is SignatureKind.SSH:
        return "SSH signature by a key not in the allowed-signers file, or invalid"
    if "NO_PUBKEY" in output:
        return "OpenPGP signature by a key not among the given keys"
    if "BADSIG" in output:
        return "OpenPGP signature does not match the commit (BADSIG)"
    return f"{kind.value} signature does not verify"

"""SSH signatures over a pack's manifest: made and checked with ``ssh-keygen -Y``.

The signature is OpenSSH's ``SSHSIG`` format in the namespace ``auditor-pack`` (a manifest) or
``auditor-attestation`` (an attestation beside it, in ``<file>.sig``), made by the same
keys teams sign commits with, offline, and checked against an allowed-signers file (the format
``git`` uses for ``gpg.ssh.allowedSignersFile``). Anyone can check a pack without auditor::

    ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n auditor-pack \\
        -s MANIFEST.sha256.sig < MANIFEST.sha256

The namespaces differ so that neither signature can stand for the other: SSHSIG binds the
namespace into what is signed, so an attestation's signature is never a good manifest signature,
even over the same bytes.

``ssh-keygen`` runs in a session of its own, with nothing on standard input: a key that needs a
passphrase fails at once instead of asking for it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import UsageError

NAMESPACE = "auditor-pack"
ATTESTATION_NAMESPACE = "auditor-attestation"
_SIGNED = {NAMESPACE: "auditor packs", ATTESTATION_NAMESPACE: "auditor attestations"}
_GOOD = re.compile(r'^Good "[^"]*" signature (?:for (?P<principal>.+) )?with (?P<key>.+)$')
_TIMEOUT = 60  # seconds; signing a manifest takes milliseconds


@dataclass(frozen=True)
class Signer:
    """Who signed: the principal the allowed-signers file names, and the key (fingerprint)."""

    principal: str
    key: str  # e.g. ``ED25519 key SHA256:YpCR3I1q…``


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking a signature: the signer, or the one-line problem."""

    signer: Signer | None = None
    problem: str | None = None


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise UsageError("ssh-keygen not found: install OpenSSH (openssh-client) to sign packs")
    return found


def _run(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [_ssh_keygen(), *args],
            input=data,
            capture_output=True,
            check=False,
            start_new_session=True,  # no terminal to ask a passphrase on
            timeout=_TIMEOUT,
            env={**os.environ, "SSH_ASKPASS_REQUIRE": "never"},
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"ssh-keygen did not answer within {_TIMEOUT} s") from None


def _said(stderr: bytes) -> str:
    """What ssh-keygen said that matters, on one line: its last word, or the line naming the
    key file's permissions (it warns in a banner first)."""
    lines = [
        line.strip()
        for line in stderr.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith("@") and "standard input" not in line
    ]
    for line in lines:
        if "are too open" in line:
            return line
    return lines[-1] if lines else "no reason given"


def sign(data: bytes, key: Path, namespace: str = NAMESPACE) -> bytes:
    """The armoured SSH signature of ``data`` by the private key ``key`` in ``namespace``
    (by default ``auditor-pack``). Ed25519 and RSA signatures are deterministic: the same data
    and key give the same bytes. A missing, unreadable, too open or passphrase-protected key is a
    :class:`UsageError` naming ``--sign-key`` and what ssh-keygen said."""
    if not key.is_file():
        raise UsageError(f"--sign-key: {key}: no such key file")
    done = _run(["-Y", "sign", "-f", str(key), "-n", namespace, "-"], data)
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        raise UsageError(f"--sign-key: cannot sign with {key}: {_said(done.stderr)}")
    return done.stdout


def check(
    data: bytes,
    signature: Path,
    allowed_signers: Path,
    namespace: str = NAMESPACE,
    what: str = "this manifest",
    shown: str | None = None,
) -> SignatureCheck:
    """Whether ``signature`` is a good signature of ``data`` (``what``, in the messages) in
    ``namespace`` (by default ``auditor-pack``) by a key of ``allowed_signers``, and by whom;
    the messages name the signature ``shown`` (by default its file name). Problems, one line
    each: a key the file does not list (with its fingerprint when the signature is sound), a
    key the file does not allow for this namespace or at this time, and data that is not what
    was signed (changed since, or the signature of something else)."""
    name = shown if shown is not None else signature.name
    known = _run(["-Y", "find-principals", "-s", str(signature), "-f", str(allowed_signers)], b"")
    principals = known.stdout.decode("utf-8", "replace").split()
    if known.returncode != 0 or not principals:
        alone = _check_alone(data, signature, namespace)
        if alone is None:
            return SignatureCheck(
                problem=f"signature: {name} is not a sound signature of {what}"
                f" ({_said(known.stderr)})"
            )
        return SignatureCheck(
            problem=f"signature: {name} is by a key not in {allowed_signers.name} ({alone.key})"
        )
    for principal in principals:
        done = _run(
            [
                "-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", namespace,
                "-s", str(signature),
            ],
            data,
        )  # fmt: skip
        good = _GOOD.match(done.stdout.decode("utf-8", "replace").strip())
        if done.returncode == 0 and good is not None:
            return SignatureCheck(signer=Signer(principal, good["key"]))
    if _check_alone(data, signature, namespace) is not None:  # sound, but may its key sign?
        why = _said(done.stderr).removeprefix(f"{allowed_signers}:")
        return SignatureCheck(
            problem=f"signature: {allowed_signers.name} does not allow the key of"
            f" {', '.join(principals)} to sign {_SIGNED.get(namespace, namespace)} ({why})"
        )
    noun = what.removeprefix("this ")
    return SignatureCheck(
        problem=f"signature: {name} is not a signature of {what} by"
        f" {', '.join(principals)} (the {noun} changed since it was signed,"
        " or the signature is another's)"
    )


def _check_alone(data: bytes, signature: Path, namespace: str) -> Signer | None:
    """The key of ``signature`` when it is a sound signature of ``data`` in ``namespace``,
    whoever made it (``ssh-keygen -Y check-novalidate``); None otherwise."""
    done = _run(["-Y", "check-novalidate", "-n", namespace, "-s", str(signature)], data)
    good = _GOOD.match(done.stdout.decode("utf-8", "replace").strip())
    return Signer("", good["key"]) if done.returncode == 0 and good is not None else None

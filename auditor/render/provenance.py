"""Where a re-rendered pack's evidence came from: the pack whose signed manifest vouches for the
``evidence.json`` given to ``--from-evidence``, or "unsigned source".

The evidence file is matched against the manifest of the directory it is in (the pack it was
read from): its SHA-256 must be the one ``MANIFEST.sha256`` lists for it, and the manifest must
be signed (``MANIFEST.sha256.sig``). With the organisation's allowed signers, the signature is
checked and its signer named; without them, the statement says the signature was not checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from auditor.render import signing
from auditor.render.interface import MANIFEST_FILE, SIGNATURE_FILE

SOURCE_FILE = "source.txt"  # the statement, in a pack rendered from evidence


@dataclass(frozen=True)
class Source:
    """What the pack says of its evidence file; ``vouched`` when a signed manifest (checked,
    where allowed signers were given) lists the file with its SHA-256."""

    statement: str
    vouched: bool


def evidence_source(evidence: Path, allowed_signers: Path | None = None) -> Source:
    """The statement a pack re-rendered from ``evidence`` makes about it (one sentence)."""
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
    pack = evidence.resolve().parent
    name = evidence.name
    said = f"Re-rendered from {name} (SHA-256 {digest})"
    listed = _listed(pack / MANIFEST_FILE, name)
    signature = pack / SIGNATURE_FILE
    signed = signature.is_file() and not signature.is_symlink()
    if listed is None or not signed:
        why = (
            f"no {MANIFEST_FILE} beside it lists it"
            if listed is None
            else f"the {MANIFEST_FILE} of the pack {pack.name} that lists it is not signed"
        )
        return Source(f"{said}: unsigned source ({why}).", vouched=False)
    if listed != digest:
        return Source(
            f"{said}: it does not match the signed {MANIFEST_FILE} of the pack {pack.name},"
            f" which lists {name} with SHA-256 {listed}: the evidence was changed after the"
            " pack was signed.",
            vouched=False,
        )
    if allowed_signers is None:
        return Source(
            f"{said}: as listed in the signed {MANIFEST_FILE} of the pack {pack.name}"
            " (signature not checked: no allowed signers were given).",
            vouched=False,
        )
    checked = signing.check((pack / MANIFEST_FILE).read_bytes(), signature, allowed_signers)
    if checked.signer is None:
        problem = (checked.problem or "").removeprefix("signature: ")
        return Source(
            f"{said}: as listed in the {MANIFEST_FILE} of the pack {pack.name}, but its"
            f" signature does not hold ({problem}).",
            vouched=False,
        )
    return Source(
        f"{said}: as listed in the {MANIFEST_FILE} of the pack {pack.name}, signed by"
        f" {checked.signer.principal} ({checked.signer.key}).",
        vouched=True,
    )


def _listed(manifest: Path, name: str) -> str | None:
    """The SHA-256 ``manifest`` lists for ``name``, or None (no manifest, not listed)."""
    if manifest.is_symlink() or not manifest.is_file():
        return None
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        digest, sep, listed = line.partition("  ")
        if sep and listed == name:
            return digest
    return None

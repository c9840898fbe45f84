"""Writes a whole audit pack atomically, with its manifest; and verifies a pack later."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import RenderError, UsageError
from auditor.evidence.report import Report
from auditor.evidence.workdirs import cannot_write, check_parent, work_dir
from auditor.forked import can_fork, forked_pool
from auditor.progress import Progress
from auditor.render import signing, xmp
from auditor.render.csv import tables
from auditor.render.interface import (
    CONFIG_FILE,
    MANIFEST_FILE,
    PDF_FILE,
    SIGNATURE_FILE,
    Format,
    RenderContext,
    RenderOptions,
    Stage,
)
from auditor.render.provenance import SOURCE_FILE
from auditor.render.templating import environment, template_problem

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Pack:
    """A written pack: where it is, and the SHA-256 of each file (pack-relative paths)."""

    path: Path
    files: tuple[tuple[str, str], ...]
    signed: bool = False  # MANIFEST.sha256.sig was written beside the manifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _inventory(root: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """Every file under ``root`` (but the manifest) with its SHA-256; ``known`` digests are
    taken as they are, for files written earlier in this run and not touched since."""
    known = known or {}
    inventory = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and name != MANIFEST_FILE:
            inventory[name] = known.get(name) or file_sha256(path)
    return inventory


def manifest_text(files: Iterable[tuple[str, str]]) -> str:
    """``sha256sum`` format: ``<hex>  <path>`` per line, sorted by path."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(files))


def check_output(out: Path, replace: bool) -> None:
    """Refuse, as a :class:`UsageError` (or :class:`OutputError`) naming ``out``, what cannot
    hold a pack: a link, a file, a place under a file or read-only, a non-empty directory (with
    ``replace``: one that is not recognisably a pack)."""
    if out.is_symlink():
        raise UsageError(f"{out} is a symbolic link; give the directory it points to instead")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} already exists and is not a directory")
    check_parent(out)
    if out.is_dir() and any(out.iterdir()):
        if not replace:
            raise UsageError(f"{out} already exists and is not an empty directory")
        why = not_a_pack(out)
        if why is not None:
            raise UsageError(f"{out} is not an audit pack ({why}); not replacing it")


def not_a_pack(directory: Path) -> str | None:
    """Why ``directory`` is not recognisably an audit pack, or ``None`` when it is.

    A pack has a well-formed, non-empty manifest that lists every file in the directory (the
    manifest and its signature aside). The files' contents are not compared: an edited pack is
    still a pack. Replacing anything else could destroy files the manifest does not know of.
    """
    if not (directory / MANIFEST_FILE).is_file() or (directory / MANIFEST_FILE).is_symlink():
        return f"no {MANIFEST_FILE}"
    listed, problems = _read_manifest(directory)
    if problems:
        return problems[0]
    if not listed:
        return f"{MANIFEST_FILE} lists no file"
    files, odd = _walk(directory)
    entries = sorted({*files, *odd} - {MANIFEST_FILE, SIGNATURE_FILE})
    unlisted = [name for name in entries if name not in listed]
    if unlisted:
        more = f" and {len(unlisted) - 1} more" if len(unlisted) > 1 else ""
        return f"{unlisted[0]}{more} not listed in {MANIFEST_FILE}"
    return None


def _prepare(out: Path, replace: bool) -> None:
    check_output(out, replace)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise cannot_write(out.parent, err) from None


def _move_into_place(work: Path, out: Path, aside: Path) -> None:
    """Rename ``work`` to ``out``; an earlier pack at ``out`` is moved to ``aside`` first (in
    the work directory, which is removed after)."""
    if out.is_dir() and any(out.iterdir()):
        os.replace(out, aside)
        try:
            os.replace(work, out)
        except BaseException:
            os.replace(aside, out)
            raise
    else:
        os.replace(work, out)


def write_pack(
    report: Report,
    out: Path,
    options: RenderOptions | None = None,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> Pack:
    """Render every requested format into a new directory ``out``, all or nothing.

    The pack is built in a temporary sibling directory and renamed into place: ``out`` never
    holds a partial pack. ``out`` may exist empty; with ``replace``, it may hold an earlier pack
    (see :func:`not_a_pack`), replaced only once the new one is complete. A problem writing
    (no space left, a read-only disk) is an :class:`OutputError`; nothing half-written stays.

    With ``options.sign_key``, the manifest is signed (:mod:`auditor.render.signing`) into
    ``MANIFEST.sha256.sig``, which the manifest does not list; a key that cannot sign is a
    :class:`UsageError` and no pack is written.

    The PDF is rendered last. Its cover cites the SHA-256 of the evidence manifest: the text of
    ``MANIFEST.sha256`` without its ``report.pdf`` line, i.e. every other file of the pack.
    ``progress`` advances by one for each format written, and once more for the manifest.
    """
    options = options or RenderOptions()
    if not options.formats:
        raise UsageError("no output format requested")
    context = RenderContext(options=options, env=environment(options.template_dir), tables={})
    _prepare(out, replace)
    progress = progress or Progress()
    progress.start("writing the pack", len(options.formats) + 1)
    try:
        with work_dir(out.parent, out.name) as staged:
            work = staged.content
            try:
                evidence = _render(report, work, context, progress)
            except Exception as err:
                problem = template_problem(err, options.template_dir)
                if problem is None:
                    raise
                raise RenderError(problem) from err
            progress.describe(f"writing {MANIFEST_FILE}")
            files = tuple(sorted(_inventory(work, evidence).items()))
            manifest = manifest_text(files).encode("utf-8")
            (work / MANIFEST_FILE).write_bytes(manifest)
            if options.sign_key is not None:
                progress.describe(f"signing {MANIFEST_FILE}")
                (work / SIGNATURE_FILE).write_bytes(signing.sign(manifest, options.sign_key))
            os.chmod(work, 0o755)
            _move_into_place(work, out, staged.root / "replaced")
            progress.advance(1)
    except OSError as err:  # the system said no: a read-only or full disk, a vanished parent
        raise cannot_write(out, err) from None
    finally:
        progress.finish()
    return Pack(path=out, files=files, signed=options.sign_key is not None)


def _render(
    report: Report, work: Path, context: RenderContext, progress: Progress
) -> dict[str, str]:
    """Write every requested format by its :class:`Stage` (the PDF last); the digests of the
    files before the last format written after the others (none when there is none)."""
    formats = context.options.formats
    if report.config is not None:  # with every format, like the manifest that covers it
        (work / CONFIG_FILE).write_text(report.config.text, encoding="utf-8", newline="")
    if context.options.source:  # re-rendered from evidence: said with every format too
        (work / SOURCE_FILE).write_text(context.options.source + "\n", encoding="utf-8")
    staged = sorted((f for f in Format if f in formats), key=lambda f: f.stage)
    concurrent = [f for f in staged if f.stage is Stage.CONCURRENT]
    progress.describe(
        f"writing {', '.join(f.value for f in formats if f.stage <= Stage.CONCURRENT)}"
    )
    with _rendering(report, work, context, concurrent, progress) as wait:
        # Meanwhile, here: the CSV tables (the PDF attaches them too).
        made = (
            tables(report, context.options.header_profile) if any(f.tables for f in formats) else {}
        )
        context = dataclasses.replace(context, tables=made)
        for fmt in (f for f in staged if f.stage is Stage.TABLES):
            fmt.renderer().render(report, work, context)
            progress.advance(1)
        wait()
    inventory: dict[str, str] = {}
    for fmt in (f for f in staged if f.stage >= Stage.AFTER_OTHERS):
        progress.describe("writing the PDF" if fmt is Format.PDF else f"writing {fmt.value}")
        inventory = _inventory(work, inventory)
        evidence = tuple(sorted(inventory.items()))
        digest = hashlib.sha256(manifest_text(evidence).encode()).hexdigest()
        late = dataclasses.replace(context, evidence=evidence, evidence_digest=digest)
        fmt.renderer().render(report, work, late)
        progress.advance(1)
    return inventory


CONCURRENT_MIN_CHANGES = 400  # below this, a process per format costs more than it saves


@contextmanager
def _rendering(
    report: Report,
    work: Path,
    context: RenderContext,
    formats: Sequence[Format],
    progress: Progress,
) -> Iterator[Callable[[], None]]:
    """Renders ``formats`` in forked processes, one each, while the caller does other work
    (on Linux, with more than one core, for reports of many changes); otherwise here, when the
    caller calls the function this yields, which waits for them either way. ``progress``
    advances as each format is done."""
    if formats and can_fork() and len(report.changes) >= CONCURRENT_MIN_CHANGES:
        with forked_pool((report, work, context), len(formats)) as submit:
            pending = [submit(_render_format, fmt) for fmt in formats]

            def collect() -> None:
                for future in pending:
                    future.result()
                    progress.advance(1)

            yield collect
        return

    def render_here() -> None:
        for fmt in formats:
            progress.describe(f"writing {fmt.value}")
            fmt.renderer().render(report, work, context)
            progress.advance(1)

    yield render_here


def _render_format(shared: tuple[Report, Path, RenderContext], fmt: Format) -> None:
    fmt.renderer().render(*shared)


def _read_manifest(pack: Path) -> tuple[dict[str, str], list[str]]:
    expected: dict[str, str] = {}
    problems: list[str] = []
    try:
        lines = (pack / MANIFEST_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}, [f"missing: {MANIFEST_FILE}"]
    except (OSError, UnicodeDecodeError) as err:
        return {}, [f"unreadable: {MANIFEST_FILE} ({err.__class__.__name__})"]
    for number, line in enumerate(lines, start=1):
        digest, sep, name = line.partition("  ")
        parts = Path(name).parts
        valid = len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
        if not sep or not valid or not name or name.startswith("/") or ".." in parts:
            problems.append(f"malformed: {MANIFEST_FILE} line {number}")
        else:
            expected[name] = digest
    return expected, problems


def verify_pack(pack: Path) -> list[str]:
    """Every file that changed, is missing or was added since the pack was written, every
    link or other non-regular file in it, and a PDF cover whose digest is not the manifest's.

    Messages are ``changed: PATH``, ``missing: PATH``, ``added: PATH``, ``link: PATH``,
    ``not a regular file: PATH``, ``cover: ...`` (or name a manifest problem); an empty list
    means the pack is intact. Links are never followed: a pack written by auditor has none.
    """
    if not pack.is_dir() or pack.is_symlink():
        raise RenderError(f"not an audit pack directory: {pack}")
    manifest = pack / MANIFEST_FILE
    if not manifest.exists() and not manifest.is_symlink():
        raise RenderError(f"not an audit pack: {pack} has no {MANIFEST_FILE}")
    files, odd = _walk(pack)
    problems = list(odd.values())
    if MANIFEST_FILE in odd:
        return problems
    expected, malformed = _read_manifest(pack)
    problems += malformed
    unlisted = {MANIFEST_FILE, SIGNATURE_FILE}
    actual = {name: file_sha256(pack / name) for name in files if name not in unlisted}
    for name, digest in sorted(expected.items()):
        if name in odd:
            continue
        if name not in actual:
            problems.append(f"missing: {name}")
        elif actual[name] != digest:
            problems.append(f"changed: {name}")
    problems += [f"added: {name}" for name in sorted(actual.keys() - expected.keys())]
    if PDF_FILE in actual and not malformed:
        problems += _cover_problems(pack / PDF_FILE, manifest.read_bytes())
    return problems


def verify_signature(pack: Path, allowed_signers: Path) -> signing.SignatureCheck:
    """Whether the pack's ``MANIFEST.sha256.sig`` is a good signature of its manifest by a key
    of ``allowed_signers``, and whose (see :func:`auditor.render.signing.check`). A pack
    without a signature, or whose signature is a link, has the problem ``unsigned: ...``."""
    signature, manifest = pack / SIGNATURE_FILE, pack / MANIFEST_FILE
    if signature.is_symlink() or not signature.is_file():
        return signing.SignatureCheck(problem=f"unsigned: {pack.name} has no {SIGNATURE_FILE}")
    if manifest.is_symlink() or not manifest.is_file():
        return signing.SignatureCheck(problem=f"signature: no {MANIFEST_FILE} to check it against")
    return signing.check(manifest.read_bytes(), signature, allowed_signers)


@dataclass(frozen=True)
class AttestationSignatures:
    """The attestations of a pack checked against an allowed-signers file: how many were
    checked, who signed the good ones, and a one-line problem for each that is not good."""

    checked: int
    signers: tuple[signing.Signer, ...]
    problems: tuple[str, ...]


def verify_attestation_signatures(pack: Path, allowed_signers: Path) -> AttestationSignatures:
    """Whether each attestation of the pack (``attestations/**/*.intoto.json``, regular files)
    has a good ``auditor-attestation`` signature beside it (``<file>.sig``) by a key of
    ``allowed_signers``. An attestation without one has the problem ``unsigned: FILE has no
    FILE.sig``; the others are :func:`auditor.render.signing.check`'s, naming the signature."""
    from auditor.render.attestation import ATTESTATION_SUFFIX, ATTESTATIONS_DIR, SIGNATURE_SUFFIX

    files, _ = _walk(pack)
    present = set(files)
    attestations = [
        name
        for name in files
        if name.startswith(f"{ATTESTATIONS_DIR}/") and name.endswith(ATTESTATION_SUFFIX)
    ]
    signers: dict[tuple[str, str], signing.Signer] = {}
    problems: list[str] = []
    for name in attestations:
        sig = name + SIGNATURE_SUFFIX
        if sig not in present:
            problems.append(f"unsigned: {name} has no {Path(sig).name}")
            continue
        checked = signing.check(
            (pack / name).read_bytes(),
            pack / sig,
            allowed_signers,
            signing.ATTESTATION_NAMESPACE,
            "this attestation",
            shown=sig,
        )
        if checked.problem is not None:
            problems.append(checked.problem)
        elif checked.signer is not None:
            signers.setdefault((checked.signer.principal, checked.signer.key), checked.signer)
    return AttestationSignatures(
        checked=len(attestations),
        signers=tuple(signers[k] for k in sorted(signers)),
        problems=tuple(problems),
    )


def _walk(root: Path) -> tuple[list[str], dict[str, str]]:
    """The regular files under ``root`` (pack-relative, sorted), and a problem for each link
    or special file (a FIFO would block its reader), none of them followed or opened."""
    files: list[str] = []
    odd: dict[str, str] = {}
    for top, dirs, names in os.walk(root):
        here = Path(top)
        for name in sorted([*dirs, *names]):
            path = here / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                odd[relative] = f"link: {relative}"
            elif name in names and not stat.S_ISREG(path.lstat().st_mode):
                odd[relative] = f"not a regular file: {relative}"
            elif name in names:
                files.append(relative)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return sorted(files), odd


def _cover_problems(pdf: Path, manifest: bytes) -> list[str]:
    """Whether the evidence digest ``pdf`` states is that of ``manifest`` without its
    ``report.pdf`` line (the cover's own definition of the evidence manifest)."""
    lines = manifest.decode("utf-8").splitlines(keepends=True)
    evidence = "".join(line for line in lines if not line.endswith(f"  {PDF_FILE}\n"))
    expected = hashlib.sha256(evidence.encode("utf-8")).hexdigest()
    stated = set(xmp.stated_digests(pdf.read_bytes()))
    if not stated:
        return [f"cover: {PDF_FILE} states no evidence manifest digest that can be read"]
    if stated != {expected}:
        shown = ", ".join(sorted(stated))
        return [
            f"cover: {PDF_FILE} states evidence manifest SHA-256 {shown}; {MANIFEST_FILE}"
            f" without its {PDF_FILE} line has {expected}"
        ]
    return []

"""Writes a whole audit pack atomically, with its manifest; and verifies a pack later."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.errors import RenderError, UsageError
from auditor.render.csv import CsvRenderer, tables
from auditor.render.html import HtmlRenderer
from auditor.render.interface import (
    MANIFEST_FILE,
    Format,
    RenderContext,
    Renderer,
    RenderOptions,
)
from auditor.render.json import JsonRenderer
from auditor.render.oscal import OscalRenderer
from auditor.render.pdf import PdfRenderer
from auditor.render.templating import environment
from auditor.report import Report

RENDERERS: dict[Format, type[Renderer]] = {
    Format.CSV: CsvRenderer,
    Format.JSON: JsonRenderer,
    Format.OSCAL: OscalRenderer,
    Format.HTML: HtmlRenderer,
    Format.PDF: PdfRenderer,
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Pack:
    """A written pack: where it is, and the SHA-256 of each file (pack-relative paths)."""

    path: Path
    files: tuple[tuple[str, str], ...]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _inventory(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): file_sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).as_posix() != MANIFEST_FILE
    }


def manifest_text(files: Iterable[tuple[str, str]]) -> str:
    """``sha256sum`` format: ``<hex>  <path>`` per line, sorted by path."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(files))


def _prepare(out: Path) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not an empty directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))


def write_pack(report: Report, out: Path, options: RenderOptions | None = None) -> Pack:
    """Render every requested format into a new directory ``out``, all or nothing.

    The PDF is rendered last. Its cover cites the SHA-256 of the evidence manifest: the text of
    ``MANIFEST.sha256`` without its ``report.pdf`` line, i.e. every other file of the pack.
    """
    options = options or RenderOptions()
    if not options.formats:
        raise UsageError("no output format requested")
    context = RenderContext(
        options=options,
        env=environment(options.template_dir),
        tables=tables(report, options.header_profile),
    )
    work = _prepare(out)
    try:
        for fmt in (f for f in RENDERERS if f in options.formats and f is not Format.PDF):
            RENDERERS[fmt]().render(report, work, context)
        if Format.PDF in options.formats:
            evidence = tuple(sorted(_inventory(work).items()))
            digest = hashlib.sha256(manifest_text(evidence).encode()).hexdigest()
            pdf_context = replace(context, evidence=evidence, evidence_digest=digest)
            PdfRenderer().render(report, work, pdf_context)
        files = tuple(sorted(_inventory(work).items()))
        (work / MANIFEST_FILE).write_text(manifest_text(files), encoding="utf-8", newline="\n")
        os.chmod(work, 0o755)
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Pack(path=out, files=files)


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
    """Every file that changed, is missing or was added since the pack was written.

    Messages are ``changed: PATH``, ``missing: PATH``, ``added: PATH`` (or name a manifest
    problem); an empty list means the pack is intact.
    """
    if not pack.is_dir():
        raise RenderError(f"not an audit pack directory: {pack}")
    expected, problems = _read_manifest(pack)
    actual = _inventory(pack)
    for name, digest in sorted(expected.items()):
        if name not in actual:
            problems.append(f"missing: {name}")
        elif actual[name] != digest:
            problems.append(f"changed: {name}")
    problems += [f"added: {name}" for name in sorted(actual.keys() - expected.keys())]
    return problems

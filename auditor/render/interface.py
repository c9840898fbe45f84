"""What every renderer is: one format of the audit pack, written from the normalised report."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from jinja2 import Environment

from auditor.errors import RenderError, UsageError
from auditor.evidence.report import Report

__all__ = [
    "CONFIG_FILE",
    "EVIDENCE_FILE",
    "MANIFEST_FILE",
    "OSCAL_FILE",
    "PDF_FILE",
    "SIGNATURE_FILE",
    "Format",
    "HeaderProfile",
    "RenderContext",
    "RenderError",
    "RenderOptions",
    "Renderer",
    "parse_formats",
]

PDF_FILE = "report.pdf"
EVIDENCE_FILE = "evidence.json"
OSCAL_FILE = "oscal/assessment-results.json"
MANIFEST_FILE = "MANIFEST.sha256"
CONFIG_FILE = "config.toml"  # the config file the run read, credentials removed
SIGNATURE_FILE = "MANIFEST.sha256.sig"


class Format(enum.Enum):
    """A format of the audit pack, as ``--format`` names it."""

    PDF = "pdf"
    HTML = "html"
    CSV = "csv"
    JSON = "json"
    OSCAL = "oscal"
    GRC = "grc"
    ATTESTATION = "attestation"


DEFAULT_FORMATS = (Format.PDF, Format.HTML, Format.CSV, Format.JSON)


def parse_formats(text: str) -> tuple[Format, ...]:
    """``"pdf,html"`` → formats in canonical order; an unknown name is a usage error."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = {f.value: f for f in Format}
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        choices = ",".join(known)
        raise UsageError(f"unknown format {','.join(unknown) or repr(text)}; choose from {choices}")
    return tuple(f for f in Format if f.value in names)


class HeaderProfile(enum.Enum):
    """CSV header spelling: ``snake`` (``control_id``) or ``title`` (``Control ID``)."""

    SNAKE = "snake"
    TITLE = "title"


@dataclass(frozen=True)
class RenderOptions:
    """Choices of the person asking for the pack."""

    formats: tuple[Format, ...] = DEFAULT_FORMATS
    header_profile: HeaderProfile = HeaderProfile.SNAKE
    template_dir: Path | None = None
    pdf_exception_limit: int = 25  # exceptions listed per control in the PDF; all in findings.csv
    sign_key: Path | None = None  # SSH private key signing the manifest (MANIFEST.sha256.sig)
    source: str = ""  # re-rendered from evidence: where it came from (source.txt, HTML, PDF)


@dataclass(frozen=True)
class RenderContext:
    """What the pack hands every renderer besides the report."""

    options: RenderOptions
    env: Environment
    tables: Mapping[str, bytes]  # pack-relative path → CSV bytes, computed once (for csv, pdf)
    # (path, sha256) of the files written before this renderer's (grc, attestation, pdf)
    evidence: tuple[tuple[str, str], ...] = ()
    evidence_digest: str = ""  # sha256 of the manifest text of ``evidence``


class Renderer(ABC):
    """Writes one format of the pack into ``out`` (the pack directory being built)."""

    format: ClassVar[Format]

    @abstractmethod
    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        """Write this format's files under ``out``; raise :class:`RenderError` on failure."""

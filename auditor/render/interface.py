"""What every renderer is: one format of the audit pack, written from the normalised report."""

from __future__ import annotations

import enum
import importlib
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
    "Stage",
    "parse_formats",
]

PDF_FILE = "report.pdf"
EVIDENCE_FILE = "evidence.json"
OSCAL_FILE = "oscal/assessment-results.json"
MANIFEST_FILE = "MANIFEST.sha256"
CONFIG_FILE = "config.toml"  # the config file the run read, credentials removed
SIGNATURE_FILE = "MANIFEST.sha256.sig"


class Stage(enum.IntEnum):
    """When the pack writes a format, in this order (formats of one stage in registry order)."""

    TABLES = 1  # in the pack's own process, from the CSV tables, while the concurrent ones run
    CONCURRENT = 2  # each in a process of its own (for large reports), beside the tables
    AFTER_OTHERS = 3  # one after the other, each given the digests of the files written before it
    LAST = 4  # the same, after everything else (the PDF, whose cover cites the others' digest)


class Format(enum.Enum):
    """The renderer registry: each format of the audit pack, as ``--format`` names it, in the
    order the CLI and the config list them. Each one's renderer is the :class:`Renderer` of
    the module ``auditor.render.<name>`` (imported when used). Adding a format is that module
    and one member here: its name, its :class:`Stage`, whether the pack writes it by default,
    and whether it reads the CSV tables (:attr:`RenderContext.tables`)."""

    _value_: str
    stage: Stage
    default: bool
    tables: bool

    def __new__(cls, name: str, stage: Stage, default: bool, tables: bool = False) -> Format:
        member = object.__new__(cls)
        member._value_ = name
        member.stage, member.default, member.tables = stage, default, tables
        return member

    PDF = ("pdf", Stage.LAST, True, True)
    HTML = ("html", Stage.CONCURRENT, True)
    CSV = ("csv", Stage.TABLES, True, True)
    JSON = ("json", Stage.CONCURRENT, True)
    OSCAL = ("oscal", Stage.CONCURRENT, False)
    XLSX = ("xlsx", Stage.CONCURRENT, False)
    GRC = ("grc", Stage.AFTER_OTHERS, False)
    ATTESTATION = ("attestation", Stage.AFTER_OTHERS, False)

    def renderer(self) -> Renderer:
        """A renderer of this format (its module imported now)."""
        importlib.import_module(f"auditor.render.{self.value}")
        return _RENDERERS[self]()


DEFAULT_FORMATS = tuple(f for f in Format if f.default)
"""What the pack holds unless ``--format`` (or the config's ``audit.formats``) says otherwise."""


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
    """Writes one format of the pack into ``out`` (the pack directory being built). A subclass
    names its :attr:`format` and is that format's renderer."""

    format: ClassVar[Format]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _RENDERERS[cls.format] = cls

    @abstractmethod
    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        """Write this format's files under ``out``; raise :class:`RenderError` on failure."""


_RENDERERS: dict[Format, type[Renderer]] = {}

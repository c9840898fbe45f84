"""Renderers of the audit pack: one module per format, all reading the same :class:`Report`."""

from __future__ import annotations

from auditor.render.interface import (
    DEFAULT_FORMATS,
    Format,
    HeaderProfile,
    RenderError,
    RenderOptions,
    parse_formats,
)
from auditor.render.json import load_evidence
from auditor.render.pack import Pack, verify_pack, write_pack

__all__ = [
    "DEFAULT_FORMATS",
    "Format",
    "HeaderProfile",
    "Pack",
    "RenderError",
    "RenderOptions",
    "load_evidence",
    "parse_formats",
    "verify_pack",
    "write_pack",
]

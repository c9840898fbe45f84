"""The PDF audit binder, laid out by WeasyPrint from Jinja templates."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Any

from auditor.cores import available_cores
from auditor.errors import RenderError
from auditor.evidence.report import Report
from auditor.render import xmp
from auditor.render.binder import binder
from auditor.render.interface import PDF_FILE, Format, RenderContext, Renderer
from auditor.render.templating import read_asset

_MISSING = "PDF output needs WeasyPrint: pip install 'auditor[pdf]' (or leave pdf out of --format)"


def check_available() -> None:
    """Raise :class:`RenderError` now, rather than after a long assessment, without WeasyPrint."""
    if importlib.util.find_spec("weasyprint") is None:
        raise RenderError(_MISSING)


class PdfRenderer(Renderer):
    format = Format.PDF

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        try:
            import weasyprint
        except ImportError as err:
            raise RenderError(_MISSING) from err
        attachments = tuple(
            (Path(name).name, hashlib.sha256(data).hexdigest())
            for name, data in context.tables.items()
        )
        view = binder(report, context, attachments)
        html = context.env.get_template("pdf/binder.html").render(b=view)
        stamp = report.generated_at.astimezone(UTC)
        files = [
            weasyprint.Attachment(
                file_obj=io.BytesIO(data),
                name=Path(name).name,
                description=f"{Path(name).name} of the audit pack",
                created=stamp,
                modified=stamp,
                relationship="Data",
            )
            for name, data in context.tables.items()
        ]
        identifier = hashlib.sha256(f"{context.evidence_digest} {stamp}".encode()).hexdigest()
        no_fetch = weasyprint.URLFetcher(allowed_protocols=(), fail_on_errors=False)
        document = weasyprint.HTML(string=html, url_fetcher=no_fetch)
        stylesheet = weasyprint.CSS(string=read_asset(context.env, "pdf/binder.css"))
        workers = max(1, min(len(context.tables), available_cores() - 1))
        with ThreadPoolExecutor(workers) as pool:  # the attachments deflate during the layout
            deflated = {data: pool.submit(deflate, data) for data in context.tables.values()}
            try:
                data = document.write_pdf(
                    stylesheets=[stylesheet],
                    attachments=files,
                    pdf_identifier=identifier[:32].encode(),
                    uncompressed_pdf=False,
                    finisher=_finish(deflated, context.evidence_digest),
                )
            except (OSError, ValueError) as err:
                raise RenderError(f"cannot lay out the PDF: {err}") from err
        (out / PDF_FILE).write_bytes(data)


def deflate(data: bytes) -> bytes:
    """``data`` compressed as the PDF writer (pydyf) compresses a stream: zlib, level 9."""
    compressor = zlib.compressobj(level=9)
    return compressor.compress(data) + compressor.flush()


def _finish(deflated: Mapping[bytes, Future[bytes]], digest: str) -> Callable[[Any, Any], None]:
    with_deflated = _with_deflated(deflated)

    def finish(document: Any, pdf: Any) -> None:
        with_deflated(document, pdf)
        _state_digest(pdf, digest)

    return finish


def _state_digest(pdf: Any, digest: str) -> None:
    """The cover's evidence digest in the document's XMP metadata, uncompressed, for
    ``verify`` (see :mod:`auditor.render.xmp`)."""
    import pydyf

    metadata = pydyf.Stream([xmp.packet(digest)], {"Type": "/Metadata", "Subtype": "/XML"})
    pdf.add_object(metadata)
    pdf.catalog["Metadata"] = metadata.reference


def _with_deflated(deflated: Mapping[bytes, Future[bytes]]) -> Callable[[Any, Any], None]:
    """A WeasyPrint finisher giving the embedded files of ``deflated`` their compressed bytes,
    made in advance (zlib lets other threads run), instead of the writer deflating them one
    after the other at the end: same bytes, seconds earlier for large CSV attachments."""

    def finish(_document: Any, pdf: Any) -> None:
        for stream in pdf.objects:
            content = getattr(stream, "stream", None)
            if (
                getattr(stream, "compress", False)
                and getattr(stream, "extra", {}).get("Type") == "/EmbeddedFile"
                and isinstance(content, list)
                and len(content) == 1
                and isinstance(content[0], bytes)
                and content[0] in deflated
            ):
                stream.stream = [deflated[content[0]].result()]
                stream.extra["Filter"] = "/FlateDecode"
                stream.compress = False

    return finish

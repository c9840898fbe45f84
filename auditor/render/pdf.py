"""The PDF audit binder, laid out by WeasyPrint from Jinja templates."""

from __future__ import annotations

import hashlib
import importlib.util
import io
from datetime import UTC
from pathlib import Path

from auditor.errors import RenderError
from auditor.render.binder import binder
from auditor.render.interface import PDF_FILE, Format, RenderContext, Renderer
from auditor.render.templating import read_asset
from auditor.report import Report

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
        try:
            data = document.write_pdf(
                stylesheets=[stylesheet],
                attachments=files,
                pdf_identifier=identifier[:32].encode(),
                uncompressed_pdf=False,
            )
        except (OSError, ValueError) as err:
            raise RenderError(f"cannot lay out the PDF: {err}") from err
        (out / PDF_FILE).write_bytes(data)

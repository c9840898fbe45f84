"""``workbook.xlsx``: the auditor's workbook — the summary per control, the population of
changes, the exceptions, the sample with columns for the auditor's re-performance, the waivers.

The rows are the pack's CSV rows (the same columns, the same header profile), laid out by pandas
and written by XlsxWriter: a frozen, filtered header row on each sheet, columns as wide as their
content (up to a limit), timestamps as Excel date-times in UTC, numbers as numbers. Text is
always a text cell, never a formula, a number or a link, whatever it starts with. A text longer
than a cell can hold (32,767 characters) is cut and says so; the CSVs and ``evidence.json`` hold
it whole. The document's properties (author, creation time: the report's generation time) are
fixed, and XlsxWriter stamps every part of the zip with the same date, so the same report gives
the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.evidence.columns import (
    CHANGE_COLUMNS,
    CONTROL_COLUMNS,
    FINDING_COLUMNS,
    SAMPLE_COLUMNS,
    title_header,
)
from auditor.evidence.report import Report
from auditor.model import Status
from auditor.render.csv import changes_rows, controls_rows, findings_rows, sample_rows
from auditor.render.interface import Format, HeaderProfile, RenderContext, Renderer
from auditor.render.views import EXCEPTION_STATUSES

WORKBOOK_FILE = "workbook.xlsx"
# Columns left empty for the auditor to fill in while re-performing each sampled item.
REPERFORMANCE_COLUMNS = ("tested_by", "tested_on", "result", "notes")
WAIVER_COLUMNS = (
    "waiver_id", "control_id", "owner", "ticket", "reason", "approved_by", "expires", "change",
    "change_request", "path",
)  # fmt: skip
CELL_LIMIT = 32_767  # characters Excel holds in a cell
_CUT = "… [cut at {shown} of {total} characters: the CSVs and evidence.json hold the full text]"
_MAX_WIDTH = 60
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _sheets(report: Report) -> Iterator[tuple[str, Sequence[str], Iterable[Mapping[str, Any]]]]:
    """Each sheet: its name, its columns and its rows, as the CSVs have them."""
    yield "Summary", CONTROL_COLUMNS, controls_rows(report)
    yield "Changes", CHANGE_COLUMNS, changes_rows(report)
    order = {status.value: i for i, status in enumerate(EXCEPTION_STATUSES)}
    exceptions = [r for r in findings_rows(report) if r["status"] in order]
    exceptions.sort(key=lambda r: order[r["status"]])  # failures first; stable otherwise
    yield "Exceptions", FINDING_COLUMNS, exceptions
    yield "Sample", (*SAMPLE_COLUMNS, *REPERFORMANCE_COLUMNS), sample_rows(report)
    yield "Waivers", WAIVER_COLUMNS, _waiver_rows(report)


def _waiver_rows(report: Report) -> Iterator[dict[str, Any]]:
    for waiver in report.waivers:
        yield {
            "waiver_id": waiver.id,
            "control_id": waiver.control,
            "owner": waiver.owner,
            "ticket": waiver.ticket,
            "reason": waiver.reason,
            "approved_by": waiver.approved_by,
            "expires": waiver.expires,
            "change": waiver.change,
            "change_request": waiver.request,
            "path": waiver.path,
        }


def _is_time(column: str) -> bool:
    return column.endswith("_at") or column in ("expires", "tested_on")


def _cell(column: str, value: Any) -> Any:
    """A value as the workbook holds it: a timestamp as a naive UTC ``datetime`` (Excel has
    no time zones), a list joined with ``;`` like the CSVs, None as an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if _is_time(column) and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
        except ValueError:  # not a timestamp after all: shown as written
            pass
    if isinstance(value, Status):
        return value.value
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and len(value) > CELL_LIMIT:
        shown = CELL_LIMIT - len(_CUT.format(shown=CELL_LIMIT, total=len(value)))
        return value[:shown] + _CUT.format(shown=shown, total=len(value))
    return value


def _width(column: str, header: str, values: Iterable[Any]) -> float:
    if _is_time(column):
        return max(len(header), len("2026-01-01 00:00:00")) + 2
    longest = max((len(str(v)) for v in values if v is not None), default=0)
    return min(max(len(header), longest), _MAX_WIDTH) + 2


class XlsxRenderer(Renderer):
    format = Format.XLSX

    def render(self, report: Report, out: Path, context: RenderContext) -> None:
        import pandas as pd  # heavy: only when a workbook is asked for

        created = report.generated_at.astimezone(UTC).replace(tzinfo=None)
        options = {
            "strings_to_formulas": False,  # text is text, whatever it starts with
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": _DATE_FORMAT,
        }
        with pd.ExcelWriter(
            out / WORKBOOK_FILE,
            engine="xlsxwriter",
            datetime_format=_DATE_FORMAT,
            date_format=_DATE_FORMAT,
            engine_kwargs={"options": options},
        ) as writer:
            book = writer.book
            book.set_properties(
                {
                    "title": f"Audit workbook — {report.organisation}".rstrip(" —"),
                    "author": "auditor",
                    "company": report.organisation,
                    "comments": f"auditor {__version__}; {report.command}",
                    "created": created,
                }
            )
            profile = context.options.header_profile
            for name, columns, rows in _sheets(report):
                headers = [
                    title_header(c) if profile is HeaderProfile.TITLE else c for c in columns
                ]
                data = [[_cell(c, row.get(c)) for c in columns] for row in rows]
                frame = pd.DataFrame(data, columns=headers, dtype=object)
                frame.to_excel(writer, sheet_name=name, index=False)
                sheet = writer.sheets[name]
                sheet.freeze_panes(1, 0)
                sheet.autofilter(0, 0, len(data), len(columns) - 1)
                for index, column in enumerate(columns):
                    values = (row[index] for row in data)
                    sheet.set_column(index, index, _width(column, headers[index], values))

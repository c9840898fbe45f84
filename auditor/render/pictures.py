"""Pictures of the report, drawn as inline SVG by auditor itself: no script, no style
attribute (the site's Content-Security-Policy allows neither), the same bytes for the same
report, and plain enough for WeasyPrint to draw in the PDF.

Each :class:`Picture` carries its numbers too (a caption and a table shown beside it), for
screen readers and for the auditor's working papers: the drawing never says more than they do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

from auditor.evidence.report import Report
from auditor.evidence.words import counted, status_text
from auditor.model import ChangeFacts, Status
from auditor.render.views import EXCEPTION_STATUSES

SVG_NS = "http://www.w3.org/2000/svg"
# One colour per status, distinct in grey scale too (darkest: fail).
COLOURS = {
    Status.PASS: "#2e7d32",
    Status.FAIL: "#b71c1c",
    Status.UNKNOWN: "#f9a825",
    Status.NOT_APPLICABLE: "#bdbdbd",
    Status.WAIVED: "#1565c0",
}
STATUS_ORDER = (Status.PASS, Status.FAIL, Status.UNKNOWN, Status.NOT_APPLICABLE, Status.WAIVED)
CHANGE_COLOUR = "#78909c"
EXCEPTION_COLOUR = "#b71c1c"
TEXT_COLOUR = "#212121"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
BAR_WIDTH = 420  # the drawing area of a bar, in SVG units
LABEL_WIDTH = 80
ROW = 22


@dataclass(frozen=True)
class Picture:
    """A drawing and the numbers it draws."""

    id: str  # unique on a page: the SVG's element ids start with it
    title: str
    caption: str  # the numbers in a sentence
    svg: Markup
    columns: tuple[str, ...]  # the table beside it
    rows: tuple[tuple[str, ...], ...]


def _num(value: float) -> str:
    """A coordinate, written the same way every time: at most two decimals, no trailing 0."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _svg(
    pid: str, width: float, height: float, title: str, desc: str, body: Iterable[str]
) -> Markup:
    head = (
        f'<svg xmlns="{SVG_NS}" class="picture" id="{pid}-svg" role="img"'
        f' width="{_num(width)}" height="{_num(height)}"'
        f' viewBox="0 0 {_num(width)} {_num(height)}"'
        f' aria-labelledby="{pid}-title {pid}-desc" aria-describedby="{pid}-numbers">'
        f'<title id="{pid}-title">{escape(title)}</title>'
        f'<desc id="{pid}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" {FONT} fill="{TEXT_COLOUR}"'
        f' text-anchor="{anchor}">{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, **data: str | int) -> str:
    attributes = "".join(f' data-{k.replace("_", "-")}="{escape(str(v))}"' for k, v in data.items())
    return (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
        f' fill="{fill}"{attributes}/>'
    )


def _split(total_width: float, counts: Sequence[int]) -> list[tuple[float, float]]:
    """(x, width) of each count's segment of a bar ``total_width`` long: the boundaries are
    the rounded cumulative shares, so the widths add up to the bar exactly."""
    total = sum(counts)
    edges = [0.0]
    running = 0
    for count in counts:
        running += count
        edges.append(round(running * total_width / total, 2) if total else 0.0)
    return [(edges[i], edges[i + 1] - edges[i]) for i in range(len(counts))]


def _legend(y: float, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts, x = [], float(LABEL_WIDTH)
    for label, colour in entries:
        parts.append(_rect(x, y - 9, 10, 10, colour))
        parts.append(_text(x + 14, y, label, size=10))
        x += 24 + 6.2 * len(label)
    return parts


def control_results(report: Report) -> Picture:
    """Per control, a bar of its results: passed, failed, unknown, not applicable, waived."""
    pid = "pic-controls"
    body = _legend(14, [(status_text(s), COLOURS[s]) for s in STATUS_ORDER])
    rows = []
    for index, result in enumerate(report.controls):
        y = 26 + index * ROW
        counts = [
            result.passed,
            result.failed,
            result.unknown,
            result.not_applicable,
            result.waived,
        ]
        total = sum(counts)
        body.append(_text(0, y + 13, result.control.id))
        group = [f'<g data-control="{escape(result.control.id)}" data-total="{total}">']
        if total:
            for status, count, (x, w) in zip(
                STATUS_ORDER, counts, _split(BAR_WIDTH, counts), strict=True
            ):
                if count:
                    group.append(
                        _rect(
                            LABEL_WIDTH + x,
                            y,
                            w,
                            16,
                            COLOURS[status],
                            status=status.value,
                            count=count,
                        )
                    )
        else:
            group.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="16" fill="none"'
                f' stroke="{COLOURS[Status.NOT_APPLICABLE]}" data-status="none" data-count="0"/>'
            )
        group.append("</g>")
        body += group
        body.append(_text(LABEL_WIDTH + BAR_WIDTH + 6, y + 13, str(total)))
        rows.append(
            (result.control.id, *(str(c) for c in counts), str(total), status_text(result.status))
        )
    height = 26 + len(report.controls) * ROW + 4
    overall = [r.status for r in report.controls]
    caption = (
        f"Results of {counted(len(report.controls), 'control')}:"
        f" {overall.count(Status.FAIL)} failed, {overall.count(Status.UNKNOWN)} could not be"
        f" concluded, {overall.count(Status.PASS)} passed and"
        f" {overall.count(Status.NOT_APPLICABLE)} had nothing to test."
        " Each bar is one control's results, in the table's order."
    )
    return Picture(
        id=pid,
        title="Results per control",
        caption=caption,
        svg=_svg(pid, LABEL_WIDTH + BAR_WIDTH + 40, height, "Results per control", caption, body),
        columns=("Control", "Passed", "Failed", "Unknown", "N/A", "Waived", "Results", "Status"),
        rows=tuple(rows),
    )


def _monday(when: datetime) -> datetime:
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _exception_changes(report: Report) -> set[str]:
    return {f.change_id for f in report.findings if f.change_id and f.status in EXCEPTION_STATUSES}


def changes_per_week(report: Report) -> Picture:
    """Changes landed per week (ISO weeks, Monday to Sunday, UTC) over the period, the part
    with an exception (a failed, unknown or waived result) drawn apart."""
    pid = "pic-weeks"
    landed = [c.change.landed_at for c in report.changes]
    start = report.since or min(landed, default=report.generated_at)
    end = report.until or report.generated_at
    first, last = _monday(start), _monday(max(end, start))
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    exceptional = _exception_changes(report)
    totals = dict.fromkeys(weeks, 0)
    flagged = dict.fromkeys(weeks, 0)
    for facts in report.changes:
        week = _monday(facts.change.landed_at)
        if week in totals:
            totals[week] += 1
            flagged[week] += facts.change_id in exceptional
    top = max(totals.values(), default=0)
    scale = max(1, top)
    height, plot = 160.0, 120.0
    step = BAR_WIDTH / len(weeks)
    body = _legend(12, [("changes", CHANGE_COLOUR), ("with an exception", EXCEPTION_COLOUR)])
    base = 20 + plot
    body.append(
        f'<line x1="{LABEL_WIDTH}" y1="{_num(base)}" x2="{LABEL_WIDTH + BAR_WIDTH}"'
        f' y2="{_num(base)}" stroke="{TEXT_COLOUR}" stroke-width="0.5"/>'
    )
    body.append(_text(LABEL_WIDTH - 6, base, "0", "end", 10))
    body.append(_text(LABEL_WIDTH - 6, 20 + 8, str(top), "end", 10))
    every = max(1, math.ceil(len(weeks) / 6))
    for i, week in enumerate(weeks):
        x = LABEL_WIDTH + i * step
        w = max(step - 1, step * 0.8)
        tall = plot * totals[week] / scale
        low = plot * flagged[week] / scale
        label = _week_label(week)
        body.append(
            f'<g data-week="{label}" data-changes="{totals[week]}"'
            f' data-exceptions="{flagged[week]}">'
        )
        if totals[week]:
            body.append(_rect(x, base - tall, w, tall - low, CHANGE_COLOUR))
        if flagged[week]:
            body.append(_rect(x, base - low, w, low, EXCEPTION_COLOUR))
        body.append("</g>")
        if i % every == 0:
            body.append(_text(x, base + 14, label, size=9))
    busy = [w for w in weeks if totals[w]]
    caption = (
        f"{counted(len(report.changes), 'change')} over {counted(len(weeks), 'week')}"
        f" ({len(weeks) - len(busy)} without any), at most {top} in a week;"
        f" {counted(sum(flagged.values()), 'change')} with an exception."
    )
    return Picture(
        id=pid,
        title="Changes per week",
        caption=caption,
        svg=_svg(pid, LABEL_WIDTH + BAR_WIDTH + 40, height, "Changes per week", caption, body),
        columns=("Week", "Starts", "Changes", "With an exception"),
        rows=tuple(
            (_week_label(w), w.date().isoformat(), str(totals[w]), str(flagged[w])) for w in busy
        ),
    )


def _week_label(week: datetime) -> str:
    year, number, _ = week.isocalendar()
    return f"{year}-W{number:02d}"


# The bins of a time distribution: (label, upper bound, exclusive; None for the last).
BINS: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 hour", timedelta(hours=1)),
    ("1 to 4 hours", timedelta(hours=4)),
    ("4 to 24 hours", timedelta(days=1)),
    ("1 to 3 days", timedelta(days=3)),
    ("3 to 7 days", timedelta(days=7)),
    ("7 days or more", None),
)


def approval_to_merge(facts: ChangeFacts) -> timedelta | None:
    """From the last approval given before the merge to the merge; None when the change was
    not merged through a request, or no approval with a time came before its merge."""
    if facts.merged_at is None:
        return None
    times = [a.at for a in facts.approvals if a.at is not None and a.at <= facts.merged_at]
    return facts.merged_at - max(times) if times else None


@dataclass(frozen=True)
class Lag:
    """A time distribution the pack can draw: the time from one event of a change to another."""

    id: str
    title: str
    what: str  # what each measured item is ("change")
    missing: str  # what an item without a time is, after its count ("without both times")
    measure: Callable[[Report], tuple[list[timedelta], int] | None]  # (lags, items without one)


def _approval_lags(report: Report) -> tuple[list[timedelta], int] | None:
    lags = [approval_to_merge(f) for f in report.changes]
    return [lag for lag in lags if lag is not None], sum(1 for lag in lags if lag is None)


def _deployment_lags(report: Report) -> tuple[list[timedelta], int] | None:
    """From landing on the branch (the merge, for a merged request) to the first deployment
    that ran the change, per deployment source (``change_runs``); None, and not drawn, when no
    deployment records were given. The changes of the repositories with records that no record
    ran are counted apart."""
    if not report.deployment_repos:
        return None
    lags = [timedelta(minutes=run.lead_time_minutes) for run in report.change_runs]
    ran = {run.change_id for run in report.change_runs}
    repos = set(report.deployment_repos)
    never = sum(1 for c in report.changes if c.repo in repos and c.change_id not in ran)
    return lags, never


LAGS = (
    Lag("pic-approval-merge", "Time from approval to merge", "change", "without both times",
        _approval_lags),
    Lag("pic-merge-deploy", "Time from merge to deployment", "first run",
        "that no deployment record ran", _deployment_lags),
)  # fmt: skip


def _bin(lag: timedelta) -> int:
    for index, (_, bound) in enumerate(BINS):
        if bound is None or lag < bound:
            return index
    return len(BINS) - 1  # pragma: no cover - the last bin has no bound


def _duration(lag: timedelta) -> str:
    minutes = int(lag.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{_num(round(hours, 1))} h" if hours < 48 else f"{_num(round(hours / 24, 1))} days"


def distribution(lag: Lag, lags: list[timedelta], missing: int) -> Picture:
    """A horizontal bar per bin of ``lags``."""
    counts = [0] * len(BINS)
    for value in lags:
        counts[_bin(value)] += 1
    top = max(counts, default=0)
    body = []
    for index, ((label, _), count) in enumerate(zip(BINS, counts, strict=True)):
        y = 4 + index * ROW
        width = BAR_WIDTH * count / top if top else 0
        body.append(_text(LABEL_WIDTH + 26, y + 13, label, "end", 10))
        body.append(f'<g data-bin="{escape(label)}" data-count="{count}">')
        if count:
            body.append(_rect(LABEL_WIDTH + 32, y, width * 0.85, 16, CHANGE_COLOUR))
        body.append("</g>")
        body.append(_text(LABEL_WIDTH + 38 + width * 0.85, y + 13, str(count), size=10))
    ordered = sorted(lags)
    median = ordered[len(ordered) // 2] if ordered else None
    caption = (
        f"{counted(len(lags), lag.what)} measured"
        + (f", median {_duration(median)}" if median is not None else "")
        + (f"; {counted(missing, 'change')} {lag.missing}, not drawn." if missing else ".")
    )
    height = 4 + len(BINS) * ROW + 4
    return Picture(
        id=lag.id,
        title=lag.title,
        caption=caption,
        svg=_svg(lag.id, LABEL_WIDTH + BAR_WIDTH + 80, height, lag.title, caption, body),
        columns=("Time", "Count"),
        rows=tuple((label, str(count)) for (label, _), count in zip(BINS, counts, strict=True)),
    )


def pictures(report: Report) -> tuple[Picture, ...]:
    """Every picture of the report, in the order the overview and the summary show them: the
    distributions only where their times are known."""
    drawn = [control_results(report), changes_per_week(report)]
    for lag in LAGS:
        measured = lag.measure(report)
        if measured is not None:
            drawn.append(distribution(lag, *measured))
    return tuple(drawn)

"""What `probe report` shares out of its command: which period the options name, and writing the
report in its format (HTML, JSON, CSV, PDF)."""

from __future__ import annotations

from pathlib import Path

import click

from probe.text import json_text, printable

from .options import ProbeError

FORMATS = ("html", "json", "csv", "pdf")


def choose_period(month, quarter, year, first, last, as_of: float, tz: str) -> tuple[str, object, list, object]:
    """(kind, label, months, part) for the options given: kind is "month", "quarter", "year" or
    "range"; part, for a range, the interval from --from's midnight to the midnight after --to."""
    from zoneinfo import ZoneInfo

    from probe import report as report_module
    from probe.report import periods

    chosen = [name for name, value in (("--month", month), ("--quarter", quarter), ("--year", year),
                                       ("--from", first or last)) if value]
    if len(chosen) > 1:
        raise ProbeError(f"{' and '.join(chosen)} name different periods: give one of them")
    try:
        if quarter:
            number_year, number = periods.parse_quarter(quarter)
            _check_year(number_year)
            months = periods.quarter_months(number_year, number)
            _check_begun(months[0], as_of, tz)
            return "quarter", f"{number_year:04d}-Q{number}", months, None
        if year:
            number_year = periods.parse_year(year)
            _check_year(number_year)
            months = periods.year_months(number_year)
            _check_begun(months[0], as_of, tz)
            return "year", number_year, months, None
        if first or last:
            if not (first and last):
                raise ValueError("--from and --to go together")
            start, end = periods.parse_day(first, "--from"), periods.parse_day(last, "--to")
            if end < start:
                raise ValueError(f"--to {last} is before --from {first}")
            _check_year(start.year)
            _check_year(end.year)
            zone = ZoneInfo(tz)
            part = (periods.local_midnight(start, zone), periods.local_midnight(periods.day_after(end), zone))
            if part[0] > as_of:
                raise ValueError(f"--from {first} has not begun yet: no report for a period in the future")
            return "range", {"from": start.isoformat(), "to": end.isoformat()}, periods.range_months(start, end), part
        number_year, number = (report_module.parse_month(month) if month
                               else report_module.last_complete_month(as_of, tz))
        if not (1970, 1) <= (number_year, number) <= (9999, 11):  # the month after must be a date too
            raise ValueError(f"{month!r} is not a month probe reports on (1970-01 to 9999-11)")
        report_module.check_month_begun(number_year, number, as_of, tz)
        return "month", None, [(number_year, number)], None
    except ValueError as exc:
        raise ProbeError(str(exc)) from None


def _check_year(year: int) -> None:
    if not 1970 <= year <= 9998:
        raise ValueError(f"{year} is not a year probe reports on (1970 to 9998)")


def _check_begun(first_month: tuple[int, int], as_of: float, tz: str) -> None:
    from probe import sla

    if sla.month_period(first_month[0], first_month[1], tz)[0] > as_of:
        raise ValueError("that period has not begun yet: no report for a period in the future")


def default_name(model: dict, fmt: str) -> str:
    """probe-report-2026-10.html, probe-report-2026-Q4.pdf, probe-report-2026.csv,
    probe-report-2026-10-05_2026-11-20.json."""
    if "quarter" in model:
        stem = str(model["quarter"])
    elif "year" in model:
        stem = f"{model['year']:04d}"
    elif "range" in model:
        stem = f"{model['range']['from']}_{model['range']['to']}"
    else:
        stem = model["month"]
    return f"probe-report-{stem}.{fmt}"


def render(model: dict, fmt: str, templates, lang) -> str | bytes:
    from probe import render as render_module

    if fmt == "json":
        return json_text(model, indent=2)
    if fmt == "csv":
        return render_module.render_csv(model)
    html = (render_module.render_html(model, template_dir=templates, lang=lang) if "month" in model
            else render_module.render_period_html(model, template_dir=templates, lang=lang))
    if fmt == "html":
        return html
    try:
        return render_module.render_pdf(html)
    except render_module.PdfError as exc:
        raise ProbeError(str(exc)) from None


def write(model: dict, fmt: str, output, output_dir, templates, lang) -> None:
    """JSON and CSV go to stdout unless a file or directory is named; HTML and PDF to a file."""
    content = render(model, fmt, templates, lang)
    if fmt in ("json", "csv") and output is None and output_dir is None:
        click.echo(content, nl=False if fmt == "csv" else True)
        return
    target = Path(output) if output else Path(default_name(model, fmt))
    if output_dir:
        target = Path(output_dir) / target.name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="" if fmt == "csv" else None)
    except OSError as exc:
        raise ProbeError(f"cannot write {target}: {exc.strerror}") from None
    click.echo(printable(f"wrote {target}"), err=True)

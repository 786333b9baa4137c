"""The report as people read it: labels and formats per language, SVG charts, the HTML page from
the templates (a user's template directory overrides them)."""

from probe.labels import ERROR_LABELS, NBSP, NNBSP, format_duration

from .charts import availability_chart, latency_chart
from .formats import (
    default_filename,
    format_date,
    format_datetime,
    format_deadline,
    format_integer,
    format_month,
    format_number,
    format_percent,
)
from .html import PARALLEL_MIN, make_environment, render_html
from .csv_rows import render_csv
from .pdf import PdfError, find_browser, render_pdf
from .period_html import period_name, render_period_html
from .i18n import DEADLINE_UNITS, LANGUAGES, MESSAGES, MONTHS, check_language
from .i18n_public import PUBLIC_MESSAGES

__all__ = [
    "ERROR_LABELS",
    "NBSP",
    "NNBSP",
    "format_duration",
    "availability_chart",
    "check_language",
    "DEADLINE_UNITS",
    "default_filename",
    "format_date",
    "format_datetime",
    "format_deadline",
    "format_integer",
    "format_month",
    "format_number",
    "format_percent",
    "LANGUAGES",
    "latency_chart",
    "make_environment",
    "MESSAGES",
    "MONTHS",
    "PARALLEL_MIN",
    "PUBLIC_MESSAGES",
    "PdfError",
    "find_browser",
    "period_name",
    "render_csv",
    "render_html",
    "render_pdf",
    "render_period_html",
]

"""The report as people read it: labels and formats per language, SVG charts, the HTML page from
the templates (a user's template directory overrides them)."""
from probe.labels import ERROR_LABELS, NBSP, NNBSP, format_duration

from .i18n import COUNTRIES, DEADLINE_UNITS, LANGUAGES, MESSAGES, MONTHS, check_language
from .formats import default_filename, format_date, format_datetime, format_deadline, format_integer, format_month, format_number, format_percent, seconds_between, truncate
from .charts import AVAILABILITY_FLOORS, CHART_HEIGHT, CHART_WIDTH, PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, availability_chart, latency_chart
from .html import PARALLEL_MIN, make_environment, render_html

__all__ = [
    "ERROR_LABELS",
    "NBSP",
    "NNBSP",
    "format_duration",
    "availability_chart",
    "AVAILABILITY_FLOORS",
    "CHART_HEIGHT",
    "CHART_WIDTH",
    "check_language",
    "COUNTRIES",
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
    "PLOT_BOTTOM",
    "PLOT_LEFT",
    "PLOT_RIGHT",
    "PLOT_TOP",
    "render_html",
    "seconds_between",
    "truncate",
]

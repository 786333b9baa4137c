"""The HTML report: the Jinja environment (packaged templates, overridable), each endpoint's
section rendered over the CPUs for many endpoints, the page."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from markupsafe import Markup

from probe.labels import ERROR_LABELS, format_duration
from probe.runtime import map_shares

from .causes import cause_text
from .charts import availability_chart, latency_chart
from .formats import (
    format_date,
    format_datetime,
    format_deadline,
    format_integer,
    format_month,
    format_number,
    format_percent,
    seconds_between,
)
from .i18n import COUNTRIES, MESSAGES, check_language
from .objective import objective_view
from .print_css import css_string

PARALLEL_MIN = 200  # endpoints from which their sections are rendered in several processes


def _endpoint_blocks(head: dict, sections: list[dict], lang: str, template_dir) -> list[Markup]:
    """Each endpoint's section of the report (charts included), as HTML. A report of many
    endpoints shares them out over the CPUs (`runtime.map_shares`); the rest of the page is
    rendered by the caller."""
    render = partial(_render_blocks, head, lang=lang, template_dir=template_dir)
    if len(sections) < PARALLEL_MIN:
        return render(sections)
    return map_shares(render, render, sections)


def _render_blocks(head: dict, sections: list[dict], lang: str, template_dir) -> list[Markup]:
    env = make_environment(lang, template_dir, head["timezone"])
    template = env.get_template("_endpoint.html")
    blocks = []
    for section in sections:
        endpoint = section["endpoint"]
        section = {**section,
                   "availability_chart": availability_chart(endpoint, head["target_percent"], lang, section["anchor"]),
                   "latency_chart": latency_chart(endpoint, lang),
                   "objective": objective_view(endpoint, lang)}
        blocks.append(Markup(template.render(model=head, section=section, lang=lang, t=MESSAGES[lang])))
    return blocks


def _packaged_loader():
    """The templates installed with probe (the top-level ``reports/`` folder becomes the
    package ``probe.reports``); from a source checkout that was not installed, that folder."""
    try:
        return PackageLoader("probe.reports", "templates")
    except (ModuleNotFoundError, ValueError):
        return FileSystemLoader(str(Path(__file__).resolve().parents[2] / "reports" / "templates"))


def _loader(template_dir):
    packaged = _packaged_loader()
    if template_dir is None:
        return packaged
    return ChoiceLoader([FileSystemLoader(str(template_dir)), packaged])


def make_environment(lang: str, template_dir=None, timezone: str | None = None) -> Environment:
    """The Jinja environment of one report: escaping always on, undefined names are errors,
    and the format filters speak ``lang``."""
    env = Environment(
        loader=_loader(template_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change while a report renders: no stat per include
    )
    env.filters.update(
        percent=lambda value, places=None: format_percent(value, lang, places),
        number=lambda value, places=None: format_number(value, lang, places),
        integer=lambda value: format_integer(value, lang),
        duration=lambda seconds: format_duration(seconds, lang),
        duration_down=lambda seconds: format_duration(seconds, lang, down=True),
        date=lambda value: format_date(value, lang),
        datetime=lambda value: format_datetime(value, lang, timezone),
        datetime_s=lambda value: format_datetime(value, lang, timezone, seconds=True),
        month=lambda value: format_month(value, lang),
        deadline=lambda value: format_deadline(value, lang),
        error_class=lambda value: ERROR_LABELS[lang].get(value, value),
        country=lambda value: COUNTRIES[lang].get(value, value),
        span=seconds_between,
        css_string=css_string,
        cause=lambda incident, show_urls=True: cause_text(incident["summary"], incident["error_class"], lang,
                                                          incident["source"], show_urls),
    )
    return env


def render_html(model: dict, template_dir=None, lang: str | None = None) -> str:
    """The report for ``model`` as one self-contained HTML document.

    ``template_dir``: a directory whose templates replace the packaged ones of the same name
    (``report.html``, ``report.css``, ``_endpoint.html``, ...). ``lang`` overrides
    ``model["language"]``.
    """
    lang = check_language(lang or model["language"])
    env = make_environment(lang, template_dir, model["timezone"])
    sections = [{"anchor": f"endpoint-{number}", "endpoint": endpoint}
                for number, endpoint in enumerate(model["endpoints"], 1)]
    head = {key: value for key, value in model.items() if key != "endpoints"}
    for section, html in zip(sections, _endpoint_blocks(head, sections, lang, template_dir)):
        section["html"] = html
    return env.get_template("report.html").render(
        model=model, sections=sections, lang=lang, t=MESSAGES[lang]
    )

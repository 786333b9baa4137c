"""The HTML report of a quarter, a year or a range of days: the period's figures per endpoint
and for the service, a month-by-month table per endpoint, incidents by class."""

from __future__ import annotations

from .formats import format_date, format_month
from .html import make_environment
from .i18n import MESSAGES, check_language


def period_name(model: dict, lang: str) -> str:
    """The period in words: "4e trimestre 2026", "Year 2026", "Du 5 octobre 2026 au ..."."""
    t = MESSAGES[lang]
    if "month" in model:
        return format_month(model["month"], lang)
    if "quarter" in model:
        year, number = str(model["quarter"]).split("-Q")
        return (t["quarter_1"] if number == "1" else t["quarter"]).format(n=number, year=year)
    if "year" in model:
        return t["year"].format(year=model["year"])
    return t["range"].format(start=format_date(model["range"]["from"], lang), end=format_date(model["range"]["to"], lang))


def render_period_html(model: dict, template_dir=None, lang: str | None = None) -> str:
    lang = check_language(lang or model["language"])
    env = make_environment(lang, template_dir, model["timezone"])
    return env.get_template("period.html").render(model=model, lang=lang, t=MESSAGES[lang],
                                                  period_name=period_name(model, lang))

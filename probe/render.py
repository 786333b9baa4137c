"""The monthly report's presentation: a report model (a plain, JSON-able dict) -> one
self-contained HTML file (inline CSS and SVG, no JavaScript, nothing fetched), in French or English.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache, partial
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from markupsafe import Markup, escape

from probe.labels import ERROR_LABELS, NBSP, NNBSP, format_duration
from probe.runtime import map_shares

LANGUAGES = ("fr", "en")


MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}

# Labels of the report. Long prose (the rules) lives in the _rules_<lang>.html partials.
MESSAGES = {
    "fr": {
        "report": "Rapport de disponibilité",
        "provider": "Prestataire",
        "client": "Client",
        "support": "Support",
        "generated_at": "État au",
        "probe_sites": "Sites de mesure",
        "timezone": "Fuseau horaire",
        "period": "Période",
        "period_range": "du {start} au {end}",
        "target": "Objectif",
        "summary": "Synthèse",
        "endpoint": "Service",
        "availability": "Disponibilité",
        "status": "Statut",
        "downtime": "Indisponibilité",
        "allowed": "Budget autorisé",
        "coverage": "Couverture",
        "incidents": "Incidents",
        "met": "Respecté",
        "breached": "Non respecté",
        "no_data": "pas de données",
        "no_data_status": "Pas de données",
        "figures": "Chiffres du mois",
        "period_length": "Durée de la période",
        "eligible": "Temps mesuré hors maintenance",
        "maintenance": "Maintenance",
        "unmonitored": "Non surveillé",
        "blips": "Échecs isolés (non confirmés)",
        "severity_cap": "Classe maximale des incidents de ce service",
        "availability_by_day": "Disponibilité jour par jour",
        "response_time_by_day": "Temps de réponse jour par jour",
        "median": "médiane",
        "p95": "95e centile",
        "no_latency": "Aucune mesure de temps de réponse ce mois-ci.",
        "chart_target": "objectif",
        "chart_no_data_day": "jour sans données",
        "chart_below_axis": "sous l'échelle",
        "incident_class": "Classe",
        "cause": "Cause",
        "start": "Début",
        "end": "Fin",
        "duration": "Durée",
        "acknowledge": "Prise en compte",
        "fix": "Correction",
        "deadline": "échéance",
        "ongoing": "en cours",
        "manual": "saisi manuellement",
        "acknowledged_at": "prise en compte le {at}",
        "of_which_downtime": "dont indisponibilité",
        "by": "par {who}",
        "deadline_met": "respectée",
        "deadline_missed": "dépassée",
        "deadline_open": "en cours",
        "no_incidents": "Aucun incident ce mois-ci.",
        "maintenance_windows": "Fenêtres de maintenance",
        "no_maintenance": "Aucune maintenance déclarée ce mois-ci.",
        "reason": "Motif",
        "unmonitored_periods": "Périodes non surveillées",
        "no_unmonitored": "Aucune période non surveillée ce mois-ci.",
        "probe_gaps": "Interruptions de la sonde",
        "no_probe_gaps": "Aucune interruption de la sonde ce mois-ci.",
        "probe_gaps_note": "Pendant ces périodes la sonde ne mesurait aucun service ; "
        "ce temps est compté comme non surveillé, jamais comme disponible.",
        "how_computed": "Méthode de calcul",
        "blocking": "Bloquant",
        "major": "Majeur",
        "minor": "Mineur",
        "url": "Adresse",
        "times_note": "Toutes les heures sont données dans le fuseau {tz}.",
        "as_of": "État au",
        "provisional": "Rapport provisoire : le mois n’est pas terminé. Les chiffres sont ceux du {at} et changeront d’ici la fin du mois.",
        "recorded_range": "Mesuré du {start} au {end}",
        "not_recorded": "Aucune mesure de ce service ce mois-ci.",
        "recorded_by_daemon": "Mesures enregistrées par la sonde (site {site}).",
        "imported_from": "Historique importé du fichier {file} le {at} : {checks} mesures du {start} au {end}.",
        "history_imported": "Une partie de l’historique de ce mois a été importée (voir chaque service).",
        "gap_stopped": "sonde arrêtée",
        "gap_crashed": "sonde interrompue (arrêt brutal)",
        "gap_silent": "sonde muette (plus de signal de vie)",
        "gap_not_recorded": "aucune exécution de la sonde enregistrée",
        "probe_runs": "Exécutions de la sonde",
        "run_site": "Site",
        "run_host": "Machine",
        "run_process": "Processus",
        "run_version": "Version",
        "running": "en cours",
        "imported": "importé",
        "declared": "Déclarée",
        "excluded": "Exclu",
        "late": "déclarée en retard",
        "cancelled": "annulée",
        "recurring": "récurrente",
        "blip_events": "Échecs isolés",
        "no_blips": "Aucun échec isolé ce mois-ci.",
        "blips_more": "… et {n} autres (tous sont listés dans le rapport JSON).",
        "state": "État",
        "checks": "Mesures",
        "state_down": "indisponible",
        "state_degraded": "dégradé",
        "deadline_none": "sans objet (maintenance)",
    },
    "en": {
        "report": "Availability report",
        "provider": "Provider",
        "client": "Client",
        "support": "Support",
        "generated_at": "As of",
        "probe_sites": "Probe sites",
        "timezone": "Time zone",
        "period": "Period",
        "period_range": "from {start} to {end}",
        "target": "Target",
        "summary": "Summary",
        "endpoint": "Service",
        "availability": "Availability",
        "status": "Status",
        "downtime": "Downtime",
        "allowed": "Allowed budget",
        "coverage": "Coverage",
        "incidents": "Incidents",
        "met": "Met",
        "breached": "Breached",
        "no_data": "no data",
        "no_data_status": "No data",
        "figures": "Figures for the month",
        "period_length": "Length of the period",
        "eligible": "Monitored time outside maintenance",
        "maintenance": "Maintenance",
        "unmonitored": "Unmonitored",
        "blips": "Isolated failures (not confirmed)",
        "severity_cap": "Highest incident class for this service",
        "availability_by_day": "Availability by day",
        "response_time_by_day": "Response time by day",
        "median": "median",
        "p95": "95th percentile",
        "no_latency": "No response time was measured this month.",
        "chart_target": "target",
        "chart_no_data_day": "day with no data",
        "chart_below_axis": "below the scale",
        "incident_class": "Class",
        "cause": "Cause",
        "start": "Start",
        "end": "End",
        "duration": "Duration",
        "acknowledge": "Acknowledgement",
        "fix": "Fix",
        "deadline": "deadline",
        "ongoing": "ongoing",
        "manual": "recorded by hand",
        "acknowledged_at": "acknowledged {at}",
        "of_which_downtime": "of which downtime",
        "by": "by {who}",
        "deadline_met": "met",
        "deadline_missed": "missed",
        "deadline_open": "open",
        "no_incidents": "No incidents this month.",
        "maintenance_windows": "Maintenance windows",
        "no_maintenance": "No maintenance was declared this month.",
        "reason": "Reason",
        "unmonitored_periods": "Unmonitored periods",
        "no_unmonitored": "No unmonitored period this month.",
        "probe_gaps": "Probe interruptions",
        "no_probe_gaps": "The probe ran without interruption this month.",
        "probe_gaps_note": "While the probe was interrupted it measured no service; "
        "that time counts as unmonitored, never as available.",
        "how_computed": "How these figures are computed",
        "blocking": "Blocking",
        "major": "Major",
        "minor": "Minor",
        "url": "URL",
        "times_note": "All times are in the {tz} time zone.",
        "as_of": "As of",
        "provisional": "Provisional report: the month is not over. Figures are as of {at} and will change until the month ends.",
        "recorded_range": "Recorded from {start} to {end}",
        "not_recorded": "No check of this service was recorded this month.",
        "recorded_by_daemon": "Checks recorded by the probe daemon (site {site}).",
        "imported_from": "History imported from the file {file} on {at}: {checks} checks from {start} to {end}.",
        "history_imported": "Part of this month’s history was imported (see each service).",
        "gap_stopped": "probe stopped",
        "gap_crashed": "probe crashed",
        "gap_silent": "probe silent (no heartbeat)",
        "gap_not_recorded": "no probe run recorded",
        "probe_runs": "Probe runs",
        "run_site": "Site",
        "run_host": "Host",
        "run_process": "Process",
        "run_version": "Version",
        "running": "running",
        "imported": "imported",
        "declared": "Declared",
        "excluded": "Excluded",
        "late": "declared late",
        "cancelled": "cancelled",
        "recurring": "recurring",
        "blip_events": "Isolated failures",
        "no_blips": "No isolated failure this month.",
        "blips_more": "… and {n} more (all are listed in the JSON report).",
        "state": "State",
        "checks": "Checks",
        "state_down": "down",
        "state_degraded": "degraded",
        "deadline_none": "none (maintenance)",
    },
}


COUNTRIES = {"fr": {"FR": "France"}, "en": {"FR": "France"}}


DEADLINE_UNITS = {
    "fr": {"h": ("heure", "heures"), "wh": ("heure ouvrée", "heures ouvrées"),
           "wd": ("jour ouvré", "jours ouvrés")},
    "en": {"h": ("hour", "hours"), "wh": ("working hour", "working hours"),
           "wd": ("working day", "working days")},
}


def check_language(lang: str) -> str:
    """``"fr-FR"`` -> ``"fr"``; a language the report has no labels for is an error."""
    code = str(lang).split("-")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"report language {lang!r} is not supported (use one of: {', '.join(LANGUAGES)})")
    return code


# --- Formats -------------------------------------------------------------------------------


def _plain_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def truncate(value: float, places: int) -> Decimal:
    """``value`` cut (never rounded up) to ``places`` decimals: 99.7996, 3 -> 99.799."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def format_number(value, lang: str, places: int | None = None) -> str:
    """A number in the language's notation. A string is taken as already formatted (``"99.806"``
    keeps every digit); a number is cut to ``places`` decimals, never rounded up."""
    if isinstance(value, str):
        text = value
    elif places is None:
        text = _plain_decimal(Decimal(str(value)))
    else:
        text = _plain_decimal(truncate(value, places))
    if lang == "fr":
        return text.replace(".", ",")
    return text


def format_percent(value, lang: str, places: int | None = None) -> str:
    """``"99.806"`` -> ``99,806 %`` (fr, narrow no-break space) or ``99.806%`` (en)."""
    number = format_number(value, lang, places)
    return f"{number}{NNBSP}%" if lang == "fr" else f"{number}%"


def format_integer(value, lang: str) -> str:
    """``1234`` -> ``1 234`` (fr) or ``1,234`` (en); rounded to the nearest unit."""
    text = f"{round(value):,}"
    return text.replace(",", NNBSP) if lang == "fr" else text




@lru_cache(maxsize=4096)
def format_date(value: str | date, lang: str) -> str:
    """``2026-10-07`` -> ``7 octobre 2026`` (fr) / ``7 October 2026`` (en)."""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{number} {MONTHS[lang][day.month - 1]} {day.year}"


def format_datetime(value: str, lang: str, timezone: str | None = None, seconds: bool = False) -> str:
    """``2026-10-07T10:00:00+02:00`` -> ``7 octobre 2026 à 10:00`` / ``7 October 2026, 10:00``.

    The time is shown as written (the model's times are already in the SLA time zone). When
    ``timezone`` is given and the wall time occurs twice that day (the hour the clocks go back),
    the UTC offset is added so that the two cannot be confused. None (no such time) -> ``—``.
    """
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value)
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    if timezone and moment.utcoffset() is not None and _ambiguous(moment, timezone):
        offset = moment.strftime("%z")
        clock += f" (UTC{offset[:3]}:{offset[3:]})"
    day = format_date(moment.date(), lang)
    return f"{day} à {clock}" if lang == "fr" else f"{day}, {clock}"


def _ambiguous(moment: datetime, timezone: str) -> bool:
    wall = moment.replace(tzinfo=ZoneInfo(timezone))
    return wall.replace(fold=0).utcoffset() != wall.replace(fold=1).utcoffset()


def seconds_between(start: str, end: str) -> float:
    """The length of a period given by its two ISO 8601 ends (offsets make DST days right)."""
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def format_month(month: str, lang: str) -> str:
    """``2026-10`` -> ``octobre 2026`` / ``October 2026``."""
    year, number = _parse_month(month)
    return f"{MONTHS[lang][number - 1]} {year}"


def format_deadline(spec: str, lang: str) -> str:
    """A contract deadline as written in the config, in words: ``24wh`` -> ``24 heures ouvrées``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(wh|wd|h)\s*", str(spec))
    if not match:
        return str(spec)
    amount, unit = match.groups()
    singular, plural = DEADLINE_UNITS[lang][unit]
    return f"{format_number(amount, lang)}{NBSP}{singular if float(amount) <= 1 else plural}"


def _parse_month(month: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(month))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"report month {month!r} is not of the form YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def default_filename(model: dict) -> str:
    """The file name a report is saved under: ``probe-report-2026-10.html``."""
    year, number = _parse_month(model["month"])
    return f"probe-report-{year:04d}-{number:02d}.html"


# --- Charts --------------------------------------------------------------------------------
# Geometry is computed here and drawn by _chart_*.html, so that templates stay declarative.

CHART_WIDTH = 720
CHART_HEIGHT = 170
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 52, 12, 12, 26

# Lower ends the availability axis may take, with the tick step for each: the axis starts at
# the highest one that still shows the worst day and the target, so that 99.9 % and 100 % can
# be told apart. A day worse than the lowest is drawn to the bottom and marked.
AVAILABILITY_FLOORS = ((99.0, 0.25), (98.0, 0.5), (95.0, 1.0), (90.0, 2.5))


def _plot_box(days: int) -> dict:
    width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = width / max(days, 1)
    return {"left": PLOT_LEFT, "top": PLOT_TOP, "width": width, "height": height,
            "bottom": PLOT_TOP + height, "right": PLOT_LEFT + width, "slot": slot}


def _x_labels(days: list[dict], box: dict) -> list[dict]:
    return [
        {"x": _r(box["left"] + box["slot"] * (i + 0.5)), "text": str(int(day["date"][8:10]))}
        for i, day in enumerate(days)
    ]


def _r(value: float) -> float:
    return round(value, 1)


def _labelled(label: str, value: str, lang: str) -> str:
    """``label: value``; French puts a no-break space before the colon."""
    return f"{label}{NBSP}: {value}" if lang == "fr" else f"{label}: {value}"


def _bars_svg(bars: list[dict], box: dict, anchor: str) -> Markup:
    """The bars as SVG, built here rather than in a template loop: a report of a thousand
    endpoints draws sixty thousand of them. Every title is escaped."""
    out = []
    for bar in bars:
        fill = f' fill="url(#nodata-{escape(anchor)})"' if bar["kind"] == "nodata" else ""
        title = escape(bar["title"])
        out.append(f'<rect class="bar bar-{bar["kind"]}" x="{bar["x"]}" y="{bar["y"]}" width="{bar["width"]}" '
                   f'height="{bar["height"]}"{fill}><title>{title}</title></rect>')
        if bar["kind"] == "clipped":
            out.append(f'<path class="clip-mark" d="M{bar["x"]},{box["bottom"] - 9} h{bar["width"]} '
                       f'l-{bar["width"] / 2},8 z"><title>{title}</title></path>')
    return Markup("\n".join(out))


def _axes_svg(ticks: list[dict], labels: list[dict], box: dict) -> Markup:
    """Grid lines with their values, and the day numbers under the plot. Tick texts are
    numbers formatted here; still escaped, as every text of the report."""
    out = [
        f'<line class="grid" x1="{box["left"]}" x2="{box["right"]}" y1="{tick["y"]}" y2="{tick["y"]}"/>\n'
        f'<text class="tick" x="{box["left"] - 6}" y="{tick["y"] + 3}" text-anchor="end">{escape(tick["text"])}</text>'
        for tick in ticks
    ]
    out += [
        f'<text class="tick" x="{label["x"]}" y="{box["bottom"] + 14}" text-anchor="middle">{escape(label["text"])}</text>'
        for label in labels
    ]
    return Markup("\n".join(out))


def _points_svg(points: list[dict], name: str) -> Markup:
    return Markup("\n".join(
        f'<circle class="dot dot-{name}" cx="{p["x"]}" cy="{p["y"]}" r="2.4"><title>{escape(p["title"])}</title></circle>'
        for p in points
    ))


def availability_chart(endpoint: dict, target: float, lang: str, anchor: str = "chart") -> dict:
    """Bars, one per day, from the axis floor up to the day's availability."""
    days = endpoint["days"]
    box = _plot_box(len(days))
    values = [d["availability_percent"] for d in days if d["availability_percent"] is not None]
    worst = min(values + [target])
    floor, step = AVAILABILITY_FLOORS[-1]
    for candidate, candidate_step in AVAILABILITY_FLOORS:
        # Leave the worst day a visible bar: a tenth of the axis above its floor.
        if worst >= candidate + (100.0 - candidate) / 10:
            floor, step = candidate, candidate_step
            break
    span = 100.0 - floor

    def y(value: float) -> float:
        return box["bottom"] - (min(max(value, floor), 100.0) - floor) / span * box["height"]

    bar_width = box["slot"] * 0.62
    bars = []
    for i, day in enumerate(days):
        bar = {"x": _r(box["left"] + box["slot"] * i + (box["slot"] - bar_width) / 2),
               "width": _r(bar_width)}
        value = day["availability_percent"]
        if value is None:
            bar.update(kind="nodata", y=box["top"], height=_r(box["height"]),
                       title=_labelled(format_date(day["date"], lang), MESSAGES[lang]["no_data"], lang))
        else:
            kind = "met" if value >= target else ("clipped" if value < floor else "breached")
            # A day at or below the floor still gets a visible sliver.
            top = min(y(value), box["bottom"] - 1.5)
            bar.update(kind=kind, y=_r(top), height=_r(box["bottom"] - top),
                       title=_labelled(format_date(day["date"], lang),
                                       format_percent(value, lang, 3), lang))
        bars.append(bar)
    ticks = [
        {"y": _r(y(floor + k * step)), "text": format_percent(round(floor + k * step, 2), lang)}
        for k in range(round(span / step) + 1)
    ]
    labels = _x_labels(days, box)
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "box": box, "bars": bars,
            "bars_svg": _bars_svg(bars, box, anchor),
            "axes_svg": _axes_svg(ticks, labels, box),
            "ticks": ticks, "labels": labels,
            "target": {"y": _r(y(target)), "text": format_percent(target, lang)},
            "has_nodata": any(b["kind"] == "nodata" for b in bars),
            "has_clipped": any(b["kind"] == "clipped" for b in bars)}


def _nice_ceiling(value: float) -> tuple[float, float]:
    """An axis top at or above ``value`` and a round step dividing it in at most 5 ticks."""
    if value <= 0:
        return 1.0, 0.25
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if math.ceil(value / step) <= 5:
            return math.ceil(value / step) * step, step
    return math.ceil(value / (10 * magnitude)) * 10 * magnitude, 10 * magnitude


def latency_chart(endpoint: dict, lang: str) -> dict | None:
    """Median and 95th percentile response times as two lines, broken on days with no data.
    None when the month has no response time at all."""
    days = endpoint["days"]
    measured = [d[key] for d in days for key in ("latency_p50_ms", "latency_p95_ms")
                if d[key] is not None]
    if not measured:
        return None
    box = _plot_box(len(days))
    top, step = _nice_ceiling(max(measured))

    def y(value: float) -> float:
        return box["bottom"] - value / top * box["height"]

    series = []
    for key, name in (("latency_p95_ms", "p95"), ("latency_p50_ms", "median")):
        segments, points, current = [], [], []
        for i, day in enumerate(days):
            value = day[key]
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x, yy = _r(box["left"] + box["slot"] * (i + 0.5)), _r(y(value))
            current.append(f"{x},{yy}")
            shown = f"{MESSAGES[lang][name]} {format_integer(value, lang)}{NBSP}ms"
            points.append({"x": x, "y": yy,
                           "title": _labelled(format_date(day["date"], lang), shown, lang)})
        if current:
            segments.append(current)
        series.append({"name": name, "segments": [" ".join(s) for s in segments], "points": points,
                       "points_svg": _points_svg(points, name)})
    ticks = []
    count = round(top / step)
    for k in range(count + 1):
        value = k * step
        ticks.append({"y": _r(y(value)), "text": f"{format_number(round(value, 2), lang)}{NBSP}ms"})
    labels = _x_labels(days, box)
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "box": box, "series": series,
            "axes_svg": _axes_svg(ticks, labels, box), "ticks": ticks, "labels": labels}


# --- Rendering -----------------------------------------------------------------------------

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
                   "latency_chart": latency_chart(endpoint, lang)}
        blocks.append(Markup(template.render(model=head, section=section, lang=lang, t=MESSAGES[lang])))
    return blocks




def _packaged_loader():
    """The templates installed with probe (the top-level ``reports/`` folder becomes the
    package ``probe.reports``); from a source checkout that was not installed, that folder."""
    try:
        return PackageLoader("probe.reports", "templates")
    except (ModuleNotFoundError, ValueError):
        return FileSystemLoader(str(Path(__file__).resolve().parent.parent / "reports" / "templates"))


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

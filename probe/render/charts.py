"""The report's charts as inline SVG: availability per day, latency percentiles."""

from __future__ import annotations

import math
from datetime import date

from markupsafe import Markup, escape

from probe.labels import NBSP

from .formats import format_date, format_integer, format_number, format_percent
from .i18n import MESSAGES
from .objective import percentile_name

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


def _objective_days(endpoint: dict) -> tuple[list[dict], float | None]:
    """The performance objective's daily values (its percentile and the median, by its rule:
    up and degraded checks outside maintenance), keyed as the chart's series read them, and
    its bound, when the endpoint has one."""
    objective = endpoint.get("latency_objective")
    if not objective:
        return [], None
    return [{"date": d["date"], "objective_ms": d["value_ms"], "median_ms": d.get("median_ms")}
            for d in objective["days"]], objective["under_ms"]


def latency_chart(endpoint: dict, lang: str) -> dict | None:
    """Each day's response times: with a performance objective, its percentile and the median
    by the objective's rule (outside maintenance) and its bound; without one, the median and
    95th percentile of the hourly histograms (maintenance included). The legend's note says
    which. Lines break on days with no data. None when the month has no response time at all."""
    days = endpoint["days"]
    objective_days, under = _objective_days(endpoint)
    if objective_days:
        lines = [(objective_days, "objective_ms", "objective"), (objective_days, "median_ms", "median")]
        note = MESSAGES[lang]["latency_rule_objective"]
    else:
        lines = [(days, "latency_p95_ms", "p95"), (days, "latency_p50_ms", "median")]
        note = MESSAGES[lang]["latency_rule_all"]
    measured = [d[key] for source, key, _ in lines for d in source if d[key] is not None]
    if not measured:
        return None
    box = _plot_box(len(days))
    top, step = _nice_ceiling(max(measured + ([under] if under is not None else [])))

    def y(value: float) -> float:
        return box["bottom"] - value / top * box["height"]

    series = []
    objective_name = _objective_name(endpoint, lang)
    for source, key, name in lines:
        segments, points, current = [], [], []
        for i, day in enumerate(source):
            value = day[key]
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x, yy = _r(box["left"] + box["slot"] * (i + 0.5)), _r(y(value))
            current.append(f"{x},{yy}")
            label = objective_name if name == "objective" else MESSAGES[lang][name]
            shown = f"{label} {format_integer(value, lang)}{NBSP}ms"
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
            "axes_svg": _axes_svg(ticks, labels, box), "ticks": ticks, "labels": labels, "note": note,
            "objective": None if under is None else {
                "y": _r(y(under)), "name": objective_name,
                "title": f"{MESSAGES[lang]['objective_line']} {format_integer(under, lang)}{NBSP}ms"}}


def _objective_name(endpoint: dict, lang: str) -> str:
    objective = endpoint.get("latency_objective")
    if not objective:
        return ""
    return MESSAGES[lang]["objective_daily"].format(percentile=percentile_name(objective["percentile"], lang))

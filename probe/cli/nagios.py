"""What Nagios, Icinga and Naemon read from a plugin: one status line, perfdata after `|`, the
other URLs as long text, and the exit status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

Perfdata follows the Monitoring Plugins guidelines: ``'label'=value[UOM];[warn];[crit];[min];[max]``,
space separated; a label holding a space, ``=`` or ``'`` is quoted, its ``'`` doubled.
Thresholds are ranges as the guidelines write them: ``2`` alerts above 2 (outside 0..2), ``14:``
alerts below 14 (outside 14..infinity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from probe.result import DEGRADED, DOWN, PROBE_ERROR, CheckResult
from probe.text import printable

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# Worst first, as `probe check` orders its exit statuses: a down endpoint outweighs a check
# that could not be made, which outweighs a warning.
SEVERITY_ORDER = (CRITICAL, UNKNOWN, WARNING, OK)


@dataclass(frozen=True)
class Thresholds:
    """Time in seconds (alert above), certificate days left (alert below); None: no threshold."""

    warning: float | None = None
    critical: float | None = None
    cert_warning: int | None = 14
    cert_critical: int | None = 7


def worst(states: Iterable[int]) -> int:
    seen = set(states)
    return next((state for state in SEVERITY_ORDER if state in seen), OK)


def plugin_state(result: CheckResult, limits: Thresholds) -> tuple[int, str | None]:
    """The state of one check, and why when it is not OK."""
    if result.error_class == PROBE_ERROR:
        return UNKNOWN, printable(result.error or "the check could not be made")
    if result.state == DOWN:
        return CRITICAL, printable(result.error or result.error_class or "down")
    time = result.total_ms / 1000 if result.total_ms is not None else None
    days = result.cert_days_left
    reasons: list[tuple[int, str]] = []
    if time is not None and limits.critical is not None and time > limits.critical:
        reasons.append((CRITICAL, f"time {_seconds(time)} s > {_seconds(limits.critical)} s"))
    elif time is not None and limits.warning is not None and time > limits.warning:
        reasons.append((WARNING, f"time {_seconds(time)} s > {_seconds(limits.warning)} s"))
    if days is not None and limits.cert_critical is not None and days < limits.cert_critical:
        reasons.append((CRITICAL, f"certificate expires in {days} d < {limits.cert_critical} d"))
    elif days is not None and limits.cert_warning is not None and days < limits.cert_warning:
        reasons.append((WARNING, f"certificate expires in {days} d < {limits.cert_warning} d"))
    if result.state == DEGRADED and not reasons:
        reasons.append((WARNING, printable(result.error or result.error_class or "degraded")))
    if not reasons:
        return OK, None
    state = worst(state for state, _ in reasons)
    return state, "; ".join(reason for _, reason in reasons)


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def summary(result: CheckResult) -> str:
    """``https://api.example.com/ 200 in 212 ms, TLSv1.3, certificate 57 d``"""
    parts = [printable(result.url)]
    if result.http_status is not None:
        parts.append(str(result.http_status))
    text = " ".join(parts)
    if result.total_ms is not None:
        text += f" in {result.total_ms:.0f} ms"
    extras = [printable(result.tls_version)] if result.tls_version else []
    if result.cert_days_left is not None:
        extras.append(f"certificate {result.cert_days_left} d")
    return ", ".join([text, *extras])


def plain(text: str) -> str:
    """Text for the status line: one line, no '|' (it would start the perfdata)."""
    return printable(text).replace("|", "%7C")


def line_for(result: CheckResult, limits: Thresholds) -> tuple[int, str]:
    state, reason = plugin_state(result, limits)
    text = summary(result)
    return state, plain(f"{text}: {reason}" if reason else text)


# --- perfdata -----------------------------------------------------------------------------------

_PLAIN_LABEL = re.compile(r"[^\s='|]+")


def perf_label(label: str) -> str:
    """A label as the grammar wants it: quoted when it holds a space, '=' or a quote (a quote
    doubled); '|' and line breaks, which would end the perfdata, are replaced."""
    label = printable(label).replace("|", "%7C")
    if _PLAIN_LABEL.fullmatch(label):
        return label
    return "'" + label.replace("'", "''") + "'"


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _upper(limit: float | None) -> str:
    return "" if limit is None else _number(limit)


def _lower(limit: int | None) -> str:
    return "" if limit is None else f"{limit}:"


def perfdata(result: CheckResult, limits: Thresholds, prefix: str = "") -> list[str]:
    """The check's figures: time (with the thresholds), its phases, the certificate's days."""
    items: list[str] = []
    if result.total_ms is not None:
        items.append(f"{perf_label(prefix + 'time')}={_number(result.total_ms / 1000)}s;"
                     f"{_upper(limits.warning)};{_upper(limits.critical)};0")
    for name in ("dns", "connect", "tls", "ttfb"):
        value = getattr(result, f"{name}_ms")
        if value is not None:
            items.append(f"{perf_label(prefix + name)}={_number(value / 1000)}s")
    if result.cert_days_left is not None:
        items.append(f"{perf_label(prefix + 'cert_days')}={result.cert_days_left};"
                     f"{_lower(limits.cert_warning)};{_lower(limits.cert_critical)};0")
    return items


def plugin_output(results: Sequence[CheckResult], limits: Thresholds) -> tuple[int, str]:
    """(exit status, text). One URL: its line and perfdata. Several: the worst state and a
    count on the status line, then one line per URL (worst first), every URL's perfdata with
    labels prefixed by the URL."""
    lines = [line_for(result, limits) for result in results]
    state = worst(s for s, _ in lines)
    if len(results) == 1:
        perf = perfdata(results[0], limits)
        head = f"PROBE {STATE_NAMES[state]} - {lines[0][1]}"
        return state, head + (" | " + " ".join(perf) if perf else "")
    counts = {s: sum(1 for each, _ in lines if each == s) for s in SEVERITY_ORDER}
    told = ", ".join(f"{counts[s]} {STATE_NAMES[s].lower()}" for s in SEVERITY_ORDER if counts[s])
    perf = [item for result, prefix in zip(results, _prefixes(results))
            for item in perfdata(result, limits, prefix=prefix)]
    head = f"PROBE {STATE_NAMES[state]} - {len(results)} URLs: {told}"
    order = sorted(range(len(lines)), key=lambda i: SEVERITY_ORDER.index(lines[i][0]))
    long_text = [f"{STATE_NAMES[lines[i][0]]}: {lines[i][1]}" for i in order]
    return state, "\n".join([head + (" | " + " ".join(perf) if perf else ""), *long_text])


def _prefixes(results: Sequence[CheckResult]) -> list[str]:
    """Each URL's label prefix; a URL given twice gets ``#2`` on its second set of labels."""
    seen: dict[str, int] = {}
    prefixes = []
    for result in results:
        seen[result.url] = seen.get(result.url, 0) + 1
        count = seen[result.url]
        prefixes.append(f"{result.url} " if count == 1 else f"{result.url} #{count} ")
    return prefixes


def read_url_list(text: str) -> list[str]:
    """URLs one a line; blank lines and ``#`` comments skipped."""
    urls = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            urls.append(line)
    return urls

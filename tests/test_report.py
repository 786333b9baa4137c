"""`probe report` end to end: histories as JSON Lines (the `probe export` format), imported
with `probe import`, reported with the real CLI, every figure worked out by hand from the rules
(/work/shared/docs/sla-accounting.md, docs/accounting.md) in the comments.

Times below are Paris wall-clock times. October 2026 in Paris runs from 1 October 00:00 (UTC+2)
to 1 November 00:00 (UTC+1): 31 x 24 h + 1 h (summer time ends on 25 October) = 745 h =
2 682 000 s. Unless said otherwise an endpoint is checked every 300 s (a check vouches for
at most 1.5 x 300 = 450 s), on the grid 00:00, 00:05, ... of the month, and the target is
99.8 % (error budget 0.2 % of the eligible time: 5 364 s for a whole October).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from probe import sla
from probe.cli import cli

PARIS = ZoneInfo("Europe/Paris")
OCTOBER = 2_682_000  # seconds in October 2026, Paris
STEP = 300

TOP_KEYS = {"month", "timezone", "target_percent", "period_seconds", "endpoints"}
ENDPOINT_KEYS = {
    "name", "availability_percent", "met", "period_seconds", "eligible_seconds",
    "unmonitored_seconds", "maintenance_seconds", "downtime_seconds",
    "allowed_downtime_seconds", "blips", "incidents",
}
INCIDENT_KEYS = {
    "start", "end", "severity", "error_class", "downtime_seconds", "acknowledge_deadline",
    "acknowledged", "fix_deadline", "fix",
}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?[+-]\d\d:\d\d$")

ERRORS = {  # error_class -> (state, error message, http_status)
    "http_status": ("down", "HTTP 503 (expected 200-299)", 503),
    "body_mismatch": ("down", "body does not contain 'ok'", 200),
    "connect": ("down", "connection refused", None),
    "timeout": ("down", "no answer within 10 s", None),
    "too_slow": ("degraded", "slower than 2 s", 200),
    "cert_expiring": ("degraded", "certificate expires in 9 days", 200),
}


# ------------------------------------------------------------------ building histories


def paris(year, month, day, hour=0, minute=0, second=0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=PARIS).timestamp())


def utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat().replace("+00:00", "Z")


def local(at: float) -> str:
    """How the report writes a time: ISO 8601 in Paris, with its offset."""
    return datetime.fromtimestamp(at, PARIS).isoformat()


OCT_START, OCT_END = paris(2026, 10, 1), paris(2026, 11, 1)


class Timeline:
    """One endpoint's checks: up on a regular grid, then outages, degradations, blips and
    holes written over it. ``lines()`` gives `probe export` records."""

    def __init__(self, name, start, end, interval=STEP, url=True):
        self.name, self.interval, self.url = name, interval, url
        self.checks = {at: ("up", None) for at in range(start, end, interval)}

    def episode(self, first, back_up, error_class, retry=True):
        """Checks of class ``error_class`` from ``first`` until the first check back up at
        ``back_up`` (added if off the grid); the daemon re-checks 5 s after the first one."""
        state = ERRORS[error_class][0]
        for at in self.checks:
            if first <= at < back_up:
                self.checks[at] = (state, error_class)
        self.checks[first] = (state, error_class)
        if retry:
            self.checks[first + 5] = (state, error_class)
        self.checks[back_up] = ("up", None)
        return self

    def blip(self, at, error_class):
        """One failed check; the re-check 5 s later is up."""
        self.checks[at] = (ERRORS[error_class][0], error_class)
        self.checks[at + 5] = ("up", None)
        return self

    def drop(self, first, last):
        """No check from first to last, included: the probe was not running."""
        self.checks = {at: c for at, c in self.checks.items() if not first <= at <= last}
        return self

    def lines(self) -> list[dict]:
        out = []
        for number, at in enumerate(sorted(self.checks)):
            state, error_class = self.checks[at]
            record = {"endpoint": self.name, "at": utc(at), "state": state, "interval_s": self.interval,
                      "site": "paris-1"}
            if self.url:
                record["url"] = f"https://{self.name.replace(' ', '-')}.example.com/health"
            if state == "up" or error_class in ("too_slow", "cert_expiring", "body_mismatch", "http_status"):
                status = 200 if error_class is None else ERRORS[error_class][2]
                total = 2500.0 if error_class == "too_slow" else 100.0 + number % 50
                record.update(http_status=status, total_ms=total)
                if number % 3:  # timings and TLS facts may be absent
                    record.update(dns_ms=1.5, connect_ms=10.25, tls_ms=30.0, ttfb_ms=total - 5,
                                  tls_version="TLSv1.3", tls_cipher="TLS_AES_256_GCM_SHA384")
            if error_class is not None:
                record.update(error_class=error_class, error=ERRORS[error_class][1])
            out.append(record)
        return out


def write_jsonl(path: Path, *timelines_or_lines) -> Path:
    lines = []
    for item in timelines_or_lines:
        lines += item.lines() if isinstance(item, Timeline) else item
    lines.sort(key=lambda r: (r["at"], r["endpoint"]))
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    return path


def write_config(path: Path, endpoints, maintenance="", extra="") -> Path:
    """endpoints: names, or (name, extra TOML lines) pairs."""
    text = ['[sla]', 'target = 99.8', 'timezone = "Europe/Paris"', '',
            '[report]', 'provider = "Prestataire SAS"', 'client = "Client SA"', 'language = "fr"', '']
    for item in endpoints:
        name, more = (item, "") if isinstance(item, str) else item
        text += ['[[endpoint]]', f'name = {json.dumps(name)}',
                 f'url = "https://{name.replace(" ", "-").replace("<", "").replace(">", "").replace("/", "")}'
                 f'.example.com/health"', 'max_latency = "2s"', more, '']
    path.write_text("\n".join(text) + "\n" + maintenance + "\n" + extra, encoding="utf-8")
    return path


def run(*args, input=None):
    """The CLI in this process (fast); exceptions propagate so that a traceback fails."""
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    return result


def probe(*args, timeout=120):
    """The CLI as a user runs it: a real process."""
    return subprocess.run([sys.executable, "-m", "probe", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def import_history(db: Path, jsonl: Path, real=False):
    if real:
        done = probe("import", jsonl, "--db", db)
        assert done.returncode == 0, done.stderr
        return done.stdout
    result = run("import", jsonl, "--db", db)
    assert result.exit_code == 0, result.output
    return result.stdout


def report_json(config: Path, db: Path, *args) -> dict:
    result = run("report", "--config", config, "--db", db, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def section(model: dict, name: str) -> dict:
    return next(e for e in model["endpoints"] if e["name"] == name)


def exact(downtime: Fraction | int, eligible: int) -> Fraction:
    return 100 * (1 - Fraction(downtime) / eligible)


# ------------------------------------------------------------------ October, one database


def october_timelines():
    t = {}
    # outage: Wed 7 Oct, down at 10:00 (and its re-check at 10:00:05), 10:05 and 10:10,
    # first check up at 10:15 -> one outage of 15 min = 900 s of downtime.
    # Wed 14 Oct 15:00: one down check, its re-check up: a blip, not downtime; Thu 15 Oct
    # 09:00: one slow check: a degraded blip. blips = 2.
    t["outage"] = (Timeline("outage", OCT_START, OCT_END)
                   .episode(paris(2026, 10, 7, 10), paris(2026, 10, 7, 10, 15), "http_status")
                   .blip(paris(2026, 10, 14, 15), "connect")
                   .blip(paris(2026, 10, 15, 9), "too_slow"))
    # maint: one-off window Tue 20 Oct 02:00-04:00, weekly window every Sunday 02:00 for 1 h
    # (4, 11, 18 and 25 October; on the 25th, 02:00 is the first one, UTC+2, and the window
    # lasts one hour of elapsed time). Outage Tue 20 Oct 01:30 -> 03:00: only 01:30-02:00
    # counts (1 800 s). Outage Sun 11 Oct 01:45 -> 02:20: only 01:45-02:00 (900 s).
    t["maint"] = (Timeline("maint", OCT_START, OCT_END)
                  .episode(paris(2026, 10, 20, 1, 30), paris(2026, 10, 20, 3), "http_status")
                  .episode(paris(2026, 10, 11, 1, 45), paris(2026, 10, 11, 2, 20), "timeout"))
    # hole: Wed 21 Oct, down at 10:00, 10:00:05, 10:05; no check from 10:10 to 10:35 (the
    # probe stopped); down at 10:40; up at 10:45. The 10:05 check vouches until 10:12:30
    # (1.5 x 300 s), so 10:12:30 -> 10:40 (1 650 s) is unmonitored, and the downtime is
    # 10:00-10:12:30 (750 s) + 10:40-10:45 (300 s) = 1 050 s. One outage (the hole does not
    # split it), from 10:00 to 10:45.
    t["hole"] = (Timeline("hole", OCT_START, OCT_END)
                 .episode(paris(2026, 10, 21, 10), paris(2026, 10, 21, 10, 45), "connect")
                 .drop(paris(2026, 10, 21, 10, 10), paris(2026, 10, 21, 10, 35)))
    # edge: the whole of October and the first two hours of November; down from Sat 31 Oct
    # 23:50 to Sun 1 Nov 00:10 (first check up). October counts 23:50-24:00 (600 s),
    # November 00:00-00:10 (600 s).
    t["edge"] = (Timeline("edge", OCT_START, paris(2026, 11, 1, 2))
                 .episode(paris(2026, 10, 31, 23, 50), paris(2026, 11, 1, 0, 10), "http_status"))
    # trunc: Thu 8 Oct, down from 08:00 (grid checks 08:00 ... 09:25, and 08:00:05) until a
    # check up at 09:29:35, i.e. 5 375 s of downtime (89 min 35 s).
    # availability = 100 x (1 - 5375 / 2682000) = 99.799589...: shown 99.799 (rounding
    # would give 99.800), and not met against 99.8 (budget 5 364 s < 5 375 s).
    t["trunc"] = (Timeline("trunc", OCT_START, OCT_END)
                  .episode(paris(2026, 10, 8, 8), paris(2026, 10, 8, 9, 29, 35), "http_status"))
    # classes: one incident of each class, deadlines from the contract's table.
    t["classes"] = (Timeline("classes", OCT_START, OCT_END, url=False)
                    # Mon 5 Oct 10:00-10:10 HTTP 503: blocking; 600 s down
                    .episode(paris(2026, 10, 5, 10), paris(2026, 10, 5, 10, 10), "http_status")
                    # Tue 6 Oct 10:00-10:15 wrong body: major; 900 s down
                    .episode(paris(2026, 10, 6, 10), paris(2026, 10, 6, 10, 15), "body_mismatch")
                    # Fri 16 Oct 15:00-15:30 slow: a major degradation, over a weekend
                    .episode(paris(2026, 10, 16, 15), paris(2026, 10, 16, 15, 30), "too_slow", retry=False)
                    # Tue 20 Oct 09:00-11:00 certificate expiring: a minor degradation
                    .episode(paris(2026, 10, 20, 9), paris(2026, 10, 20, 11), "cert_expiring", retry=False)
                    # Wed 21 Oct 14:00: wrong body, then from 14:05 HTTP 503, up at 14:15:
                    # one outage (a class change does not split it), blocking; 900 s down
                    .episode(paris(2026, 10, 21, 14), paris(2026, 10, 21, 14, 15), "body_mismatch")
                    .episode(paris(2026, 10, 21, 14, 5), paris(2026, 10, 21, 14, 15), "http_status",
                             retry=False))
    # capped (max_severity = "major"): Mon 12 Oct 10:00-10:10 HTTP 503 -> major, not
    # blocking; Tue 13 Oct 09:00-09:30 certificate expiring -> still minor.
    t["capped"] = (Timeline("capped", OCT_START, OCT_END)
                   .episode(paris(2026, 10, 12, 10), paris(2026, 10, 12, 10, 10), "http_status")
                   .episode(paris(2026, 10, 13, 9), paris(2026, 10, 13, 9, 30), "cert_expiring",
                            retry=False))
    return t


MAINTENANCE = """
[[maintenance]]
start = "2026-10-20T02:00"
end = "2026-10-20T04:00"
endpoints = ["maint"]
reason = "migration <b>base</b>"

[[maintenance]]
every = "sunday"
at = "02:00"
duration = "1h"
endpoints = ["maint"]
reason = "weekly"
"""


@pytest.fixture(scope="module")
def october(tmp_path_factory):
    """One database with every October scenario, and its config; the October model."""
    tmp = tmp_path_factory.mktemp("october")
    timelines = october_timelines()
    jsonl = write_jsonl(tmp / "october.jsonl", *timelines.values())
    db = tmp / "probe.db"
    out = import_history(db, jsonl)
    assert out.startswith(f"imported {sum(len(t.checks) for t in timelines.values())} checks (0 already")
    config = write_config(
        tmp / "probe.toml",
        [*(n for n in timelines if n != "capped"), ("capped", 'max_severity = "major"'), "nodata"],
        MAINTENANCE,
    )
    # The daemon first saw the config's windows on 30 September (declared ahead of October).
    declare_config_windows(config, db, paris(2026, 9, 30))
    model = report_json(config, db, "--month", "2026-10")
    return {"db": db, "config": config, "model": model, "tmp": tmp}


def declare_config_windows(config: Path, db: Path, at: float) -> None:
    """What a daemon start at ``at`` does with the config's maintenance windows."""
    from probe import config as config_module
    from probe.store import maintenance
    from probe.store import Store

    with Store.open(db) as store:
        maintenance.declare_from_config(store, config_module.load(config), at)


def test_json_has_the_documented_keys_and_iso_times(october):
    model = october["model"]
    assert TOP_KEYS <= model.keys()
    assert model["month"] == "2026-10" and model["timezone"] == "Europe/Paris"
    assert model["target_percent"] == 99.8
    assert model["period_seconds"] == OCTOBER
    assert [e["name"] for e in model["endpoints"]] == [
        "outage", "maint", "hole", "edge", "trunc", "classes", "capped", "nodata"]
    for endpoint in model["endpoints"]:
        assert ENDPOINT_KEYS <= endpoint.keys(), endpoint["name"]
        for incident in endpoint["incidents"]:
            assert INCIDENT_KEYS <= incident.keys()
            assert incident["fix"] in ("met", "missed", "open")
            assert incident["severity"] in ("blocking", "major", "minor")
            for key in ("start", "end", "acknowledge_deadline", "fix_deadline"):
                assert ISO_WITH_OFFSET.match(incident[key]), (key, incident[key])
            assert incident["acknowledged"] is None


def test_no_data_has_no_availability_and_is_not_met(october):
    nodata = section(october["model"], "nodata")
    assert nodata["availability_percent"] is None
    assert nodata["met"] is False
    assert nodata["eligible_seconds"] == 0
    assert nodata["unmonitored_seconds"] == OCTOBER
    assert nodata["incidents"] == []


def test_confirmed_outage_counts_from_first_down_to_first_up_and_a_blip_does_not(october):
    e = section(october["model"], "outage")
    assert e["period_seconds"] == OCTOBER
    assert e["eligible_seconds"] == OCTOBER
    assert e["unmonitored_seconds"] == 0 and e["maintenance_seconds"] == 0
    assert e["downtime_seconds"] == 900  # 10:00 -> 10:15
    assert e["blips"] == 2  # the down blip and the slow one
    # 100 x (1 - 900 / 2682000) = 99.96644295...
    assert e["availability_display"] == "99.966"
    assert e["availability_percent"] == 99.966
    assert e["met"] is True
    assert e["allowed_downtime_seconds"] == pytest.approx(5364)  # 0.2 % of 2 682 000 s
    [incident] = e["incidents"]
    assert incident["start"] == "2026-10-07T10:00:00+02:00"
    assert incident["end"] == "2026-10-07T10:15:00+02:00"
    assert incident["downtime_seconds"] == 900
    assert incident["severity"] == "blocking" and incident["error_class"] == "http_status"
    # blocking: acknowledge within 5 h (15:00), fix within 24 working hours (Thu 8 Oct 10:00)
    assert incident["acknowledge_deadline"] == "2026-10-07T15:00:00+02:00"
    assert incident["fix_deadline"] == "2026-10-08T10:00:00+02:00"
    assert incident["fix"] == "met"
    assert incident["acknowledge"] == "missed"  # never acknowledged, and long past


def test_maintenance_one_off_and_weekly_windows_are_left_out(october):
    e = section(october["model"], "maint")
    # 2 h one-off + 4 Sundays x 1 h = 21 600 s
    assert e["maintenance_seconds"] == 21_600
    assert e["eligible_seconds"] == OCTOBER - 21_600  # 2 660 400 s
    assert e["downtime_seconds"] == 1800 + 900
    # 100 x (1 - 2700 / 2660400) = 99.89851150...
    assert exact(2700, 2_660_400) == Fraction(2_657_700 * 100, 2_660_400)
    assert e["availability_display"] == "99.898"
    assert e["met"] is True
    assert e["allowed_downtime_seconds"] == pytest.approx(0.002 * 2_660_400)
    windows = [(w["start"], w["end"]) for w in e["maintenance_windows"]]
    assert windows == [
        ("2026-10-04T02:00:00+02:00", "2026-10-04T03:00:00+02:00"),
        ("2026-10-11T02:00:00+02:00", "2026-10-11T03:00:00+02:00"),
        ("2026-10-18T02:00:00+02:00", "2026-10-18T03:00:00+02:00"),
        ("2026-10-20T02:00:00+02:00", "2026-10-20T04:00:00+02:00"),
        # the night summer time ends: the first 02:00, one hour of elapsed time
        ("2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"),
    ]
    incidents = {i["start"]: i for i in e["incidents"]}
    # each outage is listed whole, with only its time outside the windows as downtime
    assert incidents["2026-10-11T01:45:00+02:00"]["downtime_seconds"] == 900
    assert incidents["2026-10-11T01:45:00+02:00"]["end"] == "2026-10-11T02:20:00+02:00"
    assert incidents["2026-10-20T01:30:00+02:00"]["downtime_seconds"] == 1800
    assert incidents["2026-10-20T01:30:00+02:00"]["end"] == "2026-10-20T03:00:00+02:00"
    # the rule: month = eligible + maintenance + unmonitored, each second once
    assert e["eligible_seconds"] + e["maintenance_seconds"] + e["unmonitored_seconds"] == OCTOBER
    # the maintenance seconds of Sunday 25 October (a 25 h day) are that day's
    days = {d["date"]: d for d in e["days"]}
    assert days["2026-10-25"]["maintenance_seconds"] == 3600
    assert days["2026-10-25"]["eligible_seconds"] == 25 * 3600 - 3600
    assert days["2026-10-20"]["downtime_seconds"] == 1800


def test_a_hole_inside_an_outage_is_unmonitored_not_downtime(october):
    e = section(october["model"], "hole")
    assert e["unmonitored_seconds"] == 1650  # 10:12:30 -> 10:40
    assert e["unmonitored"] == [{"start": "2026-10-21T10:12:30+02:00", "end": "2026-10-21T10:40:00+02:00",
                                 "seconds": 1650}]
    assert e["downtime_seconds"] == 750 + 300
    assert e["eligible_seconds"] == OCTOBER - 1650
    # 100 x (1 - 1050 / 2680350) = 99.96082600...
    assert e["availability_display"] == "99.960"
    # coverage = 2680350 / 2682000 = 99.9384...% -> 99.93 (truncated)
    assert e["coverage_percent"] == 99.93
    [incident] = e["incidents"]
    assert (incident["start"], incident["end"]) == ("2026-10-21T10:00:00+02:00", "2026-10-21T10:45:00+02:00")
    assert incident["downtime_seconds"] == 1050


def test_an_outage_across_the_months_edge_is_cut_at_midnight(october):
    oct_edge = section(october["model"], "edge")
    assert oct_edge["downtime_seconds"] == 600  # 23:50 -> 24:00
    # 100 x (1 - 600 / 2682000) = 99.97762863...
    assert oct_edge["availability_display"] == "99.977"
    [incident] = oct_edge["incidents"]
    assert incident["start"] == "2026-10-31T23:50:00+01:00"
    assert incident["end"] == "2026-11-01T00:10:00+01:00"  # listed whole
    assert incident["downtime_seconds"] == 600
    # Saturday 23:50, blocking: acknowledge by Sunday 04:50; the working clock starts on
    # Monday 2 November 00:00 (Saturday, Sunday 1 November -- also All Saints' Day -- are
    # closed), so fix by Tuesday 3 November 00:00.
    assert incident["acknowledge_deadline"] == "2026-11-01T04:50:00+01:00"
    assert incident["fix_deadline"] == "2026-11-03T00:00:00+01:00"
    assert incident["fix"] == "met"

    november = report_json(october["config"], october["db"], "--month", "2026-11", "--endpoint", "edge")
    [nov_edge] = november["endpoints"]
    assert nov_edge["downtime_seconds"] == 600  # 00:00 -> 00:10
    [incident] = nov_edge["incidents"]
    assert incident["start"] == "2026-10-31T23:50:00+01:00" and incident["downtime_seconds"] == 600
    # November: checks from 00:00 to 01:55, the last vouching until 02:02:30 -> 7 350 s
    # eligible; 100 x (1 - 600 / 7350) = 91.836734...
    assert nov_edge["eligible_seconds"] == 7350
    assert nov_edge["availability_display"] == "91.836"
    assert nov_edge["met"] is False
    # the blip rule: counted where it starts; nothing here


def test_availability_is_truncated_never_rounded_up(october):
    e = section(october["model"], "trunc")
    assert e["downtime_seconds"] == 5375
    value = exact(5375, OCTOBER)
    assert float(value) == pytest.approx(99.7995898583)
    assert round(float(value), 3) == 99.8  # what rounding would have shown
    assert e["availability_display"] == "99.799"
    assert e["availability_percent"] == 99.799
    assert e["met"] is False
    assert e["allowed_downtime_seconds"] == pytest.approx(5364)
    assert e["downtime_seconds"] > e["allowed_downtime_seconds"]
    day = next(d for d in e["days"] if d["date"] == "2026-10-08")
    # that day alone: 100 x (1 - 5375 / 86400) = 93.77893...
    assert day["availability_percent"] == 93.778


def test_truncated_figure_in_french_and_english_html(october, tmp_path):
    html = tmp_path / "fr.html"
    result = run("report", "--config", october["config"], "--db", october["db"], "--month", "2026-10",
                 "--endpoint", "trunc", "-o", html)
    assert result.exit_code == 0, result.output
    text = html.read_text(encoding="utf-8")
    assert "99,799\u202f%" in text
    assert "99,800" not in text and "99.799" not in text
    assert '<html lang="fr"' in text
    english = tmp_path / "en.html"
    result = run("report", "--config", october["config"], "--db", october["db"], "--month", "2026-10",
                 "--endpoint", "trunc", "--lang", "en", "-o", english)
    assert result.exit_code == 0, result.output
    text = english.read_text(encoding="utf-8")
    assert "99.799%" in text and "99.800" not in text
    assert '<html lang="en"' in text and "Availability report" in text


def test_incident_classes_and_deadlines(october):
    e = section(october["model"], "classes")
    incidents = {i["start"]: i for i in e["incidents"]}
    assert len(incidents) == 5
    # Mon 5 Oct 10:00, HTTP 503: blocking; ack by 15:00, fix by Tue 6 Oct 10:00; fixed 10:10
    i = incidents["2026-10-05T10:00:00+02:00"]
    assert (i["severity"], i["error_class"], i["downtime_seconds"]) == ("blocking", "http_status", 600)
    assert i["acknowledge_deadline"] == "2026-10-05T15:00:00+02:00"
    assert i["fix_deadline"] == "2026-10-06T10:00:00+02:00"
    assert i["end"] == "2026-10-05T10:10:00+02:00" and i["fix"] == "met"
    # Tue 6 Oct 10:00, wrong body: major; ack within 24 wh (Wed 7 Oct 10:00), fix within
    # 48 wh (Thu 8 Oct 10:00)
    i = incidents["2026-10-06T10:00:00+02:00"]
    assert (i["severity"], i["error_class"], i["downtime_seconds"]) == ("major", "body_mismatch", 900)
    assert i["acknowledge_deadline"] == "2026-10-07T10:00:00+02:00"
    assert i["fix_deadline"] == "2026-10-08T10:00:00+02:00"
    # Fri 16 Oct 15:00, slow: a major degradation, no downtime. 24 wh: 9 h on Friday, the
    # weekend does not count, 15 h on Monday -> Mon 19 Oct 15:00; 48 wh -> Tue 20 Oct 15:00.
    i = incidents["2026-10-16T15:00:00+02:00"]
    assert (i["severity"], i["error_class"], i["downtime_seconds"]) == ("major", "too_slow", 0)
    assert i["acknowledge_deadline"] == "2026-10-19T15:00:00+02:00"
    assert i["fix_deadline"] == "2026-10-20T15:00:00+02:00"
    assert i["end"] == "2026-10-16T15:30:00+02:00" and i["fix"] == "met"
    # Tue 20 Oct 09:00, certificate expiring: minor. 48 wh -> Thu 22 Oct 09:00. 5 wd =
    # 120 wh: Tue 15 h, Wed 24, Thu 24, Fri 24 (87), weekend, Mon 24 (111), Tue 27 Oct 09:00
    # (winter time by then).
    i = incidents["2026-10-20T09:00:00+02:00"]
    assert (i["severity"], i["error_class"]) == ("minor", "cert_expiring")
    assert i["acknowledge_deadline"] == "2026-10-22T09:00:00+02:00"
    assert i["fix_deadline"] == "2026-10-27T09:00:00+01:00"
    assert i["end"] == "2026-10-20T11:00:00+02:00" and i["fix"] == "met"
    # Wed 21 Oct 14:00: wrong body then HTTP 503 -> one incident, the highest class
    i = incidents["2026-10-21T14:00:00+02:00"]
    assert (i["severity"], i["error_class"], i["downtime_seconds"]) == ("blocking", "http_status", 900)
    assert i["end"] == "2026-10-21T14:15:00+02:00"
    assert i["acknowledge_deadline"] == "2026-10-21T19:00:00+02:00"
    assert e["downtime_seconds"] == 600 + 900 + 900
    assert e["blips"] == 0


def test_max_severity_caps_outages_only(october):
    e = section(october["model"], "capped")
    incidents = {i["start"]: i for i in e["incidents"]}
    i = incidents["2026-10-12T10:00:00+02:00"]
    assert (i["severity"], i["error_class"]) == ("major", "http_status")
    # as major: ack within 24 wh (Tue 13 Oct 10:00), fix within 48 wh (Wed 14 Oct 10:00)
    assert i["acknowledge_deadline"] == "2026-10-13T10:00:00+02:00"
    assert i["fix_deadline"] == "2026-10-14T10:00:00+02:00"
    i = incidents["2026-10-13T09:00:00+02:00"]
    assert i["severity"] == "minor"


def test_days_add_up_to_the_month_and_match_the_rules_day_by_day(october):
    """The day-by-day figures are the rules applied to each local day alone."""
    model = october["model"]
    for e in model["endpoints"]:
        days = e["days"]
        assert len(days) == 31
        for key in ("downtime_seconds", "eligible_seconds", "maintenance_seconds", "unmonitored_seconds"):
            assert sum(d[key] for d in days) == pytest.approx(e[key]), (e["name"], key)
    # against sla.availability for each day, from the runs in the database
    from probe import report
    from probe.config import load
    from probe.store import Store

    cfg = load(october["config"])
    with Store.open(october["db"]) as store:
        period = sla.month_period(2026, 10)
        windows = report.maintenance_windows(cfg.maintenance, period, "Europe/Paris")
        for name in ("maint", "hole", "edge", "classes"):
            runs = report.runs_around(store, name, period)
            maintenance = sla.maintenance_for(windows, name)
            days = section(model, name)["days"]
            for (day, start, end), shown in zip(report.local_days(period, PARIS), days):
                figures = sla.availability(runs, (start, end), maintenance, 2, 99.8)
                assert shown["date"] == day.isoformat()
                assert shown["downtime_seconds"] == figures.downtime_seconds
                assert shown["eligible_seconds"] == figures.eligible_seconds
                assert shown["unmonitored_seconds"] == figures.unmonitored_seconds
                assert shown["maintenance_seconds"] == figures.maintenance_seconds
                expected = figures.availability_shown(3)
                assert shown["availability_percent"] == (None if expected is None else float(expected))


def test_endpoint_filter_and_language(october):
    model = report_json(october["config"], october["db"], "--month", "2026-10", "--endpoint", "hole",
                        "--endpoint", "trunc", "--lang", "en")
    assert [e["name"] for e in model["endpoints"]] == ["hole", "trunc"]
    assert model["language"] == "en"
    assert section(model, "hole") == section(october["model"], "hole")


# ------------------------------------------------------------------ real processes


def test_full_month_every_minute_all_up_real_process(tmp_path):
    # every 60 s from 1 Oct 00:00 to 31 Oct 23:59 Paris: 745 h x 60 = 44 700 checks, all up
    timeline = Timeline("api", OCT_START, OCT_END, interval=60)
    assert len(timeline.checks) == 44_700
    jsonl = write_jsonl(tmp_path / "october.jsonl", timeline)
    db = tmp_path / "probe.db"
    out = import_history(db, jsonl, real=True)
    assert out.startswith("imported 44700 checks (0 already present)")
    config = write_config(tmp_path / "probe.toml", ["api"])
    done = probe("report", "--config", config, "--db", db, "--month", "2026-10", "--format", "json")
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    assert model["period_seconds"] == OCTOBER
    [api] = model["endpoints"]
    assert api["availability_display"] == "100.000" and api["availability_percent"] == 100.0
    assert api["met"] is True
    assert (api["period_seconds"], api["eligible_seconds"]) == (OCTOBER, OCTOBER)
    assert api["downtime_seconds"] == 0 and api["unmonitored_seconds"] == 0 and api["blips"] == 0
    assert api["allowed_downtime_seconds"] == pytest.approx(5364)
    assert api["incidents"] == []
    # the HTML report, written where asked, in French by default
    done = probe("report", "--config", config, "--db", db, "--month", "2026-10", "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "out" / "probe-report-2026-10.html").read_text(encoding="utf-8")
    assert "100,000\u202f%" in html and "octobre 2026" in html


def test_default_month_is_the_last_complete_month(tmp_path):
    today = datetime.now(PARIS).date()
    last_day = today.replace(day=1) - timedelta(days=1)
    start = paris(last_day.year, last_day.month, 10)
    jsonl = write_jsonl(tmp_path / "h.jsonl", Timeline("api", start, start + 86400))
    db = tmp_path / "probe.db"
    import_history(db, jsonl, real=True)
    config = write_config(tmp_path / "probe.toml", ["api"])
    done = probe("report", "--config", config, "--db", db, "--format", "json")
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    assert model["month"] == f"{last_day.year:04d}-{last_day.month:02d}"
    [api] = model["endpoints"]
    # one day of checks, 288 of them, all up; the last one (23:55) vouches for 450 s
    assert api["eligible_seconds"] == 86400 - 300 + 450
    assert api["availability_display"] == "100.000"


@pytest.mark.parametrize("case", ["missing_db", "bad_month", "unknown_endpoint", "unwritable_output",
                                  "output_is_a_directory"])
def test_errors_are_one_line_without_traceback(october, tmp_path, case):
    config, db = october["config"], october["db"]
    args = {
        "missing_db": ["--db", tmp_path / "nope.db", "--month", "2026-10"],
        "bad_month": ["--db", db, "--month", "2026-13"],
        "unknown_endpoint": ["--db", db, "--month", "2026-10", "--endpoint", "nope"],
        "unwritable_output": ["--db", db, "--month", "2026-10", "-o", october["config"] / "report.html"],
        "output_is_a_directory": ["--db", db, "--month", "2026-10", "-o", tmp_path],
    }[case]
    done = probe("report", "--config", config, *args)
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("probe"), done.stderr
    expected = {"missing_db": "nope.db", "bad_month": "2026-13", "unknown_endpoint": "'nope'",
                "unwritable_output": "report.html", "output_is_a_directory": str(tmp_path)}[case]
    assert expected in lines[0]


# ------------------------------------------------------------------ incidents by hand


@pytest.fixture
def small(tmp_path):
    """A week of checks of "api" (Mon 5 - Sun 11 Oct 2026) with two blocking outages:
    Mon 5 Oct 10:00-10:10 and Wed 7 Oct 10:00-10:10."""
    timeline = (Timeline("api", paris(2026, 10, 5), paris(2026, 10, 12))
                .episode(paris(2026, 10, 5, 10), paris(2026, 10, 5, 10, 10), "http_status")
                .episode(paris(2026, 10, 7, 10), paris(2026, 10, 7, 10, 10), "http_status"))
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    return {"db": db, "config": write_config(tmp_path / "probe.toml", ["api"])}


def incident_ids(config, db) -> dict[str, int]:
    """start ('2026-10-05 10:00') -> id, from `probe incident list`'s table."""
    done = probe("incident", "list", "--config", config, "--db", db, "--days", "3650")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split()[:4] == ["ID", "ENDPOINT", "CLASS", "START"]
    return {" ".join(row.split()[3:5]): int(row.split()[0]) for row in rows}


def test_acknowledgement_met_and_missed(small):
    config, db = small["config"], small["db"]
    ids = incident_ids(config, db)
    assert set(ids) == {"2026-10-05 10:00", "2026-10-07 10:00"}
    assert ids == incident_ids(config, db)  # stable ids
    # deadline 15:00 (5 h): acknowledged at 14:59 -> met; the other at 15:01 -> missed
    for start, at in (("2026-10-05 10:00", "2026-10-05T14:59"), ("2026-10-07 10:00", "2026-10-07T15:01")):
        done = probe("incident", "ack", ids[start], "--config", config, "--db", db, "--at", at, "--by", "alice")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"incident {ids[start]} acknowledged"
    model = report_json(config, db, "--month", "2026-10")
    first, second = section(model, "api")["incidents"]
    assert first["acknowledged"] == "2026-10-05T14:59:00+02:00" and first["acknowledge"] == "met"
    assert first["acknowledged_by"] == "alice"
    assert second["acknowledged"] == "2026-10-07T15:01:00+02:00" and second["acknowledge"] == "missed"
    assert first["id"] == ids["2026-10-05 10:00"]


def test_manual_incident_open_close_in_the_report(small):
    config, db = small["config"], small["db"]
    done = probe("incident", "open", "--config", config, "--db", db, "--endpoint", "api", "--severity", "major",
                 "--summary", "totals wrong on <invoices>", "--start", "2026-10-08T09:00")
    assert done.returncode == 0, done.stderr
    number = int(re.fullmatch(r"incident (\d+) opened", done.stdout.strip()).group(1))
    done = probe("incident", "close", number, "--config", config, "--db", db, "--at", "2026-10-09T10:00")
    assert done.returncode == 0, done.stderr
    model = report_json(config, db, "--month", "2026-10")
    manual = [i for i in section(model, "api")["incidents"] if i["source"] == "manual"]
    assert len(manual) == 1
    i = manual[0]
    # Thu 8 Oct 09:00, major: acknowledge within 24 wh (Fri 9 Oct 09:00), fix within 48 wh
    # (Mon 12 Oct 09:00: Friday's 24 h, the weekend stops the clock); closed Fri 10:00: met
    assert (i["start"], i["end"]) == ("2026-10-08T09:00:00+02:00", "2026-10-09T10:00:00+02:00")
    assert (i["severity"], i["summary"], i["error_class"]) == ("major", "totals wrong on <invoices>", None)
    assert i["acknowledge_deadline"] == "2026-10-09T09:00:00+02:00"
    assert i["fix_deadline"] == "2026-10-12T09:00:00+02:00"
    assert i["fix"] == "met" and i["acknowledge"] == "missed"
    # and it is listed by `probe incident list` with its id
    assert incident_ids(config, db)["2026-10-08 09:00"] == number


# ------------------------------------------------------------------ public holidays


def test_deadlines_skip_french_public_holidays(tmp_path):
    timelines = [
        # Thu 30 Apr 2026 16:00, blocking: 24 wh = 8 h on Thursday, Fri 1 May (Labour Day)
        # and the weekend stop the clock, 16 h on Monday -> Mon 4 May 16:00.
        # Fixed Mon 4 May 15:00 -> met; fixed 16:30 -> missed.
        Timeline("may-met", paris(2026, 4, 30, 12), paris(2026, 5, 4, 18))
        .episode(paris(2026, 4, 30, 16), paris(2026, 5, 4, 15), "http_status"),
        Timeline("may-missed", paris(2026, 4, 30, 12), paris(2026, 5, 4, 18))
        .episode(paris(2026, 4, 30, 16), paris(2026, 5, 4, 16, 30), "http_status"),
        # Tue 10 Nov 2026 10:00, blocking: 14 h on Tuesday, Wed 11 Nov (Armistice) closed,
        # 10 h on Thursday -> Thu 12 Nov 10:00. Fixed 09:00 -> met; 11:00 -> missed.
        Timeline("nov-met", paris(2026, 11, 10, 8), paris(2026, 11, 12, 12))
        .episode(paris(2026, 11, 10, 10), paris(2026, 11, 12, 9), "http_status"),
        Timeline("nov-missed", paris(2026, 11, 10, 8), paris(2026, 11, 12, 12))
        .episode(paris(2026, 11, 10, 10), paris(2026, 11, 12, 11), "http_status"),
    ]
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", *timelines))
    config = write_config(tmp_path / "probe.toml", [t.name for t in timelines])
    april = report_json(config, db, "--month", "2026-04", "--endpoint", "may-met", "--endpoint", "may-missed")
    for name, fix in (("may-met", "met"), ("may-missed", "missed")):
        [i] = section(april, name)["incidents"]
        assert i["start"] == "2026-04-30T16:00:00+02:00"
        assert i["acknowledge_deadline"] == "2026-04-30T21:00:00+02:00"
        assert i["fix_deadline"] == "2026-05-04T16:00:00+02:00"
        assert i["fix"] == fix, name
        # April counts 30 Apr 16:00 -> 1 May 00:00 as downtime: 8 h
        assert i["downtime_seconds"] == 8 * 3600
    may = report_json(config, db, "--month", "2026-05", "--endpoint", "may-met")
    [i] = section(may, "may-met")["incidents"]
    assert i["downtime_seconds"] == 3 * 86400 + 15 * 3600  # 1 May 00:00 -> 4 May 15:00
    november = report_json(config, db, "--month", "2026-11", "--endpoint", "nov-met", "--endpoint", "nov-missed")
    for name, fix in (("nov-met", "met"), ("nov-missed", "missed")):
        [i] = section(november, name)["incidents"]
        assert i["start"] == "2026-11-10T10:00:00+01:00"
        assert i["fix_deadline"] == "2026-11-12T10:00:00+01:00"
        assert i["fix"] == fix, name


# ------------------------------------------------------------------ hostile input, in a browser

HOSTILE = "<script>alert(1)</script>"


@pytest.mark.browser
def test_hostile_history_renders_as_text_in_chromium(tmp_path):
    import browser

    if not browser.available():
        pytest.skip("no /usr/bin/chromium")
    timeline = Timeline(HOSTILE, OCT_START, paris(2026, 10, 8)).episode(
        paris(2026, 10, 5, 10), paris(2026, 10, 5, 10, 30), "http_status")
    lines = timeline.lines()
    for record in lines:  # markup in the error messages too
        if record.get("error"):
            record["error"] = '<img src=x onerror="alert(2)"><b>503</b> & </td></tr></table>'
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", lines))
    config = write_config(tmp_path / "probe.toml", [HOSTILE], extra='[probe]\nsite = "<i>site</i>"\n')
    config.write_text(config.read_text().replace('provider = "Prestataire SAS"',
                                                 'provider = "<style>*{display:none}</style>ACME"'))
    page = tmp_path / "report.html"
    done = probe("report", "--config", config, "--db", db, "--month", "2026-10", "--lang", "en", "-o", page)
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    assert HOSTILE not in html and "<img src=x" not in html

    dom = browser.dump_dom(page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.console_messages() == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout  # shown as text
    assert HOSTILE not in dom.stdout and "<img" not in dom.stdout
    assert "<script" not in dom.stdout.lower()

    png = tmp_path / "report.png"
    shot = browser.screenshot(page, png)
    assert shot.returncode == 0 and shot.console_messages() == []
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

    pdf = tmp_path / "report.pdf"
    printed = browser.print_pdf(page, pdf)
    assert printed.returncode == 0 and printed.console_messages() == []
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and browser.pdf_page_count(data) >= 2


def test_an_outage_across_a_long_stop_of_the_probe_keeps_its_start(tmp_path):
    # Sun 20 Sep 2026: up from 09:00, down at 10:10 and 10:10:05, then the probe stops for
    # two weeks; it starts again on Mon 5 Oct 00:00 and finds the endpoint still down until
    # 01:00. Consecutive down checks are one outage even across a hole in the data: it starts
    # on 20 September 10:10 (more than the report's first 7-day look back before October).
    # October counts only what its checks vouch for: 5 Oct 00:00-01:00 = 3 600 s; 1 Oct 00:00
    # -> 5 Oct 00:00 (4 days, 345 600 s) is unmonitored.
    september = (Timeline("api", paris(2026, 9, 20, 9), paris(2026, 9, 20, 10, 15))
                 .episode(paris(2026, 9, 20, 10, 10), paris(2026, 9, 20, 10, 15), "connect"))
    del september.checks[paris(2026, 9, 20, 10, 15)]  # no check up: the probe stopped
    october = (Timeline("api", paris(2026, 10, 5), OCT_END)
               .episode(paris(2026, 10, 5), paris(2026, 10, 5, 1), "connect", retry=False))
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", september, october))
    config = write_config(tmp_path / "probe.toml", ["api"])
    e = section(report_json(config, db, "--month", "2026-10"), "api")
    assert e["unmonitored_seconds"] == 4 * 86400
    assert e["downtime_seconds"] == 3600
    [incident] = e["incidents"]
    assert incident["start"] == "2026-09-20T10:10:00+02:00"
    assert incident["end"] == "2026-10-05T01:00:00+02:00"
    assert incident["downtime_seconds"] == 3600
    # Sunday 10:10, blocking: the working clock starts Monday 21 Sep 00:00 -> fix by Tuesday
    # 22 Sep 00:00; fixed on 5 October: missed.
    assert incident["fix_deadline"] == "2026-09-22T00:00:00+02:00"
    assert incident["fix"] == "missed"
    # September lists it too, ended in October, with 10:10 -> 10:17:35 as downtime there
    # (the 10:10:05 check vouches for 450 s)
    e = section(report_json(config, db, "--month", "2026-09"), "api")
    [incident] = e["incidents"]
    assert incident["end"] == "2026-10-05T01:00:00+02:00"
    assert incident["downtime_seconds"] == 455


def test_day_histograms_are_the_merged_hourly_rollups(tmp_path):
    """Store.latency_histograms (the report's fast path) gives what rollups +
    merge_histograms give, per local day, also when an hour holds more than 255 checks in
    one latency bucket (several byte pairs for one bucket)."""
    from probe.store import Store, merge_histograms

    start, end = paris(2026, 10, 24, 22), paris(2026, 10, 25, 4)  # into the 25 h day
    lines = Timeline("api", start, end, interval=10).lines()
    for number, record in enumerate(lines):
        record["total_ms"] = 120.0 if number % 7 else 480.0 + number % 3
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", lines))
    days = [paris(2026, 10, 24), paris(2026, 10, 25), paris(2026, 10, 26)]
    with Store.open(db) as store:
        fast = store.latency_histograms("api", days)
        by_day = [[], []]
        for rollup in store.rollups("api", days[0], days[-1]):
            by_day[0 if rollup.hour < days[1] else 1].append(rollup.histogram)
        assert fast == [merge_histograms(hours) for hours in by_day]
        assert max(max(h.values()) for h in fast) > 255
        # 00:00 -> 04:00 on the 25th is 5 hours (02:00-03:00 happens twice), every 10 s
        assert sum(fast[1].values()) == 5 * 360
        assert store.latency_histograms("nope", days) == [{}, {}]


# ------------------------------------------------------------------ as of a time


@pytest.fixture
def running(tmp_path):
    """api, Wed 7 Oct 2026: up every 300 s from 00:00; down at 10:00, 10:00:05 and 10:05;
    then the data stops (the probe stopped while the service was down)."""
    timeline = Timeline("api", paris(2026, 10, 7), paris(2026, 10, 7, 10, 5) + 1).episode(
        paris(2026, 10, 7, 10), paris(2026, 10, 7, 10, 10), "http_status")
    timeline.checks.pop(paris(2026, 10, 7, 10, 10))  # no check after 10:05
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    return {"db": db, "tmp": tmp_path, "config": write_config(tmp_path / "probe.toml", ["api"])}


def test_an_outage_running_when_the_data_stops_ends_at_its_coverage_never_now(running):
    model = report_json(running["config"], running["db"], "--month", "2026-10")
    [incident] = section(model, "api")["incidents"]
    # the last down check (10:05) vouches until 10:05 + 1.5 x 300 s = 10:12:30: the outage is
    # known to have lasted 750 s; its end is unknown (no check since), so it is not fixed
    assert incident["end"] is None and incident["duration_seconds"] == 750
    assert section(model, "api")["downtime_seconds"] == 750
    # as of a week later, the same
    later = report_json(running["config"], running["db"], "--month", "2026-10", "--as-of", "2026-10-14T10:00")
    assert section(later, "api")["incidents"][0]["duration_seconds"] == 750


def test_deadlines_are_met_missed_or_open_as_of_the_as_of_time(running):
    config, db = running["config"], running["db"]
    # blocking, from Wed 7 Oct 10:00: acknowledge by 15:00 (5 h), fix by Thu 8 Oct 10:00 (24 wh)
    done = run("incident", "list", "--config", config, "--db", db, "--days", "3650")
    assert done.exit_code == 0
    number = int(done.stdout.splitlines()[1].split()[0])
    assert run("incident", "ack", number, "--config", config, "--db", db, "--at", "2026-10-07T14:30",
               "--by", "alice").exit_code == 0

    def incident(as_of):
        model = report_json(config, db, "--month", "2026-10", "--as-of", as_of)
        return section(model, "api")["incidents"][0]

    at_two = incident("2026-10-07T14:00")  # before the acknowledgement: open, not yet acknowledged
    assert (at_two["acknowledge"], at_two["acknowledged"], at_two["fix"]) == ("open", None, "open")
    at_four = incident("2026-10-07T16:00")  # acknowledged at 14:30, by 15:00: met
    assert (at_four["acknowledge"], at_four["acknowledged"]) == ("met", "2026-10-07T14:30:00+02:00")
    assert at_four["fix"] == "open"
    next_day = incident("2026-10-08T10:00:01")  # never fixed (as far as the data go): missed
    assert next_day["fix"] == "missed"


def test_same_as_of_gives_the_same_report_whatever_happens_after(running, tmp_path):
    config, db = running["config"], running["db"]
    args = ("--month", "2026-10", "--as-of", "2026-10-07T12:00")

    def reports():
        made = {}
        for fmt in ("json", "html"):
            out = tmp_path / f"r.{fmt}"
            done = run("report", "--config", config, "--db", db, "--format", fmt, "-o", out, *args)
            assert done.exit_code == 0, done.output
            made[fmt] = out.read_bytes()
        return made

    before = reports()
    model = json.loads(before["json"])
    assert model["as_of"] == "2026-10-07T12:00:00+02:00" and model["provisional"] is True
    assert "État au" in before["html"].decode() and "7 octobre 2026 à 12:00" in before["html"].decode()
    # then: the clock moves on, the service comes back (checks at 12:30...), someone
    # acknowledges, a window is declared: none of it existed as of 12:00
    later = Timeline("api", paris(2026, 10, 7, 12, 30), paris(2026, 10, 7, 14))
    import_history(db, write_jsonl(tmp_path / "later.jsonl", later))
    listed = run("incident", "list", "--config", config, "--db", db, "--days", "3650")
    number = int(listed.stdout.splitlines()[1].split()[0])
    assert run("incident", "ack", number, "--db", db, "--by", "bob").exit_code == 0
    assert run("maintenance", "add", "--db", db, "--start", "2026-10-07T09:00", "--end", "2026-10-07T11:00",
               "--reason", "after the fact").exit_code == 0
    import time
    time.sleep(1.1)
    after = reports()
    assert json.loads(after["json"]) == json.loads(before["json"])
    assert after == before
    # and as of now the outage has ended (10:00 -> 12:30)
    now = section(report_json(config, db, "--month", "2026-10"), "api")
    assert now["incidents"][0]["end"] == "2026-10-07T12:30:00+02:00"


def test_a_month_under_way_is_provisional_and_a_future_month_is_refused(running, tmp_path):
    from datetime import datetime as clock_datetime

    today = clock_datetime.now(PARIS)
    this_month = f"{today.year:04d}-{today.month:02d}"
    model = report_json(running["config"], running["db"], "--month", this_month)
    assert model["provisional"] is True
    assert report_json(running["config"], running["db"], "--month", "2026-10",
                       "--as-of", "2026-11-01T00:00")["provisional"] is False
    out = tmp_path / "now.html"
    assert run("report", "--config", running["config"], "--db", running["db"], "--month", this_month,
               "-o", out, "--lang", "en").exit_code == 0
    assert "Provisional report: the month is not over" in out.read_text()
    closed = tmp_path / "oct.html"
    assert run("report", "--config", running["config"], "--db", running["db"], "--month", "2026-10",
               "--as-of", "2026-11-02T00:00", "-o", closed).exit_code == 0
    assert "Rapport provisoire" not in closed.read_text() and 'role="note"' not in closed.read_text()
    future = today.year + 1
    done = probe("report", "--db", running["db"], "--month", f"{future}-01")
    assert done.returncode == 3
    assert done.stderr.strip() == (f"probe: {future}-01 has not begun yet: no report for a month in the future")
    done = probe("report", "--db", running["db"], "--month", "2026-10", "--as-of", f"{future}-01-01")
    assert done.returncode == 3 and done.stderr.count("\n") == 1 and "in the future" in done.stderr


# ------------------------------------------------------------------ no figure more favourable


def test_the_budget_is_truncated_and_json_seconds_are_exact_to_the_millisecond(october, tmp_path):
    e = section(october["model"], "maint")
    # eligible 2 660 400 s x 0.2 % = 5 320.8 s: shown 1 h 28 min 40 s (cut), never 41 s
    assert e["allowed_downtime_seconds"] == 5320.8
    out = tmp_path / "maint.html"
    done = run("report", "--config", october["config"], "--db", october["db"], "--month", "2026-10",
               "--endpoint", "maint", "-o", out)
    assert done.exit_code == 0, done.output
    html = out.read_text()
    assert "1\u00a0h\u00a028\u00a0min\u00a040\u00a0s" in html and "28\u00a0min\u00a041\u00a0s" not in html


def test_a_duration_is_exact_to_the_millisecond(tmp_path):
    # down at 10:00:00.000 and 10:00:05, up at 10:18:15.180: 1 095.18 s (a float subtraction
    # of the epoch times would give 1095.1800000667572)
    start = paris(2026, 10, 7, 10)
    lines = [{"endpoint": "api", "at": utc(start - 300), "state": "up", "interval_s": 300},
             {"endpoint": "api", "at": utc(start), "state": "down", "error_class": "connect", "interval_s": 300},
             {"endpoint": "api", "at": utc(start + 5), "state": "down", "error_class": "connect", "interval_s": 300},
             {"endpoint": "api", "at": utc(start + 300), "state": "down", "error_class": "connect", "interval_s": 300},
             {"endpoint": "api", "at": utc(start + 600), "state": "down", "error_class": "connect", "interval_s": 300},
             {"endpoint": "api", "at": utc(start + 900), "state": "down", "error_class": "connect", "interval_s": 300},
             {"endpoint": "api", "at": "2026-10-07T08:18:15.180Z", "state": "up", "interval_s": 300}]
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", lines))
    model = report_json(write_config(tmp_path / "probe.toml", ["api"]), db, "--month", "2026-10")
    [incident] = section(model, "api")["incidents"]
    assert incident["duration_seconds"] == 1095.18 and incident["downtime_seconds"] == 1095.18
    assert "1095.18," in json.dumps(incident).replace(" ", "")


# ------------------------------------------------------------------ blips are listed


def test_blips_are_listed_in_the_json(october):
    e = section(october["model"], "outage")
    # Wed 14 Oct 15:00 one down check (connect), its re-check up at 15:00:05; Thu 15 Oct
    # 09:00 one slow check, its re-check up at 09:00:05
    assert e["blips"] == 2
    assert e["blip_events"] == [
        {"start": "2026-10-14T15:00:00+02:00", "end": "2026-10-14T15:00:05+02:00", "state": "down",
         "error_class": "connect", "checks": 1},
        {"start": "2026-10-15T09:00:00+02:00", "end": "2026-10-15T09:00:05+02:00", "state": "degraded",
         "error_class": "too_slow", "checks": 1},
    ]


def test_the_html_lists_blips_and_folds_them_past_twenty(tmp_path):
    # 25 isolated failures, one a day from 1 to 25 October at 12:00
    timeline = Timeline("api", OCT_START, OCT_END)
    for day in range(1, 26):
        timeline.blip(paris(2026, 10, day, 12), "timeout")
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    config = write_config(tmp_path / "probe.toml", ["api"])
    assert len(section(report_json(config, db, "--month", "2026-10"), "api")["blip_events"]) == 25
    out = tmp_path / "r.html"
    assert run("report", "--config", config, "--db", db, "--month", "2026-10", "-o", out).exit_code == 0
    html = out.read_text()
    table = html[html.index('class="data blips"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == 21  # the header and 20 rows
    assert "1er octobre 2026 à 12:00:00" in table and "20 octobre 2026 à 12:00:05" in table
    assert "21 octobre 2026 à 12:00" not in table
    assert "… et 5 autres (tous sont listés dans le rapport JSON)." in html


def test_as_of_inside_a_run_reads_only_the_checks_made_by_then(tmp_path):
    # api, Wed 7 Oct: down at 10:00, 10:00:05, 10:05 and 10:10, up at 10:15
    timeline = Timeline("api", paris(2026, 10, 7), paris(2026, 10, 7, 12)).episode(
        paris(2026, 10, 7, 10), paris(2026, 10, 7, 10, 15), "http_status")
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    config = write_config(tmp_path / "probe.toml", ["api"])
    e = section(report_json(config, db, "--month", "2026-10", "--as-of", "2026-10-07T10:07"), "api")
    # as of 10:07 only the down checks of 10:00, 10:00:05 and 10:05 were made: the outage is
    # under way: its last check vouches until 10:05 + 450 s = 10:12:30, past the as-of time, so as
    # of 10:07 it has lasted 420 s (10:00 -> 10:07); the month counts up to 10:07: 420 s of downtime
    [incident] = e["incidents"]
    assert (incident["end"], incident["duration_seconds"], incident["fix"]) == (None, 420, "open")
    assert e["downtime_seconds"] == 420
    # as of 10:20 it was over: 10:00 -> 10:15, 900 s
    later = section(report_json(config, db, "--month", "2026-10", "--as-of", "2026-10-07T10:20"), "api")
    assert (later["incidents"][0]["end"], later["downtime_seconds"]) == ("2026-10-07T10:15:00+02:00", 900)

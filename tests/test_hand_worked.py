"""Months worked by hand from docs/accounting rules, compared with `probe report --format json`.

Each month is built as an export file (checks, then the paper trail: maintenance windows with
their declaration times, acknowledgements), imported with `probe import`, and reported with
`probe report --format json --month … --as-of …`. The figures asserted are worked by hand in
the comments, from the rules alone; none is copied from probe's output.

Conventions of the comments: times are local (Europe/Paris) with their offset; `+02` is summer
time (CEST), `+01` winter time (CET). Checks are every 300 s unless said otherwise, so a check
vouches for at most 1.5 × 300 = 450 s.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from probe.cli import cli

AS_OF_DONE = "2026-11-28T12:00+01:00"  # October and earlier are over


def t(text: str) -> datetime:
    """A local time written with its offset."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def zulu(moment: datetime) -> str:
    stamp = moment.astimezone(timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class History:
    """The checks of one endpoint, keyed by time, and the paper trail."""

    def __init__(self, endpoint: str, interval: float = 300):
        self.endpoint = endpoint
        self.interval = interval
        self.checks: dict[int, dict] = {}
        self.trail: list[dict] = []

    def fill(self, first: str, until: str, step: float | None = None, state: str = "up",
             error_class: str | None = None) -> None:
        """Checks from `first` every `step` seconds, before `until` (excluded)."""
        step = step or self.interval
        at, end = t(first), t(until)
        while at < end:
            self.check(at, state, error_class, step)
            at += timedelta(seconds=step)

    def check(self, at, state="up", error_class=None, interval=None) -> None:
        at = t(at) if isinstance(at, str) else at
        self.checks[ms(at)] = {"endpoint": self.endpoint, "at": zulu(at), "state": state,
                               "error_class": error_class, "interval_s": interval or self.interval,
                               "http_status": 200 if state != "down" else None}

    def set(self, at: str, state: str, error_class: str | None = None) -> None:
        """A check already there changes state (keeping its interval)."""
        key = ms(t(at))
        assert key in self.checks, at
        self.checks[key].update(state=state, error_class=error_class)

    def down(self, first: str, last: str, error_class: str) -> None:
        """The checks from `first` to `last` (included) are down."""
        start, end = ms(t(first)), ms(t(last))
        hits = [key for key in self.checks if start <= key <= end]
        assert hits, (first, last)
        for key in hits:
            self.checks[key].update(state="down", error_class=error_class, http_status=None)

    def remove(self, first: str, until: str) -> None:
        """No check from `first` before `until`: the probe was not running."""
        start, end = ms(t(first)), ms(t(until))
        for key in [key for key in self.checks if start <= key < end]:
            del self.checks[key]

    def maintenance(self, start: str, end: str, declared_at: str, reason: str,
                    cancelled_at: str | None = None) -> None:
        self.trail.append({
            "record": "maintenance", "start": ms(t(start)), "end": ms(t(end)), "every": None, "at": None,
            "duration_ms": None, "endpoints": [self.endpoint], "reason": reason,
            "declared_at": ms(t(declared_at)), "declared_by": "ops", "source": "command",
            "config_key": None, "cancelled_at": ms(t(cancelled_at)) if cancelled_at else None,
            "cancelled_by": "ops" if cancelled_at else None})

    def weekly(self, weekday: int, at: str, hours: int, declared_at: str, reason: str) -> None:
        """A recurring window: `weekday` 0 (Monday) to 6, local start `at`, for `hours`."""
        self.trail.append({
            "record": "maintenance", "start": None, "end": None, "every": str(weekday), "at": at,
            "duration_ms": hours * 3_600_000, "endpoints": [self.endpoint], "reason": reason,
            "declared_at": ms(t(declared_at)), "declared_by": "ops", "source": "command",
            "config_key": None, "cancelled_at": None, "cancelled_by": None})

    def manual(self, start: str, closed: str | None, severity: str, summary: str, ack_at: str | None) -> None:
        """An incident recorded by hand (one the probe cannot see), closed at `closed` (or not)."""
        self.trail.append({
            "record": "incident", "endpoint": self.endpoint, "start": ms(t(start)),
            "end": ms(t(closed)) if closed else None, "severity": severity, "summary": summary,
            "source": "manual", "ack_at": ms(t(ack_at)) if ack_at else None, "ack_by": "alice" if ack_at else None,
            "closed_at": ms(t(closed)) if closed else None, "recorded_at": ms(t(start))})

    def ack(self, start: str, at: str, by: str = "alice", recorded_at: str | None = None) -> None:
        """Someone acknowledged the incident that began at `start` (recorded then, or later)."""
        self.trail.append({
            "record": "incident", "endpoint": self.endpoint, "start": ms(t(start)), "end": None,
            "severity": None, "summary": None, "source": "detected", "ack_at": ms(t(at)), "ack_by": by,
            "closed_at": None, "recorded_at": ms(t(recorded_at or at))})

    def lines(self) -> list[str]:
        return [json.dumps(self.checks[key]) for key in sorted(self.checks)]


def write_month(tmp_path, histories: list[History], sla: dict | None = None, endpoints: str = "") -> tuple:
    """Import the histories into a new database; return (config path, db path)."""
    db = tmp_path / "probe.db"
    export = tmp_path / "history.jsonl"
    lines = [line for history in histories for line in history.lines()]
    lines += [json.dumps(record) for history in histories for record in history.trail]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sla_lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in (sla or {}).items())
    config = tmp_path / "probe.toml"
    config.write_text(f'[probe]\ndatabase = "{db}"\n\n[sla]\n{sla_lines}\n{endpoints}', encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "--config", str(config), str(export)])
    assert result.exit_code == 0, result.output
    return config, db


def report(config, month: str, as_of: str) -> dict:
    result = CliRunner().invoke(cli, ["report", "--config", str(config), "--format", "json",
                                      "--month", month, "--as-of", as_of])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def section(model: dict, name: str) -> dict:
    (found,) = [e for e in model["endpoints"] if e["name"] == name]
    return found


def figures(endpoint: dict, expected: dict) -> dict:
    """The endpoint's figures named in `expected`."""
    return {key: endpoint[key] for key in expected}


def incident(endpoint: dict, start: str) -> dict:
    """The incident that began at `start` (a local time with its offset)."""
    found = [i for i in endpoint["incidents"] if t(i["start"]) == t(start)]
    assert len(found) == 1, (start, [i["start"] for i in endpoint["incidents"]])
    return found[0]


def same_time(a: str | None, b: str | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and t(a) == t(b))


# ------------------------------------------------------------------ October 2026, Paris
#
# The month runs from 2026-10-01T00:00+02 to 2026-11-01T00:00+01: summer time ends on Sunday
# 25 October (03:00+02 becomes 02:00+01), so it lasts 31 × 24 h + 1 h = 745 h = 2 682 000 s.
# One endpoint, `web`, checked every 300 s from 2026-09-30T23:30+02 to 2026-11-01T00:30+01.


def october() -> History:
    web = History("web")
    web.fill("2026-09-30T23:30+02:00", "2026-11-01T00:35+01:00")
    # An outage across the month's start: down 23:50, 23:55, 00:00, 00:05 (4 checks), up 00:10.
    web.down("2026-09-30T23:50+02:00", "2026-10-01T00:05+02:00", "http_status")
    # A blip: one down check (confirm = 2), Monday 5 October 10:00; the next check is up.
    web.set("2026-10-05T10:00+02:00", "down", "timeout")
    # A check not made between two up checks: 11:55 up, 12:00 probe_error, 12:05 up.
    web.set("2026-10-06T12:00+02:00", "down", "probe_error")
    # A check not made inside an outage: 14:00 down, 14:05 probe_error, 14:10 down, 14:15 up.
    web.set("2026-10-08T14:00+02:00", "down", "http_status")
    web.set("2026-10-08T14:05+02:00", "down", "probe_error")
    web.set("2026-10-08T14:10+02:00", "down", "http_status")
    # The probe stopped: last check 03:00, next 05:00 (no outage around).
    web.remove("2026-10-10T03:05+02:00", "2026-10-10T05:00+02:00")
    # The probe stopped inside an outage: down 09:00, 09:05, no check, down 10:00, up 10:05.
    web.down("2026-10-12T09:00+02:00", "2026-10-12T09:05+02:00", "connect")
    web.remove("2026-10-12T09:10+02:00", "2026-10-12T10:00+02:00")
    web.set("2026-10-12T10:00+02:00", "down", "connect")
    # The interval becomes 60 s from 12:00 to 12:30, then 300 s again from 12:40 (no check
    # between 12:30 and 12:40); down 12:10, 12:11, 12:12, up 12:13.
    web.remove("2026-10-15T12:00+02:00", "2026-10-15T12:40+02:00")
    web.fill("2026-10-15T12:00+02:00", "2026-10-15T12:31+02:00", step=60)
    web.down("2026-10-15T12:10+02:00", "2026-10-15T12:12+02:00", "timeout")
    # Tuesday 20 October: a window 02:00-04:00 declared ahead (25 September); the probe stopped
    # from 01:40 (last check) to 02:20 (next); an outage 02:30-02:40 inside the window, another
    # from 03:30 to 04:30, across the window's end.
    web.maintenance("2026-10-20T02:00+02:00", "2026-10-20T04:00+02:00", "2026-09-25T10:00+02:00", "upgrade")
    web.remove("2026-10-20T01:45+02:00", "2026-10-20T02:20+02:00")
    web.down("2026-10-20T02:30+02:00", "2026-10-20T02:35+02:00", "connect")
    web.down("2026-10-20T03:30+02:00", "2026-10-20T04:25+02:00", "http_status")
    # Thursday 22 October: a window 10:00-12:00 declared late, at 11:00; an outage 10:30-11:30.
    web.maintenance("2026-10-22T10:00+02:00", "2026-10-22T12:00+02:00", "2026-10-22T11:00+02:00", "hotfix")
    web.down("2026-10-22T10:30+02:00", "2026-10-22T11:25+02:00", "http_status")
    # Sunday 25 October, the night summer time ends: down from 02:30+02 (00:30 UTC) to 02:25+01
    # (01:25 UTC), 12 checks; up at 02:30+01. Acknowledged at 04:00+01.
    web.down("2026-10-25T02:30+02:00", "2026-10-25T02:25+01:00", "tls_cert")
    web.ack("2026-10-25T02:30+02:00", "2026-10-25T04:00+01:00")
    # Tuesday 27 October: a window 09:00-10:00 declared on the 1st, cancelled on the 26th; an
    # outage 09:00-10:00 in it. Acknowledged at 15:00.
    web.maintenance("2026-10-27T09:00+01:00", "2026-10-27T10:00+01:00", "2026-10-01T09:00+02:00", "migration",
                    cancelled_at="2026-10-26T18:00+01:00")
    web.down("2026-10-27T09:00+01:00", "2026-10-27T09:55+01:00", "connect")
    web.ack("2026-10-27T09:00+01:00", "2026-10-27T15:00+01:00")
    # An outage across the month's end: Saturday 31 October 23:50+01 to Sunday 1 November 00:10+01.
    web.down("2026-10-31T23:50+01:00", "2026-11-01T00:05+01:00", "dns")
    return web


# Unmonitored time of October, outside maintenance (a check vouches for 450 s at most):
#   6 Oct: 11:55 vouches to 12:02:30; 12:00 was not made; next made check 12:05       150 s
#   8 Oct: 14:00 vouches to 14:07:30; 14:05 was not made; next made check 14:10       150 s
#  10 Oct: 03:00 vouches to 03:07:30; next check 05:00                               6 750 s
#  12 Oct: 09:05 vouches to 09:12:30; next check 10:00                               2 850 s
#  15 Oct: 12:30 (60 s interval) vouches 90 s, to 12:31:30; next check 12:40           510 s
#          (read with the next check's 300 s interval it would be 150 s)
#  20 Oct: 01:40 vouches to 01:47:30; the window begins 02:00 (the rest is maintenance) 750 s
#  total                                                                             11 160 s
# Downtime (count): edge 00:00-00:10 600; 8 Oct 14:00-14:07:30 450 + 14:10-14:15 300 = 750;
#  12 Oct 09:00-09:12:30 750 + 10:00-10:05 300 = 1 050; 15 Oct 12:10-12:13 180;
#  20 Oct 02:30-02:40 inside the window 0, 03:30-04:30 outside the window 04:00-04:30 1 800;
#  22 Oct 10:30-11:00 before the declaration 1 800; 25 Oct 00:30-01:30 UTC 3 600;
#  27 Oct (cancelled window) 3 600; 31 Oct 23:50-24:00 600.
#  total 600 + 750 + 1 050 + 180 + 1 800 + 1 800 + 3 600 + 3 600 + 600 = 13 980 s
OCTOBER_PERIOD = 745 * 3600  # 2 682 000 s
OCTOBER_UNMONITORED = 150 + 150 + 6750 + 2850 + 510 + 750  # 11 160 s


def test_october_counts_late_maintenance(tmp_path):
    config, _ = write_month(tmp_path, [october()], {"late_maintenance": "count"})
    model = report(config, "2026-10", AS_OF_DONE)
    web = section(model, "web")
    assert model["period_seconds"] == OCTOBER_PERIOD
    assert model["provisional"] is False
    # maintenance: 20 Oct 02:00-04:00 7 200 (its unmonitored 02:00-02:20 counted once, here);
    # 22 Oct only from its declaration, 11:00-12:00, 3 600; cancelled 0. Total 10 800 s.
    # eligible = 2 682 000 - 11 160 - 10 800 = 2 660 040 s
    # availability = 100 × (1 - 13 980 / 2 660 040) = 99.47444… -> 99.474
    # allowed = 0.002 × 2 660 040 = 5 320.08 s
    expected = {"unmonitored_seconds": 11160, "maintenance_seconds": 10800, "eligible_seconds": 2660040,
                "downtime_seconds": 13980, "availability_display": "99.474",
                "allowed_downtime_seconds": 5320.08, "met": False, "blips": 1}
    assert figures(web, expected) == expected
    # The one blip: Monday 5 October 10:00, down (timeout), 1 check, ended by the 10:05 check.
    (blip,) = web["blip_events"]
    assert (t(blip["start"]), t(blip["end"]), blip["state"], blip["error_class"], blip["checks"]) == (
        t("2026-10-05T10:00+02:00"), t("2026-10-05T10:05+02:00"), "down", "timeout", 1)
    # The unmonitored periods listed are those outside maintenance.
    assert [(t(u["start"]), t(u["end"])) for u in web["unmonitored"]] == [
        (t("2026-10-06T12:02:30+02:00"), t("2026-10-06T12:05+02:00")),
        (t("2026-10-08T14:07:30+02:00"), t("2026-10-08T14:10+02:00")),
        (t("2026-10-10T03:07:30+02:00"), t("2026-10-10T05:00+02:00")),
        (t("2026-10-12T09:12:30+02:00"), t("2026-10-12T10:00+02:00")),
        (t("2026-10-15T12:31:30+02:00"), t("2026-10-15T12:40+02:00")),
        (t("2026-10-20T01:47:30+02:00"), t("2026-10-20T02:00+02:00")),
    ]
    windows = {w["reason"]: w for w in web["maintenance_windows"]}
    assert {reason: (w["late"], w["excluded_seconds"], w["cancelled_at"] is not None)
            for reason, w in windows.items()} == {
        "upgrade": (False, 7200, False), "hotfix": (True, 3600, False), "migration": (False, 0, True)}
    assert same_time(windows["hotfix"]["declared_at"], "2026-10-22T11:00+02:00")
    # Coverage is what the checks vouched for, maintenance or not: the 1 200 s unmonitored inside
    # the window of 20 October (02:00-02:20) count against it too.
    # (2 682 000 - 11 160 - 1 200) / 2 682 000 = 99.5391… % -> 99.53
    assert web["coverage_percent"] == 99.53
    days = {day["date"]: day for day in web["days"]}
    # Sunday 25 October lasts 25 h = 90 000 s, all eligible; downtime 3 600 s: 96 % exactly.
    assert {key: days["2026-10-25"][key] for key in ("eligible_seconds", "downtime_seconds",
                                                      "availability_percent")} == {
        "eligible_seconds": 90000, "downtime_seconds": 3600, "availability_percent": 96.0}
    # Tuesday 20 October: 86 400 - 750 unmonitored - 7 200 maintenance = 78 450 s eligible;
    # downtime 1 800 s: 100 × (1 - 1 800 / 78 450) = 97.7055… -> 97.705
    assert {key: days["2026-10-20"][key] for key in ("eligible_seconds", "unmonitored_seconds",
                                                      "maintenance_seconds", "availability_percent")} == {
        "eligible_seconds": 78450, "unmonitored_seconds": 750, "maintenance_seconds": 7200,
        "availability_percent": 97.705}
    # The history was imported, with no daemon run: the report says so and never claims the
    # probe ran throughout. The import brought 8 936 checks: the 746 h from 30 Sep 23:30+02 to
    # 1 Nov 00:30+01 hold 746 × 12 + 1 = 8 953 five-minute marks; minus 23 (10 Oct), 10 (12 Oct),
    # 8 (15 Oct), 7 (20 Oct) removed, plus 31 checks every 60 s on 15 October.
    assert (model["history_imported"], model["probe_ran_throughout"]) == (True, False)
    assert [(t(g["start"]), t(g["end"]), g["reason"]) for g in model["daemon_gaps"]] == [
        (t("2026-10-01T00:00+02:00"), t("2026-11-01T00:00+01:00"), "not_recorded")]
    (imported,) = web["imports"]
    assert (imported["checks"], t(imported["first_check"]), t(imported["last_check"])) == (
        8936, t("2026-09-30T23:30+02:00"), t("2026-11-01T00:30+01:00"))


# Incidents of October (blocking: acknowledge 5h, fix 24wh; wh counts Monday-Friday, France):
# start                  class        end                 duration downtime  ack by            fix by
# Wed 30 Sep 23:50+02    http_status  1 Oct 00:10+02       1 200     600     1 Oct 04:50 miss  Thu 1 Oct 23:50 met
#   (24wh: 10 min left on Wednesday, 23 h 50 on Thursday)
# Thu 8 Oct 14:00        http_status  14:15                  900     750     19:00 missed      Fri 9 Oct 14:00 met
# Mon 12 Oct 09:00       connect      10:05                3 900   1 050     14:00 missed      Tue 13 Oct 09:00 met
# Thu 15 Oct 12:10       timeout      12:13                  180     180     17:10 missed      Fri 16 Oct 12:10 met
# Tue 20 Oct 02:30       connect      02:40                  600       0     none (entirely inside maintenance)
# Tue 20 Oct 03:30       http_status  04:30                3 600   1 800     08:30 missed      Wed 21 Oct 03:30 met
# Thu 22 Oct 10:30       http_status  11:30                3 600   1 800     15:30 missed      Fri 23 Oct 10:30 met
#   (count: it began before the window was declared, so it is not inside maintenance)
# Sun 25 Oct 02:30+02    tls_cert     02:30+01             3 600   3 600     06:30+01 (5 clock hours: 00:30 UTC
#   + 5 h = 05:30 UTC), acknowledged 04:00+01: met; fix: Sunday is closed, the clock starts Monday
#   26 00:00+01, so Tue 27 Oct 00:00+01, met
# Tue 27 Oct 09:00+01    connect      10:00                3 600   3 600     14:00, acked 15:00: missed;
#                                                                            Wed 28 Oct 09:00 met
# Sat 31 Oct 23:50+01    dns          1 Nov 00:10+01       1 200     600     1 Nov 04:50 missed; Saturday and Sunday
#   1 November (a holiday) are closed: Mon 2 Nov 00:00 + 24wh = Tue 3 Nov 00:00+01, met
OCTOBER_INCIDENTS = [
    # start, end, severity, class, duration, downtime, ack deadline, ack, fix deadline, fix
    ("2026-09-30T23:50+02:00", "2026-10-01T00:10+02:00", "blocking", "http_status", 1200, 600,
     "2026-10-01T04:50+02:00", "missed", "2026-10-01T23:50+02:00", "met"),
    ("2026-10-08T14:00+02:00", "2026-10-08T14:15+02:00", "blocking", "http_status", 900, 750,
     "2026-10-08T19:00+02:00", "missed", "2026-10-09T14:00+02:00", "met"),
    ("2026-10-12T09:00+02:00", "2026-10-12T10:05+02:00", "blocking", "connect", 3900, 1050,
     "2026-10-12T14:00+02:00", "missed", "2026-10-13T09:00+02:00", "met"),
    ("2026-10-15T12:10+02:00", "2026-10-15T12:13+02:00", "blocking", "timeout", 180, 180,
     "2026-10-15T17:10+02:00", "missed", "2026-10-16T12:10+02:00", "met"),
    ("2026-10-20T02:30+02:00", "2026-10-20T02:40+02:00", "blocking", "connect", 600, 0,
     None, "none", None, "none"),
    ("2026-10-20T03:30+02:00", "2026-10-20T04:30+02:00", "blocking", "http_status", 3600, 1800,
     "2026-10-20T08:30+02:00", "missed", "2026-10-21T03:30+02:00", "met"),
    ("2026-10-22T10:30+02:00", "2026-10-22T11:30+02:00", "blocking", "http_status", 3600, 1800,
     "2026-10-22T15:30+02:00", "missed", "2026-10-23T10:30+02:00", "met"),
    ("2026-10-25T02:30+02:00", "2026-10-25T02:30+01:00", "blocking", "tls_cert", 3600, 3600,
     "2026-10-25T06:30+01:00", "met", "2026-10-27T00:00+01:00", "met"),
    ("2026-10-27T09:00+01:00", "2026-10-27T10:00+01:00", "blocking", "connect", 3600, 3600,
     "2026-10-27T14:00+01:00", "missed", "2026-10-28T09:00+01:00", "met"),
    ("2026-10-31T23:50+01:00", "2026-11-01T00:10+01:00", "blocking", "dns", 1200, 600,
     "2026-11-01T04:50+01:00", "missed", "2026-11-03T00:00+01:00", "met"),
]


def incident_rows(endpoint: dict) -> list[tuple]:
    rows = []
    for i in sorted(endpoint["incidents"], key=lambda i: t(i["start"])):
        rows.append((t(i["start"]), t(i["end"]) if i["end"] else None, i["severity"], i["error_class"],
                     i["duration_seconds"], i["downtime_seconds"],
                     t(i["acknowledge_deadline"]) if i["acknowledge_deadline"] else None, i["acknowledge"],
                     t(i["fix_deadline"]) if i["fix_deadline"] else None, i["fix"]))
    return rows


def expected_rows(rows) -> list[tuple]:
    return [(t(start), t(end) if end else None, severity, cls, duration, downtime,
             t(ack_by) if ack_by else None, ack, t(fix_by) if fix_by else None, fix)
            for start, end, severity, cls, duration, downtime, ack_by, ack, fix_by, fix in rows]


def test_october_incidents_and_deadlines(tmp_path):
    config, _ = write_month(tmp_path, [october()], {"late_maintenance": "count"})
    web = section(report(config, "2026-10", AS_OF_DONE), "web")
    assert incident_rows(web) == expected_rows(OCTOBER_INCIDENTS)
    inside = incident(web, "2026-10-20T02:30+02:00")
    assert inside["in_maintenance"] is True


def test_october_excludes_late_maintenance(tmp_path):
    # The same history, under a contract that allows late declarations: the window of 22 October
    # excuses all of 10:00-12:00.
    config, _ = write_month(tmp_path, [october()], {"late_maintenance": "exclude"})
    web = section(report(config, "2026-10", AS_OF_DONE), "web")
    # maintenance = 7 200 + 7 200 = 14 400 s; eligible = 2 682 000 - 11 160 - 14 400 = 2 656 440 s
    # downtime = 13 980 - 1 800 (22 Oct 10:30-11:00 now excused) = 12 180 s
    # availability = 100 × (1 - 12 180 / 2 656 440) = 99.54149… -> 99.541
    # allowed = 0.002 × 2 656 440 = 5 312.88 s
    expected = {"unmonitored_seconds": 11160, "maintenance_seconds": 14400, "eligible_seconds": 2656440,
                "downtime_seconds": 12180, "availability_display": "99.541",
                "allowed_downtime_seconds": 5312.88}
    assert figures(web, expected) == expected
    hotfix = [w for w in web["maintenance_windows"] if w["reason"] == "hotfix"][0]
    assert (hotfix["late"], hotfix["excluded_seconds"]) == (True, 7200)
    # The outage of 22 October 10:30-11:30 now lies entirely inside the excused window: no deadlines.
    late = incident(web, "2026-10-22T10:30+02:00")
    assert (late["in_maintenance"], late["downtime_seconds"], late["acknowledge"], late["fix"],
            late["acknowledge_deadline"], late["fix_deadline"]) == (True, 0, "none", "none", None, None)


def test_september_counts_its_part_of_the_edge_outage(tmp_path):
    config, _ = write_month(tmp_path, [october()])
    web = section(report(config, "2026-09", AS_OF_DONE), "web")
    # September (720 h = 2 592 000 s) has checks from 30 Sep 23:30+02 only: monitored 23:30-24:00,
    # 1 800 s; unmonitored 2 592 000 - 1 800 = 2 590 200 s. Downtime 23:50-24:00 = 600 s.
    # availability = 100 × (1 - 600 / 1 800) = 66.666… -> 66.666 (never 66.667)
    # allowed = 0.002 × 1 800 = 3.6 s
    expected = {"period_seconds": 2592000, "unmonitored_seconds": 2590200, "eligible_seconds": 1800,
                "downtime_seconds": 600, "availability_display": "66.666", "allowed_downtime_seconds": 3.6}
    assert figures(web, expected) == expected
    (edge,) = web["incidents"]
    assert (t(edge["start"]), t(edge["end"]), edge["downtime_seconds"]) == (
        t("2026-09-30T23:50+02:00"), t("2026-10-01T00:10+02:00"), 600)


# ------------------------------------------------------------------ June 2026: just under, and exactly on, the target
#
# The month runs from 2026-06-01T00:00+02 to 2026-07-01T00:00+02: 30 × 24 h = 2 592 000 s.

JUNE_ENDPOINTS = """
[[endpoint]]
name = "api"
url = "https://api.example/health"
interval = "5m"

[[endpoint]]
name = "www"
url = "https://www.example/"
interval = "5m"
max_severity = "major"
"""


def june() -> list[History]:
    api = History("api")
    api.fill("2026-06-01T00:00+02:00", "2026-07-01T00:00+02:00")
    # The probe stopped after a check made at 03:00:00.499 (02:55 vouches up to it); it started
    # again at 04:58:20, then every 300 s from 05:00.
    api.remove("2026-06-10T03:00+02:00", "2026-06-10T05:00+02:00")
    api.check("2026-06-10T03:00:00.499+02:00")
    api.check("2026-06-10T04:58:20+02:00")
    # A blip (one down check), Monday 15 June 08:00.
    api.set("2026-06-15T08:00+02:00", "down", "dns")
    # A degradation, Tuesday 16 June: too slow at 14:00, 14:05, 14:10; up 14:15.
    for at in ("14:00", "14:05", "14:10"):
        api.set(f"2026-06-16T{at}+02:00", "degraded", "too_slow")
    # A degraded blip: one check with a certificate close to expiry, Wednesday 17 June 09:00.
    api.set("2026-06-17T09:00+02:00", "degraded", "cert_expiring")
    # An outage, Wednesday 24 June: down 10:00 to 11:25 (18 checks); a re-check at 11:26:15 is up.
    api.down("2026-06-24T10:00+02:00", "2026-06-24T11:25+02:00", "http_status")
    api.check("2026-06-24T11:26:15+02:00")
    api.ack("2026-06-24T10:00+02:00", "2026-06-24T14:59:59+02:00")

    www = History("www")
    www.fill("2026-06-01T00:00+02:00", "2026-07-01T00:00+02:00")
    # Every 900 s on 5 June from 00:00 to 05:45, then every 300 s again: each 900 s check vouches
    # up to the next one (900 s ≤ 1 350 s), so nothing is unmonitored, though the endpoint's
    # interval is 300 s now.
    www.remove("2026-06-05T00:00+02:00", "2026-06-05T06:00+02:00")
    www.fill("2026-06-05T00:00+02:00", "2026-06-05T06:00+02:00", step=900)
    # The same outage as api's, with its re-check at 11:26:24.
    www.down("2026-06-24T10:00+02:00", "2026-06-24T11:25+02:00", "http_status")
    www.check("2026-06-24T11:26:24+02:00")
    return [api, www]


def test_june_just_under_the_target_is_truncated(tmp_path):
    config, _ = write_month(tmp_path, june(), endpoints=JUNE_ENDPOINTS)
    api = section(report(config, "2026-06", AS_OF_DONE), "api")
    # unmonitored: 03:00:00.499 vouches to 03:07:30.499; next check 04:58:20: 6 649.501 s
    # eligible = 2 592 000 - 6 649.501 = 2 585 350.499 s
    # downtime = 10:00 to 11:26:15 = 5 175 s (the degradation is not downtime, blips neither)
    # availability = 100 × (1 - 5 175 / 2 585 350.499) = 99.799833… -> 99.799 (rounding: 99.800);
    #   not met (below 99.8)
    # allowed = 0.002 × 2 585 350.499 = 5 170.700998 s -> 5 170.7 (rounding to the ms: 5 170.701)
    expected = {"unmonitored_seconds": 6649.501, "maintenance_seconds": 0, "eligible_seconds": 2585350.499,
                "downtime_seconds": 5175, "availability_display": "99.799",
                "allowed_downtime_seconds": 5170.7, "met": False, "blips": 2}
    assert figures(api, expected) == expected
    assert [(t(b["start"]), t(b["end"]), b["state"], b["error_class"], b["checks"]) for b in api["blip_events"]] == [
        (t("2026-06-15T08:00+02:00"), t("2026-06-15T08:05+02:00"), "down", "dns", 1),
        (t("2026-06-17T09:00+02:00"), t("2026-06-17T09:05+02:00"), "degraded", "cert_expiring", 1),
    ]
    # Incidents:
    #  Tue 16 June 14:00-14:15, too_slow degradation: major, 900 s, no downtime; acknowledge
    #    24wh -> Wed 17 June 14:00 (not acknowledged: missed); fix 48wh -> Thu 18 June 14:00, met.
    #  Wed 24 June 10:00-11:26:15, http_status: blocking, 5 175 s; acknowledge 5h -> 15:00,
    #    acknowledged 14:59:59: met; fix 24wh -> Thu 25 June 10:00, met.
    assert incident_rows(api) == expected_rows([
        ("2026-06-16T14:00+02:00", "2026-06-16T14:15+02:00", "major", "too_slow", 900, 0,
         "2026-06-17T14:00+02:00", "missed", "2026-06-18T14:00+02:00", "met"),
        ("2026-06-24T10:00+02:00", "2026-06-24T11:26:15+02:00", "blocking", "http_status", 5175, 5175,
         "2026-06-24T15:00+02:00", "met", "2026-06-25T10:00+02:00", "met"),
    ])


def test_june_exactly_on_the_target_is_met(tmp_path):
    config, _ = write_month(tmp_path, june(), endpoints=JUNE_ENDPOINTS)
    www = section(report(config, "2026-06", AS_OF_DONE), "www")
    # unmonitored 0 (the 900 s checks of 5 June vouch up to the next), eligible 2 592 000 s
    # downtime = 10:00 to 11:26:24 = 5 184 s
    # availability = 100 × (1 - 5 184 / 2 592 000) = 100 × (1 - 0.002) = 99.8 exactly -> 99.800, met
    # allowed = 0.002 × 2 592 000 = 5 184 s: the whole budget is spent, not overspent
    expected = {"unmonitored_seconds": 0, "eligible_seconds": 2592000, "downtime_seconds": 5184,
                "availability_display": "99.800", "allowed_downtime_seconds": 5184, "met": True,
                "coverage_percent": 100}
    assert figures(www, expected) == expected
    # The endpoint caps its outages at major: acknowledge 24wh from Wed 24 June 10:00 -> Thu 25
    # June 10:00 (not acknowledged, missed); fix 48wh -> Fri 26 June 10:00, met.
    assert incident_rows(www) == expected_rows([
        ("2026-06-24T10:00+02:00", "2026-06-24T11:26:24+02:00", "major", "http_status", 5184, 5184,
         "2026-06-25T10:00+02:00", "missed", "2026-06-26T10:00+02:00", "met"),
    ])


# ------------------------------------------------------------------ November 2026: a month under way
#
# November 2026 in Paris: 2026-11-01T00:00+01 to 2026-12-01T00:00+01, no clock change. Sunday 1
# November (All Saints') and Wednesday 11 November (Armistice) are public holidays. One endpoint,
# `shop`, checked every 300 s from 1 November 00:00 to Friday 20 November 10:00, when the data
# stop in the middle of an outage.


def november() -> History:
    shop = History("shop")
    shop.fill("2026-11-01T00:00+01:00", "2026-11-20T10:05+01:00")
    # Sunday 1 November 10:00: down 10:00, 10:05 (dns), up 10:10; acknowledged at 14:00.
    shop.down("2026-11-01T10:00+01:00", "2026-11-01T10:05+01:00", "dns")
    shop.ack("2026-11-01T10:00+01:00", "2026-11-01T14:00+01:00")
    # Monday 9 November 12:00: degraded 12:00, 12:05 (cert_expiring), up 12:10. Never acknowledged.
    for at in ("12:00", "12:05"):
        shop.set(f"2026-11-09T{at}+01:00", "degraded", "cert_expiring")
    # Tuesday 10 November 10:00: down 10:00, 10:05 (body_mismatch), up 10:10; acknowledged on
    # Thursday 12 November at 09:00.
    shop.down("2026-11-10T10:00+01:00", "2026-11-10T10:05+01:00", "body_mismatch")
    shop.ack("2026-11-10T10:00+01:00", "2026-11-12T09:00+01:00")
    # Friday 20 November: down 09:50, 09:55, 10:00 (timeout); nothing after.
    shop.down("2026-11-20T09:50+01:00", "2026-11-20T10:00+01:00", "timeout")
    return shop


# Deadlines (wh: Monday-Friday, not 1 or 11 November):
#  Sun 1 Nov 10:00 dns, blocking: acknowledge 5h -> Sun 1 Nov 15:00 (acknowledged 14:00: met);
#    fix 24wh: the clock starts Mon 2 Nov 00:00 -> Tue 3 Nov 00:00 (fixed 10:10: met).
#  Mon 9 Nov 12:00 cert_expiring, minor: acknowledge 48wh = Mon 12 + Tue 24 + (Wed 11 closed)
#    + Thu 12 -> Thu 12 Nov 12:00; fix 5wd = 120wh = Mon 12 + Tue 24 + Thu 24 + Fri 24 + Mon 16
#    24 + Tue 17 12 -> Tue 17 Nov 12:00 (fixed 12:10: met).
#  Tue 10 Nov 10:00 body_mismatch, major: acknowledge 24wh = Tue 14 + Thu 10 -> Thu 12 Nov 10:00
#    (acknowledged Thu 09:00: met; a clock that ran on the 11th would say Wed 11 10:00, missed);
#    fix 48wh = Tue 14 + Thu 24 + Fri 10 -> Fri 13 Nov 10:00 (fixed 10:10: met).
#  Fri 20 Nov 09:50 timeout, blocking, still down when the data stop: acknowledge 5h -> 14:50;
#    fix 24wh = Fri 14 h 10 + Mon 9 h 50 -> Mon 23 Nov 09:50. Not fixed.
NOVEMBER_EARLY_INCIDENTS = [
    ("2026-11-01T10:00+01:00", "2026-11-01T10:10+01:00", "blocking", "dns", 600, 600,
     "2026-11-01T15:00+01:00", "met", "2026-11-03T00:00+01:00", "met"),
    ("2026-11-09T12:00+01:00", "2026-11-09T12:10+01:00", "minor", "cert_expiring", 600, 0,
     "2026-11-12T12:00+01:00", "missed", "2026-11-17T12:00+01:00", "met"),
    ("2026-11-10T10:00+01:00", "2026-11-10T10:10+01:00", "major", "body_mismatch", 600, 600,
     "2026-11-12T10:00+01:00", "met", "2026-11-13T10:00+01:00", "met"),
]


def test_november_after_the_data_stop(tmp_path):
    config, _ = write_month(tmp_path, [november()])
    model = report(config, "2026-11", "2026-11-20T12:00+01:00")
    shop = section(model, "shop")
    assert model["provisional"] is True
    # Counted: 1 Nov 00:00 to 20 Nov 12:00 = 19.5 days = 1 684 800 s.
    # The outage of the 20th ends where its last check's coverage ends: 10:00 + 450 s = 10:07:30.
    # unmonitored: 10:07:30 to 12:00 = 6 750 s; eligible = 1 684 800 - 6 750 = 1 678 050 s
    # downtime = 600 (1 Nov) + 600 (10 Nov) + 1 050 (20 Nov 09:50-10:07:30) = 2 250 s
    # availability = 100 × (1 - 2 250 / 1 678 050) = 99.86591… -> 99.865
    # allowed = 0.002 × 1 678 050 = 3 356.1 s
    expected = {"unmonitored_seconds": 6750, "eligible_seconds": 1678050, "downtime_seconds": 2250,
                "availability_display": "99.865", "allowed_downtime_seconds": 3356.1, "met": True}
    assert figures(shop, expected) == expected
    assert same_time(shop["recorded_until"], "2026-11-20T10:07:30+01:00")
    assert incident_rows(shop) == expected_rows(NOVEMBER_EARLY_INCIDENTS + [
        ("2026-11-20T09:50+01:00", None, "blocking", "timeout", 1050, 1050,
         "2026-11-20T14:50+01:00", "open", "2026-11-23T09:50+01:00", "open"),
    ])


def test_november_days_later_is_the_same_but_deadlines(tmp_path):
    config, _ = write_month(tmp_path, [november()])
    shop = section(report(config, "2026-11", "2026-11-25T12:00+01:00"), "shop")
    # Counted: to 25 Nov 12:00 = 24.5 days = 2 116 800 s; unmonitored 10:07:30 on the 20th to
    # 12:00 on the 25th = 5 days 1 h 52 min 30 s = 438 750 s; eligible 2 116 800 - 438 750 =
    # 1 678 050 s, as on the 20th: the outage does not grow with "now", downtime still 2 250 s.
    expected = {"unmonitored_seconds": 438750, "eligible_seconds": 1678050, "downtime_seconds": 2250,
                "availability_display": "99.865", "allowed_downtime_seconds": 3356.1}
    assert figures(shop, expected) == expected
    # The outage of the 20th is still not fixed; both its deadlines are past now: missed.
    assert incident_rows(shop) == expected_rows(NOVEMBER_EARLY_INCIDENTS + [
        ("2026-11-20T09:50+01:00", None, "blocking", "timeout", 1050, 1050,
         "2026-11-20T14:50+01:00", "missed", "2026-11-23T09:50+01:00", "missed"),
    ])


def test_november_before_an_acknowledgement_and_a_deadline(tmp_path):
    config, _ = write_month(tmp_path, [november()])
    shop = section(report(config, "2026-11", "2026-11-12T11:00+01:00"), "shop")
    # Counted: 1 Nov 00:00 to 12 Nov 11:00 = 11 days 11 h = 990 000 s, all monitored.
    # downtime = 600 + 600 = 1 200 s; availability = 100 × (1 - 1 200 / 990 000) = 99.87878… -> 99.878
    # allowed = 0.002 × 990 000 = 1 980 s
    expected = {"unmonitored_seconds": 0, "eligible_seconds": 990000, "downtime_seconds": 1200,
                "availability_display": "99.878", "allowed_downtime_seconds": 1980}
    assert figures(shop, expected) == expected
    # As of Thursday 11:00: the minor one's acknowledgement (due 12:00) is still open; the major
    # one was acknowledged at 09:00, before its deadline 10:00: met. The outage of the 20th has
    # not happened.
    rows = expected_rows(NOVEMBER_EARLY_INCIDENTS)
    rows[1] = rows[1][:7] + ("open",) + rows[1][8:]
    assert incident_rows(shop) == rows


def test_november_before_the_data_stop(tmp_path):
    config, _ = write_month(tmp_path, [november()])
    shop = section(report(config, "2026-11", "2026-11-20T09:57+01:00"), "shop")
    # As of 09:57 the checks are those up to 09:55: the outage (09:50, 09:55: confirmed) is
    # under way. Counted: 1 Nov 00:00 to 20 Nov 09:57 = 19 days 9 h 57 min = 1 677 420 s; the
    # 09:55 check vouches past 09:57, so nothing is unmonitored; eligible = 1 677 420 s.
    # downtime = 600 + 600 + 420 (09:50-09:57) = 1 620 s
    # availability = 100 × (1 - 1 620 / 1 677 420) = 99.90342… -> 99.903
    # allowed = 0.002 × 1 677 420 = 3 354.84 s
    expected = {"unmonitored_seconds": 0, "eligible_seconds": 1677420, "downtime_seconds": 1620,
                "availability_display": "99.903", "allowed_downtime_seconds": 3354.84}
    assert figures(shop, expected) == expected
    ongoing = incident(shop, "2026-11-20T09:50+01:00")
    assert (ongoing["end"], ongoing["acknowledge"], ongoing["fix"], ongoing["downtime_seconds"]) == (
        None, "open", "open", 420)


def test_november_before_the_data_stop_lasts_up_to_the_as_of_time_only(tmp_path):
    config, _ = write_month(tmp_path, [november()])
    shop = section(report(config, "2026-11", "2026-11-20T09:57+01:00"), "shop")
    # As of 09:57 the outage that began at 09:50 has lasted 7 min = 420 s: its downtime is 420 s
    # and the endpoint is recorded until 09:57. A duration to 10:02:30 (where the 09:55 check's
    # coverage would end) states 750 s, a length of time that had not yet elapsed at the as-of time.
    ongoing = incident(shop, "2026-11-20T09:50+01:00")
    assert same_time(shop["recorded_until"], "2026-11-20T09:57+01:00")
    assert (ongoing["downtime_seconds"], ongoing["duration_seconds"]) == (420, 420)


# ------------------------------------------------------------------ October, as it was on the 22nd


def test_october_as_of_before_a_late_declaration(tmp_path):
    config, _ = write_month(tmp_path, [october()], {"late_maintenance": "exclude"})
    model = report(config, "2026-10", "2026-10-22T10:45+02:00")
    web = section(model, "web")
    assert model["provisional"] is True
    # The window "hotfix" is declared at 11:00: as of 10:45 it does not exist, even though the
    # contract excludes late windows. The window "migration" is not cancelled yet (26 Oct) and
    # lies after the as-of time: listed, excluding nothing.
    # Counted: 1 Oct 00:00+02 to 22 Oct 10:45+02 = 21 days 10 h 45 min = 1 853 100 s.
    # unmonitored 11 160 s (all of it before the 22nd); maintenance 7 200 s (20 Oct)
    # eligible = 1 853 100 - 11 160 - 7 200 = 1 834 740 s
    # downtime = 600 + 750 + 1 050 + 180 + 1 800 + 900 (22 Oct 10:30-10:45) = 5 280 s
    # availability = 100 × (1 - 5 280 / 1 834 740) = 99.71222… -> 99.712
    # allowed = 0.002 × 1 834 740 = 3 669.48 s
    expected = {"unmonitored_seconds": 11160, "maintenance_seconds": 7200, "eligible_seconds": 1834740,
                "downtime_seconds": 5280, "availability_display": "99.712",
                "allowed_downtime_seconds": 3669.48}
    assert figures(web, expected) == expected
    assert sorted((w["reason"], w["excluded_seconds"], w["cancelled_at"]) for w in web["maintenance_windows"]) == [
        ("migration", 0, None), ("upgrade", 7200, None)]
    ongoing = incident(web, "2026-10-22T10:30+02:00")
    assert (ongoing["end"], ongoing["acknowledge"], ongoing["fix"], ongoing["in_maintenance"]) == (
        None, "open", "open", False)


def test_october_as_of_after_a_late_declaration(tmp_path):
    config, _ = write_month(tmp_path, [october()], {"late_maintenance": "exclude"})
    web = section(report(config, "2026-10", "2026-10-22T11:40+02:00"), "web")
    # Declared at 11:00, "hotfix" now excuses its whole past part, 10:00-11:40 = 6 000 s.
    # Counted: to 22 Oct 11:40+02 = 21 days 11 h 40 min = 1 856 400 s
    # eligible = 1 856 400 - 11 160 - 7 200 - 6 000 = 1 832 040 s
    # downtime = 600 + 750 + 1 050 + 180 + 1 800 = 4 380 s (10:30-11:30 is inside the window)
    # availability = 100 × (1 - 4 380 / 1 832 040) = 99.76092… -> 99.760
    # allowed = 0.002 × 1 832 040 = 3 664.08 s
    expected = {"unmonitored_seconds": 11160, "maintenance_seconds": 13200, "eligible_seconds": 1832040,
                "downtime_seconds": 4380, "availability_display": "99.760",
                "allowed_downtime_seconds": 3664.08}
    assert figures(web, expected) == expected
    hotfix = [w for w in web["maintenance_windows"] if w["reason"] == "hotfix"][0]
    assert (hotfix["late"], hotfix["excluded_seconds"]) == (True, 6000)
    inside = incident(web, "2026-10-22T10:30+02:00")
    assert (inside["in_maintenance"], inside["acknowledge"], inside["fix"], inside["downtime_seconds"]) == (
        True, "none", "none", 0)


# ------------------------------------------------------------------ March 2026: weekly windows across the spring change
#
# The month runs from 2026-03-01T00:00+01 to 2026-04-01T00:00+02: summer time starts on Sunday
# 29 March (02:00+01 becomes 03:00+02), so it lasts 31 × 24 h - 1 h = 743 h = 2 674 800 s.
# One endpoint, `db`, checked every 300 s all month.


def march() -> History:
    db = History("db")
    db.fill("2026-03-01T00:00+01:00", "2026-04-01T00:00+02:00")
    # Every Sunday at 02:30 for 1 h, declared ahead (15 February). On 29 March 02:30 does not
    # exist; probe's documented choice reads it with the winter offset: 02:30+01 = 03:30+02, to 04:30+02.
    db.weekly(6, "02:30", 1, "2026-02-15T10:00+01:00", "weekly")
    # Every Saturday at 22:00 for 1 h, declared on Saturday 14 March at 12:00: the occurrence of
    # 7 March is late (entirely before its declaration); those of 14, 21 and 28 March are not.
    db.weekly(5, "22:00", 1, "2026-03-14T12:00+01:00", "saturday")
    # Thursday 5 March 16:00: a wrong figure on a screen, recorded by hand as major, acknowledged
    # Friday 09:00, closed Monday 9 March 11:00.
    db.manual("2026-03-05T16:00+01:00", "2026-03-09T11:00+01:00", "major", "wrong totals on the invoice page",
              "2026-03-06T09:00+01:00")
    # Saturday 7 March, inside the late occurrence: down 22:10, 22:15 (http_status), up 22:20.
    db.down("2026-03-07T22:10+01:00", "2026-03-07T22:15+01:00", "http_status")
    # Sunday 8 March, inside the weekly window: down 02:40, 02:45 (connect), up 02:50.
    db.down("2026-03-08T02:40+01:00", "2026-03-08T02:45+01:00", "connect")
    # Tuesday 10 March: degraded 15:00 (cert_expiring), 15:05 (too_slow), 15:10 (cert_expiring), up 15:15.
    db.set("2026-03-10T15:00+01:00", "degraded", "cert_expiring")
    db.set("2026-03-10T15:05+01:00", "degraded", "too_slow")
    db.set("2026-03-10T15:10+01:00", "degraded", "cert_expiring")
    # Thursday 12 March: down 08:00 (body_mismatch), 08:05 (http_status), up 08:10.
    db.set("2026-03-12T08:00+01:00", "down", "body_mismatch")
    db.set("2026-03-12T08:05+01:00", "down", "http_status")
    # Tuesday 17 March: down 09:00, degraded 09:05, down 09:10, up 09:15: three blips, no outage.
    db.set("2026-03-17T09:00+01:00", "down", "connect")
    db.set("2026-03-17T09:05+01:00", "degraded", "too_slow")
    db.set("2026-03-17T09:10+01:00", "down", "connect")
    # Thursday 19 March: down 03:00 (timeout), the probe stopped, down 05:00, up 05:05. The two
    # down checks are consecutive in the record: an outage of 2 checks, with 03:07:30-05:00
    # unmonitored inside it.
    db.set("2026-03-19T03:00+01:00", "down", "timeout")
    db.remove("2026-03-19T03:05+01:00", "2026-03-19T05:00+01:00")
    db.set("2026-03-19T05:00+01:00", "down", "timeout")
    # Sunday 29 March: down from 03:00+02 to 03:40+02 (tls_handshake), up 03:45+02: it begins
    # before that day's window (03:30+02).
    db.down("2026-03-29T03:00+02:00", "2026-03-29T03:40+02:00", "tls_handshake")
    return db


def test_march_weekly_windows_and_spring_change(tmp_path):
    config, _ = write_month(tmp_path, [march()])
    model = report(config, "2026-03", AS_OF_DONE)
    db = section(model, "db")
    assert model["period_seconds"] == 743 * 3600
    # unmonitored: 19 Mar 03:07:30 to 05:00 = 6 750 s
    # maintenance: Sundays 1, 8, 15, 22 (02:30-03:30+01) and 29 (03:30-04:30+02): 5 × 3 600 = 18 000;
    #   Saturdays 14, 21, 28 (22:00-23:00+01): 3 × 3 600 = 10 800 (7 March: late, count: 0); 28 800 s
    # eligible = 2 674 800 - 6 750 - 28 800 = 2 639 250 s
    # downtime = 7 Mar 22:10-22:20 600 + 8 Mar 0 (inside) + 12 Mar 08:00-08:10 600
    #   + 19 Mar 03:00-03:07:30 450 + 05:00-05:05 300 + 29 Mar 03:00-03:30+02 1 800 = 3 750 s
    # availability = 100 × (1 - 3 750 / 2 639 250) = 99.85791… -> 99.857, met
    # allowed = 0.002 × 2 639 250 = 5 278.5 s
    expected = {"unmonitored_seconds": 6750, "maintenance_seconds": 28800, "eligible_seconds": 2639250,
                "downtime_seconds": 3750, "availability_display": "99.857",
                "allowed_downtime_seconds": 5278.5, "met": True, "blips": 3}
    assert figures(db, expected) == expected
    assert [(t(b["start"]), b["state"], b["error_class"], b["checks"]) for b in db["blip_events"]] == [
        (t("2026-03-17T09:00+01:00"), "down", "connect", 1),
        (t("2026-03-17T09:05+01:00"), "degraded", "too_slow", 1),
        (t("2026-03-17T09:10+01:00"), "down", "connect", 1),
    ]
    windows = sorted((t(w["start"]), t(w["end"]), w["late"], w["excluded_seconds"])
                     for w in db["maintenance_windows"])
    assert windows == sorted(
        [(t(f"2026-03-{day:02d}T02:30+01:00"), t(f"2026-03-{day:02d}T03:30+01:00"), False, 3600)
         for day in (1, 8, 15, 22)]
        + [(t("2026-03-29T03:30+02:00"), t("2026-03-29T04:30+02:00"), False, 3600)]
        + [(t("2026-03-07T22:00+01:00"), t("2026-03-07T23:00+01:00"), True, 0)]
        + [(t(f"2026-03-{day:02d}T22:00+01:00"), t(f"2026-03-{day:02d}T23:00+01:00"), False, 3600)
           for day in (14, 21, 28)])
    # Sunday 29 March lasts 23 h = 82 800 s; maintenance 03:30-04:30+02 3 600 s; eligible 79 200 s;
    # downtime 03:00-03:30+02 1 800 s: 100 × (1 - 1 800 / 79 200) = 97.7272… -> 97.727
    (spring,) = [day for day in db["days"] if day["date"] == "2026-03-29"]
    assert {key: spring[key] for key in ("eligible_seconds", "maintenance_seconds", "downtime_seconds",
                                         "availability_percent")} == {
        "eligible_seconds": 79200, "maintenance_seconds": 3600, "downtime_seconds": 1800,
        "availability_percent": 97.727}


def test_march_incidents(tmp_path):
    config, _ = write_month(tmp_path, [march()])
    db = section(report(config, "2026-03", AS_OF_DONE), "db")
    # Thu 5 Mar 16:00 manual, major: acknowledge 24wh = Thu 8 + Fri 16 -> Fri 6 Mar 16:00 (09:00:
    #   met); fix 48wh = Thu 8 + Fri 24 + Mon 16 -> Mon 9 Mar 16:00 (closed 11:00: met);
    #   Thu 16:00 to Mon 11:00 = 3 days 19 h = 327 600 s; no downtime (not seen by the probe).
    # Sat 7 Mar 22:10 http_status, blocking (its window's excused part is empty: it keeps its
    #   deadlines): acknowledge 5h -> Sun 8 Mar 03:10; fix: the clock starts Mon 9 00:00 -> Tue 10 Mar 00:00.
    # Sun 8 Mar 02:40 connect: entirely inside the weekly window: no deadlines.
    # Tue 10 Mar 15:00 degradation, classes cert_expiring, too_slow: the highest, major (too_slow):
    #   acknowledge 24wh -> Wed 11 Mar 15:00; fix 48wh -> Thu 12 Mar 15:00 (fixed 15:15: met).
    # Thu 12 Mar 08:00 body_mismatch then http_status: the highest, blocking: acknowledge 13:00;
    #   fix 24wh -> Fri 13 Mar 08:00.
    # Thu 19 Mar 03:00 timeout, to 05:05: 7 500 s, 750 s of downtime: acknowledge 08:00; fix Fri 20 Mar 03:00.
    # Sun 29 Mar 03:00+02 tls_handshake, to 03:45+02: 2 700 s, 1 800 s of downtime (03:30-03:45
    #   is maintenance); acknowledge 5 clock hours -> 08:00+02; fix: Mon 30 00:00 + 24wh -> Tue 31 Mar 00:00+02.
    assert incident_rows(db) == expected_rows([
        ("2026-03-05T16:00+01:00", "2026-03-09T11:00+01:00", "major", None, 327600, 0,
         "2026-03-06T16:00+01:00", "met", "2026-03-09T16:00+01:00", "met"),
        ("2026-03-07T22:10+01:00", "2026-03-07T22:20+01:00", "blocking", "http_status", 600, 600,
         "2026-03-08T03:10+01:00", "missed", "2026-03-10T00:00+01:00", "met"),
        ("2026-03-08T02:40+01:00", "2026-03-08T02:50+01:00", "blocking", "connect", 600, 0,
         None, "none", None, "none"),
        ("2026-03-10T15:00+01:00", "2026-03-10T15:15+01:00", "major", "too_slow", 900, 0,
         "2026-03-11T15:00+01:00", "missed", "2026-03-12T15:00+01:00", "met"),
        ("2026-03-12T08:00+01:00", "2026-03-12T08:10+01:00", "blocking", "http_status", 600, 600,
         "2026-03-12T13:00+01:00", "missed", "2026-03-13T08:00+01:00", "met"),
        ("2026-03-19T03:00+01:00", "2026-03-19T05:05+01:00", "blocking", "timeout", 7500, 750,
         "2026-03-19T08:00+01:00", "missed", "2026-03-20T03:00+01:00", "met"),
        ("2026-03-29T03:00+02:00", "2026-03-29T03:45+02:00", "blocking", "tls_handshake", 2700, 1800,
         "2026-03-29T08:00+02:00", "missed", "2026-03-31T00:00+02:00", "met"),
    ])


# ------------------------------------------------------------------ July 2026: declarations at the edges
#
# The month runs from 2026-07-01T00:00+02 to 2026-08-01T00:00+02: 31 × 24 h = 2 678 400 s.
# Tuesday 14 July (Bastille Day) is a public holiday. `pay` is checked every 300 s from 1 July
# 00:00 to 1 August 00:05, when the data stop in an outage; `legacy` all month, inside a window
# as long as the month.


def july() -> list[History]:
    pay = History("pay")
    pay.fill("2026-07-01T00:00+02:00", "2026-08-01T00:10+02:00")
    # Tuesday 7 July 02:00-03:00, declared at 02:00 exactly: on time, not late.
    pay.maintenance("2026-07-07T02:00+02:00", "2026-07-07T03:00+02:00", "2026-07-07T02:00+02:00", "on time")
    # Wednesday 8 July 02:00-03:00, declared the next day at 10:00, after it ended; an outage
    # 02:10-02:20 in it (down 02:10, 02:15, up 02:20).
    pay.maintenance("2026-07-08T02:00+02:00", "2026-07-08T03:00+02:00", "2026-07-09T10:00+02:00", "after the fact")
    pay.down("2026-07-08T02:10+02:00", "2026-07-08T02:15+02:00", "connect")
    # Tuesday 14 July 10:00-11:00, declared on the 1st, cancelled on the 20th (after it); an
    # outage 10:00-10:30 in it (down 10:00 to 10:25, up 10:30).
    pay.maintenance("2026-07-14T10:00+02:00", "2026-07-14T11:00+02:00", "2026-07-01T09:00+02:00", "withdrawn",
                    cancelled_at="2026-07-20T09:00+02:00")
    pay.down("2026-07-14T10:00+02:00", "2026-07-14T10:25+02:00", "http_status")
    # Tuesday 21 July: down 10:00, 10:05, up 10:10; acknowledged as of 14:00, recorded on the 25th.
    pay.down("2026-07-21T10:00+02:00", "2026-07-21T10:05+02:00", "http_status")
    pay.ack("2026-07-21T10:00+02:00", "2026-07-21T14:00+02:00", recorded_at="2026-07-25T09:00+02:00")
    # Thursday 30 July 09:00: recorded by hand, blocking, never acknowledged nor closed.
    pay.manual("2026-07-30T09:00+02:00", None, "blocking", "payments refused for cards of one bank", None)
    # Friday 31 July: a blip 23:45 (timeout), up 23:50; down 23:55, 00:00, 00:05 (1 August); nothing after.
    pay.set("2026-07-31T23:45+02:00", "down", "timeout")
    pay.down("2026-07-31T23:55+02:00", "2026-08-01T00:05+02:00", "timeout")

    legacy = History("legacy")
    legacy.fill("2026-07-01T00:00+02:00", "2026-08-01T00:00+02:00")
    legacy.maintenance("2026-07-01T00:00+02:00", "2026-08-01T00:00+02:00", "2026-06-20T10:00+02:00", "retired")
    return [pay, legacy]


def test_july_declarations_at_the_edges(tmp_path):
    config, _ = write_month(tmp_path, july())
    pay = section(report(config, "2026-07", AS_OF_DONE), "pay")
    # unmonitored 0; maintenance: 7 July 3 600 (on time), 8 July 0 (declared after it ended,
    #   count), 14 July 0 (cancelled) = 3 600 s
    # eligible = 2 678 400 - 3 600 = 2 674 800 s
    # downtime = 8 Jul 600 + 14 Jul 1 800 + 21 Jul 600 + 31 Jul 23:55-24:00 300 = 3 300 s
    # availability = 100 × (1 - 3 300 / 2 674 800) = 99.87662… -> 99.876; allowed 0.002 × 2 674 800 = 5 349.6 s
    expected = {"unmonitored_seconds": 0, "maintenance_seconds": 3600, "eligible_seconds": 2674800,
                "downtime_seconds": 3300, "availability_display": "99.876",
                "allowed_downtime_seconds": 5349.6, "met": True, "blips": 1}
    assert figures(pay, expected) == expected
    assert sorted((w["reason"], w["late"], w["excluded_seconds"]) for w in pay["maintenance_windows"]) == [
        ("after the fact", True, 0), ("on time", False, 3600), ("withdrawn", False, 0)]
    # Incidents (as of 28 November):
    #  Wed 8 Jul 02:10 connect, 600 s: acknowledge 07:10 missed; fix Thu 9 Jul 02:10 met.
    #  Tue 14 Jul 10:00 http_status, 1 800 s: acknowledge 15:00 missed; fix: 14 July is closed,
    #    Wed 15 00:00 + 24wh -> Thu 16 Jul 00:00, met.
    #  Tue 21 Jul 10:00 http_status, 600 s: acknowledge 15:00, acknowledged 14:00 met; fix Wed 22 Jul 10:00 met.
    #  Thu 30 Jul 09:00 by hand, blocking, open: it lasts up to the as-of time, 30 Jul 09:00+02 to
    #    28 Nov 12:00+01 = 121 days 4 h = 10 468 800 s; acknowledge 14:00 missed; fix Fri 31 Jul 09:00 missed.
    #  Fri 31 Jul 23:55 timeout, not fixed when the data stop: it lasts to 00:05 + 450 s =
    #    00:12:30, 1 050 s, of which July counts 300 s; acknowledge 1 Aug 04:55 missed; fix 24wh =
    #    5 min on Friday + Monday 3 August 23 h 55 -> Mon 3 Aug 23:55, missed.
    assert incident_rows(pay) == expected_rows([
        ("2026-07-08T02:10+02:00", "2026-07-08T02:20+02:00", "blocking", "connect", 600, 600,
         "2026-07-08T07:10+02:00", "missed", "2026-07-09T02:10+02:00", "met"),
        ("2026-07-14T10:00+02:00", "2026-07-14T10:30+02:00", "blocking", "http_status", 1800, 1800,
         "2026-07-14T15:00+02:00", "missed", "2026-07-16T00:00+02:00", "met"),
        ("2026-07-21T10:00+02:00", "2026-07-21T10:10+02:00", "blocking", "http_status", 600, 600,
         "2026-07-21T15:00+02:00", "met", "2026-07-22T10:00+02:00", "met"),
        ("2026-07-30T09:00+02:00", None, "blocking", None, 10468800, 0,
         "2026-07-30T14:00+02:00", "missed", "2026-07-31T09:00+02:00", "missed"),
        ("2026-07-31T23:55+02:00", None, "blocking", "timeout", 1050, 300,
         "2026-08-01T04:55+02:00", "missed", "2026-08-03T23:55+02:00", "missed"),
    ])
    (blip,) = pay["blip_events"]
    assert (t(blip["start"]), t(blip["end"]), blip["checks"]) == (
        t("2026-07-31T23:45+02:00"), t("2026-07-31T23:50+02:00"), 1)


def test_july_a_month_all_in_maintenance_has_no_availability(tmp_path):
    config, _ = write_month(tmp_path, july())
    legacy = section(report(config, "2026-07", AS_OF_DONE), "legacy")
    # maintenance 2 678 400 s = the whole month; eligible 0: no availability, not met, no budget.
    expected = {"maintenance_seconds": 2678400, "eligible_seconds": 0, "availability_display": None,
                "met": False, "allowed_downtime_seconds": 0}
    assert figures(legacy, expected) == expected


def test_july_as_of_before_a_cancellation(tmp_path):
    config, _ = write_month(tmp_path, july())
    pay = section(report(config, "2026-07", "2026-07-15T12:00+02:00"), "pay")
    # As of 15 July 12:00 the window of 14 July is not cancelled yet: it excuses 3 600 s and the
    # outage inside it, which has no deadlines. The window of 8 July is declared (on the 9th):
    # late, it excuses nothing.
    # Counted: 14.5 days = 1 252 800 s; maintenance 3 600 + 3 600 = 7 200; eligible 1 245 600 s
    # downtime 600 (8 July); availability = 100 × (1 - 600 / 1 245 600) = 99.95183… -> 99.951
    # allowed = 0.002 × 1 245 600 = 2 491.2 s
    expected = {"maintenance_seconds": 7200, "eligible_seconds": 1245600, "downtime_seconds": 600,
                "availability_display": "99.951", "allowed_downtime_seconds": 2491.2}
    assert figures(pay, expected) == expected
    inside = incident(pay, "2026-07-14T10:00+02:00")
    assert (inside["in_maintenance"], inside["acknowledge"], inside["fix"]) == (True, "none", "none")


def test_july_acknowledgement_recorded_later_counts_from_its_date(tmp_path):
    # docs/accounting.md's choice: an acknowledgement recorded on the 25th, dated the 21st at
    # 14:00, counts from its date, even in a report as of the 22nd (before it was recorded).
    config, _ = write_month(tmp_path, july())
    pay = section(report(config, "2026-07", "2026-07-22T12:00+02:00"), "pay")
    acked = incident(pay, "2026-07-21T10:00+02:00")
    assert (same_time(acked["acknowledged"], "2026-07-21T14:00+02:00"), acked["acknowledge"]) == (True, "met")


def test_august_counts_the_end_of_an_outage_the_data_stop_in(tmp_path):
    config, _ = write_month(tmp_path, july())
    pay = section(report(config, "2026-08", AS_OF_DONE), "pay")
    # August: 31 days = 2 678 400 s. The outage of 31 July goes on to 00:12:30: August holds
    # 00:00-00:12:30 = 750 s, monitored and down; the rest, 2 677 650 s, is unmonitored.
    # availability = 100 × (1 - 750 / 750) = 0 -> 0.000; allowed = 0.002 × 750 = 1.5 s; no blip
    # (the blip of 31 July 23:45 is July's).
    expected = {"unmonitored_seconds": 2677650, "eligible_seconds": 750, "downtime_seconds": 750,
                "availability_display": "0.000", "allowed_downtime_seconds": 1.5, "met": False, "blips": 0}
    assert figures(pay, expected) == expected
    # Incidents overlapping August: the one recorded by hand on 30 July, still open, and the
    # outage of 31 July, 750 s of it counted here.
    assert [(t(i["start"]), i["end"], i["duration_seconds"], i["downtime_seconds"], i["source"])
            for i in sorted(pay["incidents"], key=lambda i: t(i["start"]))] == [
        (t("2026-07-30T09:00+02:00"), None, 10468800, 0, "manual"),
        (t("2026-07-31T23:55+02:00"), None, 1050, 750, "detected")]


@pytest.mark.parametrize("policy, downtime, inside", [("count", 2250, False), ("exclude", 1200, True)])
def test_november_window_declared_by_command_after_the_fact(tmp_path, policy, downtime, inside):
    # `probe maintenance add` declares now a window that lies in the past: 20 November
    # 09:00-11:00 (the outage the data stop in, 09:50 to 10:07:30, is inside it). Reported as of
    # now (the window exists only from now on):
    #   count:   the window began before its declaration: it excuses nothing; downtime stays
    #            600 + 600 + 1 050 = 2 250 s and the outage keeps its deadlines;
    #   exclude: it excuses its 7 200 s; downtime 600 + 600 = 1 200 s; the outage lies entirely
    #            inside it: no deadlines.
    config, _ = write_month(tmp_path, [november()], {"late_maintenance": policy})
    added = CliRunner().invoke(cli, ["maintenance", "add", "--config", str(config), "--start", "2026-11-20T09:00",
                                     "--end", "2026-11-20T11:00", "--endpoint", "shop", "--reason", "restore",
                                     "--by", "ops"])
    assert added.exit_code == 0, added.output
    result = CliRunner().invoke(cli, ["report", "--config", str(config), "--format", "json", "--month", "2026-11"])
    assert result.exit_code == 0, result.output
    shop = section(json.loads(result.stdout), "shop")
    (window,) = shop["maintenance_windows"]
    assert (window["late"], window["excluded_seconds"], window["declared_by"]) == (
        True, 7200 if policy == "exclude" else 0, "ops")
    assert shop["downtime_seconds"] == downtime
    ongoing = incident(shop, "2026-11-20T09:50+01:00")
    assert ongoing["in_maintenance"] is inside


def test_june_html_shows_the_budget_cut_down_to_the_second(tmp_path):
    config, _ = write_month(tmp_path, june(), endpoints=JUNE_ENDPOINTS)
    page = tmp_path / "june.html"
    result = CliRunner().invoke(cli, ["report", "--config", str(config), "--month", "2026-06", "--as-of", AS_OF_DONE,
                                      "--lang", "en", "--endpoint", "api", "-o", str(page)])
    assert result.exit_code == 0, result.output
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())
    # api: allowed 5 170.700998 s is 1 h 26 min 10 s cut down (rounded: 11 s); downtime 5 175 s
    # = 1 h 26 min 15 s; availability 99.799 %, breached.
    assert "Availability 99.799% Target 99.8% · ✗ Breached Downtime 1 h 26 min 15 s" \
           " Allowed budget 1 h 26 min 10 s" in text

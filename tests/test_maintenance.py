"""Maintenance with a paper trail: every window is a record with the time it was declared; only
what follows the declaration excuses downtime (unless [sla] late_maintenance = "exclude"); the
report lists every window with its declaration and marks the late ones; `probe maintenance
add|list|cancel`. Figures worked out by hand in the comments (rules: docs/accounting.md).

October 2026 in Paris lasts 745 h = 2 682 000 s; "api" is checked every 300 s.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from probe import config as config_module
from probe.store import maintenance
from probe.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from test_report import (  # noqa: E402  (the history helpers of the report tests)
    OCT_END, OCT_START, OCTOBER, Timeline, exact, import_history, paris, probe, report_json, run, section,
    write_config, write_jsonl,
)

# Wed 14 Oct 2026: api is down from 22:00 (and its re-check at 22:00:05) until the first check
# up at 23:00: one blocking outage of 3 600 s.
OUTAGE_START, OUTAGE_END = paris(2026, 10, 14, 22), paris(2026, 10, 14, 23)
# The window: 21:30 -> 23:30, 7 200 s.
WINDOW = (paris(2026, 10, 14, 21, 30), paris(2026, 10, 14, 23, 30))


@pytest.fixture
def api(tmp_path):
    timeline = Timeline("api", OCT_START, OCT_END).episode(OUTAGE_START, OUTAGE_END, "http_status")
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    return {"db": db, "tmp": tmp_path, "config": write_config(tmp_path / "probe.toml", ["api"])}


def declare(db, start, end, at, reason="upgrade", endpoints=None) -> int:
    """A window declared at ``at`` (as `probe maintenance add` run then would)."""
    with Store.open(db) as store:
        return maintenance.add(store, start, end, endpoints, reason, "alice", now=at)


def _config_with_policy(tmp, policy):
    path = write_config(tmp / f"{policy}.toml", ["api"])
    text = path.read_text().replace('timezone = "Europe/Paris"',
                                    f'timezone = "Europe/Paris"\nlate_maintenance = "{policy}"')
    path.write_text(text)
    return path


def test_a_window_declared_ahead_excuses_all_of_it(api):
    declare(api["db"], *WINDOW, at=paris(2026, 10, 1, 9))
    e = section(report_json(api["config"], api["db"], "--month", "2026-10"), "api")
    # the whole outage (22:00-23:00) is inside 21:30-23:30: no downtime; 7 200 s of maintenance
    assert (e["downtime_seconds"], e["maintenance_seconds"]) == (0, 7200)
    assert e["eligible_seconds"] == OCTOBER - 7200  # 2 674 800
    assert e["availability_display"] == "100.000"
    [window] = e["maintenance_windows"]
    assert window == {
        "id": window["id"], "start": "2026-10-14T21:30:00+02:00", "end": "2026-10-14T23:30:00+02:00",
        "reason": "upgrade", "declared_at": "2026-10-01T09:00:00+02:00", "declared_by": "alice",
        "source": "command", "recurring": False, "late": False, "cancelled_at": None, "excluded_seconds": 7200.0,
    }
    # an incident entirely inside maintenance has no deadline to miss
    [incident] = e["incidents"]
    assert incident["in_maintenance"] is True
    assert (incident["acknowledge"], incident["fix"]) == ("none", "none")
    assert (incident["acknowledge_deadline"], incident["fix_deadline"]) == (None, None)


@pytest.mark.parametrize("policy", ["count", "exclude"])
def test_the_part_before_a_late_declaration_counts_unless_the_contract_allows_it(api, policy):
    # declared at 22:30, half an hour into the outage
    declare(api["db"], *WINDOW, at=paris(2026, 10, 14, 22, 30))
    config = _config_with_policy(api["tmp"], policy) if policy == "exclude" else api["config"]
    e = section(report_json(config, api["db"], "--month", "2026-10"), "api")
    [window] = e["maintenance_windows"]
    assert window["late"] is True and window["declared_at"] == "2026-10-14T22:30:00+02:00"
    [incident] = e["incidents"]
    if policy == "count":
        # excused: 22:30-23:30 (3 600 s); 22:00-22:30 is ordinary time, so downtime
        # 1 800 s; eligible 2 682 000 - 3 600 = 2 678 400; 100 x (1 - 1 800 / 2 678 400)
        # = 99.93279...
        assert (e["maintenance_seconds"], e["downtime_seconds"]) == (3600, 1800)
        assert e["eligible_seconds"] == 2_678_400
        assert exact(1800, 2_678_400) == Fraction(2_676_600 * 100, 2_678_400)
        assert e["availability_display"] == "99.932"
        assert window["excluded_seconds"] == 3600
        # the outage began before the window was declared: its deadlines stand
        assert incident["in_maintenance"] is False and incident["acknowledge"] == "missed"
    else:
        # the whole window excused: as if declared ahead
        assert (e["maintenance_seconds"], e["downtime_seconds"]) == (7200, 0)
        assert window["excluded_seconds"] == 7200
        assert incident["in_maintenance"] is True


def test_a_config_window_first_seen_after_the_month_excuses_nothing_and_says_so(api, tmp_path):
    """A window added to the config in November does not turn October into 100 %."""
    config = write_config(tmp_path / "late.toml", ["api"], maintenance="""
[[maintenance]]
start = "2026-10-14T21:30"
end = "2026-10-14T23:30"
reason = "après coup"
""")
    first = report_json(config, api["db"], "--month", "2026-10")
    e = section(first, "api")
    # the full outage counts: 100 x (1 - 3 600 / 2 682 000) = 99.86577...
    assert e["downtime_seconds"] == 3600 and e["maintenance_seconds"] == 0
    assert e["availability_display"] == "99.865"
    [window] = e["maintenance_windows"]
    assert window["late"] is True and window["excluded_seconds"] == 0 and window["source"] == "config"
    # seen once: the next report keeps its first declaration
    again = section(report_json(config, api["db"], "--month", "2026-10"), "api")
    assert again["maintenance_windows"][0]["declared_at"] == window["declared_at"]
    with Store.open(api["db"]) as store:
        assert len(maintenance.declared(store)) == 1
    html = run("report", "--config", config, "--db", api["db"], "--month", "2026-10", "-o", tmp_path / "r.html")
    assert html.exit_code == 0, html.output
    text = (tmp_path / "r.html").read_text()
    assert "déclarée en retard" in text and "mark-late" in text


def test_a_recurring_config_window_is_declared_once_for_its_occurrences(api):
    config = write_config(api["tmp"] / "weekly.toml", ["api"], maintenance="""
[[maintenance]]
every = "wednesday"
at = "21:30"
duration = "2h"
reason = "weekly"
""")
    with Store.open(api["db"]) as store:
        # a daemon started on 10 October saw it: Wednesdays 7 Oct (before) and 14, 21, 28 Oct
        assert maintenance.declare_from_config(store, config_module.load(config), paris(2026, 10, 10)) == 1
        assert maintenance.declare_from_config(store, config_module.load(config), paris(2026, 10, 20)) == 0
    e = section(report_json(config, api["db"], "--month", "2026-10"), "api")
    windows = e["maintenance_windows"]
    assert [w["start"][:10] for w in windows] == ["2026-10-07", "2026-10-14", "2026-10-21", "2026-10-28"]
    assert [w["late"] for w in windows] == [True, False, False, False]
    assert {w["declared_at"] for w in windows} == {"2026-10-10T00:00:00+02:00"}
    # 7 Oct counts as ordinary time (late, "count"); three windows of 7 200 s excused
    assert [w["excluded_seconds"] for w in windows] == [0, 7200, 7200, 7200]
    assert e["maintenance_seconds"] == 3 * 7200 and e["downtime_seconds"] == 0


def test_a_cancelled_window_excuses_nothing(api):
    window_id = declare(api["db"], *WINDOW, at=paris(2026, 10, 1, 9))
    with Store.open(api["db"]) as store:
        maintenance.cancel(store, window_id, "bob", now=paris(2026, 10, 2, 9))
    e = section(report_json(api["config"], api["db"], "--month", "2026-10"), "api")
    assert e["downtime_seconds"] == 3600 and e["maintenance_seconds"] == 0
    [window] = e["maintenance_windows"]
    assert window["cancelled_at"] == "2026-10-02T09:00:00+02:00" and window["excluded_seconds"] == 0
    [incident] = e["incidents"]
    assert incident["in_maintenance"] is False
    # as of before it was cancelled, it excused the outage
    before = section(report_json(api["config"], api["db"], "--month", "2026-10", "--as-of", "2026-10-01T12:00"),
                     "api")
    assert before["maintenance_windows"][0]["cancelled_at"] is None


def test_incident_in_maintenance_shows_no_missed_badge_in_the_browser_text(api, tmp_path):
    declare(api["db"], *WINDOW, at=paris(2026, 10, 1, 9))
    out = tmp_path / "r.html"
    done = run("report", "--config", api["config"], "--db", api["db"], "--month", "2026-10", "-o", out)
    assert done.exit_code == 0, done.output
    html = out.read_text()
    incidents = html[html.index('class="data incidents"'):]
    incidents = incidents[:incidents.index("</table>")]
    assert "sans objet (maintenance)" in incidents
    assert "status-missed" not in incidents and "dépassée" not in incidents


# ------------------------------------------------------------------ the commands


def test_maintenance_add_list_cancel_real_process(api):
    db, config = api["db"], api["config"]
    done = probe("maintenance", "add", "--config", config, "--db", db, "--start", "2027-03-02T22:00",
                 "--end", "2027-03-03T00:00", "--endpoint", "api", "--reason", "upgrade", "--by", "carol")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "maintenance window 1 declared"
    late = probe("maintenance", "add", "--db", db, "--start", "2026-10-01T00:00", "--end", "2026-10-01T01:00",
                 "--reason", "forgot")
    assert late.returncode == 0 and late.stdout.strip() == "maintenance window 2 declared (late: it began before now)"
    listed = probe("maintenance", "list", "--config", config, "--db", db)
    assert listed.returncode == 0, listed.stderr
    header, first, second = listed.stdout.splitlines()[:3]
    assert header.split()[:4] == ["ID", "START", "END", "ENDPOINTS"]
    assert "upgrade" in listed.stdout
    assert "carol" in listed.stdout and "late" in listed.stdout
    rows = [json.loads(line) for line in probe("maintenance", "list", "--db", db, "--json").stdout.splitlines()]
    assert [(r["id"], r["start"], r["endpoints"], r["declared_by"], r["late"]) for r in rows] == [
        (1, "2027-03-02T22:00:00+01:00", ["api"], "carol", False),
        (2, "2026-10-01T00:00:00+02:00", None, rows[1]["declared_by"], True),
    ]
    october = [json.loads(line) for line in
               probe("maintenance", "list", "--db", db, "--json", "--month", "2026-10").stdout.splitlines()]
    assert [r["id"] for r in october] == [2]
    done = probe("maintenance", "cancel", "1", "--db", db, "--by", "dave")
    assert done.returncode == 0 and done.stdout.strip() == "maintenance window 1 cancelled"
    rows = [json.loads(line) for line in probe("maintenance", "list", "--db", db, "--json").stdout.splitlines()]
    assert rows[0]["cancelled_by"] == "dave" and rows[0]["cancelled_at"]


@pytest.mark.parametrize("args, message", [
    (["cancel", "7"], "probe: no maintenance window 7 in {db}"),
    (["add", "--start", "2027-01-02T10:00", "--end", "2027-01-02T09:00", "--reason", "x"],
     "probe: --end 2027-01-02T09:00 must be after --start 2027-01-02T10:00"),
    (["add", "--start", "2027-01-02T10:00", "--end", "2027-01-02T11:00", "--reason", "x", "--endpoint", "nope"],
     "probe: no endpoint named 'nope' in the config or in {db}"),
    (["add", "--start", "soon", "--end", "2027-01-02T11:00", "--reason", "x"],
     "probe: 'soon' is not a date or time (like 2026-10-01 or 2026-10-01T12:00Z)"),
    (["list", "--month", "2026-13"], "probe: '2026-13' is not a month (like 2026-10)"),
])
def test_maintenance_errors_are_one_line(api, args, message):
    done = probe("maintenance", *args, "--db", api["db"])
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == message.format(db=api["db"])


def test_cancelling_twice_is_refused(api):
    window_id = declare(api["db"], *WINDOW, at=paris(2026, 10, 1, 9))
    assert probe("maintenance", "cancel", window_id, "--db", api["db"]).returncode == 0
    again = probe("maintenance", "cancel", window_id, "--db", api["db"])
    assert again.returncode == 3
    assert again.stderr.strip().splitlines()[-1] == f"probe: maintenance window {window_id} is already cancelled"


def test_incident_list_knows_an_incident_inside_maintenance(api):
    declare(api["db"], *WINDOW, at=paris(2026, 10, 1, 9))
    done = probe("incident", "list", "--config", api["config"], "--db", api["db"], "--days", "3650", "--json")
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in done.stdout.splitlines()]
    assert (row["acknowledge"], row["fix"], row["in_maintenance"]) == ("none", "none", True)

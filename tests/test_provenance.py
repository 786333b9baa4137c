"""The report tells the truth about the probe: from when to when it recorded each endpoint, every
interruption of the daemon, where the history came from (the daemon at a site, or an import
from a file, when); and `probe export` / `probe import` carry that paper trail (maintenance
windows, incidents recorded by hand, acknowledgements, daemon runs, earlier imports)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from probe.store import maintenance
from probe.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from test_report import (  # noqa: E402  (the history helpers of the report tests)
    OCT_END, OCT_START, Timeline, import_history, paris, report_json, run, section, write_config, write_jsonl,
)


def ms(epoch: float) -> int:
    return int(epoch * 1000)


def daemon_run(started, stopped, reason="stop", pid=812):
    return {"record": "daemon_run", "started_at": ms(started), "stopped_at": ms(stopped) if stopped else None,
            "stop_reason": reason if stopped else None, "pid": pid, "version": "1.4.0", "site": "paris-1",
            "heartbeat_at": ms(stopped or started)}


def october(tmp_path, *records):
    """api checked every 300 s through October (and down Wed 7 Oct 10:00-10:15), imported
    from one file with the given paper-trail records."""
    timeline = Timeline("api", OCT_START, OCT_END).episode(paris(2026, 10, 7, 10), paris(2026, 10, 7, 10, 15),
                                                           "http_status")
    path = write_jsonl(tmp_path / "october.jsonl", timeline)
    with open(path, "a", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")
    db = tmp_path / "probe.db"
    import_history(db, path)
    return db, path, write_config(tmp_path / "probe.toml", ["api"])


def test_imported_history_is_said_so_and_never_called_uninterrupted(tmp_path):
    db, path, config = october(tmp_path)
    model = report_json(config, db, "--month", "2026-10", "--lang", "en")
    # no daemon ever ran on this database: the whole month is a stretch no run covers
    assert model["probe_ran_throughout"] is False and model["daemon_runs"] == []
    assert model["daemon_gaps"] == [{"start": "2026-10-01T00:00:00+02:00", "end": "2026-11-01T00:00:00+01:00",
                                     "seconds": 2_682_000, "reason": "not_recorded"}]
    assert model["history_imported"] is True
    e = section(model, "api")
    assert e["imported"] is True
    [span] = e["imports"]
    # 745 h x 12 = 8 940 checks on the 300 s grid of the month, plus the re-check of 10:00:05
    assert (span["file"], span["checks"]) == (str(path), 8941)
    assert (span["first_check"], span["last_check"]) == ("2026-10-01T00:00:00+02:00", "2026-10-31T23:55:00+01:00")
    # recorded from the first check to the end of the last one's coverage (capped at the month's end)
    assert (e["recorded_from"], e["recorded_until"]) == ("2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00")
    for lang, imported, uninterrupted in (("en", "History imported from the file",
                                           "The probe ran without interruption this month."),
                                          ("fr", "Historique importé du fichier",
                                           "Aucune interruption de la sonde ce mois-ci.")):
        out = tmp_path / f"r-{lang}.html"
        assert run("report", "--config", config, "--db", db, "--month", "2026-10", "--lang", lang,
                   "-o", out).exit_code == 0
        html = out.read_text()
        assert imported in html and str(path) in html
        assert uninterrupted not in html


def test_every_daemon_interruption_is_listed_with_why(tmp_path):
    # run 1 from 30 Sep, crashed at its last heartbeat Tue 20 Oct 03:00; run 2 from 03:10,
    # stopped Mon 2 Nov: one gap of 600 s
    db, path, config = october(
        tmp_path,
        daemon_run(paris(2026, 9, 30), paris(2026, 10, 20, 3), "crash", pid=812),
        daemon_run(paris(2026, 10, 20, 3, 10), paris(2026, 11, 2), "stop", pid=9140),
    )
    model = report_json(config, db, "--month", "2026-10")
    assert model["daemon_gaps"] == [{"start": "2026-10-20T03:00:00+02:00", "end": "2026-10-20T03:10:00+02:00",
                                     "seconds": 600, "reason": "crashed"}]
    assert model["probe_ran_throughout"] is False
    assert [(r["pid"], r["site"], r["end_reason"], r["imported_from"]) for r in model["daemon_runs"]] == [
        (812, "paris-1", "crashed", str(path)), (9140, "paris-1", "stopped", str(path))]
    # as of 20 Oct 12:00 the second run was still running
    then = report_json(config, db, "--month", "2026-10", "--as-of", "2026-10-20T12:00")
    assert then["daemon_runs"][1]["ended"] is None and then["daemon_runs"][1]["end_reason"] is None
    out = tmp_path / "r.html"
    assert run("report", "--config", config, "--db", db, "--month", "2026-10", "-o", out).exit_code == 0
    html = out.read_text()
    assert "sonde interrompue (arrêt brutal)" in html and "9140" in html
    assert "Aucune interruption de la sonde" not in html


def test_uninterrupted_only_when_daemon_runs_cover_the_whole_month(tmp_path):
    db, path, config = october(tmp_path, daemon_run(paris(2026, 9, 30), paris(2026, 11, 2)))
    model = report_json(config, db, "--month", "2026-10", "--lang", "en")
    assert model["daemon_gaps"] == [] and model["probe_ran_throughout"] is True
    out = tmp_path / "r.html"
    assert run("report", "--config", config, "--db", db, "--month", "2026-10", "--lang", "en",
               "-o", out).exit_code == 0
    assert "The probe ran without interruption this month." in out.read_text()


def test_export_and_import_carry_the_paper_trail(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    db, path, config = october(a, daemon_run(paris(2026, 9, 30), paris(2026, 11, 2)))
    with Store.open(db) as store:
        maintenance.add(store, paris(2026, 10, 14, 22), paris(2026, 10, 14, 23), ("api",), "upgrade", "alice",
                        now=paris(2026, 10, 1, 9))
        late = maintenance.add(store, paris(2026, 10, 7, 9), paris(2026, 10, 7, 11), None, "après coup", "bob",
                               now=paris(2026, 10, 7, 10, 30))
        maintenance.cancel(store, late, "carol", now=paris(2026, 10, 8))
        manual = store.open_incident("api", paris(2026, 10, 8, 9), "major", "totals wrong")
        store.close_incident(manual, at=paris(2026, 10, 9, 10))
        store.ack_incident(endpoint="api", start=paris(2026, 10, 7, 10), by="alice", at=paris(2026, 10, 7, 10, 20))
    exported = tmp_path / "export.jsonl"
    assert run("export", "--db", db, "-o", exported).exit_code == 0
    records = [json.loads(line) for line in exported.read_text().splitlines() if '"record"' in line]
    assert sorted({r["record"] for r in records}) == ["daemon_run", "import", "incident", "maintenance"]
    fresh = tmp_path / "b.db"
    done = run("import", exported, "--db", fresh)
    assert done.exit_code == 0, done.output
    one = report_json(config, db, "--month", "2026-10")
    two = report_json(config, fresh, "--month", "2026-10")
    e1, e2 = section(one, "api"), section(two, "api")
    # the windows with their declarations, the incidents with their acknowledgement and closing
    assert e2["maintenance_windows"] == [dict(w, id=w2["id"]) for w, w2 in
                                         zip(e1["maintenance_windows"], e2["maintenance_windows"])]
    assert [w["late"] for w in e2["maintenance_windows"]] == [True, False]
    assert e2["maintenance_windows"][0]["cancelled_at"] == "2026-10-08T00:00:00+02:00"
    strip = lambda rows: [{k: v for k, v in row.items() if k != "id"} for row in rows]  # noqa: E731
    assert strip(e2["incidents"]) == strip(e1["incidents"])
    assert e2["incidents"][0]["acknowledged_by"] == "alice"
    assert e2["incidents"][1]["source"] == "manual" and e2["incidents"][1]["end"] == "2026-10-09T10:00:00+02:00"
    for key in ("availability_display", "downtime_seconds", "maintenance_seconds", "eligible_seconds"):
        assert e2[key] == e1[key], key
    # the daemon run came along (brought by the import), and both imports are known
    assert two["probe_ran_throughout"] is True
    assert [r["pid"] for r in two["daemon_runs"]] == [812]
    assert [span["file"] for span in e2["imports"]] == [str(path), str(exported)]
    # importing again adds nothing
    with Store.open(fresh) as store:
        from probe.store import import_jsonl

        with open(exported, encoding="utf-8") as fh:
            stats = import_jsonl(store, fh)
    assert (stats.added, stats.records) == (0, 0)


def test_a_bad_paper_trail_record_is_one_line_and_imports_nothing(tmp_path):
    timeline = Timeline("api", OCT_START, OCT_START + 3600)
    path = write_jsonl(tmp_path / "h.jsonl", timeline)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"record": "maintenance", "start": "tomorrow", "end": 1, "declared_at": 1}) + "\n")
    db = tmp_path / "probe.db"
    done = run("import", path, "--db", db)
    assert done.exit_code == 3
    assert done.output.strip().endswith("nothing was imported")
    assert "line 13: maintenance: maintenance: start must be int or null, not 'tomorrow'" in done.output
    with Store.open(db) as store:
        assert store.endpoints() == []


def test_a_daemon_that_fell_silent_is_an_interruption_from_its_last_heartbeat(tmp_path):
    db, path, config = october(tmp_path)
    with Store.open(db) as store:  # a daemon started on 30 Sep, killed on 20 Oct at 03:00 (kill -9)
        run_id = store.start_daemon_run(pid=4242, version="1.4.0", site="paris-1")
        store.heartbeat(run_id, at=paris(2026, 10, 20, 3))
        store.db.execute("UPDATE daemon_runs SET started_at = ? WHERE id = ?", (ms(paris(2026, 9, 30)), run_id))
    model = report_json(config, db, "--month", "2026-10")
    # no heartbeat for more than 60 s after 03:00, and no later run: not running from 03:00
    assert model["daemon_gaps"] == [{"start": "2026-10-20T03:00:00+02:00", "end": "2026-11-01T00:00:00+01:00",
                                     "seconds": 11 * 86400 + 21 * 3600 + 3600, "reason": "silent"}]
    # 20 Oct 03:00 -> 31 Oct 03:00 is 11 days, then 21 h to 1 Nov 00:00, plus the hour that
    # summer time's end adds on 25 October: 1 029 600 s
    # as of 30 s after that heartbeat, it was still running
    then = report_json(config, db, "--month", "2026-10", "--as-of", "2026-10-20T03:00:30")
    assert then["daemon_gaps"] == [] and then["probe_ran_throughout"] is True

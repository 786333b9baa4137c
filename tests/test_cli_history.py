"""The history commands as a user runs them (real processes): export, import, backup, status,
incident, and secrets kept out of everything the probe writes."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from probe.cli import cli as main_cli

TOKEN = "s3cr3t-T0KEN-4f9a2c71e8"


def probe(*args, env=None, timeout=60):
    """The CLI as a user runs it: a real process."""
    return subprocess.run([sys.executable, "-m", "probe", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def cli(*args, env=None):
    """The same CLI in this process (much faster); an exception escaping it fails the test."""
    result = CliRunner().invoke(main_cli, [str(a) for a in args], env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, done.stderr
    return done


# Without --config, a command first says which defaults it uses, on a line of its own.
DEFAULTS_NOTE = "probe: no config file (--config or $PROBE_CONFIG): using the defaults:"


def one_line_error(done: subprocess.CompletedProcess, *expected: str) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith(DEFAULTS_NOTE)]
    assert len(lines) == 1, done.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def utc(at: float) -> str:
    moment = datetime.fromtimestamp(at, timezone.utc)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds").replace("+00:00", "Z")


def full_record(endpoint, at, state="up", **changes) -> dict:
    """A line as `probe export` writes it: every key, in its order."""
    record = {
        "endpoint": endpoint, "url": f"https://{endpoint}.example.com/health", "at": utc(at), "state": state,
        "error_class": None, "error": None, "http_status": 200, "dns_ms": 1.2, "connect_ms": 10.5,
        "tls_ms": 22.3, "ttfb_ms": 80.1, "total_ms": 95.7, "wait_ms": 0.3, "tls_version": "TLSv1.3",
        "tls_cipher": "TLS_AES_256_GCM_SHA384", "cert_not_after": "2027-01-15T12:00:00Z", "cert_days_left": 79,
        "cert_issuer": "CN=R11,O=Let's Encrypt,C=US", "cert_subject": f"CN={endpoint}.example.com",
        "interval_s": 60.0, "site": "paris-1",
    }
    record.update(changes)
    return record


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def history(tmp_path):
    """Two endpoints, an hour of October 2026, with an outage, a slow check, a millisecond
    time, absent facts, and non-ASCII text."""
    start = datetime(2026, 10, 7, 8, tzinfo=timezone.utc).timestamp()
    records = []
    for k in range(60):
        at = start + 60 * k
        if 10 <= k < 13:
            records.append(full_record("api", at, "down", error_class="http_status", http_status=503,
                                       error="HTTP 503, expected 200-299 — «indisponible»"))
        elif k == 20:
            records.append(full_record("api", at + 0.123, "degraded", error_class="too_slow", total_ms=2500.5,
                                       error="took 2500ms, over max_latency 2s"))
        else:
            records.append(full_record("api", at))
        if k % 2 == 0:
            records.append(full_record("web", at + 7, "down", url=None, error_class="connect", error="refused",
                                       http_status=None, dns_ms=0.4, connect_ms=None, tls_ms=None, ttfb_ms=None,
                                       total_ms=None, tls_version=None, tls_cipher=None, cert_not_after=None,
                                       cert_days_left=None, cert_issuer=None, cert_subject=None,
                                       interval_s=120.0))
    records.sort(key=lambda r: (r["at"], r["endpoint"]))
    path = write_jsonl(tmp_path / "history.jsonl", records)
    return {"path": path, "records": records}


def checks_of(exported: str) -> str:
    """The check lines of an export (its paper-trail records are tested in test_provenance)."""
    return "".join(line for line in exported.splitlines(keepends=True) if '"record"' not in line)


def test_export_import_round_trip_is_identical(tmp_path, history):
    db = tmp_path / "one.db"
    done = ok(probe("import", history["path"], "--db", db))
    assert done.stdout.startswith(f"imported {len(history['records'])} checks (0 already present)")
    first = checks_of(ok(cli("export", "--db", db)).stdout)
    # what went in comes out, key for key
    assert [json.loads(line) for line in first.splitlines()] == history["records"]
    assert first == history["path"].read_text(encoding="utf-8")

    exported = tmp_path / "export.jsonl"
    done = ok(cli("export", "--db", db, "-o", exported))
    assert done.stderr.strip().splitlines()[-1] == f"exported {len(history['records'])} checks to {exported}"
    fresh = tmp_path / "two.db"
    ok(cli("import", exported, "--db", fresh))
    assert checks_of(ok(probe("export", "--db", fresh)).stdout) == first
    # and the same figures from both
    one = json.loads(ok(cli("report", "--db", db, "--month", "2026-10", "--format", "json")).stdout)
    two = json.loads(ok(cli("report", "--db", fresh, "--month", "2026-10", "--format", "json")).stdout)
    for model in (one, two):
        model.pop("generated_at"), model.pop("as_of")
        for endpoint in model["endpoints"]:  # two came through one more import
            endpoint.pop("imports")
        for incident in model["endpoints"][1]["incidents"]:  # web is still down: its
            incident.pop("duration_seconds")  # duration runs to now
    assert one == two
    # filters
    only_web = checks_of(ok(cli("export", "--db", db, "--endpoint", "web", "--since", "2026-10-07T08:30Z")).stdout)
    lines = [json.loads(line) for line in only_web.splitlines()]
    assert lines and {r["endpoint"] for r in lines} == {"web"}
    assert all(r["at"] >= "2026-10-07T08:30" for r in lines)


def test_importing_twice_adds_nothing(tmp_path, history):
    db = tmp_path / "probe.db"
    ok(cli("import", history["path"], "--db", db))
    before = ok(cli("export", "--db", db)).stdout
    done = ok(probe("import", history["path"], "--db", db))
    total = len(history["records"])
    assert re.match(rf"imported 0 checks \({total} already present\) in \d+\.\ds$", done.stdout.strip())
    assert ok(cli("export", "--db", db)).stdout == before


def test_a_bad_line_imports_nothing(tmp_path, history):
    lines = history["path"].read_text().splitlines()
    lines[2] = lines[2].replace('"state": "up"', '"state": "sideways"')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    db = tmp_path / "probe.db"
    done = probe("import", bad, "--db", db)
    message = one_line_error(done, "line 3", "sideways", "nothing was imported")
    assert message.startswith("probe: ")
    assert ok(cli("export", "--db", db)).stdout == ""
    # not JSON at all
    bad.write_text(lines[0] + "\n{oops\n")
    one_line_error(cli("import", bad, "--db", db), "line 2", "not valid JSON")
    assert ok(cli("export", "--db", db)).stdout == ""
    # --skip-errors imports the good lines and lists the bad one
    done = ok(cli("import", bad, "--db", db, "--skip-errors"))
    assert "line 2" in done.stderr and done.stdout.startswith("imported 1 checks")


def test_backup_is_a_sound_copy_and_rotate_keeps_n(tmp_path, history):
    db = tmp_path / "probe.db"
    ok(cli("import", history["path"], "--db", db))
    copy = tmp_path / "copy.db"
    done = ok(probe("backup", copy, "--db", db))
    assert done.stdout.startswith(f"backed up {db} to {copy}") and "integrity ok" in done.stdout
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM checks").fetchone()[0] == len(history["records"])
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert ok(cli("export", "--db", copy)).stdout == ok(cli("export", "--db", db)).stdout

    backups = tmp_path / "backups"
    backups.mkdir()
    for old in ("probe-20260101-000000.db", "probe-20260102-000000.db", "probe-20260103-000000.db"):
        (backups / old).write_bytes(b"an older backup")
    done = ok(cli("backup", backups, "--db", db, "--rotate", "2"))
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == 2 and kept[0] == "probe-20260103-000000.db"
    assert re.fullmatch(r"probe-\d{8}-\d{6}\.db", kept[1])
    assert done.stdout.count("removed old backup") == 2
    with sqlite3.connect(backups / kept[1]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # errors: one line
    one_line_error(probe("backup", tmp_path / "nowhere" / "x.db", "--db", db), "does not exist")
    one_line_error(cli("backup", copy, "--db", tmp_path / "missing.db"), "missing.db")
    one_line_error(cli("backup", copy, "--db", db, "--rotate", "2"), "not a directory")


def test_status_text_and_json(tmp_path):
    # Checks every 60 s for the last 48 hours, up to 30 s ago: "api" went down 5 h ago for
    # 30 min, "web" is down since 20 min ago.
    now = float(int(time.time()))  # whole seconds: what is written is what is stored
    first = now - 48 * 3600
    records = []
    for k in range(48 * 60):
        at = first + 60 * k
        age = now - at
        if 4.5 * 3600 < age <= 5 * 3600:
            records.append(full_record("api", at, "down", error_class="http_status", http_status=503,
                                       error="HTTP 503, expected 200-299"))
        else:
            records.append(full_record("api", at))
        if age <= 20 * 60:
            records.append(full_record("web", at + 1, "down", error_class="timeout", error="no answer within 10s",
                                       http_status=None, total_ms=None))
        else:
            records.append(full_record("web", at + 1))
    path = write_jsonl(tmp_path / "recent.jsonl", records)
    db = tmp_path / "probe.db"
    ok(cli("import", path, "--db", db))
    api_back_up = min(first + 60 * k for k in range(48 * 60) if now - (first + 60 * k) <= 4.5 * 3600)
    web_down = min(first + 60 * k + 1 for k in range(48 * 60) if now - (first + 60 * k) <= 20 * 60)

    done = ok(probe("status", "--db", db, "--json"))
    daemon, *rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert daemon == {"running": False, "started": None}
    rows = {row["endpoint"]: row for row in rows}
    api, web = rows["api"], rows["web"]
    assert api["state"] == "up" and api["since"] == utc(api_back_up)
    assert api["last_check"] == utc(first + 60 * (48 * 60 - 1))
    # 24 h: 1 800 s of downtime, all of the day covered -> 100 x (1 - 1800 / 86400) = 97.9166...
    assert api["availability_24h"] == "97.916"
    # 30 days: checked for the last 48 h only; 100 x (1 - 1800 / 172800) = 98.9583...
    assert api["availability_30d"] == "98.958"
    assert web["state"] == "down" and web["since"] == utc(web_down)
    assert web["error"] == "no answer within 10s"
    # web: down for the last 20 min (ongoing, counted to now): 100 x (1 - ~1200 / 86400) = 98.6...
    assert web["availability_24h"].startswith("98.6")

    text = ok(probe("status", "--db", db)).stdout.splitlines()
    assert text[0] == "daemon: never ran on this database"
    assert text[1].split() == ["ENDPOINT", "STATE", "SINCE", "CHECKED", "24H", "%", "30D", "%", "ERROR"]
    api_line = next(line for line in text if line.startswith("api "))
    assert api_line.split()[1] == "UP" and "97.916" in api_line and "98.958" in api_line
    web_line = next(line for line in text if line.startswith("web "))
    assert web_line.split()[1] == "DOWN" and web_line.endswith("no answer within 10s")
    # a configured endpoint never checked is listed, unknown
    config = tmp_path / "probe.toml"
    config.write_text('[[endpoint]]\nname = "new"\nurl = "https://new.example.com/"\n')
    done = ok(cli("status", "--db", db, "--config", config, "--json"))
    rows = {r["endpoint"]: r for r in map(json.loads, done.stdout.splitlines()[1:])}
    assert rows["new"]["state"] == "unknown" and rows["new"]["availability_24h"] is None
    assert rows["api"]["configured"] is False
    one_line_error(cli("status", "--db", tmp_path / "missing.db"), "no database at")


def test_incident_errors_are_one_line(tmp_path, history):
    db = tmp_path / "probe.db"
    ok(cli("import", history["path"], "--db", db))
    one_line_error(probe("incident", "ack", "999", "--db", db), "no incident 999")
    one_line_error(cli("incident", "close", "999", "--db", db), "no incident 999")
    one_line_error(probe("incident", "ack", "abc", "--db", db), "abc")
    one_line_error(cli("incident", "ack", "1", "--db", db, "--at", "yesterday"), "'yesterday'")
    one_line_error(cli("incident", "open", "--db", db, "--endpoint", "nope", "--severity", "major",
                       "--summary", "x"), "no endpoint named 'nope'")
    one_line_error(cli("incident", "open", "--db", db, "--endpoint", "api", "--severity", "huge",
                       "--summary", "x"), "huge")
    one_line_error(cli("incident", "list", "--db", tmp_path / "missing.db"), "no database at")
    # and the happy path prints the outage with an id
    listed = ok(cli("incident", "list", "--db", db, "--days", "3650", "--json")).stdout.splitlines()
    rows = [json.loads(line) for line in listed]
    assert [(r["endpoint"], r["severity"], r["start"], r["end"]) for r in rows] == [
        ("web", "blocking", "2026-10-07T10:00:07+02:00", None),  # down all along
        ("api", "blocking", "2026-10-07T10:10:00+02:00", "2026-10-07T10:13:00+02:00")]
    assert all(isinstance(r["id"], int) for r in rows)
    ok(cli("incident", "ack", rows[1]["id"], "--db", db, "--by", "bob"))
    again = [json.loads(line) for line in ok(cli("incident", "list", "--db", db, "--days", "3650",
                                                 "--json")).stdout.splitlines()]
    assert again[1]["acknowledged_by"] == "bob" and again[1]["id"] == rows[1]["id"]


# ------------------------------------------------------------------ secrets


def authorized_handler(token: str, seen: list):
    """200 only with the right bearer token, else 401; remembers what it was sent."""

    async def handler(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        good = any(line.lower() == f"authorization: bearer {token}".lower().encode()
                   for line in head.split(b"\r\n"))
        status = b"200 OK" if good else b"401 Unauthorized"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()

    return handler


def test_an_authorization_header_never_reaches_the_database_export_or_logs(tmp_path, servers, certs):
    seen: list[bytes] = []
    port = servers.serve(authorized_handler(TOKEN, seen), certs.context())
    db = tmp_path / "probe.db"
    config = tmp_path / "probe.toml"
    config.write_text(
        f'[probe]\ndatabase = "{db}"\nsite = "test"\nretry_interval = "300ms"\n\n'
        f'[[endpoint]]\nname = "private"\nurl = "https://127.0.0.1:{port}/secret"\ninterval = "1s"\n'
        f'timeout = "1s"\nca_file = "{certs.ca_file}"\nheaders = {{ Authorization = "Bearer ${{TOKEN}}" }}\n'
        f'\n[[endpoint]]\nname = "wrong"\nurl = "https://127.0.0.1:{port}/x"\ninterval = "1s"\n'
        f'timeout = "1s"\nca_file = "{certs.ca_file}"\n'
        f'headers = {{ Authorization = "Bearer ${{TOKEN}}-not-this-one" }}\n'
    )
    env = {"TOKEN": TOKEN}
    log = tmp_path / "daemon.log"
    with open(log, "w") as stderr:
        daemon = subprocess.Popen([sys.executable, "-m", "probe", "run", "--config", config, "--log-level", "DEBUG"],
                                  stdout=stderr, stderr=stderr, env={**os.environ, **env})
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(seen) < 8:
                time.sleep(0.2)
            time.sleep(1.5)
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(15) == 0
    assert any(TOKEN.encode() in head for head in seen)  # the header was sent

    exported = checks_of(ok(probe("export", "--config", config, env=env)).stdout)
    records = [json.loads(line) for line in exported.splitlines()]
    states = {(r["endpoint"], r["state"]) for r in records}
    assert ("private", "up") in states  # authorized: the header really went out
    assert ("wrong", "down") in states  # 401
    assert TOKEN not in exported and "Bearer" not in exported

    for path in tmp_path.iterdir():
        if path.name.startswith("probe.db"):
            data = path.read_bytes()
            assert TOKEN.encode() not in data, path
            assert b"Bearer" not in data, path
    logs = log.read_text()
    assert logs, "the daemon logged nothing"
    assert TOKEN not in logs and "Bearer" not in logs
    # nor anywhere `config check`, `status` or `report` print
    for args in (("config", "check", config), ("status", "--config", config),
                 ("report", "--config", config, "--month", time.strftime("%Y-%m"), "--format", "json")):
        done = ok(cli(*args, env=env))
        assert TOKEN not in done.stdout + done.stderr, args
    report = tmp_path / "report.html"
    ok(cli("report", "--config", config, "--month", time.strftime("%Y-%m"), "-o", report, env=env))
    assert TOKEN not in report.read_text(encoding="utf-8")


def test_credentials_in_a_url_are_never_stored_or_reported(tmp_path, servers, certs):
    """https://user:password@host/ sends the credentials, but keeps them out of the database,
    the export, the status and the report."""
    import sqlite3

    from probe.cli import cli
    from click.testing import CliRunner
    from servers import respond

    url = f"https://watcher:S3CRET-PW@127.0.0.1:{servers.serve(respond(), certs.context())}/"
    db = tmp_path / "probe.db"
    config = tmp_path / "probe.toml"
    config.write_text(f'[probe]\ndatabase = "{db}"\n[[endpoint]]\nname = "basic"\nurl = "{url}"\n'
                      f'ca_file = "{certs.ca_file}"\n')
    import asyncio

    from probe import config as config_module
    from probe.check import check
    from probe.store import Writer

    endpoint = config_module.load(config).endpoints[0]
    result = asyncio.run(check(endpoint.spec))
    assert result.state == "up" and "S3CRET" not in result.url
    with Writer(db) as writer:
        writer.submit("basic", result, 60.0, "test")
        writer.flush(5)
    runner = CliRunner()
    outputs = [runner.invoke(cli, [*args, "--config", str(config)]).output for args in
               (["export"], ["status"], ["report", "--format", "json"])]
    outputs.append(runner.invoke(cli, ["config", "check", str(config)]).output)
    for text in outputs:
        assert "S3CRET" not in text
    assert b"S3CRET" not in db.read_bytes()
    connection = sqlite3.connect(db)
    assert all("S3CRET" not in str(row) for row in connection.execute("SELECT * FROM endpoints"))

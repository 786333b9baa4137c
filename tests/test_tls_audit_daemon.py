"""The daemon's TLS audits: a real `probe run` audits an endpoint against a real local server,
stores the audit with its date, records a failure to audit as such, and `probe export` /
`probe import` carry the audits."""

import json
import sqlite3
import ssl
import subprocess
import sys
import time

import pytest

from probe.store import SCHEMA_VERSION, Store, tls_audits
from servers import refused_port, respond
from test_daemon import RUNNING, Daemon, config_text, no_daemon_left_behind  # noqa: F401 (fixture)

HSTS = {"Strict-Transport-Security": "max-age=63072000"}


def stored(db):
    with Store.open(db) as store:
        return tls_audits.tls_audits(store.db.conn)


def wait_audits(daemon, db, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "TLS audit" in daemon.logs() and len(stored(db)) >= count:
            return stored(db)
        time.sleep(0.1)
    raise AssertionError(f"no TLS audit stored; log:\n{daemon.logs()}")


def test_the_daemon_audits_an_endpoint_and_stores_it_with_its_date(tmp_path, servers, certs):
    context = certs.context(min_version=ssl.TLSVersion.TLSv1_2, max_version=ssl.TLSVersion.TLSv1_3)
    context.set_ciphers("ECDHE+AESGCM")
    url = f"https://localhost:{servers.serve(respond(headers=HSTS), context)}/"
    db = tmp_path / "probe.db"
    ca = f'ca_file = "{certs.ca_file}"\ninterval = "1s"'
    daemon = Daemon(tmp_path, config_text(db, [("web", url, ca), ("quiet", url, ca + '\ntls_audit = "off"')]))
    before = time.time()
    audits = wait_audits(daemon, db, 1)
    assert daemon.stop() == 0
    assert "web: TLS audit compliant" in daemon.logs()
    [audit] = stored(db)
    assert (audit.endpoint, audit.profile, audit.outcome) == ("web", "tls12+", "compliant")
    assert before - 1 <= audit.at <= time.time()
    assert audit.report["protocols"] == {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True}
    assert audits == [audit]

    # export and import carry the audit, and importing twice adds nothing
    exported = tmp_path / "export.jsonl"
    done = subprocess.run([sys.executable, "-m", "probe", "export", "--db", str(db), "-o", str(exported)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in exported.read_text().splitlines() if '"tls_audit"' in line]
    assert [(r["endpoint"], r["report"]["level"]) for r in records] == [("web", "compliant")]
    fresh = tmp_path / "fresh.db"
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "probe", "import", "--db", str(fresh), str(exported)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert stored(fresh) == [audit]


def test_a_failure_to_audit_is_recorded_as_failed_not_as_non_compliance(tmp_path):
    db = tmp_path / "probe.db"
    daemon = Daemon(tmp_path, config_text(db, [("gone", f"https://127.0.0.1:{refused_port()}/", 'interval = "1s"')]))
    wait_audits(daemon, db, 1)
    assert daemon.stop() == 0
    [audit] = stored(db)
    assert audit.outcome == "failed"
    assert audit.report["error"].startswith("cannot connect to 127.0.0.1")
    assert "gone: TLS audit failed" in daemon.logs()


def test_the_migration_adds_the_table_and_a_bad_record_is_refused(tmp_path):
    db = tmp_path / "probe.db"
    with Store.open(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        conn = store.db.conn
        assert tls_audits.insert_tls_audit(conn, "a", 1_000, {"profile": "tls12+", "level": "warning"})
        assert not tls_audits.insert_tls_audit(conn, "a", 1_000, {"profile": "tls12+", "level": "warning"})
        with pytest.raises(ValueError, match="level must be one of"):
            tls_audits.import_record(conn, {"record": "tls_audit", "endpoint": "a", "at": 2_000, "report": {
                "profile": "tls12+", "level": "excellent", "compliant": True, "protocols": {}, "findings": []}})
        with sqlite3.connect(db) as raw:
            assert raw.execute("SELECT outcome FROM tls_audits").fetchall() == [("warning",)]


@pytest.mark.parametrize("report, message", [
    ({"profile": "tls12+", "level": "compliant", "compliant": "yes", "protocols": {}, "findings": []},
     "compliant must be true or false"),
    ({"profile": "tls12+", "level": "compliant", "compliant": True, "protocols": {"TLSv1": 1}, "findings": []},
     "protocols must map each version to true or false"),
    ({"profile": "tls12+", "level": "warning", "compliant": True, "protocols": {}, "findings": ["<b>"]},
     "findings must be a list of objects with level, code and text"),
    ({"profile": "tls12+", "error": 3}, "error must be a string"),
])
def test_an_imported_audit_of_the_wrong_shape_is_refused(tmp_path, report, message):
    with Store.open(tmp_path / "probe.db") as store:
        with pytest.raises(ValueError, match=message):
            tls_audits.import_record(store.db.conn, {"record": "tls_audit", "endpoint": "a", "at": 1, "report": report})

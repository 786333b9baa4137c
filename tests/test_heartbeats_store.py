"""Pings in the store: recorded, read back as signals, carried by export and import."""

import io
import json

import pytest

from probe.store import Store, StoreError, export_jsonl, import_jsonl, job_declarations, pings
from probe.store.schema import MIGRATIONS


def test_pings_round_trip(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert pings.add(store, "backup", 1770000000.0, "start")
        assert pings.add(store, "backup", 1770000600.5, "fail", exit_status=3, duration=600.5)
        assert not pings.add(store, "backup", 1770000600.5, "fail")  # the same signal twice
        assert pings.add(store, "other", 1770000000.0, "success")
        out = io.StringIO()
        export_jsonl(store, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {"record": "ping", "heartbeat": "backup", "at": 1770000600500, "kind": "fail", "exit_status": 3,
            "duration_ms": 600500} in lines
    assert not any("token" in line for line in out.getvalue().splitlines())
    with Store.open(tmp_path / "b.db") as store:
        stats = import_jsonl(store, io.StringIO(out.getvalue()))
        assert stats.records == 3
        assert [(s.at, s.kind) for s in pings.signals(store, "backup")] == [(1770000000.0, "start"),
                                                                           (1770000600.5, "fail")]
        assert pings.last(store, "backup") == (1770000600.5, "fail", 3)
        assert import_jsonl(store, io.StringIO(out.getvalue())).records == 0  # twice: nothing more
        source = store.db.conn.execute("SELECT DISTINCT source FROM pings").fetchall()
        assert source == [("import",)]


@pytest.mark.parametrize("record, message", [
    ({"heartbeat": "b", "at": "now", "kind": "start"}, "line 1: ping: at must be milliseconds since the epoch"),
    ({"heartbeat": "b", "at": 1, "kind": "done"}, "line 1: ping: kind must be one of start, success, fail, not 'done'"),
    ({"heartbeat": "", "at": 1, "kind": "start"}, "line 1: ping: heartbeat must be a heartbeat's name, not ''"),
    ({"heartbeat": "b", "at": 1, "kind": "fail", "exit_status": "3"},
     "line 1: ping: exit_status must be an integer or null, not '3'"),
])
def test_bad_ping_records(tmp_path, record, message):
    with Store.open(tmp_path / "a.db") as store:
        with pytest.raises(StoreError) as caught:
            import_jsonl(store, io.StringIO(json.dumps({"record": "ping", **record}) + "\n"))
        assert message in str(caught.value)
        assert store.db.conn.execute("SELECT count(*) FROM pings").fetchone() == (0,)


def declare_jobs(config, db, at):
    """The config's jobs declared at ``at``, as the daemon would have the first time it saw them."""
    from probe.config import load

    with Store.open(db) as store:
        job_declarations.declare_from_config(store, load(config, secrets=False), at)

"""The dated TLS audits of each endpoint: recorded by the daemon, read by the report, carried by
export and import as `tls_audit` records. A failure to audit is recorded as such (`failed`),
never as non-compliance."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, cast

from probe.sla import to_ms

from .schema import write_transaction

OUTCOMES = ("compliant", "warning", "not_compliant", "failed")
_REPORT_MAX = 256 * 1024  # characters of one audit's JSON: a few dozen suites and findings fit many times


@dataclass(frozen=True)
class TlsAudit:
    endpoint: str
    at: float  # seconds, UTC
    profile: str
    outcome: str
    report: dict[str, Any]


def outcome_of(report: dict[str, Any]) -> str:
    """The stored outcome of an audit's report: its level, or `failed` when it holds an error."""
    if "error" in report:
        return "failed"
    level = report.get("level")
    if level not in OUTCOMES or level == "failed":
        raise ValueError(f"level must be one of compliant, warning, not_compliant, not {level!r}")
    return cast(str, level)


def insert_tls_audit(conn: sqlite3.Connection, endpoint: str, at_ms: int, report: dict[str, Any]) -> bool:
    """Add one audit unless one of that endpoint at that time is there; True when added."""
    text = json.dumps(report, ensure_ascii=False, sort_keys=True)
    if len(text) > _REPORT_MAX:
        raise ValueError(f"report of {len(text)} characters, more than {_REPORT_MAX}")
    profile = report.get("profile")
    if not isinstance(profile, str):
        raise ValueError(f"profile must be a string, not {profile!r}")
    cursor = conn.execute(
        "INSERT OR IGNORE INTO tls_audits (endpoint, at, profile, outcome, report) VALUES (?, ?, ?, ?, ?)",
        (endpoint, at_ms, profile, outcome_of(report), text))
    return cursor.rowcount == 1


def record_tls_audit(path: str, endpoint: str, at: float, report: dict[str, Any], busy_timeout: float = 5.0) -> None:
    """Record an audit from any thread: a connection of its own, one short transaction."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        with write_transaction(conn):
            insert_tls_audit(conn, endpoint, to_ms(at), report)
    finally:
        conn.close()


def tls_audits(conn: sqlite3.Connection, endpoint: str | None = None, since: float | None = None,
               until: float | None = None) -> list[TlsAudit]:
    """The audits (of one endpoint, from since to until, in seconds), oldest first."""
    sql = "SELECT endpoint, at, profile, outcome, report FROM tls_audits WHERE 1"
    params: list[object] = []
    if endpoint is not None:
        sql, params = sql + " AND endpoint = ?", [*params, endpoint]
    if since is not None:
        sql, params = sql + " AND at >= ?", [*params, to_ms(since)]
    if until is not None:
        sql, params = sql + " AND at < ?", [*params, to_ms(until)]
    return [TlsAudit(name, at / 1000, profile, outcome, json.loads(report))
            for name, at, profile, outcome, report in conn.execute(sql + " ORDER BY at, endpoint", params)]


def last_audited(conn: sqlite3.Connection) -> dict[str, float]:
    """When each endpoint was last audited, in seconds."""
    return {name: at / 1000 for name, at in conn.execute("SELECT endpoint, max(at) FROM tls_audits GROUP BY endpoint")}


def export_records(conn: sqlite3.Connection, endpoint: str | None = None) -> list[dict[str, Any]]:
    """The audits as export lines: {"record": "tls_audit", "endpoint", "at" (ms), "report"}."""
    sql = "SELECT endpoint, at, report FROM tls_audits"
    params: tuple[object, ...] = ()
    if endpoint is not None:
        sql, params = sql + " WHERE endpoint = ?", (endpoint,)
    return [{"record": "tls_audit", "endpoint": name, "at": at, "report": json.loads(report)}
            for name, at, report in conn.execute(sql + " ORDER BY at, endpoint", params)]


def import_record(conn: sqlite3.Connection, record: dict[str, Any]) -> bool:
    """Add an exported audit unless it is there; ValueError says what is wrong with it."""
    endpoint, at, report = record.get("endpoint"), record.get("at"), record.get("report")
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError(f"endpoint must be a name, not {endpoint!r}")
    if type(at) is not int or at < 0:
        raise ValueError(f"at must be milliseconds since the epoch (an integer), not {at!r}")
    if not isinstance(report, dict):
        raise ValueError("report must be an object")
    _check_report(report)
    return insert_tls_audit(conn, endpoint, at, report)


def _check_report(report: dict[str, Any]) -> None:
    """What the report reads of an audit has the shape `probe tls-audit --json` gives it."""
    if "error" in report:
        if not isinstance(report["error"], str):
            raise ValueError("error must be a string")
        return
    if not isinstance(report.get("compliant"), bool):
        raise ValueError("compliant must be true or false")
    protocols = report.get("protocols")
    if not isinstance(protocols, dict) or not all(isinstance(v, bool) for v in protocols.values()):
        raise ValueError("protocols must map each version to true or false")
    if not isinstance(report.get("certificate", {}), dict):
        raise ValueError("certificate must be an object")
    findings = report.get("findings")
    if not isinstance(findings, list) or not all(
            isinstance(f, dict) and all(isinstance(f.get(k), str) for k in ("level", "code", "text"))
            for f in findings):
        raise ValueError("findings must be a list of objects with level, code and text")


def negotiated_versions(conn: sqlite3.Connection, endpoint: str, since: float, until: float) -> dict[str, int]:
    """How many of the endpoint's stored checks in [since, until) negotiated each TLS version
    (checks that reached no handshake are left out)."""
    rows = conn.execute(
        "SELECT l.value, count(*) FROM checks c JOIN endpoints e ON e.id = c.endpoint_id"
        " JOIN labels l ON l.id = c.tls_version WHERE e.name = ? AND c.at >= ? AND c.at < ?"
        " GROUP BY l.value ORDER BY l.value", (endpoint, to_ms(since), to_ms(until)))
    return {cast(str, version): cast(int, count) for version, count in rows}

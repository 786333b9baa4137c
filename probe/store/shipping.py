"""Several sites. On a site: the upstream outbox, each check and daemon run as a numbered line
of the export format, written with it and kept until the hub has stored it. On the hub: a push
read all or nothing, and what each site has pushed (its stream, the highest sequence stored,
when, the newest check)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from probe.result import CheckResult, iso_utc
from probe.sla import to_ms
from probe.text import json_text

from .codec import _Codec
from .paper_trail import parse_record
from .schema import _CHECK_COLUMNS, write_transaction
from .transfer import _parse_line

# ---------------------------------------------------------------- the site's side

_RUN_KEYS = ("started_at", "stopped_at", "stop_reason", "pid", "version", "site", "heartbeat_at", "host")


def check_line(name: str, result: CheckResult, interval_s: float, site: str | None) -> str:
    """A check as `probe export` writes it, at the millisecond the store keeps (rounded, where
    ISO 8601 text would cut it)."""
    record = {"endpoint": name, **result.to_json(), "interval_s": interval_s, "site": site}
    record["at"] = iso_utc(to_ms(result.at) / 1000)
    return json_text(record)


def enqueue_checks(conn: sqlite3.Connection, keys: Iterable[tuple[int, int]]) -> None:
    """Put checks, by their row of checks (endpoint_id, at), in the outbox, inside the caller's
    write transaction (the one storing them): a few bytes each, the line made when pushed."""
    conn.executemany("INSERT INTO upstream_outbox (endpoint_id, at) VALUES (?, ?)", keys)


def enqueue_run(conn: sqlite3.Connection, run_id: int) -> None:
    """Put a daemon run, as it is now, in the outbox (the hub keeps the newest of each)."""
    with write_transaction(conn):
        row = conn.execute(f"SELECT {', '.join(_RUN_KEYS)} FROM daemon_runs WHERE id = ?", (run_id,)).fetchone()
        if row is not None:
            line = json.dumps({"record": "daemon_run", **dict(zip(_RUN_KEYS, row))}, ensure_ascii=False)
            conn.execute("INSERT INTO upstream_outbox (line) VALUES (?)", (line,))


def outbox_stream(conn: sqlite3.Connection) -> str:
    """This database's outbox as the hub knows it: a random name made once. A new database
    is a new stream, so that the hub does not take its first sequences for old ones."""
    row = conn.execute("SELECT stream FROM upstream_state WHERE id = 1").fetchone()
    if row is not None:
        return str(row[0])
    stream = uuid.uuid4().hex
    with write_transaction(conn):
        conn.execute("INSERT OR IGNORE INTO upstream_state (id, stream) VALUES (1, ?)", (stream,))
    return str(conn.execute("SELECT stream FROM upstream_state WHERE id = 1").fetchone()[0])


class OutboxReader:
    """The outbox's oldest lines, checks read from the checks table, for one connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.codec = _Codec(conn)

    def pending(self, limit: int) -> tuple[int, list[str]]:
        """The oldest lines not yet stored by the hub, at most limit, with consecutive sequence
        numbers: (the first one's sequence, the lines). A check no longer in the database
        (pruned before it could be pushed) leaves the outbox."""
        columns = ", ".join(f"c.{column}" for column in _CHECK_COLUMNS)
        while True:
            rows = self.conn.execute(
                f"SELECT o.seq, o.line, {columns} FROM upstream_outbox o LEFT JOIN checks c"
                " ON c.endpoint_id = o.endpoint_id AND c.at = o.at ORDER BY o.seq LIMIT ?", (limit,)).fetchall()
            if not rows:
                return 0, []
            first, gone = rows[0][0], None
            lines: list[str] = []
            for seq, line, *check in rows:
                if seq != first + len(lines):
                    break  # never across a gap: the hub reads the lines as first, first + 1, ...
                if line is None and check[0] is None:
                    gone = seq  # the check is gone
                    break
                if line is None:
                    name, interval_s, site, result = self.codec.result(tuple(check))
                    line = check_line(name, result, interval_s, site)
                lines.append(line)
            if lines or gone is None:
                return first, lines
            with write_transaction(self.conn):  # a first line that can never be sent
                self.conn.execute("DELETE FROM upstream_outbox WHERE seq <= ?", (gone,))


def shipped(conn: sqlite3.Connection, through: int, now: float | None = None) -> None:
    """The hub has stored every line up to sequence ``through``: they leave the outbox."""
    with write_transaction(conn):
        conn.execute("DELETE FROM upstream_outbox WHERE seq <= ?", (through,))
        conn.execute("UPDATE upstream_state SET shipped_through = max(shipped_through, ?), shipped_at = ?"
                     " WHERE id = 1", (through, to_ms(time.time() if now is None else now)))


def outbox_depth(conn: sqlite3.Connection) -> int:
    """Lines waiting to be shipped."""
    row = conn.execute("SELECT max(seq) - min(seq) + 1 FROM upstream_outbox").fetchone()
    return int(row[0] or 0)


# ---------------------------------------------------------------- the hub's side


class WrongSite(ValueError):
    """A line of a push speaks for another site than the one that pushes."""


@dataclass
class Push:
    """A push, read: the checks and daemon runs numbered from ``first``, the ones stored already
    left out."""

    site: str
    stream: str
    first: int
    through: int = 0  # the last line's sequence
    checks: list[tuple[str, CheckResult, float, str | None]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    newest: float | None = None  # the newest check's time


def read_push(lines: Sequence[bytes], site: str, stream: str, first: int, stored_through: int,
              latest: float) -> Push:
    """Every line read before anything is stored; ValueError("line N: ...") on a bad one, and
    WrongSite on a line of another site's. Lines numbered at or below ``stored_through`` (of the
    same stream) were stored already: checked, then left out."""
    push = Push(site, stream, first, first + len(lines) - 1)
    for number, raw in enumerate(lines, start=1):
        seq = first + number - 1
        try:
            text = raw.decode("utf-8")
            record = parse_record(text) if '"record"' in text else None
            if record is not None:
                run = _run(record, site)
                if seq > stored_through:
                    push.runs.append(run)
                continue
            name, result, interval_s, line_site = _parse_line(text, latest)
        except UnicodeDecodeError as error:
            raise ValueError(f"line {number}: not UTF-8 text (byte 0x{raw[error.start]:02x})") from None
        except WrongSite:
            raise
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from None
        if line_site != site:
            raise WrongSite(f"line {number}: a check of site {line_site!r}")
        if seq > stored_through:
            push.checks.append((name, result, interval_s, site))
            push.newest = result.at if push.newest is None else max(push.newest, result.at)
    return push


def _run(record: dict[str, Any], site: str) -> dict[str, Any]:
    if record.get("record") != "daemon_run":
        raise ValueError(f"a {record.get('record')} record: a push carries checks and daemon runs only")
    if record.get("site") != site:
        raise WrongSite(f"a daemon run of site {record.get('site')!r}")
    run = {key: record.get(key) for key in _RUN_KEYS}
    for key in ("started_at", "stopped_at", "heartbeat_at", "pid"):
        if run[key] is not None and type(run[key]) is not int:
            raise ValueError(f"daemon_run: {key} must be an integer or null")
    if type(run["started_at"]) is not int:
        raise ValueError("daemon_run: started_at is missing")
    if run["stop_reason"] not in (None, "stop", "crash"):
        raise ValueError("daemon_run: stop_reason must be stop, crash or null")
    for key in ("version", "host"):
        if run[key] is not None and not isinstance(run[key], str):
            raise ValueError(f"daemon_run: {key} must be a string or null")
    return run


def stored_through(conn: sqlite3.Connection, site: str, stream: str) -> int:
    """The highest sequence of ``stream`` stored from the site (0: none, or another stream)."""
    row = conn.execute("SELECT stream, stored_through FROM hub_sites WHERE name = ?", (site,)).fetchone()
    return int(row[1]) if row is not None and row[0] == stream else 0


def record_push(conn: sqlite3.Connection, push: Push, now: float) -> None:
    """After the push's checks are stored: its daemon runs (the newest state of each), and
    where the site's stream now stands, in one transaction."""
    now_ms = to_ms(now)
    with write_transaction(conn):
        for run in push.runs:
            found = conn.execute("SELECT id FROM daemon_runs WHERE site IS ? AND started_at = ? AND pid IS ?"
                                 " AND pushed_at IS NOT NULL", (push.site, run["started_at"], run["pid"])).fetchone()
            if found is None:
                conn.execute(f"INSERT INTO daemon_runs ({', '.join(_RUN_KEYS)}, pushed_at)"
                             f" VALUES ({', '.join('?' * len(_RUN_KEYS))}, ?)", (*run.values(), now_ms))
            else:
                conn.execute("UPDATE daemon_runs SET stopped_at = ?, stop_reason = ?, heartbeat_at ="
                             " max(coalesce(heartbeat_at, 0), coalesce(?, 0)), pushed_at = ? WHERE id = ?",
                             (run["stopped_at"], run["stop_reason"], run["heartbeat_at"], now_ms, found[0]))
        newest = None if push.newest is None else to_ms(push.newest)
        if newest is not None:  # the site's run in progress was alive at least until its newest check
            conn.execute("UPDATE daemon_runs SET heartbeat_at = max(coalesce(heartbeat_at, 0), ?) WHERE site = ?"
                         " AND pushed_at IS NOT NULL AND stopped_at IS NULL", (newest, push.site))
        conn.execute(
            "INSERT INTO hub_sites (name, stream, stored_through, first_push_at, last_push_at, newest_check_at,"
            " checks, pushes) VALUES (?, ?, ?, ?, ?, ?, ?, 1)"
            " ON CONFLICT (name) DO UPDATE SET stream = excluded.stream,"
            " stored_through = CASE WHEN stream = excluded.stream"
            "   THEN max(stored_through, excluded.stored_through) ELSE excluded.stored_through END,"
            " last_push_at = excluded.last_push_at,"
            " newest_check_at = max(coalesce(newest_check_at, 0), coalesce(excluded.newest_check_at, 0)),"
            " checks = checks + excluded.checks, pushes = pushes + 1",
            (push.site, push.stream, push.through, now_ms, now_ms, newest, len(push.checks)),
        )


@dataclass(frozen=True)
class SiteState:
    """What the hub knows of a site's pushes."""

    name: str
    last_push: float | None
    newest_check: float | None
    stored_through: int
    checks: int


def site_states(conn: sqlite3.Connection) -> dict[str, SiteState]:
    return {
        name: SiteState(name, last / 1000, None if newest is None else newest / 1000, through, checks)
        for name, last, newest, through, checks in conn.execute(
            "SELECT name, last_push_at, nullif(newest_check_at, 0), stored_through, checks FROM hub_sites")
    }

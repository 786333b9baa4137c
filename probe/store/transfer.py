"""Export to JSON lines, import from them, and online backups."""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import IO, Any, Iterable

from probe.result import ERROR_CLASSES, JSON_KEYS, STATES, CheckResult, parse_iso
from probe.text import json_text, refuse_controls, refuse_controls_message

from .codec import _Codec
from .paper_trail import export_records, import_records, parse_record, record_import
from .records import STATE_CODES, ImportStats, StoreError
from .rollups import _plan_refold, _refold, _RollupDeltas
from .schema import _CHECK_COLUMNS, write_transaction
from .store import Store

_NUMBER, _INTEGER, _TEXT = (int, float), (int,), (str,)


# What each key of a line may hold (besides null), and what it must be called, for messages.
_LINE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "endpoint": (_TEXT, "a string"),
    "url": (_TEXT, "a string"),
    "at": (_TEXT + _NUMBER, "an ISO 8601 time"),
    "state": (_TEXT, "a string"),
    "error_class": (_TEXT, "a string"),
    "error": (_TEXT, "a string"),
    "http_status": (_INTEGER, "an integer"),
    "dns_ms": (_NUMBER, "a number"),
    "connect_ms": (_NUMBER, "a number"),
    "tls_ms": (_NUMBER, "a number"),
    "ttfb_ms": (_NUMBER, "a number"),
    "total_ms": (_NUMBER, "a number"),
    "wait_ms": (_NUMBER, "a number"),
    "tls_version": (_TEXT, "a string"),
    "tls_cipher": (_TEXT, "a string"),
    "cert_not_after": (_TEXT + _NUMBER, "an ISO 8601 time"),
    "cert_days_left": (_INTEGER, "an integer"),
    "cert_issuer": (_TEXT, "a string"),
    "cert_subject": (_TEXT, "a string"),
    "interval_s": (_NUMBER, "a number"),
    "site": (_TEXT, "a string"),
}


assert set(_LINE_TYPES) == {*JSON_KEYS, "endpoint", "interval_s", "site"}


_ALLOWED_TYPES = {key: frozenset((*types, type(None))) for key, (types, _) in _LINE_TYPES.items()}


_REQUIRED_KEYS = ("endpoint", "at", "state", "interval_s")


_ERROR_CLASSES = frozenset((None, *ERROR_CLASSES))


_SURROGATE = re.compile("[\ud800-\udfff]")


# The bounds of each number a line may hold, with how a message says them: a value outside
# them is a mistake (milliseconds read as seconds, say) that would break every later export.
_DAY_MS = 86_400_000.0


_YEAR_10000 = 253_402_300_800  # 10000-01-01 UTC: ISO 8601 and Python's dates end before it


_LINE_BOUNDS: dict[str, tuple[float, float, str]] = {
    **{key: (0, _DAY_MS, "0 and 86400000 (a day)") for key in
       ("dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms", "wait_ms")},
    "http_status": (0, 999, "0 and 999"),
    "cert_days_left": (-3_000_000, 3_000_000, "-3000000 and 3000000"),
    "interval_s": (0.001, 86_400, "0.001 and 86400 (a day)"),
    "cert_not_after": (0, _YEAR_10000 - 1, "1970 and 9999"),
}


def export_jsonl(
    store: Store,
    fh: IO[str],
    endpoint: int | str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> int:
    """Write checks as JSON Lines: the keys of CheckResult.to_json() plus endpoint,
    interval_s and site; then the paper trail (store.paper_trail: maintenance windows,
    incidents and acknowledgements, daemon runs, earlier imports), one record a line.
    Returns the number of checks."""
    lines = 0
    try:
        for name, interval_s, site, result in store.checks(endpoint, since, until):
            try:
                record = {"endpoint": name, **result.to_json(), "interval_s": interval_s, "site": site}
            except (ValueError, OverflowError):
                raise StoreError(f"cannot export from {store.path}: a check of {name!r} is dated"
                                 " outside the years 1970 to 9999") from None
            fh.write(json_text(record) + "\n")
            lines += 1
        _export_paper_trail(store, fh, endpoint)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read {store.path}: {error}") from None
    return lines


def _export_paper_trail(store: Store, fh: IO[str], endpoint: int | str | None) -> None:

    name = endpoint if isinstance(endpoint, str) else None
    if isinstance(endpoint, int):
        name = store.db.conn.execute("SELECT name FROM endpoints WHERE id = ?", (endpoint,)).fetchone()[0]
    for record in export_records(store, name):
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _parse_time(key: str, value: str | float | None) -> float | None:
    if not isinstance(value, str):
        return value
    try:
        return parse_iso(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{key} must be an ISO 8601 time, not {_shown(value)}") from None


def _decoded(line: str | bytes) -> str:
    """A line of an import file as text; ValueError names the first byte that is not UTF-8."""
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte 0x{line[error.start]:02x} at column {error.start + 1})") from None


def _parse_line(line: str | bytes, latest: float = math.inf) -> tuple[str, CheckResult, float, str | None]:
    """One JSON Lines record -> (endpoint, CheckResult, interval_s, site); ValueError says
    what is wrong. Checks at `latest` or after are refused (and any before 1970)."""
    line = _decoded(line)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    except ValueError:  # an integer of more than 4 300 digits
        raise ValueError("not valid JSON (a number too large)") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    unknown = record.keys() - _LINE_TYPES.keys()
    if unknown:
        raise ValueError(f"unknown key {_shown(min(unknown))}")
    # type(), not isinstance(): a bool is no integer here
    wrong = [key for key, value in record.items() if type(value) not in _ALLOWED_TYPES[key]]
    if wrong:
        key = wrong[0]
        raise ValueError(f"{key} must be {_LINE_TYPES[key][1]} or null, not {_shown(record[key])}")
    for key in _REQUIRED_KEYS:
        if record.get(key) is None or isinstance(record[key], str) and not record[key].strip():
            raise ValueError(f"missing {key}")
    for key, value in record.items():
        found = _SURROGATE.search(value) if isinstance(value, str) else None
        if found is not None:  # "\ud800" in JSON: no database or terminal can take it
            raise ValueError(f"{key} {refuse_controls_message(found.group())}")
    record_at = record["at"]
    if record["state"] not in STATE_CODES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {_shown(record['state'])}")
    if record.get("error_class") not in _ERROR_CLASSES:
        raise ValueError(f"unknown error_class {_shown(record['error_class'])}")
    for key in ("endpoint", "site"):
        if record.get(key) is not None:
            refuse_controls(record[key], key)
    record["at"] = _parse_time("at", record["at"])
    if record.get("cert_not_after") is not None:
        record["cert_not_after"] = _parse_time("cert_not_after", record["cert_not_after"])
    for key, (low, high, say) in _LINE_BOUNDS.items():
        value = record.get(key)
        if value is not None and not low <= value <= high:  # NaN fails this too
            raise ValueError(f"{key} must be between {say}, not {_shown(value)}")
    at = record["at"]
    if not 0 <= at < min(latest, _YEAR_10000):  # NaN fails this too
        if at < 0:
            raise ValueError(f"at {_shown(record_at)} is before 1970")
        hint = " (milliseconds where seconds are meant?)" if 1e11 < at < 1e14 else ""
        if at < 1e14 and latest < _YEAR_10000:
            raise ValueError(f"at {_shown(record_at)} is more than a day ahead of now{hint}")
        raise ValueError(f"at {_shown(record_at)} is not a time between 1970 and 9999{hint}")
    endpoint, interval_s = record.pop("endpoint"), record.pop("interval_s")
    site = record.pop("site", None)
    record.setdefault("url", None)
    return endpoint, CheckResult(**record), float(interval_s), site


def _shown(value: object) -> str:
    """A number or text as a message quotes it; a huge one cut short."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…"


def import_jsonl(
    store: Store, fh: Iterable[str | bytes], *, skip_errors: bool = False, future: bool = False
) -> ImportStats:
    """Add the checks of a JSON Lines export (text or UTF-8 lines); checks already stored
    (same endpoint and at) are skipped, so importing twice adds nothing. All or nothing: a bad
    line raises StoreError("line 17: ...") and nothing is written, unless skip_errors, which
    skips bad lines and lists them in the stats. A check dated before 1970, or more than a day
    ahead of now (unless future), is a bad line. Runs and rollups of the endpoints concerned
    are brought up to date in the same transaction."""
    stats = ImportStats()
    latest = math.inf if future else time.time() + 86_400
    conn = store.db.conn
    codec = _Codec(conn)
    columns = ", ".join(_CHECK_COLUMNS)
    try:
        with write_transaction(conn):
            conn.execute(
                f"CREATE TEMP TABLE incoming ({columns}, PRIMARY KEY (endpoint_id, at))"
                " WITHOUT ROWID"
            )
            try:
                trail: list[tuple[int, dict[str, Any]]] = []
                lines = _import_lines(conn, codec, fh, stats, skip_errors, latest, trail)
                # Stored already, or in a period pruned since: its runs and rollups are
                # settled and must not count it twice.
                stats.skipped_pruned = conn.execute(
                    "DELETE FROM incoming WHERE at < (SELECT coalesce(pruned_before, 0)"
                    " FROM endpoints e WHERE e.id = incoming.endpoint_id)"
                ).rowcount
                conn.execute(
                    "DELETE FROM incoming WHERE EXISTS (SELECT 1 FROM main.checks c"
                    " WHERE c.endpoint_id = incoming.endpoint_id AND c.at = incoming.at)"
                )
                stats.added = conn.execute("SELECT count(*) FROM incoming").fetchone()[0]
                stats.skipped_duplicates = lines - stats.added - stats.skipped_pruned
                plans = [
                    _plan_refold(conn, codec, endpoint_id, first)
                    for endpoint_id, first in conn.execute(
                        "SELECT endpoint_id, min(at) FROM incoming GROUP BY endpoint_id"
                    ).fetchall()
                ]
                conn.execute(f"INSERT INTO main.checks ({columns}) SELECT {columns} FROM incoming")
                rollups = _RollupDeltas()
                for row in conn.execute(f"SELECT {columns} FROM incoming"):
                    rollups.add(row)
                rollups.apply(conn)
                for plan in plans:
                    _refold(conn, codec, plan)
                stats.records = _import_paper_trail(conn, fh, trail)
            finally:
                conn.execute("DROP TABLE temp.incoming")
    except sqlite3.Error as error:
        raise StoreError(f"cannot import into {store.path}: {error}") from None
    store._codec.reset()
    return stats


def _import_paper_trail(conn: sqlite3.Connection, fh: Iterable[str | bytes],
                        trail: list[tuple[int, dict[str, Any]]]) -> int:
    """Record where the staged checks came from, then add the file's paper-trail records."""

    import_id = record_import(conn, str(getattr(fh, "name", None) or "<stdin>"))
    try:
        return import_records(conn, trail, import_id)
    except ValueError as error:
        raise StoreError(str(error)) from None


def _import_lines(conn: sqlite3.Connection, codec: _Codec, fh: Iterable[str | bytes], stats: ImportStats,
                  skip_errors: bool, latest: float, trail: list[tuple[int, dict[str, Any]]] | None = None) -> int:
    """Parse and stage the lines in the incoming table; returns how many were good."""
    insert = (
        f"INSERT OR IGNORE INTO incoming VALUES ({', '.join('?' * len(_CHECK_COLUMNS))})"
    )
    rows: list[tuple[Any, ...]] = []
    good = 0
    for number, line in enumerate(fh, start=1):
        if number == 1:  # a byte order mark, as some tools write UTF-8, is no part of the JSON
            line = line.removeprefix(b"\xef\xbb\xbf") if isinstance(line, bytes) else line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            line = _decoded(line)
            if trail is not None and '"record"' in line and (record := _paper_trail_record(line)):
                trail.append((number, record))
                continue
            rows.append(codec.row(*_parse_line(line, latest)))
        except ValueError as error:
            if not skip_errors:
                raise StoreError(f"line {number}: {error}") from None
            stats.errors.append(f"line {number}: {error}")
            continue
        good += 1
        if len(rows) >= 10_000:
            conn.executemany(insert, rows)
            rows.clear()
    conn.executemany(insert, rows)
    return good


def _paper_trail_record(line: str) -> dict[str, Any] | None:

    return parse_record(line)


def backup(store_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy the database to dest with SQLite's online backup API (a consistent snapshot,
    safe while the writer writes), as one self-contained file, and check the copy with
    PRAGMA integrity_check. dest appears only once complete and checked."""
    source_path, dest = Path(store_path), Path(dest)
    for path in (source_path, dest):
        try:
            path.exists()
        except OSError as error:  # a name too long, say
            raise StoreError(f"cannot back up {source_path} to {dest}: {error.strerror}") from None
    if not source_path.is_file():
        raise StoreError(f"cannot back up {source_path}: no such database")
    if not dest.parent.is_dir():
        raise StoreError(f"cannot back up to {dest}: directory {dest.parent} does not exist")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")
            verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        finally:
            copy.close()
            source.close()
        if verdict != ["ok"]:
            raise StoreError(f"backup of {source_path} failed its integrity check: {verdict[0]}")
        os.replace(partial, dest)
    except sqlite3.Error as error:
        raise StoreError(f"cannot back up {source_path} to {dest}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return dest

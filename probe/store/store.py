"""One connection to the database, for queries and the low-volume writes."""

from __future__ import annotations

import bisect
import os
import sys
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, cast

import sqlite_utils

from probe.result import CheckResult
from probe.sla import Run
from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

from .codec import _Codec
from .daemon_runs import DaemonRunRecords
from .histograms import _decode_histogram
from .incidents import IncidentRecords
from .records import RETENTION_DAYS, Rollup, StoredEndpoint, _range
from .schema import _CHECK_COLUMNS, _RUN_COLUMNS, _connect, write_transaction


class Store(DaemonRunRecords, IncidentRecords):
    """One connection to the probe's database, for queries and the low-volume writes
    (daemon runs, incidents, prune, import). Checks are written by a ``Writer``. Not to be
    used by two threads at once."""

    def __init__(self, path: Path, db: sqlite_utils.Database, retention_days: float):
        self.path = path
        self.db = db
        self.retention_days = retention_days
        self._codec = _Codec(db.conn)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        retention_days: float = RETENTION_DAYS,
        busy_timeout: float = 5.0,
    ) -> Store:
        """Open the database at path, creating and migrating it as needed. Raises StoreError
        (one line, naming the path) when the path cannot be used."""
        path = Path(path)
        return cls(path, _connect(path, busy_timeout), retention_days)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return cast(int, self.db.conn.execute("PRAGMA user_version").fetchone()[0])

    def _endpoint_id(self, endpoint: int | str) -> int | None:
        if isinstance(endpoint, int):
            return endpoint
        # an endpoint checked from several sites: its first series (incidents name it)
        row = self.db.conn.execute("SELECT min(id) FROM endpoints WHERE name = ?", (endpoint,))
        return cast("int | None", row.fetchone()[0])

    def _series_ids(self, endpoint: int | str) -> list[int]:
        """A series by its id; by name, every site's series of the endpoint (pooled)."""
        if isinstance(endpoint, int):
            return [endpoint]
        return [row[0] for row in self.db.conn.execute("SELECT id FROM endpoints WHERE name = ?", (endpoint,))]

    # queries

    def endpoints(self) -> list[StoredEndpoint]:
        return [
            StoredEndpoint(
                id=row["id"],
                name=row["name"],
                url=row["url"],
                interval_s=row["interval_s"],
                site=row["site"],
                first_seen=row["first_seen"] / 1000,
            )
            for row in self.db.query(
                "SELECT id, name, url, interval_s, site, first_seen FROM endpoints ORDER BY name, id"
            )
        ]

    def series(self, name: str) -> list[StoredEndpoint]:
        """The endpoint's series of checks, one per site that checked it, first stored first."""
        return [endpoint for endpoint in self.endpoints() if endpoint.name == name]

    def newest_runs_by_site(self) -> list[tuple[str, str | None, Run]]:
        """(name, site, newest run) of each series of the endpoints checked from several
        sites: where each site's verdict stood."""
        rows = self.db.conn.execute(
            f"SELECT e.name, e.site, {', '.join('r.' + c for c in _RUN_COLUMNS.split(', '))}"
            " FROM endpoints e JOIN runs r ON r.endpoint_id = e.id"
            " AND r.start = (SELECT max(start) FROM runs WHERE endpoint_id = e.id)"
            " WHERE e.name IN (SELECT name FROM endpoints GROUP BY name HAVING count(*) > 1)"
            " ORDER BY e.name, e.id"
        ).fetchall()
        return [(row[0], row[1], self._codec.run(row[2:])) for row in rows]

    def runs(
        self, endpoint: int | str, since: float | None = None, until: float | None = None
    ) -> list[Run]:
        """The endpoint's runs overlapping [since, until), oldest first: the run that began
        before since and still covers it is included. Unknown endpoint: []."""
        endpoint_id = self._endpoint_id(endpoint)
        if endpoint_id is None:
            return []
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE endpoint_id = ?"
        params: tuple[Any, ...] = (endpoint_id,)
        if since is not None:
            # from the newest run starting at or before since; it may still cover since
            sql += (
                " AND start >= coalesce((SELECT max(start) FROM runs"
                " WHERE endpoint_id = ? AND start <= ?), ?)"
            )
            params += (endpoint_id, _ms(since), _ms(since))
        if until is not None:
            sql += " AND start < ?"
            params += (_ms(until),)
        rows = self.db.conn.execute(sql + " ORDER BY start", params)
        runs = [self._codec.run(row) for row in rows]
        if runs and since is not None and runs[0].end <= since:
            runs.pop(0)
        return runs

    def rollups(
        self, endpoint: int | str, since: float | None = None, until: float | None = None
    ) -> list[Rollup]:
        """The endpoint's hourly rollups of the hours starting in [since, until), oldest
        first (since is rounded down to its hour); by name, every site's rollups (an hour once
        per site)."""
        ids = self._series_ids(endpoint)
        if not ids:
            return []
        if since is not None:
            since = since - since % 3600
        where, params = _range("hour", since, until)
        rows = self.db.conn.execute(
            "SELECT hour, up, degraded, down, latency_count, latency_sum, histogram"
            f" FROM rollups WHERE endpoint_id IN ({', '.join('?' * len(ids))}){where} ORDER BY hour",
            (*ids, *params),
        )
        return [
            Rollup(hour_ms / 1000, up, degraded, down, count, total / 10, _decode_histogram(blob))
            for hour_ms, up, degraded, down, count, total, blob in rows
        ]

    def last_check(self, endpoint: int | str) -> CheckResult | None:
        """The series' newest check; by name, the newest of every site's series."""
        ids = self._series_ids(endpoint)
        newest: CheckResult | None = None
        for endpoint_id in ids:  # each series' newest by its index, then the newest of them
            row = self.db.conn.execute(
                f"SELECT {', '.join(_CHECK_COLUMNS)} FROM checks WHERE endpoint_id = ?"
                " ORDER BY at DESC LIMIT 1",
                (endpoint_id,),
            ).fetchone()
            found = None if row is None else self._codec.result(row)[3]
            if found is not None and (newest is None or found.at > newest.at):
                newest = found
        return newest

    def checks(
        self,
        endpoint: int | str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[tuple[str, float, str | None, CheckResult]]:
        """Raw checks as (endpoint name, interval_s, site, CheckResult), in time order (then
        endpoint name), streamed from the database."""
        where, params = _range("c.at", since, until)
        columns = ", ".join(f"c.{column}" for column in _CHECK_COLUMNS)
        if isinstance(endpoint, str):
            ids = [row[0] for row in self.db.conn.execute("SELECT id FROM endpoints WHERE name = ?", (endpoint,))]
            if not ids:
                return
            if len(ids) == 1:  # one site: straight from its checks, in their order
                endpoint = ids[0]
        if isinstance(endpoint, int):
            sql = f"SELECT {columns} FROM checks c WHERE c.endpoint_id = ?{where} ORDER BY c.at"
            params = (endpoint, *params)
        elif endpoint is not None:  # a name: the checks of every site
            sql = (
                f"SELECT {columns} FROM checks c JOIN endpoints e ON e.id = c.endpoint_id"
                f" WHERE e.name = ?{where} ORDER BY c.at, e.id"
            )
            params = (endpoint, *params)
        else:
            sql = (
                f"SELECT {columns} FROM checks c JOIN endpoints e ON e.id = c.endpoint_id"
                f" WHERE 1{where} ORDER BY c.at, e.name, e.id"
            )
        for row in self.db.conn.execute(sql, params):
            yield self._codec.result(row)

    # retention

    def prune(self, older_than: float | None = None) -> int:
        """Delete raw checks older than older_than (epoch seconds; default: retention_days
        ago). Runs and rollups are kept. Returns the number of checks deleted."""
        if older_than is None:
            older_than = time.time() - self.retention_days * 86400
        cutoff = _ms(older_than)
        conn = self.db.conn
        deleted = 0
        for (endpoint_id,) in conn.execute("SELECT id FROM endpoints").fetchall():
            # one transaction per endpoint: the writer never waits long
            with write_transaction(conn):
                deleted += conn.execute(
                    "DELETE FROM checks WHERE endpoint_id = ? AND at < ?", (endpoint_id, cutoff)
                ).rowcount
                conn.execute(
                    "UPDATE endpoints SET pruned_before = max(coalesce(pruned_before, 0), ?)"
                    " WHERE id = ?",
                    (cutoff, endpoint_id),
                )
        return deleted

    def latency_histograms(
        self, endpoint: int | str, bounds: list[float]
    ) -> list[dict[int, int]]:
        """The latency histograms of the endpoint's hourly rollups merged per period
        [bounds[i], bounds[i + 1]) (e.g. local days), by the hour's start, in one query:
        what ``rollups`` + ``merge_histograms`` give, fast enough for a report over
        thousands of endpoints."""
        merged: list[dict[int, int]] = [{} for _ in bounds[1:]]
        ids = self._series_ids(endpoint)  # by name: every site's checks pooled
        if not ids or not merged:
            return merged
        edges = [_ms(bound) for bound in bounds]
        rows = self.db.conn.execute(
            f"SELECT hour, histogram FROM rollups WHERE endpoint_id IN ({', '.join('?' * len(ids))})"
            " AND hour >= ? AND hour < ? ORDER BY hour",
            (*ids, edges[0], edges[-1]),
        ).fetchall()
        hours = [row[0] for row in rows]
        cuts = [bisect.bisect_left(hours, edge) for edge in edges]
        blobs = [[row[1] for row in rows[cuts[i]:cuts[i + 1]]] for i in range(len(merged))]
        for index, parts in enumerate(blobs):
            if parts:
                # (bucket, count) byte pairs, as _encode_histogram: read as 16-bit numbers
                # and counted in C, since a day's pairs repeat (few buckets, small counts)
                pairs = array("H")
                pairs.frombytes(b"".join(parts))
                if sys.byteorder != "little":
                    pairs.byteswap()
                counts: dict[int, int] = {}
                for pair, times in Counter(pairs).items():
                    bucket = pair & 0xFF
                    counts[bucket] = counts.get(bucket, 0) + (pair >> 8) * times
                merged[index] = {b: counts[b] for b in sorted(counts) if counts[b]}
        return merged

"""Checks to rows and back: endpoint and setting ids, error texts, histograms per hour."""

from __future__ import annotations

import sqlite3
from typing import Any, cast

from probe.result import CheckResult
from probe.sla import Check, Run
from probe.sla import to_ms as _ms  # seconds -> whole milliseconds, as everywhere

from .records import STATE_CODES, STATE_NAMES, _from_tenths, _seconds, _tenths
from .schema import _AT, _ERROR_CLASS, _SETTING, _STATE


class _Codec:
    """Turns checks into rows and back for one connection, caching the ids of endpoints,
    settings, labels and certificates (rows of those tables never change id)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.reset()

    def reset(self) -> None:
        """Forget everything: after a rollback, ids handed out may not exist."""
        self._endpoints: dict[tuple[str, str | None], list[Any]] = {}  # (name, site) -> [id, url, interval_s, site, first, cfg]
        self._endpoint_names: dict[int, str] = {}
        self._labels: dict[tuple[str, str], int] = {}
        self._label_values: dict[int, str] = {}
        self._settings: dict[tuple[Any, ...], int] = {}
        self._setting_values: dict[int, tuple[Any, ...]] = {}
        self._certs: dict[tuple[Any, ...], int] = {}
        self._cert_values: dict[int, tuple[Any, ...]] = {}

    # writing (inside a write transaction)

    def row(self, name: str, result: CheckResult, interval_s: float, site: str | None) -> tuple[Any, ...]:
        at = _ms(result.at)
        if result.state not in STATE_CODES:
            raise ValueError(f"unknown state {result.state!r}")
        if not interval_s or interval_s <= 0:
            raise ValueError(f"interval must be positive, not {interval_s!r}")
        endpoint_id = self._endpoint_id(name, result.url, interval_s, site, at)
        cert_id = None
        if (result.cert_issuer, result.cert_subject, result.cert_not_after) != (None,) * 3:
            not_after = None if result.cert_not_after is None else _ms(result.cert_not_after)
            cert_id = self._cert_id((result.cert_issuer, result.cert_subject, not_after))
        return (
            endpoint_id,
            at,
            self._setting_id((endpoint_id, result.url, _ms(interval_s), site)),
            STATE_CODES[result.state],
            self.label_id("error_class", result.error_class),
            self.label_id("error", result.error),
            result.http_status,
            _tenths(result.dns_ms),
            _tenths(result.connect_ms),
            _tenths(result.tls_ms),
            _tenths(result.ttfb_ms),
            _tenths(result.total_ms),
            self.label_id("tls_version", result.tls_version),
            self.label_id("tls_cipher", result.tls_cipher),
            cert_id,
            result.cert_days_left,
            _tenths(result.wait_ms),
        )

    def _endpoint_id(self, name: str, url: str, interval_s: float, site: str | None, at: int) -> int:
        # One row per (name, site): one site's series of the endpoint. The row describes its
        # newest check: older (imported) checks only move first_seen. known = [id, url,
        # interval_s, site, first_seen, newest check's at].
        known = self._endpoints.get((name, site))
        if known is None:
            found = self._find_series(name, site)
            if found is None:
                cursor = self.conn.execute(
                    "INSERT INTO endpoints (name, url, interval_s, site, first_seen, config_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (name, url, interval_s, site, at, at),
                )
                found = (cursor.lastrowid, url, interval_s, site, at, at)
            known = self._endpoints[(name, site)] = list(found)
            self._endpoint_names[known[0]] = name
        endpoint_id = known[0]
        if at >= known[5]:
            known[5] = at
            if known[1:3] != [url, interval_s]:
                known[1:3] = [url, interval_s]
                self.conn.execute(
                    "UPDATE endpoints SET url = ?, interval_s = ?, config_at = ? WHERE id = ?",
                    (url, interval_s, at, endpoint_id),
                )
        if at < known[4]:
            known[4] = at
            self.conn.execute(
                "UPDATE endpoints SET first_seen = ? WHERE id = ?", (at, endpoint_id)
            )
        return cast(int, endpoint_id)

    def _find_series(self, name: str, site: str | None) -> tuple[Any, ...] | None:
        """The stored series of (name, site). A check that names no site joins the
        endpoint's first series; a site's first check adopts a series that named none."""
        select = (
            "SELECT id, url, interval_s, site, first_seen, max(config_at, coalesce("
            "(SELECT max(at) FROM checks WHERE endpoint_id = endpoints.id), 0))"
            " FROM endpoints WHERE name = ?"
        )
        if site is None:
            found = self.conn.execute(select + " ORDER BY id LIMIT 1", (name,)).fetchone()
        else:
            found = self.conn.execute(select + " AND site = ?", (name, site)).fetchone()
            if found is None:
                found = self.conn.execute(select + " AND site IS NULL", (name,)).fetchone()
                if found is not None:
                    self.conn.execute("UPDATE endpoints SET site = ? WHERE id = ?", (site, found[0]))
                    found = (*found[:3], site, *found[4:])
        return None if found is None or found[0] is None else tuple(found)

    def label_id(self, kind: str, value: str | None) -> int | None:
        if value is None:
            return None
        key = (kind, value)
        label_id = self._labels.get(key)
        if label_id is None:
            label_id = self._lookup_or_insert("labels", ("kind", "value"), key)
            self._labels[key] = label_id
            self._label_values[label_id] = value
        return label_id

    def _setting_id(self, key: tuple[Any, ...]) -> int:
        setting_id = self._settings.get(key)
        if setting_id is None:
            columns = ("endpoint_id", "url", "interval_ms", "site")
            setting_id = self._settings[key] = self._lookup_or_insert("settings", columns, key)
            self._setting_values[setting_id] = key[1:]
        return setting_id

    def _cert_id(self, key: tuple[Any, ...]) -> int:
        cert_id = self._certs.get(key)
        if cert_id is None:
            columns = ("issuer", "subject", "not_after")
            cert_id = self._certs[key] = self._lookup_or_insert("certs", columns, key)
            self._cert_values[cert_id] = key
        return cert_id

    def _lookup_or_insert(self, table: str, columns: tuple[str, ...], values: tuple[Any, ...]) -> int:
        # IS, not =, so that NULL matches NULL (UNIQUE lets NULLs repeat).
        where = " AND ".join(f"{column} IS ?" for column in columns)
        found = self.conn.execute(f"SELECT id FROM {table} WHERE {where}", values).fetchone()
        if found is not None:
            return cast(int, found[0])
        marks = ", ".join("?" * len(columns))
        return cast(int, self.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
        ).lastrowid)

    # reading

    def _reload(self) -> None:
        conn = self.conn
        self._label_values = dict(conn.execute("SELECT id, value FROM labels"))
        self._setting_values = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, url, interval_ms, site FROM settings")
        }
        self._cert_values = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, issuer, subject, not_after FROM certs")
        }
        self._endpoint_names = dict(conn.execute("SELECT id, name FROM endpoints"))

    def label_value(self, label_id: int | None) -> str | None:
        if label_id is None:
            return None
        if label_id not in self._label_values:
            self._reload()
        return self._label_values[label_id]

    def setting(self, setting_id: int) -> tuple[Any, ...]:
        """(url, interval_ms, site)"""
        if setting_id not in self._setting_values:
            self._reload()
        return self._setting_values[setting_id]

    def cert(self, cert_id: int | None) -> tuple[Any, ...]:
        """(issuer, subject, not_after_ms)"""
        if cert_id is None:
            return (None, None, None)
        if cert_id not in self._cert_values:
            self._reload()
        return self._cert_values[cert_id]

    def endpoint_name(self, endpoint_id: int) -> str:
        if endpoint_id not in self._endpoint_names:
            self._reload()
        return self._endpoint_names[endpoint_id]

    def check(self, row: tuple[Any, ...]) -> Check:
        """The accounting's view of a checks row."""
        return Check(
            at=row[_AT] / 1000,
            state=STATE_NAMES[row[_STATE]],
            error_class=self.label_value(row[_ERROR_CLASS]),
            interval=self.setting(row[_SETTING])[1] / 1000,
        )

    def result(self, row: tuple[Any, ...]) -> tuple[str, float, str | None, CheckResult]:
        """(endpoint name, interval_s, site, CheckResult) of a checks row."""
        (endpoint_id, at, setting_id, state, error_class, error, http_status, dns, connect,
         tls, ttfb, total, tls_version, tls_cipher, cert_id, cert_days_left, wait) = row  # fmt: skip
        url, interval_ms, site = self.setting(setting_id)
        issuer, subject, not_after = self.cert(cert_id)
        result = CheckResult(
            url=url,
            at=at / 1000,
            state=STATE_NAMES[state],
            error_class=self.label_value(error_class),
            error=self.label_value(error),
            http_status=http_status,
            dns_ms=_from_tenths(dns),
            connect_ms=_from_tenths(connect),
            tls_ms=_from_tenths(tls),
            ttfb_ms=_from_tenths(ttfb),
            total_ms=_from_tenths(total),
            wait_ms=_from_tenths(wait),
            tls_version=self.label_value(tls_version),
            tls_cipher=self.label_value(tls_cipher),
            cert_not_after=_seconds(not_after),
            cert_days_left=cert_days_left,
            cert_issuer=issuer,
            cert_subject=subject,
        )
        return self.endpoint_name(endpoint_id), interval_ms / 1000, site, result

    def run(self, row: tuple[Any, ...]) -> Run:
        start, last, end, state, error_class, count, interval_ms = row
        return Run(
            start=start / 1000,
            last=last / 1000,
            end=end / 1000,
            state=STATE_NAMES[state],
            error_class=self.label_value(error_class),
            count=count,
            interval=interval_ms / 1000,
        )

    def run_row(self, endpoint_id: int, run: Run) -> tuple[Any, ...]:
        return (
            endpoint_id,
            _ms(run.start),
            _ms(run.last),
            _ms(run.end),
            STATE_CODES[run.state],
            self.label_id("error_class", run.error_class),
            run.count,
            _ms(run.interval),
        )

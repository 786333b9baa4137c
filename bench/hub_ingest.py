#!/usr/bin/env python3
"""Benchmark: a hub (`probe run --listen ... --listen-tls-cert/key` with [[site]] sections) taking
the pushes of five sites × 10 000 endpoints at 60 s (833 checks per second). The sites are
simulated: one pusher per site in this process, each pushing every second the checks that came
due in it (as a site's outbox does), JSON Lines in the export format over HTTPS.

Measured: does the hub keep up (every line stored; data lag = when the hub answered that it
stored a check − the check's time, p50/p99), the hub's CPU per ingested check, and bytes per
check in the hub's database (its growth after the first interval, when every endpoint exists
already; over the second half in a run shorter than that).

    python bench/hub_ingest.py                     # 5 sites × 10 000 endpoints at 60 s, 100 s
    python bench/hub_ingest.py --sites 5 --endpoints 10000 --interval 60 --seconds 100

Needs (Debian): openssl. Only talks to 127.0.0.1; stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import ssl
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _lab  # noqa: E402

import aiohttp  # noqa: E402

from probe.result import CheckResult  # noqa: E402
from probe.store import shipping  # noqa: E402


def template(site: str, index: int, interval: int) -> tuple[str, str]:
    """A check line of the export format, as a site writes it, split around its time."""
    result = CheckResult(
        url=f"https://{site}-service.example/e{index:05d}", at=1_700_000_000.0, state="up", http_status=200,
        dns_ms=0.4, connect_ms=0.9, tls_ms=4.2, ttfb_ms=12.5, total_ms=13.1, wait_ms=0.1, tls_version="TLSv1.3",
        tls_cipher="TLS_AES_256_GCM_SHA384", cert_not_after=1_790_000_000.0, cert_days_left=80,
        cert_issuer="CN=R11,O=Let's Encrypt,C=US", cert_subject="CN=service.example")
    line = shipping.check_line(f"{site}-e{index:05d}", result, float(interval), site)
    head, tail = line.split('"2023-11-14T22:13:20Z"')
    return head, tail


class Pusher:
    def __init__(self, site: str, token: str, endpoints: int, interval: int, url: str, context: ssl.SSLContext):
        self.site, self.token, self.url, self.context = site, token, url, context
        self.interval = interval
        self.parts = [template(site, i, interval) for i in range(endpoints)]
        self.phase = [i * interval / endpoints for i in range(endpoints)]  # seconds into each interval
        self.stream = uuid.uuid4().hex
        self.next_seq = 1
        self.lags: list[float] = []
        self.pushed = self.stored_through = 0
        self.errors = 0

    def due(self, since: float, until: float) -> tuple[list[str], list[float]]:
        """The lines of the checks made in [since, until), oldest first."""
        lines, times = [], []
        cycle = since - since % self.interval
        while cycle < until:
            for index, offset in enumerate(self.phase):
                at = cycle + offset
                if since <= at < until:
                    head, tail = self.parts[index]
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"
                    lines.append(f'{head}"{stamp}"{tail}')
                    times.append(int(at * 1000) / 1000)
            cycle += self.interval
        return lines, times

    async def run(self, session: aiohttp.ClientSession, start: float, stop: float, every: float = 1.0) -> None:
        since = start
        backlog_lines: list[str] = []
        backlog_times: list[float] = []
        while since < stop:
            until = min(stop, since + every)
            await asyncio.sleep(max(0.0, until - time.time()))
            lines, times = self.due(since, until)
            backlog_lines += lines
            backlog_times += times
            since = until
            while backlog_lines:
                batch, batch_times = backlog_lines[:5000], backlog_times[:5000]
                first = self.next_seq
                try:
                    async with session.post(
                        self.url, params={"site": self.site, "stream": self.stream, "first": str(first)},
                        data=("\n".join(batch) + "\n").encode(),
                        headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"},
                        ssl=self.context,
                    ) as response:
                        answer = await response.json() if response.status == 200 else None
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    answer = None
                if answer is None:
                    self.errors += 1
                    break  # try again at the next second, as a site does
                now = time.time()
                self.lags += [now - at for at in batch_times]
                self.stored_through = answer["stored_through"]
                self.next_seq += len(batch)
                self.pushed += len(batch)
                del backlog_lines[:len(batch)], backlog_times[:len(batch)]


def db_bytes(path: str) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]


def checks_in(path: str) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM checks").fetchone()[0]


async def push_all(pushers: list[Pusher], seconds: float, ca: str, hub_pid: int, db: str) -> dict:
    context = ssl.create_default_context(cafile=ca)
    start = time.time() + 1.0
    stop = start + seconds
    half = {}

    async def middle() -> None:
        # steady state: once every endpoint has had its first check (after one interval)
        mark = pushers[0].interval if seconds > pushers[0].interval + 10 else seconds / 2
        await asyncio.sleep(max(0.0, start + mark - time.time()))
        half.update(cpu=_lab.proc_cpu(hub_pid), bytes=db_bytes(db), checks=checks_in(db), at=time.time())

    connector = aiohttp.TCPConnector(limit=len(pushers) * 2)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        cpu_before = _lab.proc_cpu(hub_pid)
        ticks = _lab.cpu_ticks()
        await asyncio.gather(middle(), *(p.run(session, start, stop) for p in pushers))
        cpu_after = _lab.proc_cpu(hub_pid)
        load = _lab.machine_load(ticks, _lab.cpu_ticks())
    return {"cpu": cpu_after - cpu_before, "half": half, "load": load, "elapsed": time.time() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--endpoints", type=int, default=10_000, help="per site")
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=100.0)
    args = parser.parse_args()
    _lab.need({"openssl": "openssl"})
    print(_lab.machine())
    with _lab.Lab() as lab:
        files = _lab.make_certs(lab.dir, ["127.0.0.1"], server_key="ec")
        port = _lab.free_port(["127.0.0.1"])
        db = os.path.join(lab.dir, "hub.db")
        tokens = {f"site-{n}": uuid.uuid4().hex for n in range(1, args.sites + 1)}
        config = os.path.join(lab.dir, "hub.toml")
        with open(config, "w") as f:
            f.write(f'[probe]\ndatabase = "{db}"\nsite = "hub"\n')
            for name, token in tokens.items():
                f.write(f'[[site]]\nname = "{name}"\ntoken = "{token}"\n')
        hub = lab.start([sys.executable, "-m", "probe", "run", "--config", config, "--listen", f"127.0.0.1:{port}",
                         "--listen-tls-cert", files["cert"], "--listen-tls-key", files["key"]])
        _lab.wait_listening("127.0.0.1", port)
        url = f"https://127.0.0.1:{port}/api/v1/checks"
        pushers = [Pusher(name, token, args.endpoints, args.interval, url, None) for name, token in tokens.items()]
        for pusher in pushers:
            pusher.context = ssl.create_default_context(cafile=files["ca"])
        rate = args.sites * args.endpoints / args.interval
        print(f"{args.sites} sites × {args.endpoints} endpoints at {args.interval} s = {rate:.0f} checks/s"
              f" into the hub, for {args.seconds:g} s")
        result = asyncio.run(push_all(pushers, args.seconds, files["ca"], hub.pid, db))
        time.sleep(0.5)
        stored = checks_in(db)
        end_bytes = db_bytes(db)
        pushed = sum(p.pushed for p in pushers)
        lags = [lag for p in pushers for lag in p.lags]
        half = result["half"]
        cpu_second_half = _lab.proc_cpu(hub.pid) - half["cpu"]
        print(f"pushed {pushed} checks, stored {stored} at the hub; pushes that failed: "
              f"{sum(p.errors for p in pushers)}; every site's stored_through = its last line: "
              f"{all(p.stored_through == p.next_seq - 1 for p in pushers)}")
        print(f"data lag (hub's answer − check time): p50 {_lab.percentile(lags, 50):.2f} s,"
              f" p99 {_lab.percentile(lags, 99):.2f} s, max {max(lags):.2f} s (a site pushes every 1 s)")
        print(f"hub CPU: {result['cpu']:.1f} s over {result['elapsed']:.0f} s"
              f" ({100 * result['cpu'] / result['elapsed']:.0f} % of a core),"
              f" {1000 * result['cpu'] / max(1, stored):.3f} ms per ingested check;"
              f" steady state {1000 * cpu_second_half / max(1, stored - half['checks']):.3f} ms per check")
        print(f"hub database: {end_bytes / 1e6:.1f} MB for {stored} checks ({end_bytes / max(1, stored):.0f} B/check"
              f" with {args.sites * args.endpoints} endpoints' rows); steady state"
              f" {(end_bytes - half['bytes']) / max(1, stored - half['checks']):.0f} B per check")
        print(result["load"])
        print(json.dumps({"pushed": pushed, "stored": stored}))


if __name__ == "__main__":
    main()

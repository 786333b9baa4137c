#!/usr/bin/env python3
"""Benchmark: `probe run` at scale against a local nginx. Checks missed, start lag (p50/p99,
from the daemon's own heartbeat), CPU, and resident memory sampled over time (is it flat?).

    python bench/daemon_scale.py --endpoints 10000 --interval 60 --minutes 5
    python bench/daemon_scale.py --endpoints 50000 --interval 120 --minutes 10
    python bench/daemon_scale.py --endpoints 100 --interval 60 --minutes 5     # idle cost

Needs (Debian): nginx, openssl. Only talks to 127.0.0.2-127.0.0.5; stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _lab  # noqa: E402
import check_throughput  # noqa: E402  (its nginx set-up)

from probe.store import Store  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident memory of the daemon and its worker processes."""
    total = 0
    for process in _lab.tree_pids(pid):
        try:
            with open(f"/proc/{process}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def write_config(path: str, db: str, ca: str, urls: list[str], interval: int, *, timeout: float | None = None,
                 max_in_flight: int = 512, rate: int = 2000, per_host: int = 64, workers: int | None = None) -> None:
    """A `probe run` config: endpoint i is named e{i:05d} and checks urls[i] every `interval`."""
    timeout = min(10, interval) if timeout is None else timeout
    with open(path, "w") as f:
        f.write(f'[probe]\ndatabase = "{db}"\nsite = "bench"\nmax_in_flight = {max_in_flight}\nrate = {rate}\n'
                f'per_host = {per_host}\n' + (f'workers = {workers}\n' if workers else '') + f'\n[defaults]\ninterval = "{interval}s"\ntimeout = "{timeout:g}s"\n'
                f'ca_file = "{ca}"\nexpect_body = "ok"\n\n')
        for i, url in enumerate(urls):
            f.write(f'[[endpoint]]\nname = "e{i:05d}"\nurl = "{url}"\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=10000)
    parser.add_argument("--interval", type=int, default=60, help="seconds")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--sample", type=float, default=15, help="seconds between memory/CPU samples")
    options = parser.parse_args()
    tools = _lab.need({"nginx": "nginx", "openssl": "openssl"})
    print(f"machine: {_lab.machine()}")
    print(f"probe run: {options.endpoints} endpoints every {options.interval}s "
          f"({options.endpoints / options.interval:.0f} checks/s) for {options.minutes:g} min")
    with _lab.Lab() as lab:
        certs = _lab.make_certs(lab.dir, check_throughput.ADDRESSES, server_key="ec")
        port = _lab.free_port(check_throughput.ADDRESSES)
        nginx = check_throughput.start_nginx(lab, tools, certs, port)
        db = os.path.join(lab.dir, "probe.db")
        config = os.path.join(lab.dir, "probe.toml")
        addresses = check_throughput.ADDRESSES
        urls = [f"https://{addresses[i % len(addresses)]}:{port}/e{i}" for i in range(options.endpoints)]
        write_config(config, db, certs["ca"], urls, options.interval)
        log = open(os.path.join(lab.dir, "probe.log"), "w")
        daemon = lab.start([sys.executable, "-m", "probe", "run", "--config", config], stderr=log)
        started = time.time()
        cpu0, nginx0 = _lab.tree_cpu(daemon.pid), _lab.tree_cpu(nginx.pid)
        samples = []
        lags = []
        print(f"{'min':>5} {'RSS MiB':>8} {'CPU %':>6} {'lag p50 ms':>10} {'lag p99 ms':>10} {'missed':>6} {'queue':>6}")
        last_cpu, last_t = cpu0, started
        while time.time() - started < options.minutes * 60:
            time.sleep(options.sample)
            if daemon.poll() is not None:
                with open(log.name) as said:
                    sys.exit(f"the daemon exited with {daemon.returncode}: {said.read()[-500:]}")
            now = time.time()
            cpu = _lab.tree_cpu(daemon.pid)
            with Store.open(db) as store:
                status = (store.daemon_runs()[-1].status or {})
            rss = rss_mib(daemon.pid)
            samples.append((now - started, rss))
            p50, p99 = status.get("lag_p50"), status.get("lag_p99")
            if p99 is not None:
                lags.append((p50, p99))
            print(f"{(now - started) / 60:5.1f} {rss:8.1f} {100 * (cpu - last_cpu) / (now - last_t):6.1f} "
                  f"{(p50 or 0) * 1000:10.1f} {(p99 or 0) * 1000:10.1f} {status.get('missed', '-'):>6} "
                  f"{status.get('queue', '-'):>6}")
            last_cpu, last_t = cpu, now
        wall = time.time() - started
        cpu = _lab.tree_cpu(daemon.pid) - cpu0
        nginx_cpu = _lab.tree_cpu(nginx.pid) - nginx0
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(15)
        with Store.open(db) as store:
            final = store.daemon_runs()[-1].status or {}
            per_endpoint = dict(store.db.conn.execute(
                "SELECT e.name, count(*) FROM checks c JOIN endpoints e ON e.id = c.endpoint_id GROUP BY e.name"
            ).fetchall())
        expected_min = int(wall // options.interval) - 1
        short = sum(1 for i in range(options.endpoints) if per_endpoint.get(f"e{i:05d}", 0) < expected_min)
        total = sum(per_endpoint.values())
        steady = [rss for t, rss in samples if t > min(120, wall / 3)]
        print()
        print(f"checks recorded: {total} in {wall:.0f} s ({total / wall:.1f}/s; "
              f"target {options.endpoints / options.interval:.1f}/s)")
        print(f"endpoints with fewer than {expected_min} checks: {short}; "
              f"slots missed (scheduler): {final.get('missed')}")
        if lags:
            print(f"lag p50 (worst sample): {max(l[0] for l in lags) * 1000:.1f} ms; "
                  f"lag p99 (worst sample): {max(l[1] for l in lags) * 1000:.1f} ms")
        print(f"daemon CPU (with its workers): {cpu:.1f} s = {100 * cpu / wall:.2f} % of one core; "
              f"{1000 * cpu / max(total, 1):.2f} ms per check; nginx CPU {100 * nginx_cpu / wall:.1f} %")
        if steady:
            print(f"resident memory after warm-up: {min(steady):.0f} to {max(steady):.0f} MiB "
                  f"(first {steady[0]:.0f}, last {steady[-1]:.0f})")
        log.close()
        with open(log.name) as said:
            errors = [line.rstrip() for line in said if " ERROR " in line or "Traceback" in line]
        print(f"daemon log: {len(errors)} error lines" + "".join(f"\n  {line}" for line in errors[:5]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark 3: latency truth under load. How far are probe's `total_ms` and `ttfb_ms` from the
delay the server really waited, while probe runs checks at a steady rate?

    python bench/latency_truth.py               # about 30 s: 400 checks/s for 20 s, 50 ms delay
    python bench/latency_truth.py --help

Needs only openssl (Debian: openssl) and this package. Installs nothing; talks to 127.0.0.6 only;
every process it starts is stopped at the end, even on Ctrl-C.

The servers: --server-processes Python asyncio TLS servers (separate processes, SO_REUSEPORT on
one port; TLS 1.2+, an ECDSA P-256 certificate from a CA made here, so that the server's
handshakes cost little). Each reads the request head, waits --delay-ms, answers 200 "ok", and
notes per request the monotonic times of "head read" and "answer written".
The client: this process (never the server's), an open-loop schedule: check i starts at
i / --rate seconds whatever happened before, with probe.check.Checker (what check_many uses).

Reported, p50 / p99 / max over all checks:
  total_ms - delay       what a user of `probe` sees as error: includes the real connect + TLS time
  ttfb_ms - delay        time to first byte against the known wait
  ttfb_ms - server wait  the part of ttfb that is not the server's own measured wait (its timer
                         lateness removed): transit both ways and the client's event-loop lag
  server wait - delay    the server's own lateness (its timer under load), for reference
  start lag              how late each check started against its schedule (client saturation)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import time
from time import perf_counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lab  # noqa: E402

ADDRESS = "127.0.0.6"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


# --- the server (a separate process) -------------------------------------------------------------

def serve(port: int, delay_ms: float, cert: str, key: str, out: str) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.options |= ssl.OP_NO_TICKET
    records: dict[str, tuple[float, float]] = {}
    delay = delay_ms / 1000

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            read_at = perf_counter()
            path = head.split(b" ", 2)[1].decode()
            await asyncio.sleep(delay)
            writer.write(ANSWER)
            records[path] = (read_at, perf_counter())
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        server = await asyncio.start_server(handle, ADDRESS, port, ssl=context, reuse_port=True, backlog=2048)
        async with server:
            await stop.wait()
        with open(out, "w") as f:
            json.dump(records, f)

    asyncio.run(main())


# --- the client (this process) -------------------------------------------------------------------

async def drive(url_base: str, ca_file: str, rate: float, seconds: float, timeout: float):
    from probe.check import Checker, CheckSpec

    count = int(rate * seconds)
    results, starts = [None] * count, [0.0] * count
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker():  # the event loop's own lag: how late a 10 ms sleep wakes up
        while not done.is_set():
            asked = perf_counter()
            await asyncio.sleep(0.01)
            ticks.append((perf_counter() - asked - 0.01) * 1000)

    async with Checker() as checker:

        async def one(i: int, spec: CheckSpec):
            results[i] = await checker.check(spec)

        tick_task = asyncio.create_task(ticker())
        tasks = []
        began = perf_counter()
        for i in range(count):
            due = began + i / rate
            wait = due - perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            starts[i] = (perf_counter() - due) * 1000
            spec = CheckSpec(url=f"{url_base}/c{i}", ca_file=ca_file, timeout=timeout)
            tasks.append(asyncio.create_task(one(i, spec)))
        await asyncio.gather(*tasks)
        elapsed = perf_counter() - began
        done.set()
        await tick_task
    return results, starts, ticks, elapsed


def stats(values: list[float]) -> str:
    if not values:
        return "        -        -        -"
    return (f"{_lab.percentile(values, 50):9.2f} {_lab.percentile(values, 99):9.2f} "
            f"{max(values):9.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=400, help="checks started per second (default 400)")
    parser.add_argument("--seconds", type=float, default=20, help="how long (default 20)")
    parser.add_argument("--delay-ms", type=float, default=50, help="the server's wait (default 50)")
    parser.add_argument("--server-processes", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop (must be installed)")
    parser.add_argument("--serve", nargs=5, metavar=("PORT", "DELAY_MS", "CERT", "KEY", "OUT"),
                        help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        port, delay, cert, key, out = options.serve
        return serve(int(port), float(delay), cert, key, out)
    if options.rate * options.seconds > 20000 or options.seconds > 60:
        sys.exit("latency_truth: keep it bounded: at most 60 s and 20000 checks")

    _lab.need({"openssl": "openssl"})
    if options.uvloop:
        import uvloop

        uvloop.install()
    print(f"machine: {_lab.machine()}")
    with _lab.Lab() as lab:
        try:
            certs = _lab.make_certs(lab.dir, [ADDRESS], server_key="ec")
            port = _lab.free_port([ADDRESS])
            outs = []
            for n in range(options.server_processes):
                out = os.path.join(lab.dir, f"server-{n}.json")
                outs.append(out)
                lab.start([sys.executable, os.path.abspath(__file__), "--serve", str(port), str(options.delay_ms),
                           certs["cert"], certs["key"], out], stderr=None)
            _lab.wait_listening(ADDRESS, port)
            time.sleep(0.3)  # every server process has bound the port
            url_base = f"https://{ADDRESS}:{port}"
            print(f"{options.server_processes} server processes on {url_base} waiting {options.delay_ms:g} ms; "
                  f"client: {options.rate:g} checks/s for {options.seconds:g} s "
                  f"({'uvloop' if options.uvloop else 'asyncio'}), pid {os.getpid()}", flush=True)
            cpu0 = time.process_time()
            results, starts, ticks, elapsed = asyncio.run(
                drive(url_base, certs["ca"], options.rate, options.seconds, timeout=10))
            cpu = time.process_time() - cpu0
            lab._stop_all()  # the servers write what they saw
            server: dict[str, tuple[float, float]] = {}
            for out in outs:
                if os.path.exists(out):
                    with open(out) as f:
                        server.update(json.load(f))
        except KeyboardInterrupt:
            sys.exit("interrupted; everything stopped")

    delay = options.delay_ms
    up = [r for r in results if r is not None and r.state == "up"]
    total_err = [r.total_ms - delay for r in up]
    ttfb_err = [r.ttfb_ms - delay for r in up]
    beyond, server_late = [], []
    for i, r in enumerate(results):
        record = server.get(f"/c{i}")
        if r is not None and r.state == "up" and record:
            wait_ms = (record[1] - record[0]) * 1000
            server_late.append(wait_ms - delay)
            beyond.append(r.ttfb_ms - wait_ms)
    bad = len(results) - len(up)
    print()
    print(f"{len(results)} checks in {elapsed:.1f} s = {len(results) / elapsed:.0f}/s; {bad} not up; "
          f"client CPU {cpu:.1f} s = {cpu / len(results) * 1000:.2f} ms per check")
    print(f"{'ms':28} {'p50':>9} {'p99':>9} {'max':>9}")
    print(f"{'total_ms - delay':28} {stats(total_err)}")
    print(f"{'ttfb_ms - delay':28} {stats(ttfb_err)}")
    print(f"{'ttfb_ms - server wait':28} {stats(beyond)}   ({len(beyond)} matched)")
    print(f"{'server wait - delay':28} {stats(server_late)}")
    print(f"{'start lag (client)':28} {stats(starts)}")
    print(f"{'event loop lag (client)':28} {stats(ticks)}")
    p99 = _lab.percentile(total_err, 99)
    print(f"\ntarget: p99 of total_ms - delay under 10 ms: {'met' if p99 < 10 else 'NOT met'} ({p99:.2f} ms)")
    print(f"$ {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark 2: CPU per fresh-TLS check: probe's check against the same connection made the
plainest way asyncio offers (its streams over the event loop's TLS transport), on asyncio's own
loop and on uvloop. One process alternates the variants in short batches, so machine noise hits
them alike; medians are printed.

    python bench/check_cpu.py                    # about 60 s
    python bench/check_cpu.py --batch 400 --rounds 6

Needs (Debian): nginx openssl; uvloop (pip) for its rows. Talks to 127.0.0.2-127.0.0.5 only.

Variants (every one: a new TCP connection and a full TLS handshake verified against the CA, an
HTTP/1.1 GET, the answer read, the connection closed; 64 at a time):
  probe/asyncio   probe.check.check_many on asyncio's own loop (every fact and timing kept)
  probe/uvloop    the same on uvloop (what `probe check` and `probe run` use when installed)
  probe/uvloop/clock  the same, timed by the clock alone: without the kernel's receive stamps
                  and TCP_INFO round trip (what they cost)
  bare/asyncio    asyncio.open_connection(ssl=...) + write + read: no HTTP parsing, no facts kept
  bare/uvloop     the same on uvloop
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import ssl
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lab  # noqa: E402
import check_throughput  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=400, help="checks per batch (default 400)")
    parser.add_argument("--rounds", type=int, default=5, help="batches per variant (default 5)")
    options = parser.parse_args()
    if options.batch * options.rounds > 5000:
        sys.exit("check_cpu: keep it bounded: batch x rounds at most 5000")
    tools = _lab.need({"nginx": "nginx", "openssl": "openssl"})
    from probe.check import kernel, wire
    from probe.check import CheckSpec, check_many

    has_uvloop = importlib.util.find_spec("uvloop") is not None
    if has_uvloop:
        import uvloop
    print(f"machine: {_lab.machine()}")
    addresses = check_throughput.ADDRESSES
    with _lab.Lab() as lab:
        certs = _lab.make_certs(lab.dir, addresses)
        port = _lab.free_port(addresses)
        nginx = check_throughput.start_nginx(lab, tools, certs, port)
        context = ssl.create_default_context(cafile=certs["ca"])
        n = options.batch

        kernel_facts = (kernel._LINUX, wire._ANCILLARY_SIZE)

        def probe_batch(clock_only=False):
            kernel._LINUX, wire._ANCILLARY_SIZE = (False, 0) if clock_only else kernel_facts
            specs = [CheckSpec(url=f"https://{addresses[i % 4]}:{port}/", ca_file=certs["ca"]) for i in range(n)]
            return check_many(specs, concurrency=64)

        async def bare_one(i, gate):
            async with gate:
                host = addresses[i % 4]
                reader, writer = await asyncio.open_connection(host, port, ssl=context)
                writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                data = await reader.read()
                writer.close()
                try:
                    await writer.wait_closed()
                except (OSError, ssl.SSLError):
                    pass
                return data.startswith(b"HTTP/1.1 200")

        async def bare_batch():
            gate = asyncio.Semaphore(64)
            return await asyncio.gather(*(bare_one(i, gate) for i in range(n)))

        variants = {"probe/asyncio": (probe_batch, None), "bare/asyncio": (bare_batch, None)}
        if has_uvloop:
            variants["probe/uvloop"] = (probe_batch, uvloop.new_event_loop)
            variants["probe/uvloop/clock"] = (lambda: probe_batch(clock_only=True), uvloop.new_event_loop)
            variants["bare/uvloop"] = (bare_batch, uvloop.new_event_loop)
        cpu = {name: [] for name in variants}
        nginx_cpu = {name: 0.0 for name in variants}
        try:
            for round_ in range(options.rounds):
                for name, (make, factory) in variants.items():
                    with asyncio.Runner(loop_factory=factory) as runner:
                        ng0, c0 = _lab.tree_cpu(nginx.pid), time.process_time()
                        results = runner.run(make())
                        spent = time.process_time() - c0
                        nginx_cpu[name] += _lab.tree_cpu(nginx.pid) - ng0
                    good = sum(r is True or getattr(r, "state", None) == "up" for r in results)
                    if good != n:
                        sys.exit(f"{name}: {n - good} of {n} checks failed")
                    cpu[name].append(spent / n * 1000)
                print(f"round {round_ + 1}/{options.rounds} done", flush=True)
        except KeyboardInterrupt:
            sys.exit("interrupted; everything stopped")
    base = statistics.median(cpu["bare/asyncio"])
    print(f"\n{'CPU ms per check':18} {'median':>7} {'min':>6} {'x bare/asyncio':>14}  per batch")
    for name, values in cpu.items():
        print(f"{name:18} {statistics.median(values):7.3f} {min(values):6.3f} "
              f"{statistics.median(values) / base:14.2f}  {' '.join(f'{v:.2f}' for v in values)}")
    print(f"(nginx's own CPU per check over all batches: "
          f"{sum(nginx_cpu.values()) / (len(variants) * options.rounds * n) * 1000:.3f} ms)")
    print(f"$ {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()

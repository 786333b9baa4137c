#!/usr/bin/env python3
"""Benchmark 3: latency truth under load. How far are probe's `total_ms` and `ttfb_ms` from the
delay the server really waited, while probe runs checks at a steady rate?

    python bench/latency_truth.py               # about 30 s: 400 checks/s for 20 s, 50 ms delay
    python bench/latency_truth.py --asyncio --client-processes 1     # one process on asyncio's loop
    python bench/latency_truth.py --help

Needs openssl and, for the default server, nginx with its echo module (Debian: openssl nginx
libnginx-mod-http-echo). Installs nothing; talks to 127.0.0.6 only; every process it starts is
stopped at the end, even on Ctrl-C.

The server (TLS 1.2+, an ECDSA P-256 certificate from a CA made here, so that its handshakes
cost little; separate processes, never the client's):
  --server nginx   (default) nginx, `echo_sleep` the delay then `echo ok`; it logs each request's
                   $request_time (millisecond resolution) as the server's own wait.
  --server python  --server-processes asyncio TLS servers (SO_REUSEPORT on one port) that read the
                   request head, wait, answer 200 "ok" and note both times (heavier: Python TLS).
--daemon measures `probe run` itself instead: rate x 10 endpoints every 10 s (the daemon's own
phase offsets, its worker processes), its checks of the window read back from its database.
Otherwise the client: --client-processes processes forked from this one (never the server's), an
open-loop schedule: check i starts at i / --rate seconds whatever happened before, with
probe.check.check (what check_many and the daemon use); with several processes, each takes every n-th check.

Reported, p50 / p99 / max over all checks:
  total_ms - delay       what a user of `probe` sees as error: includes the real connect + TLS time
  ttfb_ms - delay        time to first byte against the known wait
  ttfb_ms - server wait  the part of ttfb that is not the server's own measured wait (its timer
                         lateness removed): transit both ways and the client's event-loop lag
  server wait - delay    the server's own lateness (its timer under load), for reference
  wait_ms                what probe left out of its timings: the time the check's data waited
                         on this host for the busy prober to read it (kernel receive stamps)
  by the clock           total_ms + wait_ms - delay: the error had probe timed by the clock
  start lag              how late each check started against its schedule (client saturation)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
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


# --- the nginx server ----------------------------------------------------------------------------

ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
NGINX_CONF = """\
load_module {module};
worker_processes auto;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
{user}
events {{ worker_connections 8192; }}
http {{
    log_format wait '$uri $request_time';
    access_log {dir}/wait.log wait buffer=256k flush=1s;
    client_body_temp_path {dir}/nginx-tmp;
    proxy_temp_path {dir}/nginx-tmp;
    fastcgi_temp_path {dir}/nginx-tmp;
    uwsgi_temp_path {dir}/nginx-tmp;
    scgi_temp_path {dir}/nginx-tmp;
    default_type text/plain;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    server {{
        listen {address}:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{ echo_sleep {delay}; echo ok; }}
    }}
}}
"""


def start_nginx(lab, nginx: str, port: int, delay_ms: float, certs: dict) -> str:
    os.makedirs(os.path.join(lab.dir, "nginx-tmp"), exist_ok=True)
    conf = os.path.join(lab.dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(module=ECHO_MODULE, dir=lab.dir, user="user root;" if os.geteuid() == 0 else "",
                                  address=ADDRESS, port=port, cert=certs["cert"], key=certs["key"],
                                  delay=f"{delay_ms / 1000:.3f}"))
    lab.start([nginx, "-p", lab.dir, "-c", conf, "-e", os.path.join(lab.dir, "nginx-error.log")])
    return os.path.join(lab.dir, "wait.log")


def nginx_waits(path: str) -> dict[str, tuple[float, float]]:
    """{uri: (0, wait seconds)} from the access log."""
    waits = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                uri, _, seconds = line.strip().rpartition(" ")
                waits[uri] = (0.0, float(seconds))
    return waits


Outcome = collections.namedtuple("Outcome", "state total_ms ttfb_ms dns_ms connect_ms tls_ms wait_ms")


# --- the client (this process) -------------------------------------------------------------------

async def drive(url_base: str, ca_file: str, rate: float, seconds: float, timeout: float,
                process: int = 0, processes: int = 1, began: float | None = None):
    """Checks process, process + processes, ... of the schedule i / rate (one client process's
    share when there are several); returns {i: result}, start lags, loop lags, elapsed."""
    from probe.check import CheckSpec, check

    count = int(rate * seconds)
    mine = range(process, count, processes)
    results, starts = {}, []
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker():  # the event loop's own lag: how late a 10 ms sleep wakes up
        while not done.is_set():
            asked = perf_counter()
            await asyncio.sleep(0.01)
            ticks.append((perf_counter() - asked - 0.01) * 1000)

    async def one(i: int, spec: CheckSpec):
        r = await check(spec)
        # only the figures, in a tuple of numbers: the collector does not walk those, as the
        # daemon keeps no results either (CheckResult objects would make its pauses grow)
        results[i] = Outcome(r.state, r.total_ms, r.ttfb_ms, r.dns_ms, r.connect_ms, r.tls_ms, r.wait_ms or 0.0)

    tick_task = asyncio.create_task(ticker())
    tasks: set = set()  # the checks in flight only, as the daemon's scheduler keeps them
    began = perf_counter() if began is None else began
    for i in mine:
        due = began + i / rate
        wait = due - perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        starts.append((perf_counter() - due) * 1000)
        spec = CheckSpec(url=f"{url_base}/c{i}", ca_file=ca_file, timeout=timeout)
        task = asyncio.create_task(one(i, spec))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    elapsed = perf_counter() - began
    done.set()
    await tick_task
    return results, starts, ticks, elapsed


def drive_processes(url_base, ca_file, rate, seconds, timeout, processes, use_uvloop):
    """The schedule split over `processes` client processes (forked; this one waits and merges)."""
    import multiprocessing
    import pickle

    context = multiprocessing.get_context("fork")
    began = perf_counter() + 0.5
    pipes, children = [], []
    for n in range(processes):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_client, args=(sender, url_base, ca_file, rate, seconds, timeout, n,
                                                      processes, began, use_uvloop), daemon=True)
        child.start()
        sender.close()
        pipes.append(receiver)
        children.append(child)
    results, starts, ticks, cpu = {}, [], [], 0.0
    try:
        for receiver in pipes:
            r, s, t, c = pickle.loads(receiver.recv_bytes())
            results.update(r)
            starts += s
            ticks += t
            cpu += c
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join()
    elapsed = perf_counter() - began
    return [results.get(i) for i in range(int(rate * seconds))], starts, ticks, elapsed, cpu


DAEMON_INTERVAL = 10  # seconds: rate x 10 endpoints, each checked every 10 s
DAEMON_WARM_UP = 4.0  # seconds after the start whose checks are not counted (workers starting)


def drive_daemon(lab, url_base, ca_file, rate, seconds, workers=None):
    """`probe run` itself: rate x 10 endpoints on the delaying server, each every 10 s, for the
    warm-up plus `seconds`; then its checks of that window, read back from its database."""
    import sqlite3

    from daemon_scale import write_config

    db = os.path.join(lab.dir, "probe.db")
    config = os.path.join(lab.dir, "probe.toml")
    write_config(config, db, ca_file, [f"{url_base}/c{i}" for i in range(int(rate * DAEMON_INTERVAL))],
                 DAEMON_INTERVAL, timeout=5, max_in_flight=1024, rate=int(rate * 4), per_host=1024,
                 workers=workers)
    log = open(os.path.join(lab.dir, "probe.log"), "w")
    began = time.time()
    daemon = lab.start([sys.executable, "-m", "probe", "run", "--config", config], stderr=log)
    time.sleep(DAEMON_WARM_UP)
    cpu0 = _lab.tree_cpu(daemon.pid)
    time.sleep(seconds)
    cpu = _lab.tree_cpu(daemon.pid) - cpu0
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(15)
    log.close()
    if daemon.returncode != 0:
        with open(log.name) as said:
            sys.exit(f"the daemon exited with {daemon.returncode}: {said.read()[-500:]}")
    window = (int((began + DAEMON_WARM_UP) * 1000), int((began + DAEMON_WARM_UP + seconds) * 1000))
    with sqlite3.connect(db) as conn:  # timings are stored in 0.1 ms, times in ms
        rows = conn.execute("SELECT state, total, ttfb, dns, connect, tls, coalesce(wait, 0) FROM checks"
                            " WHERE at >= ? AND at < ?",
                            window).fetchall()
        status = json.loads(conn.execute("SELECT status FROM daemon_runs ORDER BY id DESC LIMIT 1").fetchone()[0]
                            or "{}")
    results = [Outcome("up" if state == 0 else "not up", *(None if v is None else v / 10 for v in rest))
               for state, *rest in rows]
    return results, status, seconds, cpu


def _client(sender, url_base, ca_file, rate, seconds, timeout, n, processes, began, use_uvloop):
    import pickle

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    factory = None
    if use_uvloop:
        import uvloop

        factory = uvloop.new_event_loop
    cpu0 = time.process_time()
    with asyncio.Runner(loop_factory=factory) as runner:
        results, starts, ticks, _ = runner.run(drive(url_base, ca_file, rate, seconds, timeout, n, processes, began))
    sender.send_bytes(pickle.dumps((results, starts, ticks, time.process_time() - cpu0)))
    sender.close()


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
    parser.add_argument("--server", choices=("nginx", "python"), default="nginx",
                        help="the delaying server (default nginx with its echo module)")
    parser.add_argument("--server-processes", type=int, default=2, help="python server processes (default 2)")
    parser.add_argument("--uvloop", action="store_true",
                        help="run the client on uvloop (the default when it is installed, as the daemon does)")
    parser.add_argument("--asyncio", action="store_true", help="run the client on asyncio's own loop instead")
    parser.add_argument("--client-processes", type=int, default=None,
                        help="split the schedule over this many client processes (default: one per usable "
                             "CPU, as the daemon's worker processes above 100 checks/s)")
    parser.add_argument("--daemon", action="store_true",
                        help="measure `probe run` itself: rate x 10 endpoints every 10 s, its checks read back "
                             "from its database (the client options then do not apply)")
    parser.add_argument("--workers", type=int, default=None,
                        help="with --daemon: its `workers` setting (default: its own choice, one per usable CPU "
                             "at this rate)")
    parser.add_argument("--serve", nargs=5, metavar=("PORT", "DELAY_MS", "CERT", "KEY", "OUT"),
                        help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        port, delay, cert, key, out = options.serve
        return serve(int(port), float(delay), cert, key, out)
    if options.rate * options.seconds > 20000 or options.seconds > 60:
        sys.exit("latency_truth: keep it bounded: at most 60 s and 20000 checks")

    tools = _lab.need({"openssl": "openssl", **({"nginx": "nginx"} if options.server == "nginx" else {})})
    if options.server == "nginx" and not os.path.exists(ECHO_MODULE):
        sys.exit(f"latency_truth: nginx's echo module is missing ({ECHO_MODULE}); install it with\n"
                 "  apt-get install libnginx-mod-http-echo\nor use --server python")
    if options.uvloop and options.asyncio:
        sys.exit("latency_truth: --uvloop or --asyncio, not both")
    if not options.asyncio:
        try:
            import uvloop  # noqa: F401
            options.uvloop = True
        except ImportError:
            if options.uvloop:
                sys.exit("latency_truth: uvloop is not installed (pip install uvloop)")
    if options.client_processes is None:
        from probe.runtime import usable_cpus

        options.client_processes = usable_cpus() if options.rate > 100 else 1
    print(f"machine: {_lab.machine()}")
    with _lab.Lab() as lab:
        try:
            certs = _lab.make_certs(lab.dir, [ADDRESS], server_key="ec")
            port = _lab.free_port([ADDRESS])
            outs = []
            wait_log = None
            if options.server == "nginx":
                wait_log = start_nginx(lab, tools["nginx"], port, options.delay_ms, certs)
            for n in range(options.server_processes if options.server == "python" else 0):
                out = os.path.join(lab.dir, f"server-{n}.json")
                outs.append(out)
                lab.start([sys.executable, os.path.abspath(__file__), "--serve", str(port), str(options.delay_ms),
                           certs["cert"], certs["key"], out], stderr=None)
            _lab.wait_listening(ADDRESS, port)
            time.sleep(0.3)  # every server process has bound the port
            url_base = f"https://{ADDRESS}:{port}"
            what = "nginx (echo_sleep)" if wait_log else f"{options.server_processes} Python server processes"
            daemon_status = None
            ticks_before = _lab.cpu_ticks()
            if options.daemon:
                print(f"{what} on {url_base} waiting {options.delay_ms:g} ms; client: probe run, "
                      f"{int(options.rate * DAEMON_INTERVAL)} endpoints every {DAEMON_INTERVAL} s "
                      f"({options.rate:g} checks/s), counted over {options.seconds:g} s after a "
                      f"{DAEMON_WARM_UP:g} s warm-up, workers = {options.workers or 'auto'}", flush=True)
                results, daemon_status, elapsed, cpu = drive_daemon(
                    lab, url_base, certs["ca"], options.rate, options.seconds, options.workers)
                starts, ticks = [], []
            else:
                print(f"{what} on {url_base} waiting {options.delay_ms:g} ms; "
                      f"client: {options.rate:g} checks/s for {options.seconds:g} s "
                      f"({'uvloop' if options.uvloop else 'asyncio'}, {options.client_processes} process(es))",
                      flush=True)
                results, starts, ticks, elapsed, cpu = drive_processes(
                    url_base, certs["ca"], options.rate, options.seconds, 10, options.client_processes,
                    options.uvloop)
            load = _lab.machine_load(ticks_before, _lab.cpu_ticks())
            time.sleep(1.5)  # nginx flushes its log buffer every second
            lab._stop_all()  # the servers write what they saw
            server: dict[str, tuple[float, float]] = nginx_waits(wait_log) if wait_log else {}
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
    for i, r in enumerate(results if daemon_status is None else []):  # each URL once: matched by index
        record = server.get(f"/c{i}")
        if r is not None and r.state == "up" and record:
            wait_ms = (record[1] - record[0]) * 1000
            server_late.append(wait_ms - delay)
            beyond.append(r.ttfb_ms - wait_ms)
    bad = len(results) - len(up)
    print()
    print(f"{len(results)} checks in {elapsed:.1f} s = {len(results) / elapsed:.0f}/s; {bad} not up; "
          f"client CPU {cpu:.1f} s = {cpu / max(len(results), 1) * 1000:.2f} ms per check")
    print(f"during the run: {load}")
    if daemon_status is not None:
        p50, p99 = (daemon_status.get(key) for key in ("lag_p50", "lag_p99"))
        lag = "not reported" if p50 is None or p99 is None else f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        print(f"probe run's own heartbeat: start lag {lag}; missed {daemon_status.get('missed')}")
    print(f"{'ms':28} {'p50':>9} {'p99':>9} {'max':>9}")
    print(f"{'total_ms - delay':28} {stats(total_err)}")
    print(f"{'ttfb_ms - delay':28} {stats(ttfb_err)}")
    print(f"{'ttfb_ms - server wait':28} {stats(beyond)}   ({len(beyond)} matched)")
    print(f"{'server wait - delay':28} {stats(server_late)}")
    print(f"{'  phases of total_ms: dns_ms':28} {stats([r.dns_ms for r in up])}")
    print(f"{'  connect_ms':28} {stats([r.connect_ms for r in up])}")
    print(f"{'  tls_ms':28} {stats([r.tls_ms for r in up])}")
    print(f"{'  after the first byte':28} "
          f"{stats([r.total_ms - r.dns_ms - r.connect_ms - r.tls_ms - r.ttfb_ms for r in up])}")
    print(f"{'wait_ms (left out of these)':28} {stats([r.wait_ms for r in up])}")
    print(f"{'by the clock: total + wait':28} {stats([r.total_ms + r.wait_ms - delay for r in up])}")
    print(f"{'start lag (client)':28} {stats(starts)}")
    print(f"{'event loop lag (client)':28} {stats(ticks)}")
    p99 = _lab.percentile(total_err, 99)
    print(f"\ntarget: p99 of total_ms - delay under 10 ms: {'met' if p99 < 10 else 'NOT met'} ({p99:.2f} ms)")
    print(f"$ {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()

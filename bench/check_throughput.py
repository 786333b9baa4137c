#!/usr/bin/env python3
"""Benchmark 1: fresh-TLS check throughput, `probe check` against Prometheus' blackbox_exporter,
with `openssl s_time -new` as the floor. All figures come from this one run.

    python bench/check_throughput.py                # about 100 s
    python bench/check_throughput.py --help

Needs (Debian): nginx prometheus-blackbox-exporter wrk openssl. Installs nothing.
Only ever talks to 127.0.0.0/8; every process it starts is stopped at the end, even on Ctrl-C.

What runs, one after the other, against ONE local nginx (TLS 1.2+, session cache and tickets
off so every handshake is a full one, RSA-2048 certificate from a CA made here, `return 200 "ok"`,
listening on 127.0.0.2-127.0.0.5):
  1. blackbox_exporter (module: http prober, TLS 1.2+, this CA, fail_if_not_ssl), driven by
     `wrk -c64` on /probe?target=https://127.0.0.x:port/ for --seconds; its CPU is read from
     /proc/<pid>/stat before and after; every probe's body must say probe_success 1.
  2. `probe check --concurrency 64 --json --ca-file CA` over --urls URLs (and any variants),
     CPU from wait4() of the process (it and its reaped children, start-up included), every JSON
     line checked for completeness (state up, HTTP 200, TLS version/cipher, certificate facts,
     all five timings).
  3. `openssl s_time -new -verify 1` for --openssl-seconds: client CPU per fresh handshake.
nginx's CPU in each phase is shown too: it is load on the same two cores.
--rounds repeats 1-3 in turn (default 2) and sums them: machine noise then hits every row alike.
Default probe variants: the command as shipped (uvloop, one worker process per CPU for long
lists), then in one process on uvloop, then in one process on asyncio's own loop (the hidden
`--loop` option of `probe check`). A variant prefixed 'at=CHECKOUT:' runs another checkout's
probe in the same run, for before/after figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lab  # noqa: E402

ADDRESSES = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED_FACTS = ("http_status", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms", "tls_version",
                  "tls_cipher", "cert_not_after", "cert_days_left", "cert_issuer", "cert_subject")

NGINX_CONF = """\
worker_processes auto;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
{user}
events {{ worker_connections 8192; }}
http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {dir}/nginx-tmp;
    proxy_temp_path {dir}/nginx-tmp;
    fastcgi_temp_path {dir}/nginx-tmp;
    uwsgi_temp_path {dir}/nginx-tmp;
    scgi_temp_path {dir}/nginx-tmp;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    server {{
{listens}
        location / {{ return 200 "ok"; }}
    }}
}}
"""

BLACKBOX_CONF = """\
modules:
  https_fresh:
    prober: http
    timeout: 5s
    http:
      method: GET
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      fail_if_not_ssl: true
      tls_config:
        ca_file: {ca}
        min_version: TLS12
"""

WRK_SCRIPT = """\
local targets = {{ {targets} }}
local counter = 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; failed = 0 end
function request()
  counter = counter + 1
  return wrk.format("GET", "/probe?module=https_fresh&target=" .. targets[(counter % #targets) + 1])
end
function response(status, headers, body)
  if status == 200 and string.find(body, "\\nprobe_success 1", 1, true) then ok = ok + 1 else failed = failed + 1 end
end
function done(summary, latency, requests)
  local o, f = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); f = f + t:get("failed") end
  io.write(string.format("PROBES ok=%d failed=%d\\n", o, f))
end
"""


def start_nginx(lab, tools, certs, port):
    os.makedirs(os.path.join(lab.dir, "nginx-tmp"), exist_ok=True)
    conf = os.path.join(lab.dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(
            dir=lab.dir, cert=certs["cert"], key=certs["key"],
            user="user root;" if os.geteuid() == 0 else "",
            listens="\n".join(f"        listen {a}:{port} ssl;" for a in ADDRESSES),
        ))
    proc = lab.start([tools["nginx"], "-p", lab.dir, "-c", conf, "-e", os.path.join(lab.dir, "nginx-error.log")])
    for address in ADDRESSES:
        _lab.wait_listening(address, port)
    return proc


def start_blackbox(lab, tools, certs):
    conf = os.path.join(lab.dir, "blackbox.yml")
    with open(conf, "w") as f:
        f.write(BLACKBOX_CONF.format(ca=certs["ca"]))
    port = _lab.free_port(["127.0.0.1"])
    proc = lab.start([tools["prometheus-blackbox-exporter"], f"--config.file={conf}",
                      f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
    _lab.wait_listening("127.0.0.1", port)
    return proc, port


def blackbox_phase(lab, tools, bb_proc, bb_port, nginx_proc, targets, seconds, connections):
    quoted = [urllib.parse.quote(t, safe="") for t in targets]
    # One probe first: the configuration works and the probe succeeds.
    with urllib.request.urlopen(f"http://127.0.0.1:{bb_port}/probe?module=https_fresh&target={quoted[0]}",
                                timeout=10) as answer:
        body = answer.read().decode()
    if "\nprobe_success 1" not in body:
        sys.exit("blackbox_exporter's first probe failed:\n" + body[-2000:])
    script = os.path.join(lab.dir, "probe.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT.format(targets=", ".join(f'"{q}"' for q in quoted)))
    cmd = [tools["wrk"], "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script,
           f"http://127.0.0.1:{bb_port}"]
    bb0, ng0 = _lab.proc_cpu(bb_proc.pid), _lab.tree_cpu(nginx_proc.pid)
    started = time.perf_counter()
    out = _lab.run(cmd).stdout
    wall = time.perf_counter() - started
    bb_cpu, ng_cpu = _lab.proc_cpu(bb_proc.pid) - bb0, _lab.tree_cpu(nginx_proc.pid) - ng0
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    ok, failed = map(int, re.search(r"PROBES ok=(\d+) failed=(\d+)", out).groups())
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {
        "name": f"blackbox_exporter (wrk -c{connections}, {seconds}s/round)",
        "command": " ".join(shlex.quote(c) for c in cmd),
        "checks": requests, "complete": ok, "incomplete": failed, "wall": wall, "rate": rate,
        "cpu": bb_cpu, "cpu_ms": bb_cpu / max(requests, 1) * 1000, "nginx_cpu": ng_cpu,
    }


def probe_phase(lab, variant, args, nginx_proc, urls, ca_file, concurrency):
    label, launcher = variant
    cmd = [*launcher, "check", "--concurrency", str(concurrency), "--json", "--ca-file", ca_file, *args]
    out_path = os.path.join(lab.dir, "probe-out.jsonl")
    ng0 = _lab.tree_cpu(nginx_proc.pid)
    with open(out_path, "w") as out, open(os.path.join(lab.dir, "probe-err.log"), "w") as err:
        started = time.perf_counter()
        proc = lab.start([*cmd, *urls], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    ng_cpu = _lab.tree_cpu(nginx_proc.pid) - ng0
    cpu = usage.ru_utime + usage.ru_stime
    complete = incomplete = 0
    first_start, last_end = float("inf"), 0.0
    from probe.result import parse_iso

    examples = []
    with open(out_path) as f:
        records = [json.loads(line) for line in f]
    for record in records:
        ok = (record["state"] == "up" and record["http_status"] == 200
              and all(record.get(k) is not None for k in REQUIRED_FACTS) and record["tls_ms"] > 0)
        complete += ok
        if not ok:
            incomplete += 1
            if len(examples) < 3:
                examples.append(record)
        at = parse_iso(record["at"])
        first_start = min(first_start, at)
        last_end = max(last_end, at + record["total_ms"] / 1000)
    incomplete += max(0, len(urls) - len(records))
    if examples:
        print(f"  {label}: {incomplete} incomplete, e.g. {examples[0]}", file=sys.stderr)
    return {
        "name": label,
        "command": " ".join(shlex.quote(c) for c in cmd) + f" URL x{len(urls)}",
        "checks": len(records), "complete": complete, "incomplete": incomplete, "wall": wall,
        "rate": len(records) / wall, "inner_span": max(last_end - first_start, 1e-9),
        "inner_rate": len(records) / max(last_end - first_start, 1e-9),
        "cpu": cpu, "cpu_ms": cpu / max(len(records), 1) * 1000, "nginx_cpu": ng_cpu,
        "exit": proc.returncode,
    }


def openssl_phase(lab, tools, nginx_proc, port, ca_file, seconds):
    cmd = [tools["openssl"], "s_time", "-connect", f"{ADDRESSES[0]}:{port}", "-new", "-verify", "1",
           "-CAfile", ca_file, "-time", str(seconds)]
    ng0 = _lab.tree_cpu(nginx_proc.pid)
    out_path = os.path.join(lab.dir, "s_time.out")
    with open(out_path, "w") as out:
        started = time.perf_counter()
        proc = lab.start(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    ng_cpu = _lab.tree_cpu(nginx_proc.pid) - ng0
    text = open(out_path).read()
    match = re.search(r"(\d+) connections in [\d.]+s", text)
    if not match or "verify error" in text:
        sys.exit("openssl s_time failed:\n" + text[-2000:])
    handshakes = int(match.group(1))
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "name": f"openssl s_time -new ({seconds}s/round, 1 at a time)",
        "command": " ".join(shlex.quote(c) for c in cmd),
        "checks": handshakes, "complete": handshakes, "incomplete": 0, "wall": wall,
        "rate": handshakes / wall, "cpu": cpu, "cpu_ms": cpu / handshakes * 1000, "nginx_cpu": ng_cpu,
    }


def variant(name: str):
    """cli | asyncio | uvloop | workers=N | uvloop,workers=N | 'args:EXTRA CLI OPTIONS', each
    optionally prefixed by 'at=CHECKOUT:' to run the probe of another checkout (its root first
    on the Python path), e.g. 'at=/tmp/base:cli' to compare two versions in one run.
    Returns ((label, launcher argv before "check"), extra CLI arguments)."""
    if name.startswith("at="):
        checkout, _, rest = name[3:].partition(":")
        checkout = os.path.abspath(checkout)
        if not os.path.isdir(os.path.join(checkout, "probe")):
            raise SystemExit(f"no probe checkout at {checkout}")
        (label, launcher), extra = variant(rest or "cli")
        return (f"{label} @{os.path.basename(checkout)}", ["env", f"PYTHONPATH={checkout}", *launcher]), extra
    probe = [sys.executable, "-m", "probe"]
    if name == "cli":
        return ("probe check", probe), []
    if name.startswith("args:"):
        extra = shlex.split(name[5:])
        return (f"probe check {' '.join(extra)}", probe), extra
    extra = []
    for part in name.split(","):
        if part in ("uvloop", "asyncio"):
            extra += ["--loop", part]  # a hidden option of `probe check`, for measurements
        elif part.startswith("workers="):
            extra += ["--workers", str(int(part.split("=", 1)[1]))]
        else:
            raise SystemExit(f"unknown variant {name!r}")
    return (f"probe check {' '.join(extra)}", probe), extra


def add(total: dict | None, row: dict) -> dict:
    """Sum the rounds of one measurement; keep each round's rate to show the spread."""
    if total is None:
        return {**row, "round_rates": [row["rate"]]}
    for key in ("checks", "complete", "incomplete", "wall", "cpu", "nginx_cpu", "inner_span"):
        if key in row:
            total[key] += row[key]
    total["round_rates"].append(row["rate"])
    total["rate"] = total["checks"] / total["wall"]
    total["cpu_ms"] = total["cpu"] / max(total["checks"], 1) * 1000
    if "inner_span" in total:
        total["inner_rate"] = total["checks"] / total["inner_span"]
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds; each runs every measurement once, in turn (default 2)")
    parser.add_argument("--urls", type=int, default=4000, help="URLs per probe check run (default 4000)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration against blackbox (default 10)")
    parser.add_argument("--openssl-seconds", type=int, default=4, help="openssl s_time duration (default 4)")
    parser.add_argument("--concurrency", type=int, default=64, help="wrk connections and probe --concurrency")
    parser.add_argument("--variant", action="append", default=[],
                        help="probe variants, in order (default: cli, uvloop,workers=1, asyncio,workers=1). One of: "
                             "cli (the command as shipped), asyncio, uvloop, workers=N, uvloop,workers=N, "
                             "'args:EXTRA CLI OPTIONS', any of them prefixed 'at=CHECKOUT:' to run "
                             "another checkout's probe. Repeatable.")
    parser.add_argument("--json-out", help="also write the figures as JSON to this file")
    options = parser.parse_args()
    names = options.variant or ["cli", "uvloop,workers=1", "asyncio,workers=1"]
    if importlib.util.find_spec("uvloop") is None and any("uvloop" in n for n in names):
        print("uvloop is not installed (pip install uvloop): its variants are skipped", file=sys.stderr)
        names = [n for n in names if "uvloop" not in n] or ["cli"]
    variants = [variant(v) for v in names]
    if options.rounds * (options.seconds + options.openssl_seconds) > 120 or options.urls > 20000:
        sys.exit("check_throughput: keep it bounded (rounds x seconds, at most 20000 URLs)")

    tools = _lab.need({"nginx": "nginx", "prometheus-blackbox-exporter|blackbox_exporter":
                       "prometheus-blackbox-exporter", "wrk": "wrk", "openssl": "openssl"})
    print(f"machine: {_lab.machine()}")
    totals: list[dict | None] = [None] * (len(variants) + 2)
    with _lab.Lab() as lab:
        try:
            certs = _lab.make_certs(lab.dir, ADDRESSES)
            port = _lab.free_port(ADDRESSES)
            nginx = start_nginx(lab, tools, certs, port)
            bb_proc, bb_port = start_blackbox(lab, tools, certs)
            targets = [f"https://{a}:{port}/" for a in ADDRESSES]
            urls = [targets[i % len(targets)] for i in range(options.urls)]
            print(f"nginx on {','.join(ADDRESSES)}:{port} (TLS 1.2+, no resumption); blackbox_exporter on "
                  f"127.0.0.1:{bb_port}; {options.urls} URLs per probe run; {options.rounds} rounds", flush=True)
            # A short warm-up of every process involved, not measured.
            subprocess.run([*variants[0][0][1], "check", "--json", "--ca-file", certs["ca"], *targets],
                           capture_output=True, timeout=60)
            for round_ in range(1, options.rounds + 1):
                print(f"round {round_}: blackbox_exporter + wrk", end="", flush=True)
                totals[0] = add(totals[0], blackbox_phase(lab, tools, bb_proc, bb_port, nginx, targets,
                                                          options.seconds, options.concurrency))
                for n, ((label, launcher), extra) in enumerate(variants, start=1):
                    print(f"; {label}", end="", flush=True)
                    totals[n] = add(totals[n], probe_phase(lab, (label, launcher), extra, nginx, urls,
                                                           certs["ca"], options.concurrency))
                print("; openssl s_time", flush=True)
                totals[-1] = add(totals[-1], openssl_phase(lab, tools, nginx, port, certs["ca"],
                                                           options.openssl_seconds))
        except KeyboardInterrupt:
            sys.exit("interrupted; everything stopped")
    report(totals, options)


def report(rows, options):
    blackbox, openssl = rows[0], rows[-1]
    print()
    head = (f"{'':44} {'checks':>7} {'bad':>4} {'wall s':>7} {'checks/s':>9} {'CPU ms':>7} "
            f"{'x bb rate':>9} {'x ossl CPU':>10} {'nginx CPU ms':>12}  per-round checks/s")
    print(head)
    print("-" * len(head))
    for row in rows:
        print(f"{row['name'][:44]:44} {row['checks']:7d} {row['incomplete']:4d} {row['wall']:7.2f} "
              f"{row['rate']:9.0f} {row['cpu_ms']:7.3f} {row['rate'] / blackbox['rate']:9.2f} "
              f"{row['cpu_ms'] / openssl['cpu_ms']:10.2f} {row['nginx_cpu'] / max(row['checks'], 1) * 1000:12.3f}  "
              f"{' '.join(f'{r:.0f}' for r in row['round_rates'])}")
    print()
    print("checks/s: completed checks / wall time (probe: whole process, start-up included);")
    print("All rounds summed (rounds interleave the measurements, so machine noise hits them alike).")
    print("CPU ms: the prober's user+sys CPU per check (blackbox: its process only, not wrk; probe: its")
    print("process and workers, start-up included; openssl: the s_time client); nginx CPU ms: the server's")
    print("CPU per check in that phase, load on the same cores. 'bad' = checks missing a fact or not up.")
    for row in rows[1:-1]:
        print(f"{row['name']}: rate between first check start and last check end {row['inner_rate']:.0f}/s; "
              f"exit status {row['exit']}")
    print()
    for row in rows:
        print(f"$ {row['command']}")
    if options.json_out:
        with open(options.json_out, "w") as f:
            json.dump({"machine": _lab.machine(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

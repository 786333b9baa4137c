#!/usr/bin/env python3
"""One TLS audit of a local server that accepts TLS 1.0 to 1.3 and every suite Debian's OpenSSL
has: probe's own scan (Python's ssl) against sslyze's (its own OpenSSL builds, nassl), each run
as a user would, in a fresh process, and in-process (the scan alone, imports done).

    python bench/tls_audit_scan.py [--rounds 5] [--sslyze-python /tmp/venv-sslyze/bin/python]

sslyze is not one of probe's dependencies: give the Python of a virtual environment where it is
installed (`python3 -m venv /tmp/venv-sslyze && /tmp/venv-sslyze/bin/pip install sslyze`), or its
rows are left out. Needs trustme (probe's test extra).
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lab  # noqa: E402,F401  (this checkout's probe runs in `python -m probe`, not another one)

import trustme  # noqa: E402

from probe.check import audit  # noqa: E402

SSLYZE_SCAN = r"""
import json, sys, time
t0 = time.perf_counter()
from sslyze import Scanner, ScanCommand, ServerNetworkLocation, ServerScanRequest
imported = time.perf_counter()
port = int(sys.argv[1])
commands = {ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_1_CIPHER_SUITES, ScanCommand.TLS_1_2_CIPHER_SUITES,
            ScanCommand.TLS_1_3_CIPHER_SUITES, ScanCommand.CERTIFICATE_INFO, ScanCommand.HTTP_HEADERS}
scanner = Scanner()
scanner.queue_scans([ServerScanRequest(server_location=ServerNetworkLocation("localhost", port, ip_address="127.0.0.1"),
                                       scan_commands=commands)])
accepted = {}
for result in scanner.get_results():
    for name in ("tls_1_0", "tls_1_1", "tls_1_2", "tls_1_3"):
        attempt = getattr(result.scan_result, name + "_cipher_suites")
        accepted[name] = len(attempt.result.accepted_cipher_suites)
print(json.dumps({"import_s": imported - t0, "scan_s": time.perf_counter() - imported, "accepted": accepted}))
"""


def serve(tmp: Path) -> tuple[int, str]:
    """A TLS server on 127.0.0.1 accepting TLS 1.0-1.3 and all suites; returns its port and CA file."""
    warnings.simplefilter("ignore", DeprecationWarning)
    ca = trustme.CA()
    ca_file = str(tmp / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(context)
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)

    def answer(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nStrict-Transport-Security: max-age=63072000"
                            b"\r\nConnection: close\r\n\r\n")
        except OSError:
            conn.close()

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1], ca_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sslyze-python", help="the Python of a virtual environment with sslyze installed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port, ca_file = serve(Path(tmp))
        url = f"https://localhost:{port}/"
        rows = []
        scans, processes = [], []
        for _ in range(args.rounds):
            began = time.perf_counter()
            report = audit(url, ca_file=ca_file)
            scans.append(time.perf_counter() - began)
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "probe", "tls-audit", "--json", "--ca-file", ca_file, url],
                           capture_output=True, check=False, timeout=120)
            processes.append(time.perf_counter() - began)
        accepted = {name: report["protocols"][name] for name in report["protocols"]}
        rows.append(("probe (Python's ssl)", statistics.median(scans), statistics.median(processes),
                     f"{len(report['tls12_suites'])} TLS 1.2 suites; {accepted}"))
        if args.sslyze_python:
            scans, processes, imports = [], [], []
            for _ in range(args.rounds):
                began = time.perf_counter()
                done = subprocess.run([args.sslyze_python, "-c", SSLYZE_SCAN, str(port)], capture_output=True,
                                      text=True, check=True, timeout=300)
                processes.append(time.perf_counter() - began)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                scans.append(result["scan_s"])
                imports.append(result["import_s"])
            rows.append(("sslyze", statistics.median(scans), statistics.median(processes),
                         f"accepted suites per version {result['accepted']}; import {statistics.median(imports):.2f} s"))
        print(f"median of {args.rounds} rounds against {url}")
        print(f"{'scanner':<22} {'scan s':>8} {'process s':>10}  what it found")
        for name, scan, process, found in rows:
            print(f"{name:<22} {scan:>8.3f} {process:>10.3f}  {found}")


if __name__ == "__main__":
    main()

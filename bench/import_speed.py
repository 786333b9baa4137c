#!/usr/bin/env python3
"""`probe import` of 100 000 JSON Lines (the `probe export` format), timed as a user runs it,
then imported again (nothing added), then exported.

    python bench/import_speed.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lab  # noqa: E402,F401  (this checkout's probe runs in `python -m probe`, not another one)

BASE = 1790000000.0  # 2026-09-21


def record(i: int, endpoints: int, rng: random.Random) -> dict:
    at = BASE + (i // endpoints) * 60 + rng.random()
    down = rng.random() < 0.01
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
    return {
        "endpoint": f"endpoint-{i % endpoints:04d}", "url": f"https://e{i % endpoints}.example/health",
        "at": iso, "state": "down" if down else "up", "error_class": "http_status" if down else None,
        "error": "HTTP 503, expected 200-299" if down else None, "http_status": 503 if down else 200,
        "dns_ms": 0.8, "connect_ms": 0.3, "tls_ms": round(rng.uniform(2, 9), 3),
        "ttfb_ms": round(rng.uniform(5, 80), 3), "total_ms": round(rng.uniform(10, 120), 3),
        "tls_version": "TLSv1.3", "tls_cipher": "TLS_AES_256_GCM_SHA384",
        "cert_not_after": "2027-03-01T00:00:00Z", "cert_days_left": 90,
        "cert_issuer": "CN=Example CA", "cert_subject": "CN=example", "interval_s": 60.0, "site": "bench",
    }


def probe(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "probe", *args], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip() or done.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--endpoints", type=int, default=100)
    options = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "history.jsonl"
        with source.open("w") as out:
            for i in range(options.lines):
                out.write(json.dumps(record(i, options.endpoints, rng)) + "\n")
        db = str(Path(tmp) / "probe.db")
        first, said = probe("import", str(source), "--db", db)
        print(f"import of {options.lines} lines: {first:.2f} s   ({said})")
        again, said = probe("import", str(source), "--db", db)
        print(f"same file again:          {again:.2f} s   ({said})")
        export, _ = probe("export", "--db", db, "-o", str(Path(tmp) / "out.jsonl"))
        print(f"export:                   {export:.2f} s")
        print(f"database: {Path(db).stat().st_size / options.lines:.1f} bytes per check (before VACUUM)")


if __name__ == "__main__":
    main()

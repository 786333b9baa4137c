"""What a kill -9 of `probe run` loses: 200 endpoints every second (so worker processes) against
a local TLS server, kill -9 of the daemon a few seconds after its start, and the loss measured
as the kill's time minus the end of the newest check in the database. Repeated N times.

    python bench/kill_loss.py [N]
"""

from __future__ import annotations

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import _lab  # noqa: F401 - this checkout's probe first on the path

sys.path.insert(1, os.path.join(_lab.ROOT, "tests"))
from servers import Certificates, ServerThread, respond  # noqa: E402

from probe.store import Store  # noqa: E402

ENDPOINTS = 200


def main(rounds: int) -> None:
    work = pathlib.Path(tempfile.mkdtemp(prefix="probe-kill-"))
    certs = Certificates(work)
    servers = ServerThread()
    url = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    losses = []
    try:
        for number in range(rounds):
            folder = work / f"round-{number}"
            folder.mkdir()
            db = folder / "probe.db"
            text = f'[probe]\ndatabase = "{db}"\nsite = "bench"\n'
            for i in range(ENDPOINTS):
                text += (f'[[endpoint]]\nname = "e{i}"\nurl = "{url}e{i}"\ninterval = "1s"\n'
                         f'timeout = "900ms"\nca_file = "{certs.ca_file}"\n')
            (folder / "probe.toml").write_text(text)
            log = folder / "daemon.log"
            daemon = subprocess.Popen([sys.executable, "-m", "probe", "run", "--config", str(folder / "probe.toml")],
                                      stdout=subprocess.DEVNULL, stderr=open(log, "w"))
            deadline = time.monotonic() + 60
            while "checks are spread" not in log.read_text():
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise SystemExit(f"the daemon did not start:\n{log.read_text()}")
                time.sleep(0.05)
            time.sleep(4 + number * 0.137)  # not always at the same point of a commit's cycle
            killed = time.time()
            daemon.kill()
            daemon.wait()
            with Store.open(db) as store:
                ends = [r.at + (r.total_ms or 0) / 1000 for _, _, _, r in store.checks(since=killed - 5)]
            losses.append(killed - max(ends))
            print(f"kill {number + 1}: {len(ends)} checks in the last 5 s, loss {losses[-1] * 1000:.0f} ms",
                  flush=True)
    finally:
        servers.close()
    print(f"loss over {rounds} kills: median {statistics.median(losses) * 1000:.0f} ms,"
          f" max {max(losses) * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)

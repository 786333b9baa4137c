"""The daemon keeps its pace when the wall clock steps: a real daemon whose wall clock is moved
at run time by libfaketime (its monotonic clock left alone), as NTP or an operator would."""

import glob
import time

import pytest

from probe.store import Store
from servers import respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 - the fixture


def faketime_library():
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    if not found:
        pytest.fail("libfaketime is not installed (apt-get install libfaketime; .ci/run does)")
    return found[0]


@pytest.mark.parametrize("step, workers", [(-30, 1), (30, 1), (-30, 2)])
def test_a_wall_clock_step_neither_stops_nor_bursts_the_checks(tmp_path, servers, certs, step, workers):
    ok = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    endpoints = [(f"e{i}", ok, opts) for i in range(3)]
    daemon = Daemon(tmp_path, config_text(db, endpoints, f"workers = {workers}"), env={
        "LD_PRELOAD": faketime_library(), "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1",
    })
    daemon.wait_log("checks are spread")
    time.sleep(2.5)
    offset.write_text(f"{step:+d}\n")
    stepped = time.time() + step  # the daemon's wall clock from now on
    time.sleep(5)
    assert daemon.stop() == 0
    with Store.open(db) as store:
        after = [result.at for _, _, _, result in store.checks(since=stepped - 0.5)
                 if result.at < stepped + 10]
    per_endpoint = len(after) / 3
    assert 3 <= per_endpoint <= 7, f"{per_endpoint} checks per endpoint in the 5 s after a {step:+d}s step"
    steps = [line for line in daemon.logs().splitlines() if "wall clock stepped" in line]
    assert len(steps) == 1 and f"{step:+d}." in steps[0], daemon.logs()
    assert "Traceback" not in daemon.logs()

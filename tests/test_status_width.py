"""`probe status` on an 80-column terminal: every line fits, times in the SLA's time zone and
labelled with it, durations where timestamps do not fit."""

import re
import subprocess
import sys
import time

from probe.store import Writer
from test_web import check

LONG = "customer-portal-authentication-service-eu-west-production-primary"


def status(db, config):
    done = subprocess.run([sys.executable, "-m", "probe", "status", "--db", str(db), "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def write(db, names, now, error="HTTP 503"):
    with Writer(db) as writer:
        for name in names:
            for i in range(12):
                state = "down" if name.startswith("down") and i >= 10 else "up"
                writer.submit(name, check(now - 3600 + i * 300, state, error=error if state == "down" else None),
                              300.0, "test")
        writer.flush(10)


def config(tmp_path, names, zone="Europe/Paris"):
    path = tmp_path / "probe.toml"
    path.write_text(f'[sla]\ntimezone = "{zone}"\n' + "".join(
        f'[[endpoint]]\nname = "{name}"\nurl = "https://{i}.example.com/"\n' for i, name in enumerate(names)))
    return path


def test_short_names_show_local_times_labelled_with_the_zone(tmp_path):
    db, now = tmp_path / "probe.db", time.time()
    write(db, ["api", "down-web"], now)
    lines = status(db, config(tmp_path, ["api", "down-web"], "Asia/Tokyo"))
    assert all(len(line) <= 80 for line in lines), lines
    api = next(line for line in lines if line.startswith("api "))
    assert re.search(r" \d{4}-\d\d-\d\d \d\d:\d\d JST ", api), api
    assert re.search(r" \d+m ago ", api) or re.search(r" \d+s ago ", api), api


def test_long_names_and_errors_fit_80_columns(tmp_path):
    names = [LONG, "down-" + LONG, "api"]
    db, now = tmp_path / "probe.db", time.time()
    write(db, names, now, error="no answer within 10s: the server accepted the connection and then said nothing")
    lines = status(db, config(tmp_path, names))
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    assert lines[1].split()[:3] == ["ENDPOINT", "STATE", "SINCE"]
    down = next(line for line in lines if line.startswith("down-"))
    assert " DOWN " in down and "…" in down
    assert re.search(r" \d+m ago ", down), down  # since: a duration, no room for a timestamp
    assert "no answer" in down

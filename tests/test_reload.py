"""Reloads of a running `probe run`: a real daemon, real signals, real local TLS endpoints."""

import signal
import time

import pytest

from probe.store import Store
from servers import respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def ok_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"


def checks_by_endpoint(db, since=None, until=None):
    with Store.open(db) as store:
        ats = {}
        for name, _, _, result in store.checks(since=since, until=until):
            ats.setdefault(name, []).append(result.at)
        return ats


def test_fifty_reloads_good_and_broken_stop_no_endpoint(tmp_path, ok_url, certs):
    """200 endpoints every second, 50 reloads in 10 s alternating a good and a broken config:
    every endpoint keeps its schedule; what the reloads cost is measured and bounded."""
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    names = [f"e{i:03d}" for i in range(200)]
    good = config_text(db, [(name, f"{ok_url}{name}", opts) for name in names])
    broken = good.replace('interval = "1s"', 'interval = "1x"', 1)
    daemon = Daemon(tmp_path, good)
    daemon.wait_log("checks are spread", timeout=30)
    time.sleep(3)  # every endpoint has had its first check
    start = time.time()
    for reload in range(50):
        daemon.config.write_text(broken if reload % 2 else good)
        daemon.process.send_signal(signal.SIGHUP)
        time.sleep(0.2)
    daemon.config.write_text(good)
    end = time.time()
    time.sleep(4)
    tail_start = time.time() - 3
    assert daemon.stop(timeout=15) == 0
    logs = daemon.logs()
    assert logs.count("config reloaded: 200 endpoints") >= 20, logs[-2000:]
    assert logs.count("reload refused") >= 20
    assert "Traceback" not in logs
    during = checks_by_endpoint(db, start, end)
    tail = checks_by_endpoint(db, tail_start)
    stopped = [name for name in names if len(tail.get(name, [])) < 2]
    assert not stopped, f"{len(stopped)} endpoints stopped being checked: {stopped[:10]}"
    seconds = end - start
    expected = len(names) * int(seconds)
    made = sum(len(during.get(name, [])) for name in names)
    missed = expected - made
    worst = max(
        max((b - a for a, b in zip(ats, ats[1:])), default=seconds) for ats in during.values()
    )
    print(f"reloads: {seconds:.1f}s, {made} checks of {expected} expected ({missed} missed),"
          f" longest gap between two checks of an endpoint {worst:.2f}s")
    # A reload costs no check: at most a slot per endpoint at the window's edges.
    assert missed <= len(names), f"{missed} checks missed"
    # Well within a check's coverage (1.5 intervals).
    assert worst < 1.5


def test_every_refused_reload_logs_one_line(tmp_path, ok_url, certs):
    db = tmp_path / "probe.db"
    opts = f'interval = "1s"\ntimeout = "900ms"\nca_file = "{certs.ca_file}"'
    good = config_text(db, [("first", ok_url, opts)])
    daemon = Daemon(tmp_path, good)
    daemon.wait_log("checks are spread")
    nested = good + "[extra]\nx = " + "[" * 50_000 + "]" * 50_000 + "\n"
    daemon.config.write_text(nested)
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_log("reload refused")
    time.sleep(0.5)
    assert daemon.process.poll() is None
    daemon.config.write_text(good)
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_log("config reloaded: 1 endpoints")
    assert daemon.stop() == 0
    refused = [line for line in daemon.logs().splitlines() if "reload refused" in line]
    assert len(refused) == 1 and "nested too deeply" in refused[0], daemon.logs()
    assert "Traceback" not in daemon.logs()


@pytest.mark.parametrize("error", [OverflowError("int too large to convert to float"),
                                   RecursionError("maximum recursion depth exceeded"),
                                   UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")])
def test_a_reload_refused_for_any_error_of_the_reader_logs_one_line(tmp_path, monkeypatch, caplog, error):
    """Whatever reading the config raises, the reload is refused in one line and the running
    config stays."""
    from probe import config as config_module
    from probe.daemon import Daemon as Running

    def broken(*args, **kwargs):
        raise error

    daemon = Running(str(tmp_path / "probe.toml"), None)
    daemon.config = running = object()
    monkeypatch.setattr(config_module, "load", broken)
    daemon._on_reload_signal()
    refused = [r for r in caplog.records if "reload refused" in r.getMessage()]
    assert len(refused) == 1 and type(error).__name__ in refused[0].getMessage()
    assert refused[0].exc_info is None and "\n" not in refused[0].getMessage()
    assert daemon.config is running

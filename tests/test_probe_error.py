"""The prober's own trouble is never the endpoint's failure: a check the prober could not make
(no file descriptor, memory or buffer to be had) is `probe_error`, and vouches for nothing."""

import io
import json
import subprocess
import sys
import textwrap

from probe import sla
from probe.result import ERROR_CLASSES, CheckResult
from probe.store import Store, Writer, export_jsonl, import_jsonl
from servers import respond

OUT_OF_DESCRIPTORS = textwrap.dedent("""
    import asyncio, json, os, resource, sys
    from probe.check import CheckSpec, check

    async def main():
        # a check first, as a daemon has made many (what it loads once is loaded)
        first = await check(CheckSpec(url=sys.argv[1], ca_file=sys.argv[2], timeout=5))
        assert first.state == "up", first.error
        # then every descriptor this process may have is taken: the check's socket cannot be made
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        held = []
        try:
            while True:
                held.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        result = await check(CheckSpec(url=sys.argv[1], ca_file=sys.argv[2], timeout=5))
        for fd in held:
            os.close(fd)
        print(json.dumps(result.to_json()))

    asyncio.run(main())
""")


def test_a_check_without_a_file_descriptor_is_a_probe_error(servers, certs):
    target = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    done = subprocess.run([sys.executable, "-c", OUT_OF_DESCRIPTORS, target, certs.ca_file],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["error_class"], result["error"]) == (
        "probe_error", "the prober could not create a socket: Too many open files")
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------- the accounting

def _check(at, state, error_class=None):
    return sla.Check(at, state, error_class, 60.0)


def test_a_probe_error_between_two_down_checks_neither_splits_nor_ends_the_outage():
    runs = sla.runs_from_checks([_check(0, "up"), _check(60, "down", "connect"),
                                 _check(100, "down", "probe_error"), _check(140, "down", "connect"),
                                 _check(200, "up")])
    # one run: the check not made vouches for nothing, and the down check before it still
    # vouches until the next one made
    assert [(r.start, r.end, r.state, r.error_class, r.count) for r in runs] == [
        (0, 60, "up", None, 1), (60, 200, "down", "connect", 2), (200, 290, "up", None, 1)]
    (outage,) = sla.episodes(runs, confirm=2)
    assert (outage.kind, outage.start, outage.end) == ("outage", 60, 200)


def test_a_probe_error_alone_makes_no_outage_and_no_blip():
    runs = sla.runs_from_checks([_check(0, "up"), _check(60, "down", "probe_error"),
                                 _check(100, "down", "probe_error"), _check(120, "up")])
    assert sla.episodes(runs, confirm=2) == []


def test_probe_errors_alone_are_unmonitored_time_never_downtime():
    runs = sla.runs_from_checks([_check(0, "up"), _check(60, "down", "probe_error"),
                                 _check(120, "down", "probe_error"), _check(180, "down", "probe_error"),
                                 _check(240, "up")])
    assert [(r.start, r.end, r.state) for r in runs] == [(0, 90, "up"), (240, 330, "up")]
    assert sla.unmonitored(runs, (0, 330)) == [(90, 240)]
    figures = sla.availability(runs, (0, 330), [], 2, 99.9)
    assert figures.downtime_seconds == 0


def test_the_class_round_trips_through_the_store_export_and_import(tmp_path):
    assert "probe_error" in ERROR_CLASSES
    result = CheckResult(url="https://a.example/", at=1_767_225_600.0, state="down", error_class="probe_error",
                         error="the prober could not make the check: Too many open files", total_ms=0.1)
    with Writer(tmp_path / "a.db") as writer:
        writer.submit("api", result, 60.0, "paris")
    out = io.StringIO()
    with Store.open(tmp_path / "a.db") as store:
        assert export_jsonl(store, out) == 1
        assert store.runs("api") == []  # recorded, but not as a run: it vouches for nothing
    record = json.loads(out.getvalue().splitlines()[0])  # the checks come first, then the paper trail
    assert record["error_class"] == "probe_error"
    with Store.open(tmp_path / "b.db") as store:
        stats = import_jsonl(store, io.StringIO(out.getvalue()))
        assert (stats.added, stats.errors) == (1, [])
        again = io.StringIO()
        export_jsonl(store, again)
    assert json.loads(again.getvalue().splitlines()[0])["error_class"] == "probe_error"


def test_the_daemon_records_it_raises_no_alert_and_logs_each_cause_once(caplog):
    from types import SimpleNamespace

    from probe.daemon import Daemon

    written, observed, live = [], [], []
    daemon = Daemon.__new__(Daemon)
    daemon.config = SimpleNamespace(probe=SimpleNamespace(site="paris"))
    daemon.writer = SimpleNamespace(submit=lambda *item: written.append(item))
    daemon.live = SimpleNamespace(record=lambda name, result: live.append(result))
    daemon.alerter = SimpleNamespace(observe=lambda endpoint, result: observed.append(result))
    daemon._last_state, daemon._probe_errors_logged = {}, set()
    causes = ["the prober could not make the check: Too many open files", "the prober is out of memory"]
    with caplog.at_level("INFO", logger="probe"):
        for i, cause in enumerate([causes[0]] * 3 + [causes[1]] * 2):
            endpoint = SimpleNamespace(name=f"api-{i}", interval=60.0)
            result = CheckResult(url="https://a.example/", at=1_767_225_600.0 + i, state="down",
                                 error_class="probe_error", error=cause)
            daemon._record(endpoint, result, 0.0)
    assert len(written) == 5 and observed == [] and live == []
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"checks not made, the prober's own trouble: {causes[0]} (first seen checking api-0)",
                     f"checks not made, the prober's own trouble: {causes[1]} (first seen checking api-3)"]


def test_a_probe_error_is_not_rechecked_quickly_as_a_down_check_is():
    import asyncio
    from types import SimpleNamespace

    from probe.config import Endpoint
    from probe.schedule import Scheduler
    from probe.spec import CheckSpec

    calls = []

    async def not_made(ep):
        calls.append(ep.name)
        return SimpleNamespace(state="down", error_class="probe_error")

    async def main():
        stop = asyncio.Event()
        endpoints = [Endpoint(name="a", spec=CheckSpec(url="https://a.example/"), interval=2.0, confirm=3)]
        scheduler = Scheduler(endpoints, not_made, lambda ep, r, lag: None, retry_interval=0.2)
        task = asyncio.create_task(scheduler.run(stop))
        await asyncio.sleep(1.5)
        stop.set()
        await task
        await scheduler.drain(1)
        return scheduler

    scheduler = asyncio.run(main())
    # the first regular check within the interval, and no quick re-check of a check not made
    assert scheduler.stats.retries == 0 and len(calls) <= 1


def test_probe_check_says_unknown_when_it_could_not_make_a_check():
    """Nagios' UNKNOWN (3) for a check not made; a real outage elsewhere still says CRITICAL."""
    from probe.cli.check import exit_status
    from probe.result import CheckResult

    def result(state, error_class=None):
        return CheckResult(url="https://a.example/", at=0.0, state=state, error_class=error_class)

    not_made = result("down", "probe_error")
    assert exit_status([result("up"), not_made]) == 3
    assert exit_status([result("degraded", "too_slow"), not_made]) == 3
    assert exit_status([result("down", "connect"), not_made]) == 2
    assert exit_status([result("up"), result("degraded", "too_slow")]) == 1
    assert exit_status([result("up")]) == 0

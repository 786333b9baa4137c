"""The scheduler's timing rules, with a check function that records when it was called."""

import asyncio
import random
import statistics
import time
import zlib
from types import SimpleNamespace

from probe.check import CheckSpec
from probe.config import Endpoint
from probe.schedule import Scheduler, next_due, phase_offsets


def endpoint(name, interval=1.0, confirm=2, url="https://a.example/"):
    return Endpoint(name=name, spec=CheckSpec(url=url), interval=interval, confirm=confirm)


def run_for(seconds, endpoints, states=None, duration=0.0, **options):
    """Run a scheduler for `seconds`; return [(name, start time, lag)] of every check."""
    calls = []
    states = states or {}

    async def fake_check(ep):
        calls.append((ep.name, time.time()))
        await asyncio.sleep(duration)
        script = states.get(ep.name, ["up"])
        state = script.pop(0) if len(script) > 1 else script[0]
        return SimpleNamespace(state=state)

    results = []

    async def main():
        stop = asyncio.Event()
        scheduler = Scheduler(endpoints, fake_check, lambda ep, r, lag: results.append((ep.name, lag)), **options)
        task = asyncio.create_task(scheduler.run(stop))
        await asyncio.sleep(seconds)
        stop.set()
        await task
        await scheduler.drain(1)
        return scheduler

    scheduler = asyncio.run(main())
    return calls, results, scheduler


def test_phase_offsets_are_stable_and_evenly_spread():
    endpoints = [endpoint(f"endpoint-{i}", 60) for i in range(1000)]
    offsets = phase_offsets(endpoints)
    shuffled = endpoints[:]
    random.Random(7).shuffle(shuffled)
    assert phase_offsets(shuffled) == offsets, "the config's order must not matter"
    assert all(0 <= o < 60 for o in offsets.values())
    ordered = sorted(offsets.values())
    gaps = [b - a for a, b in zip(ordered, ordered[1:])] + [ordered[0] + 60 - ordered[-1]]
    assert max(gaps) - min(gaps) < 1e-9, "a thousand endpoints every 60 s: one start every 60 ms"
    assert abs(min(gaps) - 0.06) < 1e-9


def test_an_endpoint_alone_in_its_interval_sits_at_its_hash_position():
    offsets = phase_offsets([endpoint("a", 60), endpoint("b", 30), endpoint("c", 30)])
    assert offsets["a"] == zlib.crc32(b"a") / 2**32 * 60
    assert abs(abs(offsets["b"] - offsets["c"]) - 15) < 1e-9, "two endpoints every 30 s: 15 s apart"


def test_adding_an_endpoint_moves_the_others_by_at_most_one_step():
    endpoints = [endpoint(f"e{i}", 10) for i in range(200)]
    before = phase_offsets(endpoints)
    after = phase_offsets(endpoints + [endpoint("newcomer", 10)])
    moves = [min(abs(after[n] - before[n]), 10 - abs(after[n] - before[n])) for n in before]
    assert max(moves) <= 10 / 200 + 1e-9


def test_a_reload_never_leaves_an_endpoint_a_whole_interval_without_a_check():
    """When a reload moves an endpoint's slot a little earlier, past the present, it is checked
    at once instead of one interval later; otherwise its next check moves by a step at most."""
    endpoints = [endpoint(f"e{i}", 10) for i in range(20)]
    clock = [1000.0]
    for step in range(1000):
        clock[0] = 1000.0 + step * 0.01
        scheduler = Scheduler(endpoints, None, None, clock=lambda: clock[0], wall=lambda: clock[0])
        before = {e.name: scheduler.next_check(e.name) for e in endpoints}
        clock[0] += 0.005
        scheduler.update(endpoints + [endpoint("newcomer", 10)])
        for e in endpoints:
            after = scheduler.next_check(e.name)
            assert after >= clock[0] - 1e-9
            assert after == clock[0] or abs(after - before[e.name]) <= 10 / 20 + 1e-9, (step, e.name)
            # from its last slot: at most one interval and one step, well within a check's
            # coverage (1.5 intervals)
            assert after - (before[e.name] - 10) <= 10 + 10 / 20 + 1e-9


def test_the_scheduler_does_not_spin_on_uvloop_timers(monkeypatch):
    """uvloop's timers count whole milliseconds and fire up to one early: the scheduler must
    not then wake again and again until the clock reaches the due time."""
    import uvloop

    sleeps = []
    original = Scheduler._sleep

    async def counted(self, stop, seconds):
        sleeps.append(seconds)
        await original(self, stop, seconds)

    monkeypatch.setattr(Scheduler, "_sleep", counted)
    checks = []

    async def fake_check(ep):
        checks.append(time.time())
        return SimpleNamespace(state="up")

    async def main():
        stop = asyncio.Event()
        scheduler = Scheduler([endpoint(f"e{i}", 0.5) for i in range(100)], fake_check, lambda *a: None)
        asyncio.get_running_loop().call_later(2.0, stop.set)
        await scheduler.run(stop)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
    assert len(checks) >= 300
    # about one sleep per check (it was 2.3 here, and 14 at 400 checks/s)
    assert len(sleeps) <= 1.5 * len(checks), f"{len(sleeps)} sleeps for {len(checks)} checks"


def test_next_due_is_on_the_grid():
    assert next_due(100.0, 10, 3) == 103
    assert next_due(103.0, 10, 3) == 103
    assert next_due(103.5, 10, 3) == 113


def test_fixed_rate_however_long_the_check_takes():
    calls, _, _ = run_for(3.6, [endpoint("a", 0.5)], duration=0.3)
    times = [t for _, t in calls]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) >= 6
    assert abs(statistics.mean(gaps) - 0.5) < 0.05


def test_down_is_rechecked_quickly_until_confirmed():
    calls, _, scheduler = run_for(
        3.0, [endpoint("a", interval=2.0, confirm=3)], states={"a": ["down", "down", "down", "up"]},
        retry_interval=0.2,
    )
    times = [t for _, t in calls]
    # first regular check, then two quick re-checks confirm the outage (3 downs in a row)
    assert len(times) >= 3
    assert times[1] - times[0] < 0.5 and times[2] - times[1] < 0.5
    assert scheduler.stats.retries == 2


def test_blip_stops_the_rechecks():
    calls, _, scheduler = run_for(
        # the first check is due within the 1 s interval, its re-check 0.2 s later: both inside 1.5 s
        1.5, [endpoint("a", interval=1.0, confirm=3)], states={"a": ["down", "up"]}, retry_interval=0.2,
    )
    assert scheduler.stats.retries == 1


def peak_in_flight(endpoints, **options) -> int:
    """The most checks in flight at once while slow checks run for 1.5 s."""
    in_flight, peak = 0, 0

    async def slow_check(ep):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.3)
        in_flight -= 1
        return SimpleNamespace(state="up")

    async def main():
        stop = asyncio.Event()
        scheduler = Scheduler(endpoints, slow_check, lambda *a: None, **options)
        task = asyncio.create_task(scheduler.run(stop))
        await asyncio.sleep(1.5)
        stop.set()
        await task
        await scheduler.drain(1)

    asyncio.run(main())
    return peak


def test_in_flight_cap():
    endpoints = [endpoint(f"e{i}", 1.0, url=f"https://h{i}.example/") for i in range(50)]
    assert peak_in_flight(endpoints, max_in_flight=5) == 5


def test_per_host_cap():
    endpoints = [endpoint(f"e{i}", 1.0, url=f"https://same.example/{i}") for i in range(30)]
    assert peak_in_flight(endpoints, per_host=3) == 3


def test_rate_cap():
    calls, _, _ = run_for(2.0, [endpoint(f"e{i}", 1.0, url=f"https://h{i}.example/") for i in range(100)], rate=20)
    assert 20 <= len(calls) <= 45  # 20 per second, over about two seconds


def test_lag_is_measured():
    _, results, scheduler = run_for(1.5, [endpoint(f"e{i}", 0.5) for i in range(20)])
    assert results
    assert scheduler.stats.lag_p(0.99) < 0.2
    assert scheduler.stats.missed == 0


def test_reload_keeps_unchanged_endpoints_and_drops_removed_ones():
    calls = []

    async def fake_check(ep):
        calls.append(ep.name)
        return SimpleNamespace(state="up")

    async def main():
        stop = asyncio.Event()
        scheduler = Scheduler([endpoint("a", 0.3), endpoint("b", 0.3)], fake_check, lambda *a: None)
        task = asyncio.create_task(scheduler.run(stop))
        await asyncio.sleep(0.7)
        scheduler.update([endpoint("a", 0.3), endpoint("c", 0.3)])
        calls.clear()
        await asyncio.sleep(0.9)
        stop.set()
        await task

    asyncio.run(main())
    assert "b" not in calls and "a" in calls and "c" in calls


def test_reloads_during_checks_in_flight_lose_no_endpoint():
    """Checks in flight while the config is reloaded, again and again, with the same endpoints or
    not: every endpoint keeps being checked afterwards."""
    names = [f"e{i}" for i in range(20)]
    calls = []

    async def slow_check(ep):
        calls.append((ep.name, time.monotonic()))
        await asyncio.sleep(0.15)
        return SimpleNamespace(state="up")

    async def main():
        stop = asyncio.Event()
        endpoints = [endpoint(n, 0.3) for n in names]
        scheduler = Scheduler(endpoints, slow_check, lambda *a: None)
        task = asyncio.create_task(scheduler.run(stop))
        for reload in range(20):
            await asyncio.sleep(0.05)
            # the same config, then one with an endpoint more, then the same again
            scheduler.update(endpoints + ([endpoint("extra", 0.3)] if reload % 2 else []))
        scheduler.update(endpoints)
        reloaded = time.monotonic()
        await asyncio.sleep(1.5)
        stop.set()
        await task
        await scheduler.drain(1)
        return reloaded

    reloaded = asyncio.run(main())
    after = {}
    for name, at in calls:
        if at > reloaded:
            after[name] = after.get(name, 0) + 1
    stopped = [n for n in names if after.get(n, 0) < 3]
    assert not stopped, f"never checked again after the reloads: {stopped}"


def test_a_reload_that_changes_nothing_changes_nothing():
    clock = [1000.0]
    endpoints = [endpoint(f"e{i}", 10) for i in range(20)]
    scheduler = Scheduler(endpoints, None, None, clock=lambda: clock[0], wall=lambda: clock[0])
    before = {e.name: scheduler.next_check(e.name) for e in endpoints}
    heap = list(scheduler._heap)
    clock[0] += 3
    scheduler.update(endpoints)
    assert {e.name: scheduler.next_check(e.name) for e in endpoints} == before
    assert scheduler._heap == heap


def test_a_pending_recheck_survives_a_reload():
    calls = []

    async def fake_check(ep):
        calls.append(time.monotonic())
        return SimpleNamespace(state="down")

    async def main():
        stop = asyncio.Event()
        ep = endpoint("a", 30, confirm=3)
        scheduler = Scheduler([ep], fake_check, lambda *a: None, retry_interval=0.2,
                              offsets={"a": 0.0})
        scheduler._states["a"].due = None
        scheduler._push(time.monotonic(), scheduler._states["a"], 0)  # a first check now
        task = asyncio.create_task(scheduler.run(stop))
        await asyncio.sleep(0.1)
        scheduler.update([endpoint("a", 30, confirm=3, url="https://b.example/")], offsets={"a": 0.0})
        await asyncio.sleep(0.8)
        stop.set()
        await task

    asyncio.run(main())
    assert len(calls) >= 3, "the re-checks that confirm an outage stopped at the reload"

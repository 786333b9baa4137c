"""How the daemon's worker processes share the endpoints and their schedule."""

import asyncio

from probe.check import CheckSpec
from probe.config import Endpoint
from probe.schedule import Scheduler, phase_offsets
from probe.schedule import deal


def endpoint(name, interval=60.0):
    return Endpoint(name=name, spec=CheckSpec(url=f"https://{name}.example/"), interval=interval)


def test_workers_take_turns_along_the_schedule():
    endpoints = [endpoint(f"e{i}", 10) for i in range(1001)] + [endpoint(f"m{i}", 60) for i in range(300)]
    offsets = phase_offsets(endpoints)
    shares = deal(endpoints, 2, offsets)
    worker = {e.name: index for index, share in enumerate(shares) for e in share}
    assert sorted(worker) == sorted(e.name for e in endpoints)
    for interval in (10, 60):
        along = sorted((e for e in endpoints if e.interval == interval), key=lambda e: offsets[e.name])
        turns = [worker[e.name] for e in along]
        assert all(a != b for a, b in zip(turns, turns[1:])), "two checks in a row in the same worker"
    assert abs(len(shares[0]) - len(shares[1])) <= 2


def test_at_a_reload_known_endpoints_stay_with_their_worker():
    endpoints = [endpoint(f"e{i}", 10) for i in range(100)]
    first = deal(endpoints, 3, phase_offsets(endpoints))
    previous = {e.name: index for index, share in enumerate(first) for e in share}
    grown = endpoints + [endpoint(f"new{i}", 10) for i in range(10)]
    second = deal(grown, 3, phase_offsets(grown), previous)
    after = {e.name: index for index, share in enumerate(second) for e in share}
    assert all(after[name] == index for name, index in previous.items())
    assert sorted(after) == sorted(e.name for e in grown)


def test_a_worker_keeps_the_offsets_computed_over_all_endpoints():
    endpoints = [endpoint(f"e{i}", 10) for i in range(40)]
    offsets = phase_offsets(endpoints)
    share = deal(endpoints, 2, offsets)[1]

    async def main():
        scheduler = Scheduler(share, None, None, clock=lambda: 1000.0, wall=lambda: 1000.0,
                              offsets={e.name: offsets[e.name] for e in share})
        return {e.name: scheduler.next_check(e.name) for e in share}

    due = asyncio.run(main())
    for e in share:
        assert abs((due[e.name] - offsets[e.name]) % 10) < 1e-6 or abs((due[e.name] - offsets[e.name]) % 10 - 10) < 1e-6

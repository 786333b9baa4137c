"""Many checks at once: a concurrency cap, and for long lists a share per process (children
forked before any connection is opened)."""

from __future__ import annotations

import asyncio
import gc
import pickle
import signal
import sys

from probe.result import CheckResult
from probe.runtime import can_fork, loop_factory, processes, same_loop_factory, usable_cpus
from probe.spec import CheckSpec

from .run import check


async def check_many(specs: list[CheckSpec], concurrency: int = 64, workers: int = 1) -> list[CheckResult]:
    """Check every spec once, at most `concurrency` at a time; results in the order given.

    workers > 1 spreads the specs over that many processes (this one and workers - 1 forked
    children, each with its own event loop and share of the concurrency), for lists long enough
    that one core is the limit: a fresh TLS check costs milliseconds of CPU, mostly the handshake.
    Use `workers_for(len(specs))` for a default. Where fork is not available, runs in-process.
    """
    workers = max(1, min(workers, len(specs) // MIN_SPECS_PER_WORKER, concurrency))
    if workers == 1 or not can_fork():
        return await _check_all(specs, concurrency)
    return await _check_in_processes(specs, concurrency, workers)


def run_many(specs: list[CheckSpec], concurrency: int = 64, workers: int = 1,
             loop: str = "auto") -> list[CheckResult]:
    """`check_many` for synchronous callers (the command line), in a new event loop.

    loop: "auto" runs on uvloop when it is installed (it spends about 15% less CPU per fresh TLS
    check than asyncio's own loop, see docs/performance.md), "uvloop" requires it, "asyncio"
    never uses it. Worker processes run on the same kind of loop."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(check_many(specs, concurrency=concurrency, workers=workers))


MIN_SPECS_PER_WORKER = 64  # below that, a worker process costs more than it brings


def workers_for(count: int) -> int:
    """A default number of worker processes for `count` checks: one per CPU this process may run
    on, for long lists only."""
    return max(1, min(usable_cpus(), count // (4 * MIN_SPECS_PER_WORKER)))


async def _check_all(specs: list[CheckSpec], concurrency: int) -> list[CheckResult]:
    gate = asyncio.Semaphore(concurrency)

    async def one(spec: CheckSpec) -> CheckResult:
        async with gate:
            return await check(spec)

    return list(await asyncio.gather(*(one(spec) for spec in specs)))


async def _check_in_processes(specs: list[CheckSpec], concurrency: int, workers: int) -> list[CheckResult]:
    """Share i of n is specs[i::n] (interleaved, so slow endpoints spread evenly). This process
    checks share 0; forked children check the others and send their results back pickled.
    The children are forked first, before this process opens any connection."""
    shares = [specs[i::workers] for i in range(workers)]
    gates = [concurrency // workers + (1 if i < concurrency % workers else 0) for i in range(workers)]
    context = processes(fork=True)
    child_loop = same_loop_factory(asyncio.get_running_loop())
    for stream in (sys.stdout, sys.stderr):  # a child must not write out what this one buffered
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    children = []
    try:
        # Objects that exist now are left out of the children's garbage collections, which would
        # otherwise touch, and so copy, every page the children share with this process.
        gc.freeze()
        try:
            for i in range(1, workers):
                receiver, sender = context.Pipe(duplex=False)
                child = context.Process(target=_worker, args=(shares[i], gates[i], sender, child_loop),
                                        daemon=True)
                child.start()
                sender.close()
                children.append((i, child, receiver))
        finally:
            gc.unfreeze()
        loop = asyncio.get_running_loop()
        waits = [loop.run_in_executor(None, _receive, receiver) for _, _, receiver in children]
        mine = await _check_all(shares[0], gates[0])
        results: list[list[CheckResult]] = [mine]
        for (i, child, receiver), wait in zip(children, waits):
            got = await wait
            # A child that died (killed, out of memory) leaves its share to this process.
            results.append(got if got is not None else await _check_all(shares[i], gates[i]))
    finally:
        for _, child, receiver in children:
            if child.is_alive():
                child.kill()
            child.join()
            receiver.close()
    merged: list[CheckResult] = [None] * len(specs)  # type: ignore[list-item]
    for i, share in enumerate(results):
        merged[i::workers] = share
    return merged


def _worker(specs: list[CheckSpec], concurrency: int, sender, loop_factory) -> None:
    """In a forked child: check the share with a new event loop, send the results, exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            results = runner.run(_check_all(specs, concurrency))
        sender.send_bytes(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        sender.close()


def _receive(receiver) -> list[CheckResult] | None:
    try:
        return pickle.loads(receiver.recv_bytes())
    except (EOFError, OSError):
        return None

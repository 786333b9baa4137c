"""What the probe runs on: the event loop (uvloop when installed), the CPUs this process may
use, and the one way of starting processes (a fork before any connection or thread exists,
else a spawn), with the pool that shares a list out over the CPUs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

LOOPS = ("auto", "uvloop", "asyncio")


def loop_factory(loop: str):
    """The event loop factory for `asyncio.Runner`: "auto" takes uvloop when it is installed,
    "uvloop" requires it, "asyncio" never uses it (None: asyncio's own loop)."""
    if loop not in LOOPS:
        raise ValueError(f"loop must be auto, uvloop or asyncio, not {loop!r}")
    if loop == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if loop == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def same_loop_factory(loop: asyncio.AbstractEventLoop):
    """A factory for a loop of the same kind as `loop` (uvloop's or asyncio's default)."""
    if type(loop).__module__.startswith("uvloop"):
        import uvloop

        return uvloop.new_event_loop
    return None


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def processes(fork: bool = False):
    """The context that starts the probe's processes. A spawned process starts clean: no
    inherited thread, lock or database connection, so it is the rule. `fork=True` is only for a
    caller that starts its children before it opens any connection or thread (`probe check`)."""
    return multiprocessing.get_context("fork" if fork else "spawn")


def map_shares(local, remote, items: list) -> list:
    """Share `items` out over the CPUs: this process runs `local(first share)`, a spawned pool
    process per other share runs `remote(share)` (picklable), and the result lists are joined in
    order."""
    cpus = usable_cpus()
    if cpus < 2 or len(items) < 2:
        return local(items)
    size = -(-len(items) // cpus)
    shares = [items[i:i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(len(shares) - 1, mp_context=processes()) as pool:
        others = [pool.submit(remote, share) for share in shares[1:]]
        joined = local(shares[0])
        for future in others:
            joined += future.result()
    return joined

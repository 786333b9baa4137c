"""When each endpoint is due: the scheduler (phase offsets, caps, quick re-checks to confirm a
failure), and the worker processes that each schedule and check a share of the endpoints."""

from .scheduler import Scheduler, Stats, next_due, phase_offsets
from .workers import SEND_EVERY, WorkerPool, auto_workers, deal

__all__ = ["auto_workers", "deal", "next_due", "phase_offsets", "Scheduler", "SEND_EVERY", "Stats", "WorkerPool"]

"""The runs of an endpoint that a period's figures need: read back to the start of any episode in
progress at the period's start, and on to the end of one in progress at its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from probe import sla

if TYPE_CHECKING:
    from .store import Store


LOOKBACK = 7 * 86400  # runs read before the month, doubled until the first is not an episode


MAX_LOOKBACK = 800 * 86400


def runs_around(store: Store, name: int | str, period: tuple[float, float | None],
                first_seen: float | None = None) -> list[sla.Run]:
    """The endpoint's runs that the period's figures need: from the start of any episode in
    progress at the period's start (so that its start and check count are right), to the end
    of any episode in progress at the period's end (so that its end is right).

    Consecutive down (or degraded) checks are one episode even across a hole in the data, so
    the look back goes on while the runs read before the period all have the state of the
    run in progress at its start, up to the endpoint's first check (``first_seen``, when
    known) or MAX_LOOKBACK."""
    lookback = LOOKBACK
    while True:
        since = period[0] - lookback
        runs = store.runs(name, since, period[1])
        if (_episode_start_found(runs, period[0]) or lookback >= MAX_LOOKBACK
                or (first_seen is not None and since <= first_seen)):
            break
        lookback *= 2
    if runs and runs[-1].state != sla.UP:
        # An episode under way at the period's end ends at the first later check in another
        # state: read on until then.
        later = store.runs(name, runs[-1].start, None)
        runs += [run for run in later if run.start > runs[-1].start]
    return runs


def _episode_start_found(runs: list[sla.Run], start: float) -> bool:
    """True when ``runs`` begin with the whole of any episode that reaches ``start`` or later:
    the first run is up, or a run in another state than the first one begins by ``start``."""
    if not runs or runs[0].state == sla.UP:
        return True
    state = runs[0].state
    for run in runs:
        if run.start > start:
            return False
        if run.state != state:
            return True
    return False

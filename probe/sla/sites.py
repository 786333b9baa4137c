"""Several probe sites, one verdict: when a site abstains (its control endpoints are all in an
outage), each site's own timeline, and the rule that combines the sites' timelines into one.

A site's timeline says, where its checks vouch for the endpoint, whether the site sees the
endpoint in an outage (down), in a degradation (degraded) or neither (up: blips are not
outages). At each instant the voting sites are those whose timeline covers it; with fewer
than ``min_sites`` the instant is unmonitored, else it is down when the rule holds for the
sites that see it down (``majority``: more than half; ``all``; ``any``: one), degraded when
the rule holds for the sites that see it degraded or down. The combined timeline is returned
as runs, so that outages, incidents, deadlines and availability follow from it by the
ordinary rules.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from probe.result import DEGRADED, DOWN, UP

from .incidents import classify
from .intervals import Interval, intersect, merge, subtract
from .runs import DEGRADATION, OUTAGE, Episode, Run, episodes

SITE_RULES = ("majority", "all", "any")


@dataclass(frozen=True, slots=True)
class SiteRule:
    """How the sites' timelines combine: ``sites`` is one of SITE_RULES; an instant vouched for by
    fewer than ``min_sites`` voting sites is unmonitored."""

    sites: str = "majority"
    min_sites: int = 1

    def __post_init__(self) -> None:
        if self.sites not in SITE_RULES:
            raise ValueError(f"site rule must be one of {', '.join(SITE_RULES)}, not {self.sites!r}")
        if self.min_sites < 1:
            raise ValueError(f"min_sites must be at least 1, not {self.min_sites!r}")

    def holds(self, count: int, voters: int) -> bool:
        """Whether ``count`` sites out of ``voters`` are enough for the verdict."""
        if count <= 0:
            return False
        if self.sites == "any":
            return True
        if self.sites == "all":
            return count == voters
        return 2 * count > voters


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one site's timeline: what the site saw over [start, end)."""

    start: float
    end: float
    state: str  # up | degraded | down
    error_class: str | None
    interval: float


@dataclass(frozen=True, slots=True)
class Abstention:
    """A time when every control endpoint of a site was in an outage: the site's checks of
    the other endpoints are no evidence then. ``causes``: each control endpoint with the
    error classes of its outage."""

    start: float
    end: float
    causes: tuple[tuple[str, tuple[str | None, ...]], ...]


def abstentions(controls: Mapping[str, Sequence[Run]], confirm: Mapping[str, int] | int = 2) -> list[Abstention]:
    """When the site abstains: while every one of its control endpoints (name -> runs) is in
    an outage, from the outage's first down check to the first later check that is not down
    (holes in its coverage included). No control endpoint: never."""
    if not controls:
        return []
    outages: dict[str, list[Episode]] = {}
    for name, runs in controls.items():
        needed = confirm if isinstance(confirm, int) else confirm.get(name, 2)
        outages[name] = [e for e in episodes(runs, needed) if e.kind == OUTAGE]
    spans: list[Interval] | None = None
    for found in outages.values():
        mine = merge((e.start, e.end) for e in found)
        spans = mine if spans is None else intersect(spans, mine)
    result = []
    for start, end in spans or []:
        causes = []
        for name, found in outages.items():
            classes = tuple(dict.fromkeys(c for e in found if e.start < end and e.end > start
                                          for c in e.error_classes))
            causes.append((name, classes))
        result.append(Abstention(start, end, tuple(causes)))
    return result


def cut_runs(runs: Sequence[Run], intervals: Iterable[Interval]) -> list[Run]:
    """``runs`` with the time of ``intervals`` taken out of their coverage (abstained time:
    no check vouches for it). A run cut in pieces keeps its checks' count on its first
    piece, so that an outage stays an outage."""
    holes = merge(intervals)
    if not holes:
        return list(runs)
    result: list[Run] = []
    for run in runs:
        pieces = subtract([(run.start, run.end)], holes)
        for index, (start, end) in enumerate(pieces):
            result.append(replace(run, start=start, last=min(max(run.last, start), end), end=end,
                                  count=run.count if index == 0 else 0))
    return result


def site_timeline(runs: Sequence[Run], confirm: int = 2) -> list[Segment]:
    """One site's verdict where its checks vouch: down inside its outages, degraded inside
    its degradations, up elsewhere (a blip is no outage)."""
    found = [e for e in episodes(runs, confirm) if e.kind in (OUTAGE, DEGRADATION)]
    starts = [e.start for e in found]
    segments = []
    for run in runs:
        state = UP
        if run.state in (DOWN, DEGRADED):
            index = bisect.bisect_right(starts, run.start) - 1
            if index >= 0 and found[index].state == run.state and run.start < found[index].end:
                state = run.state
        segments.append(Segment(run.start, run.end, state, run.error_class if state != UP else None,
                                run.interval))
    return [s for s in segments if s.end > s.start]


def combine_sites(timelines: Mapping[str, Sequence[Segment]], rule: SiteRule, confirm: int = 2) -> list[Run]:
    """The sites' timelines (site -> segments, each site's in time order) combined by
    ``rule``, as runs: a down (degraded) run is one instant of a combined outage
    (degradation), counted as ``confirm`` checks so that it is one; the class of a combined
    run is the highest among the sites that made it. Time vouched for by fewer than
    ``rule.min_sites`` sites is in no run (unmonitored)."""
    edges = sorted({t for segments in timelines.values() for s in segments for t in (s.start, s.end)})
    cursors = {site: 0 for site in timelines}
    runs: list[Run] = []
    for start, end in zip(edges, edges[1:]):
        voters: list[Segment] = []
        for site, segments in timelines.items():
            index = cursors[site]
            while index < len(segments) and segments[index].end <= start:
                index += 1
            cursors[site] = index
            if index < len(segments) and segments[index].start <= start:
                voters.append(segments[index])
        if not voters or len(voters) < rule.min_sites:
            continue
        down = [s for s in voters if s.state == DOWN]
        bad = [s for s in voters if s.state in (DOWN, DEGRADED)]
        if rule.holds(len(down), len(voters)):
            state, makers = DOWN, down
        elif rule.holds(len(bad), len(voters)):
            state, makers = DEGRADED, [s for s in bad if s.state == DEGRADED]
        else:
            state, makers = UP, []
        error_class = max((s.error_class for s in makers), key=lambda c: (classify(c, state), c or ""),
                          default=None)
        interval = max(s.interval for s in voters)
        previous = runs[-1] if runs else None
        if (previous is not None and previous.end == start and previous.state == state
                and previous.error_class == error_class):
            runs[-1] = replace(previous, last=start, end=end, interval=max(previous.interval, interval))
        else:
            runs.append(Run(start=start, last=start, end=end, state=state, error_class=error_class,
                            count=confirm if state != UP else 1, interval=interval))
    return runs


def vouching(timelines: Mapping[str, Sequence[Segment]]) -> list[Interval]:
    """The time some site vouches for."""
    return merge((s.start, s.end) for segments in timelines.values() for s in segments)

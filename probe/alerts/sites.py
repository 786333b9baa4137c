"""The sites' votes as checks arrive: each site's verdict on each endpoint (an outage or a
degradation once ``confirm`` checks in a row say so), whether the site abstains (every one of
its control endpoints in an outage), and the verdict of the site rule over the sites that
vouch for the endpoint at that instant (docs/accounting.md, "Several sites")."""

from __future__ import annotations

from dataclasses import dataclass, field

from probe import sla
from probe.result import CheckResult


@dataclass
class _Seen:
    """One site's latest word on one endpoint."""

    state: str  # the state of the checks in a row
    count: int  # how many in a row
    at: float  # the newest check
    until: float  # where its coverage ends
    confirm: int
    classes: dict = field(default_factory=dict)  # the run's error classes, an ordered set
    error: str | None = None

    @property
    def verdict(self) -> str:
        """down (degraded) once the run is an outage (degradation); else up: a blip is none."""
        return self.state if self.count >= self.confirm else sla.UP


class SiteVotes:
    """Each endpoint's checks by site, and the combined verdict. Cheap: one dict update and a
    vote over the endpoint's sites per check."""

    def __init__(self, rule: sla.SiteRule):
        self.rule = rule
        self.controls: set[str] = set()  # the control endpoints seen
        self._seen: dict[str, dict[str, _Seen]] = {}  # endpoint -> site -> latest word

    def load(self, store, confirm: dict[str, int]) -> None:
        """Where each site's verdict stood in the store (its newest run), for the endpoints
        checked from several sites: after a restart, the vote goes on from there."""
        for name, site, run in store.newest_runs_by_site():
            seen = _Seen(run.state, run.count, run.last, run.end, confirm.get(name, 2))
            seen.classes.setdefault(run.error_class)
            self._seen.setdefault(name, {})[site or ""] = seen

    def sites(self, name: str) -> int:
        return len(self._seen.get(name, ()))

    def note(self, name: str, site: str, result: CheckResult, interval: float, confirm: int) -> None:
        """A check of ``name`` made from ``site``."""
        seen = self._seen.setdefault(name, {}).get(site)
        if seen is not None and result.at < seen.at:
            return  # older than what was seen
        until = sla.coverage_end(result.at, interval)
        if seen is None or seen.state != result.state:
            seen = self._seen[name][site] = _Seen(result.state, 0, result.at, until, confirm)
        seen.count += 1
        seen.at, seen.until, seen.confirm = result.at, until, confirm
        seen.classes.setdefault(result.error_class)
        if seen.error is None:
            seen.error = result.error

    def abstains(self, site: str, at: float) -> bool:
        """Every control endpoint checked from ``site`` is in an outage (none: never)."""
        words = [self._seen[name][site] for name in self.controls
                 if site in self._seen.get(name, {}) and self._seen[name][site].until > at]
        return bool(words) and all(word.verdict == sla.DOWN for word in words)

    def verdict(self, name: str, at: float, url: str) -> CheckResult | None:
        """The rule's verdict on ``name`` at ``at`` as a check result (state, the highest
        class among the sites that made it, and the error of one of them); None when fewer
        than ``min_sites`` sites vote."""
        voters = [seen for site, seen in self._seen.get(name, {}).items()
                  if seen.until > at and not self.abstains(site, at)]
        if not voters or len(voters) < self.rule.min_sites:
            return None
        down = [seen for seen in voters if seen.verdict == sla.DOWN]
        bad = [seen for seen in voters if seen.verdict in (sla.DOWN, sla.DEGRADED)]
        if self.rule.holds(len(down), len(voters)):
            state, makers = sla.DOWN, down
        elif self.rule.holds(len(bad), len(voters)):
            state, makers = sla.DEGRADED, [seen for seen in bad if seen.verdict == sla.DEGRADED]
        else:
            return CheckResult(url=url, at=at, state=sla.UP)
        worst = max(((c, seen) for seen in makers for c in seen.classes),
                    key=lambda pair: (sla.classify(pair[0], state), pair[0] or ""))
        return CheckResult(url=url, at=at, state=state, error_class=worst[0], error=worst[1].error)


LATE_AFTER = 60.0  # seconds: a pushed check older than this (and than twice its interval) is late


def observe_pushed(alerter, endpoints: dict, checks, now: float, silent_after: float = LATE_AFTER) -> int:
    """The checks a site pushed to the hub, in the order it made them, to ``alerter``: each
    with its site and interval, for the endpoints the hub's config names (``endpoints``, by
    name: those the report counts). The site's own trouble (``probe_error``) is no evidence.
    A check older than ``LATE_AFTER`` or the site's ``silent_after``, whichever is shorter
    (and than twice its interval), when it arrives (a back-fill after the hub or the link was
    down) is late: it moves the votes and may end an incident, but opens or escalates none;
    an incident still open when the checks catch up is announced then, dated from its start.
    Returns how many checks were observed."""
    observed, late_after = 0, min(LATE_AFTER, silent_after)
    for name, result, interval_s, site in checks:
        endpoint = endpoints.get(name)
        if endpoint is None or result.error_class == "probe_error":
            continue
        fresh = now - result.at <= max(late_after, 2 * interval_s)
        alerter.observe(endpoint, result, site, interval=interval_s, fresh=fresh)
        observed += 1
    return observed

"""What the daemon says of itself in its log beyond the checks: what it starts to do (and what
cannot work without `--listen`), each endpoint's first successful check of the run, and what a
reload changed (endpoints added, removed and changed; sections)."""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from probe.config import Config, Endpoint
from probe.result import CheckResult

# What a reload may change besides the endpoints, as the config's sections are named.
SECTIONS = (("probe", "[probe]"), ("sla", "[sla]"), ("report", "[report]"),
            ("maintenance", "[[maintenance]]"), ("alerts", "[alerts]"), ("heartbeats", "[[heartbeat]]"),
            ("web", "[web]"))


def startup_lines(config: Config, listening: bool) -> list[tuple[int, str]]:
    """(level, text) of the lines the daemon logs once it runs: when the first checks come, and
    a warning for each part of the config that waits for requests on `--listen` when the daemon
    is started without it (a job's signals would be refused: every run missed). [[site]]
    sections without `--listen` are refused before this, as a config error."""
    lines = []
    if config.checked:
        longest = max(e.interval for e in config.checked)
        lines.append((logging.INFO, "checks are spread over each endpoint's interval:"
                                    f" the first ones come within {longest:g}s"))
    else:
        lines.append((logging.INFO, "no endpoint to check"))
    if not listening:
        waiting = [(f"[[heartbeat]] {_names(config.heartbeats)}", "their signals (/ping/NAME) are refused:"
                    " every run will be missed"),
                   ("[web] public = true", "no status page is served")]
        present = (bool(config.heartbeats), config.web.public)
        lines += [(logging.WARNING, f"{what}: no --listen, so {effect}")
                  for (what, effect), there in zip(waiting, present) if there]
    return lines


def _names(items: tuple[Any, ...]) -> str:
    return ", ".join(repr(item.name) for item in items)


class FirstSuccess:
    """Logs each endpoint's first check that is not down, once per endpoint per daemon run;
    with debug lines on (``probe run -v``), every check in one line."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.seen: set[str] = set()

    def __call__(self, name: str, result: CheckResult) -> bool:
        """True when this result is the first success of ``name`` (and it was logged)."""
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s: checked: %s", name, _said(result, True))
        if result.state == "down" or name in self.seen:
            return False
        self.seen.add(name)
        # the name, never the URL: it may carry user:password
        self.log.info("%s: first successful check (%s)", name, _said(result, result.state != "up"))
        return True


def _said(result: CheckResult, state: bool) -> str:
    how = [f"HTTP {result.http_status}" if result.http_status is not None else None,
           f"in {result.total_ms:.0f} ms" if result.total_ms is not None else None]
    said = " ".join(part for part in how if part)
    if state:
        said += f", {result.state}" + (f": {result.error_class}: {result.error}" if result.error else "")
    return said.strip(", ")


def endpoint_changes(old: Endpoint, new: Endpoint) -> list[str]:
    """The settings that differ, by the config's key names (never their values: headers hold
    secrets)."""
    keys = {"severity_cap": "max_severity"}
    changed = [keys.get(f.name, f.name) for f in fields(Endpoint)
               if f.name not in ("name", "spec") and getattr(old, f.name) != getattr(new, f.name)]
    changed += [f.name for f in fields(old.spec) if getattr(old.spec, f.name) != getattr(new.spec, f.name)]
    return changed


def describe_reload(old: Config, new: Config) -> list[str]:
    """One summary line, then one line per endpoint added, removed or changed, and one for the
    other sections that changed."""
    before = {e.name: e for e in old.endpoints}
    after = {e.name: e for e in new.endpoints}
    added = [name for name in after if name not in before]
    removed = [name for name in before if name not in after]
    changed = {name: endpoint_changes(before[name], after[name]) for name in after if name in before}
    changed = {name: keys for name, keys in changed.items() if keys}
    sections = [label for attribute, label in SECTIONS if getattr(old, attribute) != getattr(new, attribute)]
    summary = (f"{len(new.endpoints)} endpoints: {len(added)} added, {len(removed)} removed, {len(changed)} changed"
               + (f"; {', '.join(sections)} changed" if sections else ""))
    lines = [summary]
    lines += [f"endpoint added: {name}" for name in added]
    lines += [f"endpoint removed: {name}" for name in removed]
    lines += [f"endpoint changed: {name} ({', '.join(keys)})" for name, keys in changed.items()]
    return lines

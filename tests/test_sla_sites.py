"""The site rule as pure functions: each site's timeline, abstentions, cutting abstained time
out, and the combination under majority, all, any and min_sites."""

import pytest

from probe.sla import (
    Abstention,
    Check,
    Segment,
    SiteRule,
    abstentions,
    availability,
    combine_sites,
    cut_runs,
    runs_from_checks,
    site_timeline,
    vouching,
)


def runs(*states: str, start: float = 0.0, interval: float = 60.0):
    """Checks every ``interval`` from ``start``: "u" up, "d" down (timeout), "g" degraded, "c"
    down (connect), "-" no check."""
    codes = {"u": ("up", None), "d": ("down", "timeout"), "c": ("down", "connect"), "g": ("degraded", "too_slow")}
    checks = [Check(start + i * interval, *codes[s], interval) for i, s in enumerate("".join(states)) if s != "-"]
    return runs_from_checks(checks)


@pytest.mark.parametrize("sites, count, voters, holds", [
    ("majority", 2, 3, True), ("majority", 1, 2, False), ("majority", 1, 1, True), ("majority", 0, 1, False),
    ("all", 3, 3, True), ("all", 2, 3, False), ("any", 1, 5, True), ("any", 0, 5, False),
])
def test_the_rule(sites, count, voters, holds):
    assert SiteRule(sites).holds(count, voters) is holds


def test_a_rule_out_of_bounds_is_refused():
    with pytest.raises(ValueError, match="site rule must be one of majority, all, any"):
        SiteRule("most")
    with pytest.raises(ValueError, match="min_sites"):
        SiteRule("any", 0)


def test_a_sites_timeline_is_down_in_its_outages_only():
    # up, a blip (1 down), up, an outage of 3, up
    segments = site_timeline(runs("uuduuddduu"), confirm=2)
    assert [(s.start, s.end, s.state) for s in segments] == [
        (0, 120, "up"), (120, 180, "up"), (180, 300, "up"), (300, 480, "down"), (480, 600 + 30, "up")]


def test_abstentions_need_every_control_endpoint_in_an_outage():
    resolver = runs("uudddduuuu")  # outage [120, 360)
    gateway = runs("uuuuddduuu")  # outage [240, 420)
    [both] = abstentions({"resolver": resolver, "gateway": gateway}, 2)
    assert (both.start, both.end) == (240, 360)
    assert both.causes == (("resolver", ("timeout",)), ("gateway", ("timeout",)))
    assert abstentions({"resolver": runs("uuduu")}, 2) == []  # a blip is no outage
    assert abstentions({}, 2) == []


def test_cut_runs_keeps_an_outage_an_outage():
    cut = cut_runs(runs("uudddduu"), [(150, 250)])
    assert [(r.start, r.end, r.state, r.count) for r in cut] == [
        (0, 120, "up", 2), (120, 150, "down", 4), (250, 360, "down", 0), (360, 480 + 30, "up", 2)]
    figures = availability(cut, (0, 480))
    assert (figures.downtime_seconds, figures.unmonitored_seconds) == (140.0, 100.0)
    assert len(figures.outages) == 1


def test_combined_under_each_rule():
    a = site_timeline(runs("uudddduuuu"))  # A down [120, 360)
    b = site_timeline(runs("uuuddduuuu"))  # B down [180, 360)
    c = site_timeline(runs("uuuuuuuuuu"))
    sites = {"a": a, "b": b, "c": c}

    def down(rule):
        return [(r.start, r.end) for r in combine_sites(sites, rule) if r.state == "down"]

    assert down(SiteRule("any")) == [(120, 360)]
    assert down(SiteRule("majority")) == [(180, 360)]
    assert down(SiteRule("all")) == []
    assert vouching(sites) == [(0, 630)]


def test_a_combined_outage_takes_the_highest_class_and_is_confirmed():
    a = site_timeline(runs("uucccuu"))
    b = site_timeline(runs("uudddduu"))
    combined = combine_sites({"a": a, "b": b}, SiteRule("all"), confirm=3)
    [outage] = [r for r in combined if r.state == "down"]
    assert (outage.start, outage.end, outage.count) == (120, 300, 3)
    assert outage.error_class in ("connect", "timeout")  # both blocking: either is the highest
    figures = availability(combined, (0, 480), confirm=3)
    assert figures.downtime_seconds == 180.0 and len(figures.outages) == 1


def test_degradations_combine_the_same_way():
    a = site_timeline(runs("uugggguu"))
    b = site_timeline(runs("uuddgguu"))
    c = site_timeline(runs("uuuuuuuu"))
    combined = combine_sites({"a": a, "b": b, "c": c}, SiteRule("majority"))
    # 2 of 3 degraded-or-down from 120 to 360: degraded (one down is no majority)
    assert [(r.start, r.end, r.state, r.error_class) for r in combined if r.state != "up"] == [
        (120, 360, "degraded", "too_slow")]


def test_min_sites_leaves_time_with_fewer_voters_unmonitored():
    a = site_timeline(runs("uuuuuuuuuu"))
    b = site_timeline(runs("uuu----uuu"))  # B's last check at 120 vouches to 210; back at 420
    combined = combine_sites({"a": a, "b": b}, SiteRule("majority", 2))
    figures = availability(combined, (0, 600))
    assert figures.unmonitored_seconds == 210.0  # [210, 420)
    assert availability(combine_sites({"a": a, "b": b}, SiteRule("majority", 1)), (0, 600)).unmonitored_seconds == 0


def test_one_voter_alone_decides_under_majority():
    a = site_timeline(runs("uudddu"))
    assert [r.state for r in combine_sites({"a": a}, SiteRule("majority"))] == ["up", "down", "up"]


def test_types_are_plain_values():
    assert Segment(0, 1, "up", None, 60) == Segment(0, 1, "up", None, 60)
    assert Abstention(0, 1, ()) == Abstention(0, 1, ())

"""Support hours (the `sh` deadline unit), against answers worked out by hand on a calendar.

December 2026: Friday 4, Saturday 5, Sunday 6, Monday 7. Friday 25 is Christmas (a public
holiday in France). Summer time ends on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET).
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from probe.config import load
from probe.contract import parse_support_hours
from probe.sla import WorkCalendar, incident_deadlines, parse_deadline, uses_support_hours

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600


def local(*fields):
    return datetime(*fields, tzinfo=PARIS).timestamp()


def as_local(epoch):
    return datetime.fromtimestamp(epoch, PARIS).replace(tzinfo=None)


@pytest.fixture
def france():
    return WorkCalendar()  # Mon-Fri 09:00-17:00 by default


def test_the_issue_example_8sh_from_friday_16_00_ends_monday_16_00(france):
    # Friday 16:00-17:00 is 1 h; Monday 09:00-16:00 is the other 7.
    assert as_local(france.add(local(2026, 12, 4, 16), "8sh")) == datetime(2026, 12, 7, 16)


def test_a_count_reaching_the_close_exactly_is_that_instant(france):
    # 8sh from Friday 09:00 ends Friday 17:00, not Monday 09:00.
    assert as_local(france.add(local(2026, 12, 4, 9), "8sh")) == datetime(2026, 12, 4, 17)
    # 1sh from Friday 16:00 ends at the close too.
    assert as_local(france.add(local(2026, 12, 4, 16), "1sh")) == datetime(2026, 12, 4, 17)


def test_the_clock_starts_at_the_next_opening(france):
    # Saturday 10:00: nothing until Monday 09:00; 1.5sh -> Monday 10:30.
    assert as_local(france.add(local(2026, 12, 5, 10), "1.5sh")) == datetime(2026, 12, 7, 10, 30)
    # Thursday 20:00 (after the close) -> Friday 09:00 + 2 h.
    assert as_local(france.add(local(2026, 12, 3, 20), "2sh")) == datetime(2026, 12, 4, 11)
    # Thursday 07:00 (before the opening) -> Thursday 09:00 + 2 h.
    assert as_local(france.add(local(2026, 12, 3, 7), "2sh")) == datetime(2026, 12, 3, 11)


def test_a_public_holiday_is_closed(france):
    # Thursday 24 December 16:00: 1 h that day; Friday 25 is Christmas; the weekend;
    # Monday 28: 09:00 + 3 h -> 12:00.
    assert as_local(france.add(local(2026, 12, 24, 16), "4sh")) == datetime(2026, 12, 28, 12)


def test_a_closed_day_is_closed():
    calendar = WorkCalendar("FR", "Europe/Paris", (date(2026, 12, 7),))
    # Friday 16:00: 1 h; Monday 7 closed; Tuesday 8: 09:00 + 7 h.
    assert as_local(calendar.add(local(2026, 12, 4, 16), "8sh")) == datetime(2026, 12, 8, 16)


def test_across_the_change_to_winter_time(france):
    # Friday 23 October 16:00 CEST: 1 h; Monday 26 09:00 CET + 1 h -> 10:00 CET.
    start = local(2026, 10, 23, 16)
    end = france.add(start, "2sh")
    assert as_local(end) == datetime(2026, 10, 26, 10)
    # 66 h on the wall clock, 67 h elapsed: the Sunday lasted 25 hours.
    assert end - start == 67 * HOUR


def test_other_support_hours_and_days():
    calendar = WorkCalendar(support_hours="Mon-Sat 08:00-20:00")
    # Saturday 5 December 19:00: 1 h; Sunday closed; Monday 08:00 + 1 h.
    assert as_local(calendar.add(local(2026, 12, 5, 19), "2sh")) == datetime(2026, 12, 7, 9)
    all_day = WorkCalendar(support_hours="Mon-Fri 00:00-24:00")
    # open around the clock on working days: the same as working hours
    start = local(2026, 12, 4, 16)
    assert all_day.add(start, "24sh") == all_day.add(start, "24wh")


def test_deadlines_of_a_contract_in_support_hours(france):
    deadlines = {"blocking": ("4sh", "16sh"), "major": ("8sh", "24sh"), "minor": ("16sh", "40sh")}
    ack, fix = incident_deadlines(local(2026, 12, 4, 16), "blocking", france, deadlines)
    assert as_local(ack) == datetime(2026, 12, 7, 12)
    assert as_local(fix) == datetime(2026, 12, 8, 16)
    assert uses_support_hours({"blocking": {"acknowledge": "5h", "fix": "16sh"}})
    assert not uses_support_hours({"blocking": {"acknowledge": "5h", "fix": "24wh"}})


def test_parse_deadline_knows_sh():
    assert str(parse_deadline("8sh")) == "8sh"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Fri-Mon 09:00-17:00", "'Fri-Mon 09:00-17:00': the day range 'Fri-Mon' runs backwards (like Mon-Fri)"),
        ("Mon-Fri 9:00-17:00",
         "'Mon-Fri 9:00-17:00': '9:00' is not a time of day (like 09:00; 24:00 for midnight at the end)"),
        ("Mon-Fri 17:00-09:00", "'Mon-Fri 17:00-09:00': the end (09:00) must be after the start (17:00)"),
        ("Mon-Fry 09:00-17:00", "'Mon-Fry 09:00-17:00': 'Fry' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
        ("weekdays", "'weekdays' is not support hours (like \"Mon-Fri 09:00-17:00\")"),
    ],
)
def test_bad_support_hours(text, message):
    with pytest.raises(ValueError) as error:
        parse_support_hours(text)
    assert str(error.value) == message


def test_support_hours_read_forms():
    hours = parse_support_hours("monday,Wed-Fri 08:30-24:00")
    assert hours.days == frozenset({0, 2, 3, 4}) and (hours.start, hours.end) == (510, 1440)
    assert str(hours) == "Mon,Wed-Fri 08:30-24:00"


BASE = '[probe]\ndatabase = "x.db"\n[[endpoint]]\nname = "api"\nurl = "https://example.com/"\n'


def test_config_support_hours(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text(BASE + '[sla]\nsupport_hours = "Mon-Fri 08:00-18:00"\n'
                    '[sla.deadlines]\nblocking = { acknowledge = "4sh", fix = "16sh" }\n')
    cfg = load(path, environ={})
    assert cfg.sla.support_hours == "Mon-Fri 08:00-18:00"
    assert cfg.sla.deadlines["blocking"] == {"acknowledge": "4sh", "fix": "16sh"}
    path.write_text(BASE)
    assert load(path, environ={}).sla.support_hours == "Mon-Fri 09:00-17:00"


def test_the_rules_section_states_the_reading():
    from test_render import make_model

    from probe import render

    model = make_model()
    french = render.render_html(model, lang="fr")
    assert "comme 24 heures comptées sur les jours ouvrés" in french
    model["rules"]["support_hours"] = "Mon-Fri 09:00-17:00"
    model["rules"]["deadlines"]["blocking"] = {"acknowledge": "4sh", "fix": "8sh"}
    french = render.render_html(model, lang="fr")
    assert "heures d’ouverture du support (Mon-Fri 09:00-17:00" in french
    assert "8\u00a0heures de support" in french
    english = render.render_html(model, lang="en")
    assert "Support hours count only the support's opening hours (Mon-Fri 09:00-17:00" in english \
        or "Support hours count only the support&#39;s opening hours (Mon-Fri 09:00-17:00" in english


def test_report_counts_deadlines_in_support_hours(tmp_path):
    """An outage from Friday 27 November 2026 16:00 to 16:30 (blocking): acknowledge within
    4sh -> Monday 30 November 12:00 (1 h Friday, 3 h Monday); fix within 8sh -> Monday 16:00."""
    import json

    from test_report import Timeline, import_history, paris, report_json, write_jsonl

    timeline = Timeline("api", paris(2026, 11, 27, 10), paris(2026, 12, 1)).episode(
        paris(2026, 11, 27, 16), paris(2026, 11, 27, 16, 30), "http_status")
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", timeline))
    config = tmp_path / "probe.toml"
    config.write_text(BASE.replace('"x.db"', json.dumps(str(db))) + '[sla]\nsupport_hours = "Mon-Fri 09:00-17:00"\n'
                      '[sla.deadlines]\nblocking = { acknowledge = "4sh", fix = "8sh" }\n')
    model = report_json(config, db, "--month", "2026-11", "--as-of", "2026-12-01T12:00")
    assert model["rules"]["support_hours"] == "Mon-Fri 09:00-17:00"
    assert model["rules"]["deadlines"]["blocking"] == {"acknowledge": "4sh", "fix": "8sh"}
    (incident,) = model["endpoints"][0]["incidents"]
    assert incident["severity"] == "blocking"
    assert incident["acknowledge_deadline"] == "2026-11-30T12:00:00+01:00"
    assert incident["fix_deadline"] == "2026-11-30T16:00:00+01:00"
    assert incident["fix"] == "met" and incident["acknowledge"] == "missed"
    # the contract's defaults: no support-hours reading stated
    config.write_text(BASE.replace('"x.db"', json.dumps(str(db))))
    assert report_json(config, db, "--month", "2026-11", "--as-of", "2026-12-01T12:00")["rules"]["support_hours"] is None


def test_the_alerter_counts_deadlines_in_the_configured_support_hours(tmp_path):
    from probe.alerts import Alerter
    from probe.config import AlertSettings, SLASettings

    settings = SLASettings(support_hours="Mon-Fri 08:00-18:00",
                           deadlines={"blocking": {"acknowledge": "4sh", "fix": "8sh"},
                                      "major": {"acknowledge": "24wh", "fix": "48wh"},
                                      "minor": {"acknowledge": "48wh", "fix": "5wd"}})
    alerter = Alerter(AlertSettings(), settings, tmp_path / "probe.db")
    # Friday 4 December 2026 16:00: 2 h on Friday (to 18:00), then Monday from 08:00
    ack, fix = incident_deadlines(local(2026, 12, 4, 16), "blocking", alerter.calendar, alerter.deadlines)
    assert as_local(ack) == datetime(2026, 12, 7, 10)
    assert as_local(fix) == datetime(2026, 12, 7, 14)

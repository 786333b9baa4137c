"""Config loading: defaults, environment secrets, and a table of broken configs, each with its
exact one-line message."""

import pytest

from probe import config
from probe.config import ConfigError, load, parse_duration, parse_status_list

GOOD = """
[probe]
database = "/tmp/probe-test.db"
site = "paris-1"

[defaults]
interval = "30s"
timeout = "5s"

[[endpoint]]
name = "admin"
url = "https://admin.example.com/health"
expect_body = "ok"
max_latency = "2s"
headers = { Authorization = "Bearer ${ADMIN_TOKEN}" }

[[endpoint]]
name = "www"
url = "https://www.example.com/"
interval = "1m"
confirm = 3
max_severity = "major"

[sla]
target = 99.9
closed_days = [2026-12-24]

[sla.deadlines]
blocking = { acknowledge = "4h" }

[report]
language = "en"
client = "ACME"

[[maintenance]]
start = "2026-10-20T02:00"
end = "2026-10-20T04:00"
endpoints = ["admin"]
reason = "database upgrade"

[[maintenance]]
every = ["saturday", "sunday"]
at = "02:00"
duration = "1h"
"""


def write(tmp_path, text):
    path = tmp_path / "probe.toml"
    path.write_text(text)
    return path


def test_good_config(tmp_path):
    cfg = load(write(tmp_path, GOOD), environ={"ADMIN_TOKEN": "s3cret"})
    admin, www = cfg.endpoints
    assert cfg.probe.site == "paris-1" and cfg.probe.database == "/tmp/probe-test.db"
    assert admin.interval == 30 and admin.spec.timeout == 5 and admin.confirm == 2
    assert admin.spec.headers == (("Authorization", "Bearer s3cret"),)
    assert admin.spec.max_latency == 2.0 and admin.spec.expect_body == "ok"
    assert www.interval == 60 and www.confirm == 3 and www.severity_cap == "major"
    assert cfg.sla.target == 99.9 and cfg.sla.timezone == "Europe/Paris"
    assert cfg.sla.deadlines["blocking"] == {"acknowledge": "4h", "fix": "24wh"}
    assert cfg.sla.deadlines["minor"] == {"acknowledge": "48wh", "fix": "5wd"}
    assert str(cfg.sla.closed_days[0]) == "2026-12-24"
    one_off, weekly = cfg.maintenance
    assert one_off.start.isoformat() == "2026-10-20T02:00:00+02:00"
    assert one_off.applies_to("admin") and not one_off.applies_to("www")
    assert weekly.every == (5, 6) and weekly.duration == 3600 and weekly.applies_to("www")
    assert cfg.report.language == "en"


def test_secrets_are_not_in_the_repr(tmp_path):
    cfg = load(write(tmp_path, GOOD), environ={"ADMIN_TOKEN": "s3cret"})
    # headers live only in the spec used to make requests
    assert "s3cret" not in repr(cfg.probe) + repr(cfg.sla) + repr(cfg.report)


def test_default_database_follows_systemd_state_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/probe")
    cfg = load(write(tmp_path, '[[endpoint]]\nname = "a"\nurl = "https://a.example/"\n'))
    assert cfg.probe.database == "/var/lib/probe/probe.db"
    monkeypatch.delenv("STATE_DIRECTORY")
    assert load(write(tmp_path, '[[endpoint]]\nname = "a"\nurl = "https://a.example/"\n')).probe.database == "probe.db"


E = '[[endpoint]]\nname = "admin"\nurl = "https://admin.example.com/"\n'


@pytest.mark.parametrize(
    "text, message",
    [
        (E + 'interval = "30x"\n', "endpoint 'admin': interval: '30x' is not a duration (like 500ms, 10s, 2m, 1h, 1d)"),
        (E + 'interval = "0.5s"\n', "endpoint 'admin': interval: '0.5s' is out of range (1s to 1d)"),
        (E + 'interval = "2d"\n', "endpoint 'admin': interval: '2d' is out of range (1s to 1d)"),
        (E + 'intervall = "30s"\n', "endpoint 'admin': intervall: unknown key (expected one of:"),
        (E + 'url2 = 1\n', "endpoint 'admin': url2: unknown key"),
        ('[[endpoint]]\nname = "x"\nurl = "http://a.example/"\n', "endpoint 'x': url: 'http://a.example/' is plain HTTP"),
        ('[[endpoint]]\nname = "x"\n', "endpoint 'x': url: missing"),
        ('[[endpoint]]\nurl = "https://a.example/"\n', "endpoint #1: name: missing"),
        (E + E, "endpoint 'admin': name: duplicate name"),
        (E + 'expect_status = "2xx"\n', "endpoint 'admin': expect_status: '2xx' is not a list of status codes"),
        (E + 'min_tls = "1.1"\n', "endpoint 'admin': min_tls: '1.1' is not one of 1.2, 1.3"),
        (E + 'confirm = 0\n', "endpoint 'admin': confirm: 0 is out of range (1 to 100)"),
        (E + 'cert_warn_days = "x"\n', "endpoint 'admin': cert_warn_days: 'x' is not a whole number"),
        (E + 'ca_file = "/no/such.pem"\n', "endpoint 'admin': ca_file: cannot read /no/such.pem: No such file or directory"),
        (E + 'headers = { Authorization = "${NOPE_NOT_SET}" }\n', "endpoint 'admin': headers: environment variable NOPE_NOT_SET is not set"),
        (E + 'headers = { Authorization = "a\\r\\nX-Evil: 1" }\n', "endpoint 'admin': headers: header 'Authorization' holds a line break"),
        (E + 'max_severity = "critical"\n', "endpoint 'admin': max_severity: 'critical' is not one of minor, major, blocking"),
        (E + 'timeout = "90s"\ninterval = "30s"\n', "endpoint 'admin': timeout: 1m30s is longer than the interval 30s"),
        ('[probe]\ndatabse = "x"\n', "probe: databse: unknown key"),
        ('[prob]\n', "prob: unknown key (expected one of:"),
        ('[sla]\ntimezone = "Mars/Olympus"\n', "sla: timezone: 'Mars/Olympus' is not a known time zone"),
        ('[sla]\ntarget = 101\n', "sla: target: 101 is out of range (0 to 100)"),
        ('[sla.deadlines]\nblocking = { fix = "3days" }\n', "sla.deadlines.blocking: fix: '3days' is not a deadline"),
        ('[sla.deadlines]\nurgent = { fix = "3h" }\n', "sla.deadlines: urgent: unknown class"),
        ('[report]\nlanguage = "de"\n', "report: language: 'de' is not one of fr, en"),
        (E + '[[maintenance]]\nstart = "2026-10-20T02:00"\n', "maintenance #1: end: missing"),
        (E + '[[maintenance]]\nstart = "2026-10-20T04:00"\nend = "2026-10-20T02:00"\n', "maintenance #1: end: must be after start"),
        (E + '[[maintenance]]\nstart = "yesterday"\nend = "2026-10-20T02:00"\n', "maintenance #1: start: 'yesterday' is not a date and time"),
        (E + '[[maintenance]]\nstart = "2026-10-20T02:00"\nend = "2026-10-20T04:00"\nendpoints = ["api"]\n', "maintenance #1: endpoints: no endpoint named 'api'"),
        (E + '[[maintenance]]\nevery = "funday"\nat = "02:00"\nduration = "1h"\n', "maintenance #1: every: 'funday' is not a weekday"),
        (E + '[[maintenance]]\nevery = "sunday"\nat = "25:00"\nduration = "1h"\n', "maintenance #1: at: '25:00' is not a time of day"),
        (E + '[[maintenance]]\nevery = "sunday"\nduration = "1h"\n', "maintenance #1: at: missing"),
        ('this is = not toml [', "not valid TOML"),
        ('endpoint = "x"\n', "endpoint: must be an array of tables ([[endpoint]])"),
    ],
)
def test_broken_configs(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "nope.toml")


@pytest.mark.parametrize("text, seconds", [("500ms", 0.5), ("10s", 10), ("2m", 120), ("1h", 3600), ("1d", 86400), (5, 5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_status_lists():
    assert parse_status_list("200-299, 301") == ((200, 299), (301, 301))
    assert parse_status_list(204) == ((204, 204),)
    with pytest.raises(ValueError):
        parse_status_list("299-200")


def test_every_endpoint_key_is_documented():
    import pathlib

    doc = (pathlib.Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    for key in config.ENDPOINT_KEYS | config.PROBE_KEYS | config.SLA_KEYS | config.REPORT_KEYS | config.MAINTENANCE_KEYS:
        assert f"`{key}`" in doc, key

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
        (E + 'latency_objective = { percentile = 0, under = "800ms" }\n',
         "endpoint 'admin': latency_objective: percentile: 0 is out of range (more than 0, at most 100)"),
        (E + 'latency_objective = { percentile = 100.5, under = "800ms" }\n',
         "endpoint 'admin': latency_objective: percentile: 100.5 is out of range (more than 0, at most 100)"),
        (E + 'latency_objective = { percentile = "95", under = "800ms" }\n',
         "endpoint 'admin': latency_objective: percentile: '95' is not a number (like 95 or 99.9)"),
        (E + 'latency_objective = { percentile = 95, under = "fast" }\n',
         "endpoint 'admin': latency_objective: under: 'fast' is not a duration (like 500ms, 10s, 2m, 1h, 1d)"),
        (E + 'latency_objective = { percentile = 95, under = "10m" }\n',
         "endpoint 'admin': latency_objective: under: '10m' is out of range (1ms to 5m)"),
        (E + 'latency_objective = { percentile = 95, below = "800ms" }\n',
         "endpoint 'admin': latency_objective: below: unknown key (expected one of: percentile, under)"),
        (E + 'latency_objective = { percentile = 95 }\n',
         "endpoint 'admin': latency_objective: under: missing (expected a table like { percentile = 95, under = \"800ms\" })"),
        (E + 'latency_objective = "p95 < 800ms"\n',
         "endpoint 'admin': latency_objective: must be a table like { percentile = 95, under = \"800ms\" }"),
        (E + 'max_severity = "critical"\n', "endpoint 'admin': max_severity: 'critical' is not one of minor, major, blocking"),
        (E + 'timeout = "90s"\ninterval = "30s"\n', "endpoint 'admin': timeout: 1m30s is longer than the interval 30s"),
        ('[probe]\ndatabse = "x"\n', "probe: databse: unknown key"),
        ('[prob]\n', "prob: unknown key (expected one of:"),
        ('[web]\npublic = "yes"\n', "web: public: 'yes' is not true or false"),
        ('[web]\npubic = true\n', "web: pubic: unknown key (expected one of: public)"),
        ('[sla]\ntimezone = "Mars/Olympus"\n', "sla: timezone: 'Mars/Olympus' is not a known time zone"),
        ('[sla]\ntarget = 101\n', "sla: target: 101 is out of range (0 to 100)"),
        ('[sla]\nsites = "most"\n', "sla: sites: 'most' is not one of majority, all, any"),
        ('[sla]\nsites = 2\n', "sla: sites: 2 is not one of majority, all, any"),
        ('[sla]\nmin_sites = 0\n', "sla: min_sites: 0 is out of range (1 to 100)"),
        ('[sla]\nmin_sites = "2"\n', "sla: min_sites: '2' is not a whole number"),
        ('[sla.deadlines]\nblocking = { fix = "3days" }\n', "sla.deadlines.blocking: fix: '3days' is not a deadline"),
        ('[sla.deadlines]\nurgent = { fix = "3h" }\n', "sla.deadlines: urgent: unknown class"),
        ('[sla]\nsupport_hours = "Sat-Mon 09:00-17:00"\n',
         "sla: support_hours: 'Sat-Mon 09:00-17:00': the day range 'Sat-Mon' runs backwards (like Mon-Fri)"),
        ('[sla]\nsupport_hours = "Mon-Fri 09:00-25:00"\n',
         "sla: support_hours: 'Mon-Fri 09:00-25:00': '25:00' is not a time of day (like 09:00; 24:00 for midnight at the end)"),
        ('[sla]\nsupport_hours = "Mon-Fri 17:00-09:00"\n',
         "sla: support_hours: 'Mon-Fri 17:00-09:00': the end (09:00) must be after the start (17:00)"),
        ('[sla]\nsupport_hours = 9\n', "sla: support_hours: 9 is not support hours (like \"Mon-Fri 09:00-17:00\")"),
        ('[sla.deadlines]\nmajor = { fix = "9000sh" }\n',
         "sla.deadlines.major: fix: '9000sh' is out of range (more than 0, at most a year: 8784sh or 366wd)"),
        ('[report]\nlanguage = "de"\n', "report: language: 'de' is not one of fr, en"),
        ('[report]\ntitle = 3\n', "report: title: 3 is neither a string nor a table of one per language"),
        ('[report]\ntitle = { de = "x" }\n', "report: title: 'de' is not a language (fr, en)"),
        ('[report]\ntitle = { fr = 3 }\n', "report: title: fr: 3 is not a string"),
        ('[report]\ntitle = {}\n', "report: title: an empty table (give a string, or { fr = \"…\", en = \"…\" })"),
        ('[report]\nshow_urls = "yes"\n', "report: show_urls: 'yes' is not true or false"),
        (E + '[[maintenance]]\nstart = "2026-10-20T02:00"\n', "maintenance #1: end: missing"),
        (E + '[[maintenance]]\nstart = "2026-10-20T04:00"\nend = "2026-10-20T02:00"\n', "maintenance #1: end: must be after start"),
        (E + '[[maintenance]]\nstart = "yesterday"\nend = "2026-10-20T02:00"\n', "maintenance #1: start: 'yesterday' is not a date and time"),
        (E + '[[maintenance]]\nstart = "2026-10-20T02:00"\nend = "2026-10-20T04:00"\nendpoints = ["api"]\n', "maintenance #1: endpoints: no endpoint named 'api'"),
        (E + '[[maintenance]]\nevery = "funday"\nat = "02:00"\nduration = "1h"\n', "maintenance #1: every: 'funday' is not a weekday"),
        (E + '[[maintenance]]\nevery = "sunday"\nat = "25:00"\nduration = "1h"\n', "maintenance #1: at: '25:00' is not a time of day"),
        (E + '[[maintenance]]\nevery = "sunday"\nduration = "1h"\n', "maintenance #1: at: missing"),
        ('this is = not toml [', "not valid TOML"),
        ('endpoint = "x"\n', "endpoint: must be an array of tables ([[endpoint]])"),
        # values that would break later (an overflow in a report, a traceback) are bounded here
        ('[sla.deadlines]\nblocking = { acknowledge = "9999999wd" }\n',
         "sla.deadlines.blocking: acknowledge: '9999999wd' is out of range (more than 0, at most a year: 8784h or 366wd)"),
        ('[sla.deadlines]\nmajor = { fix = "9000wh" }\n',
         "sla.deadlines.major: fix: '9000wh' is out of range (more than 0, at most a year: 8784wh or 366wd)"),
        ('[sla.deadlines]\nminor = { fix = "0h" }\n', "sla.deadlines.minor: fix: '0h' is out of range"),
        (E + "interval = 1" + "0" * 400 + "\n", "endpoint 'admin': interval: a number of 401 digits is too long for a duration"),
        (E + 'timeout = "' + "9" * 400 + 's"\n', "endpoint 'admin': timeout: '99999999999999"),
        (E + "confirm = 1" + "0" * 4000 + "\n", "endpoint 'admin': confirm: a number of 4001 digits is out of range (1 to 100)"),
        (E + "confirm = 1" + "0" * 5000 + "\n", "not valid TOML: a number too large"),
        (E + "interval = inf\n", "endpoint 'admin': interval: inf is too long for a duration"),
        (E + "interval = nan\n", "endpoint 'admin': interval: nan is not a duration"),
        ('[probe]\nmax_in_flight = 18446744073709551616\n', "probe: max_in_flight: 18446744073709551616 is out of range (1 to 100000)"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML: arrays or tables nested too deeply"),
        ("x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", "not valid TOML: arrays or tables nested too deeply"),
        # names shown on terminals and in logs hold no control characters
        ('[[endpoint]]\nname = "a\\nb"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\n)"),
        ('[[endpoint]]\nname = "a\\rb"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\r)"),
        ('[[endpoint]]\nname = "a\\u001b[2Jb"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\x1b)"),
        ('[[endpoint]]\nname = "a\\u0000"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\x00)"),
        ('[[endpoint]]\nname = "a\\u202eb"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\u202e)"),
        ('[[endpoint]]\nname = "a\\u2066b"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\u2066)"),
        ('[[endpoint]]\nname = "\\ufeffa"\nurl = "https://a.example/"\n', "endpoint #1: name: holds a control character (\\ufeff)"),
        ('[probe]\nsite = "paris\\u0085"\n', "probe: site: holds a control character (\\x85)"),
        # malformed URLs are refused when the config is read, not at every check
        ('[[endpoint]]\nname = "x"\nurl = "https://a b.example/"\n',
         "endpoint 'x': url: 'https://a b.example/' has a space or a control character in its host"),
        ('[[endpoint]]\nname = "x"\nurl = "https://a.example/\\n"\n',
         "endpoint 'x': url: 'https://a.example/\\n' holds a control character (\\n)"),
        ('[[endpoint]]\nname = "x"\nurl = "https://a\\u0000.example/"\n',
         "endpoint 'x': url: 'https://a\\x00.example/' holds a control character (\\x00)"),
        ('[[endpoint]]\nname = "x"\nurl = "https://a|b.example/"\n',
         "endpoint 'x': url: 'https://a|b.example/' has a bad host name: 'a|b.example' holds a character not allowed"),
        ('[[endpoint]]\nname = "x"\nurl = "https://a..b/"\n', "endpoint 'x': url: 'https://a..b/' has a bad host name: 'a..b' has an empty label"),
        ('[[endpoint]]\nname = "x"\nurl = "https://-bad-.com/"\n',
         "endpoint 'x': url: 'https://-bad-.com/' has a bad host name: '-bad-.com' has a label that begins or ends with '-'"),
        ('[[endpoint]]\nname = "x"\nurl = "https://1.2.3.4.5/"\n',
         "endpoint 'x': url: 'https://1.2.3.4.5/' has a bad host name: '1.2.3.4.5' is not an IPv4 address"),
        ('[[endpoint]]\nname = "x"\nurl = "https://' + "a" * 64 + '.com/"\n', "has a bad host name: a label is longer than 63 characters"),
        ('[[endpoint]]\nname = "x"\nurl = "https://a.example:99999/"\n', "endpoint 'x': url: 'https://a.example:99999/' has a bad port"),
        # a '/' in a password ends the authority (RFC 3986): said so, the password never shown
        ('[[endpoint]]\nname = "x"\nurl = "https://ann:pa/ss@a.example/"\n',
         "endpoint 'x': url: 'https://***@a.example/' has a '/', '?' or '#' in its user name or password:"
         " write them %2F, %3F, %23 (RFC 3986)"),
        ('[[endpoint]]\nname = "x"\nurl = "https://ann:s3cret@a..b/"\n',
         "endpoint 'x': url: 'https://***@a..b/' has a bad host name: 'a..b' has an empty label"),
        (E + 'headers = { X-Key = "a\\u0000b" }\n', "endpoint 'admin': headers: header 'X-Key' holds a control character (\\x00)"),
        (E + 'headers = { X-Key = "a\\u001bb" }\n', "endpoint 'admin': headers: header 'X-Key' holds a control character (\\x1b)"),
        # the daemon's TLS audit: a duration from an hour to 30 days, or "off"
        (E + 'tls_audit = "10m"\n', "endpoint 'admin': tls_audit: '10m' is out of range (1h to 30d); or \"off\""),
        (E + 'tls_audit = "never"\n', "endpoint 'admin': tls_audit:"),
        (E + 'tls_audit = false\n', "endpoint 'admin': tls_audit:"),
        # several sites: [upstream] on a site, [[site]] and [hub] on the hub; tokens never shown
        ('[upstream]\ntoken = "0123456789abcdef"\n', "upstream: url: missing"),
        ('[upstream]\nurl = "https://hub.example/"\n', "upstream: token: missing"),
        ('[upstream]\nurl = "http://hub.example/"\ntoken = "0123456789abcdef"\n',
         "upstream: url: 'http://hub.example/' is plain HTTP"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "short"\n', "upstream: token: must be at least 16 characters"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "${NOPE_NOT_SET}"\n',
         "upstream: token: environment variable NOPE_NOT_SET is not set"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "s3cret s3cret s3cret"\n',
         "upstream: token: must be printable ASCII without spaces (it is sent in an HTTP header)"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "s3cret-s3cret-s3cret"\n' + 'batch = 0\n', "upstream: batch: 0 is out of range (1 to 50000)"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "s3cret-s3cret-s3cret"\n' + 'every = "1ms"\n', "upstream: every: '1ms' is out of range (100ms to 1h)"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "s3cret-s3cret-s3cret"\n' + 'ca_file = "/no/such.pem"\n', "upstream: ca_file: cannot read /no/such.pem: No such file or directory"),
        ('[upstream]\nurl = "https://hub.example/"\ntoken = "s3cret-s3cret-s3cret"\n' + 'password = "x"\n', "upstream: password: unknown key (expected one of: batch, ca_file, every, timeout, token, url)"),
        ('upstream = 1\n', "upstream: must be a table ([upstream])"),
        ('[[site]]\nname = "paris-1"\n', "site 'paris-1': token: missing"),
        ('[[site]]\ntoken = "0123456789abcdef"\n', "site #1: name: missing"),
        ('[[site]]\nname = "a"\ntoken = "s3cret-s3cret-s3cret"\n' + '[[site]]\nname = "a"\ntoken = "s3cret-s3cret-s3cret"\n'.replace("s3cret-", "other-"), "site 'a': name: duplicate name (names must be unique)"),
        ('[[site]]\nname = "a"\ntoken = "s3cret-s3cret-s3cret"\n' + '[[site]]\nname = "a"\ntoken = "s3cret-s3cret-s3cret"\n'.replace('"a"', '"b"'), "site 'b': token: the same as site 'a''s (each site needs its own)"),
        ('[[site]]\nname = "a"\ntoken = "s3cret-s3cret-s3cret"\n' + 'silent_after = "1ms"\n', "site 'a': silent_after: '1ms' is out of range (1s to 7d)"),
        ('[[site]]\nname = "a"\ntoken = "s3cret-s3cret-s3cret"\n' + 'color = "red"\n', "site 'a': color: unknown key (expected one of: name, silent_after, token)"),
        ('site = { name = "a" }\n', "site: must be an array of tables ([[site]])"),
        ('[hub]\nbehind_tls_proxy = "yes"\n', "hub: behind_tls_proxy: 'yes' is not true or false"),
        ('[hub]\nmax_body = 10\n', "hub: max_body: 10 is out of range (1024 to 1073741824)"),
        ('[hub]\ncheck_endpoints = false\n', "hub: check_endpoints: false needs [[site]] sections: the sites check the endpoints"),
        ('[hub]\ncheck_endpoints = "no"\n', "hub: check_endpoints: 'no' is not true or false"),
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
    assert "s3cret" not in text and "pa/ss" not in text


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


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_bytes(b"\xef\xbb\xbf" + E.encode())
    assert [e.name for e in load(path, environ={}).endpoints] == ["admin"]


@pytest.mark.parametrize("url", [
    "https://a.example/", "https://a.example./", "https://ex_ample.com/", "https://\u00e9t\u00e9.example/",
    "https://[::1]:8443/", "https://10.0.0.1/", "https://a.1b/", "https://ann:pa%2Fss@a.example/",
    "https://odd(name).example/",  # browsers take it: only their forbidden characters are refused
])
def test_good_urls(url):
    assert config.check_url(url) == url


def test_a_path_too_long_is_one_line(tmp_path):
    path = tmp_path / ("a" * 5000)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).endswith(": cannot read: File name too long")


def test_tls_audit_is_daily_by_default_and_can_be_off(tmp_path):
    config = load(write(tmp_path, E + '\n[[endpoint]]\nname = "b"\nurl = "https://b.example/"\ntls_audit = "off"\n'
                        '\n[[endpoint]]\nname = "c"\nurl = "https://c.example/"\ntls_audit = "12h"\n'), environ={})
    assert [e.tls_audit for e in config.endpoints] == [86400.0, None, 43200.0]

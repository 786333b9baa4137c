"""`probe check --format nagios` as Nagios, Icinga and Naemon run it: a real process against
real local TLS servers; the output read with the Monitoring Plugins guidelines' grammar."""

import re
import subprocess
import sys

import pytest

from servers import refused_port, respond

# The guidelines' perfdata: space-separated 'label'=value[UOM];[warn];[crit];[min];[max]; a
# label in single quotes when it holds spaces, '=' or quotes (a quote doubled inside);
# UOM one of (none), s, ms, us, %, B, KB, MB, TB, c; thresholds are ranges [@][start:][end],
# start may be ~ (minus infinity).
NUMBER = r"-?\d+(?:\.\d+)?"
RANGE = rf"@?(?:(?:{NUMBER}|~):)?(?:{NUMBER})?"
LABEL = r"(?:'(?:[^']|'')+'|[^'=\s]+)"
UOM = r"(?:s|ms|us|%|B|KB|MB|TB|c)?"
PERF_ITEM = re.compile(
    rf"(?P<label>{LABEL})=(?P<value>{NUMBER})(?P<uom>{UOM})"
    rf"(?:;(?P<warn>{RANGE})(?:;(?P<crit>{RANGE})(?:;(?P<min>{NUMBER})?(?:;(?P<max>{NUMBER})?)?)?)?)?"
)
STATUS_LINE = re.compile(r"PROBE (?P<state>OK|WARNING|CRITICAL|UNKNOWN) - (?P<text>[^|]*?)(?: \| (?P<perf>.*))?")


def perfdata(text: str) -> dict:
    """The perfdata of a status line, every item checked against the grammar."""
    items = {}
    for item in re.findall(r"(?:'(?:[^']|'')+'|[^ ])+", text):
        match = PERF_ITEM.fullmatch(item)
        assert match, f"not perfdata per the guidelines: {item!r}"
        label = match["label"]
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        items[label] = match.groupdict()
    return items


def plugin(*args, stdin=None):
    done = subprocess.run([sys.executable, "-m", "probe", "check", "--format", "nagios", *args],
                          capture_output=True, text=True, timeout=60, input=stdin)
    lines = done.stdout.splitlines()
    assert lines, done.stderr
    head = STATUS_LINE.fullmatch(lines[0])
    assert head, lines[0]
    return done.returncode, head, lines[1:]


@pytest.fixture(scope="module")
def ok_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"


@pytest.fixture(scope="module")
def slow_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(delay=0.3), certs.context())}/"


@pytest.fixture(scope="module")
def expiring_url(servers, certs):  # 5 days left
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context('expiring'))}/"


def test_ok_one_line_with_perfdata(ok_url, certs):
    status, head, rest = plugin("--ca-file", certs.ca_file, "-w", "2", "-c", "10s", ok_url)
    assert status == 0 and head["state"] == "OK" and rest == []
    assert re.fullmatch(rf"{re.escape(ok_url)} 200 in \d+ ms, TLSv1\.3, certificate \d+ d", head["text"])
    perf = perfdata(head["perf"])
    assert list(perf) == ["time", "dns", "connect", "tls", "ttfb", "cert_days"]
    time = perf["time"]
    assert (time["uom"], time["warn"], time["crit"], time["min"]) == ("s", "2", "10", "0")
    assert perf["tls"]["uom"] == "s"
    days = perf["cert_days"]
    assert (days["uom"], days["warn"], days["crit"], days["min"]) == ("", "14:", "7:", "0")


def test_warning_on_time(slow_url, certs):
    status, head, _ = plugin("--ca-file", certs.ca_file, "-w", "100ms", "-c", "30", slow_url)
    assert status == 1 and head["state"] == "WARNING"
    assert "time " in head["text"] and "> 0.1 s" in head["text"]
    assert perfdata(head["perf"])["time"]["warn"] == "0.1"


def test_critical_on_time(slow_url, certs):
    status, head, _ = plugin("--ca-file", certs.ca_file, "-w", "0.05", "-c", "0.1", slow_url)
    assert status == 2 and head["state"] == "CRITICAL"
    assert "> 0.1 s" in head["text"]


def test_certificate_days(expiring_url, certs):
    status, head, _ = plugin("--ca-file", certs.ca_file, expiring_url)
    assert status == 2 and head["state"] == "CRITICAL"
    assert "certificate expires in 5 d < 7 d" in head["text"]
    status, head, _ = plugin("--ca-file", certs.ca_file, "--cert-critical", "3", "--cert-warn-days", "3",
                             expiring_url)
    assert status == 1 and "certificate expires in 5 d < 14 d" in head["text"]
    assert perfdata(head["perf"])["cert_days"]["crit"] == "3:"


def test_down_is_critical_without_timings():
    url = f"https://127.0.0.1:{refused_port()}/"
    status, head, _ = plugin(url)
    assert status == 2 and head["state"] == "CRITICAL"
    assert "connect" in head["text"].lower() or "refused" in head["text"].lower()


def test_unknown_when_a_url_is_bad():
    status, head, rest = plugin("http://plain.example/")
    assert status == 3 and head["state"] == "UNKNOWN" and head["perf"] is None and rest == []


def test_unknown_without_urls(tmp_path):
    empty = tmp_path / "urls.txt"
    empty.write_text("# nothing yet\n\n")
    status, head, _ = plugin("--urls-from", str(empty))
    assert status == 3 and "no URL to check" in head["text"]


def test_several_urls_from_a_file_worst_state_first(ok_url, expiring_url, certs, tmp_path):
    listed = tmp_path / "urls.txt"
    listed.write_text(f"# the API\n{ok_url}\n\n   {expiring_url}  \n")
    status, head, rest = plugin("--ca-file", certs.ca_file, "--urls-from", str(listed))
    assert status == 2
    assert head["text"] == "2 URLs: 1 critical, 1 ok"
    assert rest[0].startswith(f"CRITICAL: {expiring_url} 200 in ")
    assert rest[1].startswith(f"OK: {ok_url} 200 in ")
    perf = perfdata(head["perf"])
    # one set per URL, the label quoted (it holds a space) and prefixed by the URL
    assert f"{ok_url} time" in perf and f"{expiring_url} cert_days" in perf
    assert f"'{ok_url} time'=" in head["perf"]


def test_urls_from_stdin_and_arguments(ok_url, certs):
    status, head, rest = plugin("--ca-file", certs.ca_file, ok_url, "--urls-from", "-", stdin=f"{ok_url}\n")
    assert status == 0 and head["text"] == "2 URLs: 2 ok" and len(rest) == 2
    perf = perfdata(head["perf"])  # the same URL twice: its labels stay apart
    assert f"{ok_url} time" in perf and f"{ok_url} #2 time" in perf


def test_labels_are_quoted_per_the_grammar():
    from probe.cli.nagios import perf_label

    assert perf_label("time") == "time"
    assert perf_label("https://a.example/?x=1 time") == "'https://a.example/?x=1 time'"
    assert perf_label("it's") == "'it''s'"
    assert perf_label("a|b") == "a%7Cb"


def test_bad_thresholds_are_usage_errors(ok_url):
    done = subprocess.run([sys.executable, "-m", "probe", "check", "--format", "nagios", "-w", "10", "-c", "2",
                           ok_url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == "PROBE UNKNOWN - -w/--warning (10s) is longer than -c/--critical (2s)\n"
    done = subprocess.run([sys.executable, "-m", "probe", "check", "-w", "soon", ok_url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "'soon' is not a duration" in done.stderr


def test_states_of_results_and_the_worst_of_several():
    from probe.cli.nagios import Thresholds, plugin_output
    from probe.result import CheckResult

    limits = Thresholds(warning=2.0, critical=10.0)
    made_not = CheckResult("https://a.example/", 0.0, "down", "probe_error", "out of file descriptors")
    up = CheckResult("https://b.example/", 0.0, "up", http_status=200, total_ms=212.0, tls_version="TLSv1.3",
                     cert_days_left=57, dns_ms=1.0, connect_ms=10.0, tls_ms=30.0, ttfb_ms=150.0)
    slow = CheckResult("https://c.example/", 0.0, "degraded", "too_slow", "slower than 2 s", http_status=200,
                       total_ms=2500.0)
    down = CheckResult("https://d.example/", 0.0, "down", "connect", "connection refused", total_ms=3.0)
    state, text = plugin_output([up], limits)
    assert (state, text) == (0, "PROBE OK - https://b.example/ 200 in 212 ms, TLSv1.3, certificate 57 d | "
                                "time=0.212s;2;10;0 dns=0.001s connect=0.01s tls=0.03s ttfb=0.15s cert_days=57;14:;7:;0")
    state, text = plugin_output([made_not], limits)
    assert state == 3 and text.startswith("PROBE UNKNOWN - https://a.example/: out of file descriptors")
    assert plugin_output([up, slow], limits)[0] == 1
    assert plugin_output([up, slow, made_not], limits)[0] == 3
    state, text = plugin_output([made_not, slow, down, up], limits)
    head, *rest = text.splitlines()
    assert state == 2 and head.startswith("PROBE CRITICAL - 4 URLs: 1 critical, 1 unknown, 1 warning, 1 ok | ")
    assert [line.split(":")[0] for line in rest] == ["CRITICAL", "UNKNOWN", "WARNING", "OK"]
    assert "WARNING: https://c.example/ 200 in 2500 ms: time 2.5 s > 2 s" in rest


def test_unknown_when_the_url_file_cannot_be_read(tmp_path):
    """What Nagios shows is stdout: a missing --urls-from file is a PROBE UNKNOWN line there."""
    status, head, rest = plugin("--urls-from", str(tmp_path / "missing.txt"))
    assert status == 3 and head["state"] == "UNKNOWN" and rest == []
    assert head["text"] == f"--urls-from: cannot read {tmp_path / 'missing.txt'}: No such file or directory"


@pytest.mark.parametrize("flag", ["-w", "-c"])
def test_thresholds_read_as_every_duration(flag):
    """-w/-c take what --max-latency and the config take, and refuse what they refuse."""
    for accepted in ("1m", "0.5", "500ms"):
        done = subprocess.run([sys.executable, "-m", "probe", "check", "--format", "nagios", flag, accepted,
                               "http://plain.example/"], capture_output=True, text=True, timeout=60)
        assert done.stdout.startswith("PROBE UNKNOWN - ") and "plain HTTP" in done.stdout, done.stderr
    option = {"-w": "-w/--warning", "-c": "-c/--critical"}[flag]
    for refused, message in (("1e2", "'1e2' is not a duration (like 500ms, 10s, 2m, 1h, 1d)"),
                             ("inf", "'inf' is not a duration (like 500ms, 10s, 2m, 1h, 1d)"),
                             ("0.0001", "'0.0001' is out of range (1ms to 5m)")):
        # what Nagios shows is stdout: a bad threshold is a PROBE UNKNOWN line there
        status, head, rest = plugin(flag, refused, "https://127.0.0.1:1/")
        assert status == 3 and head["text"] == f"{option}: {message}" and rest == []

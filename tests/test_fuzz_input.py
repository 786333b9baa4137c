"""Hostile input tried as a fuzzer would, through the real command line: URLs, headers,
configs and import lines that must each give one clear line with no secret in it, and the
legitimate inputs next to them that must keep working."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import ssl
import subprocess
import sys

import pytest
import trustme

from probe.check import check
from probe.config import check_url
from probe.spec import CheckSpec
from probe.text import json_text
from servers import respond
from test_cli_history import one_line_error
from test_hostile_input import cli, probe
from test_redirect_headers import SECRETS, Origin, _fields, _ok, _redirect

SECRET = "s3cret-T0ken"
# what a terminal obeys or that reorders what it shows, raw (JSON escapes the C0 controls itself)
RAW_CONTROL = re.compile("[\x1b\x7f-\x9f\u202a-\u202e\u2028\u2029]")


def shown(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize("url, message", [
    # a '#' or '?' in a password ends the authority (RFC 3986): explained, the password unseen
    (f"https://ann:pa#{SECRET}@example.com/", "in its user name or password: write them %2F, %3F, %23"),
    (f"https://ann:pa?{SECRET}@example.com/", "in its user name or password: write them %2F, %3F, %23"),
    (f"https://ann:{SECRET}@exa mple.com:99999/", "has a space or a control character in its host"),
    # a port is digits (RFC 3986); browsers and curl refuse these, a lenient parser reads 443
    # a raw '/' after a password of digits: host ann, port 123, the rest of it a path that
    # would be stored and shown; a user name before a raw '/' likewise
    (f"https://ann:123/{SECRET}@example.com/", "in its user name or password: write them %2F, %3F, %23"),
    (f"https://ann/{SECRET}:pw@example.com/", "in its user name or password: write them %2F, %3F, %23"),
    ("https://example.com:+443/", "has a bad port"),
    ("https://example.com: 443/", "has a space or a control character in its host"),
    ("https://[::1]:+443/", "has a bad port"),
    ("https://xn--zz.example/", "has a bad host name: not a valid international (IDNA) name"),
    ("https://example.com/\udcff", "holds a byte that is not UTF-8 text (\\udcff)"),
])
def test_bad_urls_are_one_line_without_the_password(url, message):
    done = cli("check", "--timeout", "1s", url)
    line = one_line_error(done, message)
    assert SECRET not in shown(done) and "Traceback" not in line


@pytest.mark.parametrize("url", [
    "https://bücher.example/", "https://xn--bcher-kva.example/", "https://[::1]/", "https://[::1]:8443/",
    "https://EXAMPLE.com./", "https://example.com:443/", "https://example.com:/", "https://foo_bar.example.com/",
    "https://ann:p%40ss@example.com/", "https://ann:pässwörd@example.com/", "https://1.2.3.4:1/",
    "https://medium.example/@ann.lee/post", "https://example.com/?mail=ann@example.com", "https://localhost:8443/@x",
])
def test_legitimate_urls_still_pass(url):
    assert check_url(url) == url


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize("header, message", [
    (f"Authorization Bearer {SECRET}", "no ':' after its name (the text is not shown"),
    (f"Bad Name: {SECRET}", "'Bad Name' is not a header name"),
    (f"X-Api-Key: {SECRET}\x1b[2J", "header 'X-Api-Key' holds a control character (\\x1b)"),
    (f"X-Api-Key: {SECRET}\udcff", "header 'X-Api-Key' holds a byte that is not UTF-8 text (\\udcff)"),
])
def test_a_bad_header_never_prints_its_value(header, message):
    done = cli("check", "--timeout", "1s", "--header", header, "https://127.0.0.1:1/")
    one_line_error(done, message)
    assert SECRET not in shown(done)


def test_a_header_from_the_environment_that_is_not_utf8_is_refused_at_load(tmp_path):
    """A secret in bytes that are not UTF-8 would fail every check as the service's downtime."""
    config = tmp_path / "probe.toml"
    config.write_text('[[endpoint]]\nname = "web"\nurl = "https://127.0.0.1:1/"\n'
                      'headers = { Authorization = "${PROBE_TEST_TOKEN}" }\n')
    env = {**os.environ, "PROBE_TEST_TOKEN": "x"}
    env_bytes = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
    env_bytes[b"PROBE_TEST_TOKEN"] = SECRET.encode() + b"\xff"
    done = subprocess.run([sys.executable, "-m", "probe", "config", "check", str(config)], env=env_bytes,
                          capture_output=True, text=True, timeout=60)
    one_line_error(done, "header 'Authorization' holds a byte that is not UTF-8 text")
    assert SECRET not in shown(done)


# ---------------------------------------------------------------- configs


def test_a_database_path_with_a_nul_is_refused_by_config_check(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text('[probe]\ndatabase = "a\\u0000b"\n[[endpoint]]\nname = "web"\nurl = "https://127.0.0.1:1/"\n')
    one_line_error(cli("config", "check", config), "probe: database: holds a control character (\\x00)")


def test_config_check_shows_a_file_name_escaped(tmp_path):
    config = tmp_path / "probe\x1b[31m.toml"
    config.write_text('[[endpoint]]\nname = "web"\nurl = "https://127.0.0.1:1/"\n')
    done = cli("config", "check", config)
    assert done.returncode == 0 and "\x1b" not in done.stdout and "probe\\x1b[31m.toml: OK" in done.stdout


# ---------------------------------------------------------------- JSON on a terminal

HOSTILE = "Evil\x1b[2J\u202eCA\x9b\u2028"


@pytest.fixture
def hostile_server(tmp_path, servers):
    """A real TLS server whose CA's name holds an escape sequence, a bidi override, a C1 CSI
    and a line separator: what a server's operator, not the user, chooses."""
    authority = trustme.CA(organization_name=HOSTILE)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return ca_file, servers.serve(respond(), context)


def test_check_shows_a_hostile_certificate_name_as_escapes(hostile_server):
    ca_file, port = hostile_server
    done = probe("check", "--json", "--ca-file", ca_file, f"https://127.0.0.1:{port}/")
    assert done.returncode == 0, done.stderr
    assert RAW_CONTROL.search(done.stdout) is None
    assert HOSTILE in json.loads(done.stdout)["cert_issuer"]  # the same data for a JSON reader
    table = probe("check", "--ca-file", ca_file, f"https://127.0.0.1:{port}/")
    assert table.returncode == 0 and RAW_CONTROL.search(table.stdout) is None


def test_export_writes_controls_as_escapes_and_imports_them_back(tmp_path):
    source = tmp_path / "in.jsonl"
    record = {"endpoint": "web", "at": "2026-10-01T00:00:00Z", "state": "down", "error_class": "protocol",
              "error": f"bad answer: {HOSTILE}\x7f", "interval_s": 60, "url": "https://example.com/"}
    source.write_text(json.dumps(record) + "\n")
    assert cli("import", "--db", tmp_path / "a.db", source).returncode == 0
    exported = cli("export", "--db", tmp_path / "a.db")
    assert exported.returncode == 0 and RAW_CONTROL.search(exported.stdout) is None
    (check_line,) = [line for line in exported.stdout.splitlines() if '"record"' not in line]
    assert json.loads(check_line)["error"] == record["error"]
    for command in (("status",), ("status", "--json"), ("incident", "list"), ("incident", "list", "--json")):
        done = cli(*command, "--db", tmp_path / "a.db")
        assert done.returncode == 0 and RAW_CONTROL.search(done.stdout) is None, command
    (tmp_path / "out.jsonl").write_text(exported.stdout)
    assert cli("import", "--db", tmp_path / "b.db", tmp_path / "out.jsonl").returncode == 0
    again = cli("export", "--db", tmp_path / "b.db")
    assert [line for line in again.stdout.splitlines() if '"record"' not in line] == [check_line]


@pytest.mark.parametrize("indent", [None, 2])
def test_json_text_is_the_same_data_with_nothing_raw(indent):
    value = {"name": f"a{HOSTILE}\x00\t\n\udcff é 日本", "list": [1.5, None, {"k": "\u2066x\u2069"}]}
    text = json_text(value, indent=indent)
    assert json.loads(text) == value and RAW_CONTROL.search(text) is None and "\udcff" not in text


# ---------------------------------------------------------------- import lines


def import_line(**changes) -> str:
    return json.dumps({"endpoint": "web", "at": "2026-10-01T00:00:00Z", "state": "up", "interval_s": 60, **changes})


@pytest.mark.parametrize("text, message", [
    ('{"endpoint": "web", "at": ' + "9" * 5000 + ', "state": "up", "interval_s": 60}',
     "line 1: not valid JSON (a number too large)"),
    (import_line(endpoint="   "), "line 1: missing endpoint"),
    (import_line(endpoint="w\ud800"), "line 1: endpoint holds a byte that is not UTF-8 text (\\ud800)"),
    (import_line(error="e\udfff"), "line 1: error holds a byte that is not UTF-8 text (\\udfff)"),
    (import_line(url="https://example.com/\ud800"), "line 1: url holds a byte that is not UTF-8 text (\\ud800)"),
    (import_line(at=list(range(20000))), "line 1: at must be an ISO 8601 time or null, not [0, 1, 2"),
    (import_line(state="x" * 20000), "line 1: state must be one of up, degraded, down, not 'xxx"),
    (json.dumps({"k" * 20000: 1}), "line 1: unknown key 'kkk"),
])
def test_a_bad_import_line_is_one_short_line_and_imports_nothing(tmp_path, text, message):
    (tmp_path / "seed.jsonl").write_text(import_line(at="2026-09-30T00:00:00Z") + "\n")
    assert cli("import", "--db", tmp_path / "probe.db", tmp_path / "seed.jsonl").returncode == 0
    before = cli("export", "--db", tmp_path / "probe.db").stdout
    source = tmp_path / "in.jsonl"
    source.write_text(import_line(at="2026-09-30T00:01:00Z") + "\n" + text + "\n", errors="surrogatepass")
    done = cli("import", "--db", tmp_path / "probe.db", source)
    line = one_line_error(done, message.replace("line 1", "line 2"), "nothing was imported")
    assert len(line) < 300
    assert cli("export", "--db", tmp_path / "probe.db").stdout == before


def test_an_import_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\ufeff" + import_line() + "\n", encoding="utf-8")
    done = cli("import", "--db", tmp_path / "probe.db", source)
    assert done.returncode == 0 and done.stdout.startswith("imported 1 checks"), done.stderr


# ---------------------------------------------------------------- redirects and origins


@pytest.mark.parametrize("location, same_origin", [
    ("https://LOCALHOST:{port}/next", True),  # host names compare without case (RFC 9110 4.2.3)
    ("https://LocalHost:{port}/next?x=1", True),
    ("https://127.0.0.1:{port}/next", False),  # the same server under another name: another origin
])
def test_headers_follow_a_redirect_by_origin_as_browsers_compare_them(tmp_path, location, same_origin):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)

    async def go():
        origin = Origin(context, [])
        origin.answers = [_redirect(lambda: location.format(port=origin.port)), _ok]
        server = await origin.start()
        try:
            spec = CheckSpec(url=f"https://localhost:{origin.port}/", headers=SECRETS,
                             ca_file=str(tmp_path / "ca.pem"), timeout=5)
            return await check(spec), origin.heads
        finally:
            server.close()

    result, heads = asyncio.run(go())
    assert result.state == "up", result.error
    assert len(heads) == 2 and {"authorization", "x-api-key"} <= _fields(heads[0])
    assert ({"authorization", "x-api-key"} <= _fields(heads[1])) is same_origin
    if not same_origin:
        assert "s3cret" not in heads[1] and "k3y" not in heads[1]


# ---------------------------------------------------------------- incidents and reports


@pytest.fixture
def one_incident(tmp_path):
    """A database with one check of web and incident 1, opened on 2026-10-10 at noon UTC."""
    db = tmp_path / "probe.db"
    (tmp_path / "seed.jsonl").write_text(import_line() + "\n")
    assert cli("import", "--db", db, tmp_path / "seed.jsonl").returncode == 0
    done = cli("incident", "open", "--db", db, "--endpoint", "web", "--severity", "major",
               "--summary", "totals wrong", "--start", "2026-10-10T12:00Z")
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize("command", ["ack", "close"])
def test_an_incident_is_not_acknowledged_or_closed_before_it_started(one_incident, command):
    def recorded():
        with sqlite3.connect(one_incident) as conn:
            return conn.execute('SELECT ack_at, ack_by, closed_at, "end" FROM incidents').fetchall()

    before = recorded()
    done = cli("incident", command, "--db", one_incident, "1", "--at", "2026-10-10T11:59Z")
    one_line_error(done, "incident 1 started at 2026-10-10T12:00:00Z: it cannot be")
    assert recorded() == before == [(None, None, None, None)]
    assert cli("incident", command, "--db", one_incident, "1", "--at", "2026-10-10T12:00Z").returncode == 0


@pytest.mark.parametrize("command", ["ack", "close"])
def test_an_incident_id_too_large_for_the_database_is_one_line(one_incident, command):
    one_line_error(cli("incident", command, "--db", one_incident, "9" * 30), "is not in the range")


def test_a_report_for_a_month_past_9999_11_is_one_line(one_incident):
    one_line_error(cli("report", "--db", one_incident, "--month", "9999-12", "--format", "json"),
                   "'9999-12' is not a month probe reports on (1970-01 to 9999-11)")


def test_file_names_given_on_the_command_line_are_shown_escaped(one_incident, tmp_path):
    """A real process: click strips escape sequences only from output that is not a terminal."""
    for args in (("export", "--db", one_incident, "-o", tmp_path / "out\x1b[2J.jsonl"),
                 ("backup", "--db", one_incident, tmp_path / "copy\x1b[2J.db"),
                 ("report", "--db", one_incident, "--month", "2026-10", "-o", tmp_path / "r\x1b[2J.html")):
        done = probe(*args)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout + done.stderr and "\\x1b[2J" in done.stdout + done.stderr


def test_a_maintenance_reason_with_a_control_character_is_refused(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text('[[endpoint]]\nname = "web"\nurl = "https://127.0.0.1:1/"\n[[maintenance]]\nevery = "sunday"\n'
                      'at = "02:00"\nduration = "1h"\nreason = "upgrade\\u001b[2J\\u202e"\n')
    one_line_error(cli("config", "check", config), "maintenance #1: reason: holds a control character (\\x1b)")


@pytest.mark.parametrize("option, value", [("--reason", "upgrade\x1b[2J"), ("--by", "ann\nbob"), ("--reason", "a\u202eb")])
def test_maintenance_options_with_a_control_character_are_refused(tmp_path, option, value):
    db = tmp_path / "probe.db"
    result = cli("maintenance", "add", "--db", db, "--start", "2026-12-08T22:00", "--end", "2026-12-09T00:00",
                 "--reason", "upgrade", option, value)
    assert result.returncode != 0
    assert "control character" in result.stderr and "Traceback" not in result.stderr
    assert cli("maintenance", "list", "--db", db, "--json").stdout.strip() == ""


def test_maintenance_cancel_of_an_id_too_large_is_one_line(tmp_path):
    result = cli("maintenance", "cancel", "--db", tmp_path / "probe.db", "9" * 30)
    assert result.returncode == 3 and "is not in the range" in result.stderr and "Traceback" not in result.stderr

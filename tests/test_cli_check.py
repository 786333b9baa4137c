"""`probe check` as a user runs it: a real process, real servers, exit codes, output."""

import json
import subprocess
import sys

import pytest

from probe.result import JSON_KEYS
from servers import hang, refused_port, respond


def probe(*args, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "probe", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def ok_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"


@pytest.fixture(scope="module")
def expiring_url(servers, certs):
    return f"https://127.0.0.1:{servers.serve(respond(), certs.context('expiring'))}/"


def test_all_up_exits_0_with_a_table(ok_url, certs):
    done = probe("check", "--ca-file", certs.ca_file, ok_url, ok_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:6] == ["URL", "STATE", "HTTP", "TLS", "CERT", "DAYS"]
    assert len(lines) == 3
    assert lines[1].split()[:4] == [ok_url, "UP", "200", "1.3"]


def test_degraded_exits_1(ok_url, expiring_url, certs):
    done = probe("check", "--ca-file", certs.ca_file, ok_url, expiring_url)
    assert done.returncode == 1
    assert "DEGRADED" in done.stdout


def test_down_exits_2_and_rows_keep_the_given_order(ok_url, expiring_url, certs):
    refused = f"https://127.0.0.1:{refused_port()}/"
    done = probe("check", "--ca-file", certs.ca_file, refused, expiring_url, ok_url)
    assert done.returncode == 2
    rows = done.stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == [refused, expiring_url, ok_url]
    assert "connection refused" in rows[0]


def test_json_lines_with_exactly_the_documented_keys(ok_url, certs):
    done = probe("check", "--json", "--ca-file", certs.ca_file, ok_url, "https://no-such-host.invalid/")
    assert done.returncode == 2
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [tuple(r) for r in records] == [JSON_KEYS, JSON_KEYS]
    assert records[0]["state"] == "up" and records[0]["tls_version"] == "TLSv1.3"
    assert records[1]["error_class"] == "dns"


def test_timeout_option_is_one_deadline(servers, certs):
    url = f"https://127.0.0.1:{servers.serve(hang)}/"
    done = probe("check", "--json", "--timeout", "300ms", "--ca-file", certs.ca_file, url)
    record = json.loads(done.stdout)
    assert record["error"] == "timed out after 300ms: TLS handshake"
    assert done.returncode == 2


def test_header_values_are_never_printed(ok_url, certs):
    done = probe("check", "--json", "--header", "Authorization: Bearer TOPSECRET", "--ca-file", certs.ca_file,
                 f"https://127.0.0.1:{refused_port()}/")
    assert "TOPSECRET" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["not a url"], "'not a url' is not an https:// URL"),
        (["http://example.com/"], "is plain HTTP; probe checks https:// URLs only"),
        (["https://"], "is not an https:// URL"),
        (["https://example.com:99999/"], "has a bad port"),
        (["--timeout", "10x", "https://example.com/"], "'10x' is not a duration"),
        (["--max-latency", "-1s", "https://example.com/"], "is not a duration"),
        (["--expect-status", "20x", "https://example.com/"], "is not a list of status codes"),
        (["--ca-file", "/no/such/ca.pem", "https://example.com/"], "'/no/such/ca.pem' does not exist"),
        (["--min-tls", "1.1", "https://example.com/"], "'1.1' is not one of '1.2', '1.3'"),
        (["--header", "no colon", "https://example.com/"], "is not a header"),
        (["--header", "X-Evil: a\r\nInjected: 1", "https://example.com/"], "header 'X-Evil' holds a line break"),
        ([], "no URL to check: give URLs, or --urls-from FILE (- for stdin)"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(args, message):
    done = probe("check", *args)
    assert done.returncode == 3, done
    assert done.stdout == ""
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_unreadable_ca_file(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    done = probe("check", "--ca-file", str(bad), "https://example.com/")
    assert done.returncode == 3
    assert "ca.pem" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_help_has_an_example():
    done = probe("check", "--help")
    assert done.returncode == 0
    assert "Example:" in done.stdout and "--expect-body" in done.stdout


def test_a_host_name_idna_rejects_is_one_row_and_the_others_are_checked(ok_url, certs):
    bad = "https://\ufffd.example/"
    done = probe("check", "--json", "--ca-file", certs.ca_file, bad, ok_url)
    assert done.returncode == 2, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(row["url"], row["state"]) for row in rows] == [(bad, "down"), (ok_url, "up")]
    assert rows[0]["error"].startswith(f"cannot resolve {bad!r} has a host name that IDNA rejects (")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("host, says", [("exa mple.com", "has a space or a control character in its host"),
                                         ("exa\x01mple.com", "holds a control character (\\x01)")])
def test_a_host_with_a_space_or_control_character_is_refused(host, says):
    done = probe("check", f"https://{host}/")
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.strip().endswith(says)
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("loop", ["asyncio", "uvloop", "auto"])
def test_a_hidden_loop_option_chooses_the_event_loop(ok_url, certs, loop):
    done = probe("check", "--loop", loop, "--ca-file", certs.ca_file, ok_url)
    assert done.returncode == 0, done.stderr
    assert "--loop" not in probe("check", "--help").stdout

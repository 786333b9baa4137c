"""Durations on the command line read as the config reads them: a bare number is seconds."""

import json
import subprocess
import sys

import pytest

from probe.config import parse_duration
from servers import respond


def probe(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "probe", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("text, seconds", [("2", 2.0), ("0.5", 0.5), (" 2 ", 2.0), ("2s", 2.0), ("500ms", 0.5),
                                           (2, 2.0), ("1m", 60.0)])
def test_a_bare_number_is_seconds(text, seconds):
    assert parse_duration(text) == seconds


def test_max_latency_2_is_two_seconds(servers, certs):
    url = f"https://127.0.0.1:{servers.serve(respond(delay=0.3), certs.context())}/"
    done = probe("check", "--json", "--max-latency", "2", "--ca-file", certs.ca_file, url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "up"
    slow = probe("check", "--json", "--max-latency", "0.1", "--ca-file", certs.ca_file, url)
    record = json.loads(slow.stdout)
    assert slow.returncode == 1 and record["state"] == "degraded"
    assert "over max_latency 100ms" in record["error"]


def test_config_reads_a_bare_number_in_text_as_seconds(tmp_path):
    from probe.config import load

    path = tmp_path / "probe.toml"
    path.write_text('[[endpoint]]\nname = "a"\nurl = "https://example.com/"\nmax_latency = "2"\n')
    assert load(path).endpoints[0].spec.max_latency == 2.0

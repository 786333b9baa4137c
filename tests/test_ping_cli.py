"""`probe ping` as a job's wrapper meets it: what its help promises on a signal it cannot
deliver, and a daemon behind TLS whose certificate it does not trust (a real local server)."""

import os
import re
import subprocess
import sys

from servers import refused_port, respond

TOKEN = "hb-token-0123456789abcdef"


def probe_ping(*args, env):
    return subprocess.run([sys.executable, "-m", "probe", "ping", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_the_help_states_the_exit_status_of_an_undelivered_signal():
    helped = subprocess.run([sys.executable, "-m", "probe", "ping", "--help"], capture_output=True, text=True,
                            timeout=60)
    promised = re.search(r"\(exit (\d+);", " ".join(helped.stdout.split()))
    assert promised, helped.stdout
    done = probe_ping("backup", env={"PROBE_PING_URL": f"http://127.0.0.1:{refused_port()}",
                                     "PROBE_PING_TOKEN": TOKEN})
    assert "not delivered after 3 attempts" in done.stderr
    assert done.returncode == int(promised.group(1))


def test_an_untrusted_certificate_is_said_in_words(servers, certs):
    port = servers.serve(respond(), certs.context())
    done = probe_ping("backup", env={"PROBE_PING_URL": f"https://127.0.0.1:{port}", "PROBE_PING_TOKEN": TOKEN})
    assert done.returncode == 3
    assert done.stderr == ("probe: ping backup success: not delivered after 3 attempts: certificate rejected:"
                           " unable to get local issuer certificate\n")


def test_a_tls_proxy_with_its_own_ca_is_reached_with_ca_file(servers, certs):
    port = servers.serve(respond(), certs.context())
    env = {"PROBE_PING_URL": f"https://localhost:{port}", "PROBE_PING_TOKEN": TOKEN}
    done = probe_ping("backup", "--ca-file", certs.ca_file, env=env)
    assert done.returncode == 0 and done.stderr == ""
    done = probe_ping("backup", "--", "sh", "-c", "exit 0", env={**env, "PROBE_PING_CA_FILE": certs.ca_file})
    assert done.returncode == 0 and done.stderr == ""

"""A site's log says in words why its hub cannot be reached: a real `probe run` with
`[upstream]` pointed at a port that refuses, then at a TLS server whose certificate it does not
trust (no `ca_file`)."""

from servers import refused_port, respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 (the fixture)

TOKEN = "site-token-0123456789abcdef"


def site(tmp_path, hub_url, certs, servers):
    endpoint = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    upstream = f'[upstream]\nurl = "{hub_url}"\ntoken = "{TOKEN}"\nevery = "200ms"\n'
    return Daemon(tmp_path, config_text(tmp_path / "site.db", [("api", endpoint, f'ca_file = "{certs.ca_file}"')],
                                        upstream))


def upstream_line(daemon) -> str:
    daemon.wait_log("upstream: cannot push to")
    [line] = [line for line in daemon.logs().splitlines() if "upstream: cannot push to" in line]
    return line[line.index("cannot push to"):]


def test_a_refused_connection_is_said_in_words(tmp_path, certs, servers):
    port = refused_port()
    daemon = site(tmp_path, f"https://127.0.0.1:{port}/", certs, servers)
    try:
        assert upstream_line(daemon) == (f"cannot push to https://127.0.0.1:{port}/: cannot connect to"
                                         f" 127.0.0.1:{port}: Connection refused; checks wait in the outbox")
    finally:
        assert daemon.stop() == 0


def test_an_untrusted_hub_certificate_is_said_in_words(tmp_path, certs, servers):
    hub = f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/"
    daemon = site(tmp_path, hub, certs, servers)
    try:
        assert upstream_line(daemon) == (f"cannot push to {hub}: the hub's certificate is not trusted"
                                         " (unable to get local issuer certificate); checks wait in the outbox")
    finally:
        assert daemon.stop() == 0

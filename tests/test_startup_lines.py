"""What `probe run` says as it starts: a config whose jobs or public page wait for
requests on `--listen` is warned about when the daemon runs without it (real processes)."""

import socket

from servers import respond
from test_daemon import Daemon, config_text, no_daemon_left_behind  # noqa: F401 (the fixture)

HEARTBEATS = ('[[heartbeat]]\nname = "backup"\nevery = "1d"\ntoken = "hb-token-0123456789abcdef"\n'
              '[[heartbeat]]\nname = "full"\nevery = "7d"\ntoken = "hb-token-0123456789abcdef"\n')
PUBLIC = '[web]\npublic = true\n'
SITES = '[[site]]\nname = "lyon-1"\ntoken = "site-token-0123456789abcdef"\n'


def endpoint(certs, servers):
    return [("api", f"https://127.0.0.1:{servers.serve(respond(), certs.context())}/", f'ca_file = "{certs.ca_file}"')]


def test_without_listen_the_daemon_warns_of_what_cannot_arrive(tmp_path, certs, servers):
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", endpoint(certs, servers), HEARTBEATS + PUBLIC))
    try:
        daemon.wait_log("[web] public = true: no --listen")
        logs = daemon.logs()
        assert ("WARNING probe.daemon: [[heartbeat]] 'backup', 'full': no --listen, so their signals"
                " (/ping/NAME) are refused: every run will be missed") in logs
        assert "WARNING probe.daemon: [web] public = true: no --listen, so no status page is served" in logs
        assert "the first ones come within 60s" in logs
    finally:
        assert daemon.stop() == 0


def test_with_listen_no_warning_and_no_endpoint_said_so(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    daemon = Daemon(tmp_path, config_text(tmp_path / "probe.db", [], HEARTBEATS + PUBLIC + SITES),
                    args=("--listen", f"127.0.0.1:{port}"))
    try:
        daemon.wait_log("no endpoint to check")
        assert "no --listen" not in daemon.logs() and "come within" not in daemon.logs()
    finally:
        assert daemon.stop() == 0

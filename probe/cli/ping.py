"""`probe ping NAME [--start|--fail]` and `probe ping NAME -- COMMAND ...`: a job's signals to
the daemon's `--listen`."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from .options import ProbeError, cli, load_config

DEFAULT_URL = "http://127.0.0.1:9464"
ATTEMPTS = 3  # a signal is sent up to this many times
RETRY_WAITS = (1.0, 3.0)  # seconds before the 2nd and 3rd attempts
TIMEOUT = 10.0  # seconds for one attempt


class Undelivered(Exception):
    """A signal that did not reach the daemon; the message is one line."""


@cli.command("ping")
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--start", "kind", flag_value="start", help="Signal that the job starts.")
@click.option("--fail", "kind", flag_value="fail", help="Signal that the job failed.")
@click.option("--exit-status", type=click.IntRange(0, 255), help="The job's exit status, kept with the signal.")
@click.option("--url", envvar="PROBE_PING_URL", default=DEFAULT_URL, show_default=True,
              help="The daemon's --listen address (or $PROBE_PING_URL); /ping/NAME is added.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, readable=True), envvar="PROBE_PING_CA_FILE",
              help="With an https:// --url: trust these CA certificates (or $PROBE_PING_CA_FILE), e.g. a TLS"
                   " proxy's own.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="PROBE_CONFIG",
              help="The TOML config file, for the heartbeat's token (or $PROBE_CONFIG).")
def ping(name, command, kind, exit_status, url, ca_file, config_path):
    """Signal a run of heartbeat NAME (a backup...) to the daemon: success by default, or its
    start or failure. After `--`, run COMMAND: signal its start, then its success or failure
    with its exit status and duration, and exit with its status.

    The token is $PROBE_PING_TOKEN, else the heartbeat's token in the config. A signal that
    cannot be delivered after 3 attempts is one line on stderr (exit 3; a wrapped command's
    status is still returned).

    \b
    Example:
      probe ping backup-incremental --config /etc/probe/probe.toml
      probe ping backup-incremental --fail --exit-status 2
      probe ping backup-incremental -- /usr/local/bin/backup.sh --incremental
    """
    token = _token(name, config_path)
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ProbeError(f"--url {url!r}: not an http:// or https:// URL")
    target = f"{base}/ping/{name}"
    if not command:
        try:
            _send(target, kind, token, exit_status, None, ca_file)
        except Undelivered as exc:
            raise ProbeError(str(exc)) from None
        return
    if kind is not None or exit_status is not None:
        raise click.UsageError("--start, --fail and --exit-status are for a single signal, not with a COMMAND")
    sys.exit(_wrap(target, token, list(command), ca_file))


def _token(name: str, config_path: str | None) -> str:
    token = os.environ.get("PROBE_PING_TOKEN")
    if token:
        return token
    cfg = load_config(config_path)
    if cfg is None:
        raise ProbeError("no token: set $PROBE_PING_TOKEN, or give the config (--config or $PROBE_CONFIG)")
    heartbeat = cfg.heartbeat(name)
    if heartbeat is None:
        raise ProbeError(f"{cfg.path}: no [[heartbeat]] named {name!r}")
    unset = [item for item in cfg.unset_secrets if item.startswith(f"heartbeat {name!r} token")]
    if unset:
        raise ProbeError(f"{cfg.path}: {unset[0].rpartition(': ')[0]}: environment variable"
                         f" {unset[0].rpartition(': ')[2]} is not set")
    return heartbeat.token


def _wrap(target: str, token: str, command: list[str], ca_file: str | None) -> int:
    def signal(kind: str | None, status: int | None, duration: float | None) -> None:
        try:
            _send(target, kind, token, status, duration, ca_file)
        except Undelivered as exc:
            click.echo(f"probe: {exc}", err=True)

    signal("start", None, None)
    began = time.monotonic()
    try:
        status = _run(command)
    except OSError as exc:
        click.echo(f"probe: cannot run {command[0]!r}: {exc.strerror or exc}", err=True)
        status = 127 if isinstance(exc, FileNotFoundError) else 126
    if status < 0:  # killed by a signal: as a shell says it
        status = 128 - status
    duration = time.monotonic() - began
    signal(None if status == 0 else "fail", status, duration)
    return status


def _run(command: list[str]) -> int:
    """Run the command; a TERM, INT or HUP sent to probe is passed on to it, so that a stopped
    job is still signalled (as failed, with its status)."""
    import signal as signals

    child = subprocess.Popen(command)
    passed = (signals.SIGTERM, signals.SIGINT, signals.SIGHUP)
    previous = {sig: signals.signal(sig, lambda number, frame: child.send_signal(number)) for sig in passed}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signals.signal(sig, handler)


def _send(target: str, kind: str | None, token: str, exit_status: int | None, duration: float | None,
          ca_file: str | None = None) -> None:
    import ssl
    import urllib.error
    import urllib.parse
    import urllib.request

    url = target + (f"/{kind}" if kind else "")
    query = {}
    if exit_status is not None:
        query["exit_status"] = str(exit_status)
    if duration is not None:
        query["duration"] = f"{duration:.3f}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(url, data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {token}", "User-Agent": "probe-ping"})
    what = f"ping {target.rpartition('/ping/')[2]} {kind or 'success'}"
    problem = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(RETRY_WAITS[attempt - 1])
        try:
            context = ssl.create_default_context(cafile=ca_file) if url.startswith("https://") else None
            with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
                response.read(1024)
            return
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500:
                raise Undelivered(f"{what}: refused: {problem}") from None
        except (urllib.error.URLError, OSError) as exc:
            problem = _reason(exc)
    raise Undelivered(f"{what}: not delivered after {ATTEMPTS} attempts: {problem}")


def _reason(exc: OSError) -> str:
    """Why a signal did not go through, in words: a rejected certificate says why, without
    OpenSSL's own wording."""
    import ssl

    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"certificate rejected: {reason.verify_message}"
    return str(getattr(reason, "strerror", None) or reason)

"""The daemon under systemd: sd_notify (READY, WATCHDOG, STATUS, STOPPING), the watchdog's
interval, and log lines whose level the journal reads from their <N> prefix."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys

from probe.text import PrintableFormatter

log = logging.getLogger("probe.daemon")


def notify(message: str) -> None:
    """sd_notify(3): a datagram to $NOTIFY_SOCKET; nothing when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("cannot notify systemd: %s", exc)


def watchdog_interval() -> float | None:
    """Half of systemd's WatchdogSec for this process, if it asked for pings."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


def setup_logging(level: str = "INFO") -> None:
    """One line per event on stderr; under systemd the journal takes the level from the
    <N> prefix (sd-daemon(3)), so no timestamps are repeated there."""
    under_journal = bool(os.environ.get("JOURNAL_STREAM"))
    if under_journal:
        fmt = "<%(priority)s>%(name)s: %(message)s"
    else:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter(fmt))  # a name's escape sequence is shown, not obeyed
    handler.addFilter(_Priority())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


class _Priority(logging.Filter):
    LEVELS = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

    def filter(self, record):
        record.priority = self.LEVELS.get(record.levelno, 6)
        return True

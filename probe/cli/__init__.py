"""The command line: parses options, calls the library, turns library errors into one-line
messages. Exit statuses follow monitoring plugins: 0 ok, 1 warning, 2 critical, 3 unknown.
One module per family of commands; each registers its commands on the group `cli`."""

from __future__ import annotations

from . import check, daemon, history, incidents, ping, tls_audit  # noqa: F401  (they register their commands)
from .maintenance import maintenance_group
from .options import EXIT_CRITICAL, EXIT_OK, EXIT_UNKNOWN, EXIT_WARNING, ProbeError, cli

cli.add_command(maintenance_group)


def main():
    cli.main(prog_name="probe")


__all__ = ["EXIT_CRITICAL", "EXIT_OK", "EXIT_UNKNOWN", "EXIT_WARNING", "ProbeError", "cli", "main"]

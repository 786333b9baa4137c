"""Drive Debian's headless Chromium on a local HTML file: a screenshot, an A4 PDF, the DOM.

Each run gets its own throw-away profile directory and never talks to the network (no sync,
no component updates, no background requests), so the results depend on the file alone.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT = 60  # seconds; a cold start on a loaded CI machine takes a few

QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
)


@dataclass
class Run:
    """What one Chromium run left behind."""

    returncode: int
    stdout: str
    stderr: str

    def console_messages(self) -> list[str]:
        """What the page wrote to the browser console. Chromium logs every console line at
        INFO, whatever its level, so all of them are returned: a page without JavaScript only
        gets there through an error (a load blocked by its Content-Security-Policy, a failed
        load), and each one is a bug in the report."""
        return [
            line for line in self.stderr.splitlines()
            if ":CONSOLE" in line or re.search(r"net::ERR_", line)
        ]


def available() -> bool:
    return CHROMIUM.exists()


def run_chromium(page: Path, *flags: str, timeout: float = TIMEOUT) -> Run:
    """Run headless Chromium once on ``page`` with ``flags`` (e.g. ``--screenshot=...``)."""
    # Chromium's helper processes may still write to the profile as it is removed
    with tempfile.TemporaryDirectory(prefix="probe-chromium-", ignore_cleanup_errors=True) as profile:
        command = [
            str(CHROMIUM), *QUIET_FLAGS, f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", *flags, page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2000) -> Run:
    return run_chromium(page, f"--screenshot={out.resolve()}", f"--window-size={width},{height}")


def print_pdf(page: Path, out: Path) -> Run:
    return run_chromium(page, f"--print-to-pdf={out.resolve()}", "--no-pdf-header-footer")


def dump_dom(page: Path) -> Run:
    """The DOM after parsing, serialized on stdout: what the browser built, not what we wrote."""
    return run_chromium(page, "--dump-dom")


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF as Chromium writes it (uncompressed page objects), without a PDF library."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))

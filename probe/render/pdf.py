"""The report as PDF: the HTML page printed by headless Chromium (`--print-to-pdf`).

The page's own print style sheet lays it out on A4 (`@page`: margins, the running header with
provider, client and period, page numbers in the footer), so Chromium's own header and footer
are turned off. Each run has a throw-away profile and no network: the page fetches nothing (its
Content-Security-Policy forbids it) and the PDF depends on the HTML alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 120  # seconds: a cold start on a loaded machine, a report of hundreds of endpoints

FLAGS = (
    "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
    "--mute-audio", "--no-pdf-header-footer",
)


class PdfError(Exception):
    """The PDF could not be made: no browser, or the browser failed (the message says why)."""


def find_browser() -> str | None:
    """The Chromium to print with: $PROBE_CHROMIUM, else the first on PATH."""
    chosen = os.environ.get("PROBE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).exists() else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_pdf(html: str) -> bytes:
    """``html`` (a whole, self-contained page) printed to PDF."""
    browser = find_browser()
    if browser is None:
        raise PdfError("--format pdf needs Chromium (Debian: apt-get install chromium), or set PROBE_CHROMIUM")
    # Chromium's helper processes may still write to the profile as it is removed: what they
    # leave in the temporary folder is no reason to fail a report that was printed
    with tempfile.TemporaryDirectory(prefix="probe-pdf-", ignore_cleanup_errors=True) as work:
        page, out = Path(work) / "report.html", Path(work) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        sandbox = ("--no-sandbox",) if os.geteuid() == 0 else ()  # Chromium refuses root otherwise
        command = [browser, *FLAGS, *sandbox, f"--user-data-dir={Path(work) / 'profile'}",
                   f"--print-to-pdf={out}", page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not print the report within {TIMEOUT} s") from None
        except OSError as exc:
            raise PdfError(f"cannot run {browser}: {exc.strerror}") from None
        if not out.exists() or out.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise PdfError(f"{browser} made no PDF (exit status {done.returncode}): {last[:200]}")
        return out.read_bytes()

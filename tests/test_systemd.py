"""The systemd units: valid, and the daemon's hardened to an exposure of 2.0 or lower."""

import pathlib
import re
import shutil
import subprocess

import pytest

UNITS = pathlib.Path(__file__).parent.parent / "systemd"

needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")


@needs_systemd
@pytest.mark.parametrize("unit", ["probe.service", "probe-report.service", "probe-backup.service"])
def test_exposure_is_2_or_lower(unit):
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNITS / unit)],
                          capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.0


def test_daemon_unit_essentials():
    text = (UNITS / "probe.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "RestartPreventExitStatus=78 73",
                 "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=probe", "NoNewPrivileges=yes"):
        assert line in text, line


def test_timers_point_at_their_services():
    for name in ("probe-report", "probe-backup"):
        assert (UNITS / f"{name}.timer").read_text().count("OnCalendar=") == 1
        assert (UNITS / f"{name}.service").exists()


@needs_systemd
def test_units_verify():
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *[str(p) for p in sorted(UNITS.glob("*"))]],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "probe" in line and "Command /usr/local/bin/probe is not executable" not in line
                and "is not executable" not in line]
    assert not problems, problems

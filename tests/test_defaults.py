"""Commands that only read never need the secrets of the config (alert channels, headers), and
`config check` warns about those not set; a command without a config says which defaults it
uses; the example config and the systemd units name the daemon's database."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from probe import config as config_module

sys.path.insert(0, str(Path(__file__).parent))
from test_report import OCT_START, Timeline, import_history, probe, write_jsonl  # noqa: E402

ROOT = Path(__file__).parent.parent

SECRET_CONFIG = """
[sla]
timezone = "Europe/Paris"

[[endpoint]]
name = "api"
url = "https://api.example.com/health"
headers = { Authorization = "Bearer ${PROBE_TEST_API_TOKEN}" }

[[alerts.webhook]]
name = "ops"
url = "${PROBE_TEST_HOOK_URL}"

[[alerts.email]]
name = "mail"
host = "smtp.example.com"
from = "probe@example.com"
to = ["ops@example.com"]
username = "probe"
password = "${PROBE_TEST_SMTP_PASSWORD}"
"""
UNSET = ("PROBE_TEST_API_TOKEN", "PROBE_TEST_HOOK_URL", "PROBE_TEST_SMTP_PASSWORD")


@pytest.fixture
def secretive(tmp_path, monkeypatch):
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "probe.toml"
    config.write_text(SECRET_CONFIG, encoding="utf-8")
    db = tmp_path / "probe.db"
    import_history(db, write_jsonl(tmp_path / "h.jsonl", Timeline("api", OCT_START, OCT_START + 3600)))
    return {"config": config, "db": db, "tmp": tmp_path}


@pytest.mark.parametrize("args", [
    ["status"], ["report", "--month", "2026-10", "--format", "json"], ["export"], ["incident", "list"],
    ["maintenance", "list"], ["import", "{tmp}/h.jsonl"],
])
def test_read_only_commands_run_without_the_secrets(secretive, args):
    args = [a.format(tmp=secretive["tmp"]) for a in args]
    done = probe(*args, "--config", secretive["config"], "--db", secretive["db"])
    assert done.returncode == 0, done.stderr
    assert "not set" not in done.stderr


def test_config_check_warns_about_each_unset_secret(secretive):
    done = probe("config", "check", secretive["config"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{secretive['config']}: OK")
    warnings = done.stderr.strip().splitlines()
    assert [re.search(r"PROBE_TEST_\w+", line).group(0) for line in warnings] == [
        "PROBE_TEST_API_TOKEN", "PROBE_TEST_HOOK_URL", "PROBE_TEST_SMTP_PASSWORD"]
    assert all(line.startswith("warning: ") and "`probe run`" in line for line in warnings)
    assert "endpoint 'api' headers.Authorization: PROBE_TEST_API_TOKEN" in warnings[0]


def test_run_and_alert_test_still_require_the_secrets(secretive):
    done = probe("alert", "test", "--config", secretive["config"], "--db", secretive["db"])
    assert done.returncode == 3
    assert done.stderr.strip().endswith("environment variable PROBE_TEST_API_TOKEN is not set")
    done = probe("run", "--config", secretive["config"], "--db", secretive["db"], timeout=60)
    assert done.returncode == 78, done.stderr  # a configuration error: systemd does not restart it
    assert "environment variable PROBE_TEST_API_TOKEN is not set" in done.stderr


def test_a_placeholder_never_stands_in_for_a_set_secret(secretive, monkeypatch):
    monkeypatch.setenv("PROBE_TEST_API_TOKEN", "s3cret")
    cfg = config_module.load(secretive["config"], secrets=False)
    assert dict(cfg.endpoints[0].spec.headers)["Authorization"] == "Bearer s3cret"
    assert len(cfg.unset_secrets) == 2


def test_a_command_without_config_says_which_defaults_it_uses(secretive, monkeypatch):
    monkeypatch.delenv("PROBE_CONFIG", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "PROBE_CONFIG"}
    import subprocess

    done = subprocess.run([sys.executable, "-m", "probe", "report", "--month", "2026-10", "--format", "json",
                           "--db", secretive["db"]], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "probe: no config file (--config or $PROBE_CONFIG): using the defaults: target 99.8 %,"
        f" time zone Europe/Paris, database {secretive['db']}")
    # with a config, no such line
    done = probe("report", "--month", "2026-10", "--format", "json", "--config", secretive["config"],
                 "--db", secretive["db"])
    assert "defaults" not in done.stderr


def test_the_example_config_and_the_units_name_the_daemon_database():
    example = config_module.load(ROOT / "examples" / "probe.toml", secrets=False)
    assert example.probe.database == "/var/lib/probe/probe.db"
    for unit in ("probe.service", "probe-report.service", "probe-backup.service"):
        exec_start = [line for line in (ROOT / "systemd" / unit).read_text().splitlines()
                      if line.startswith("ExecStart=")]
        assert len(exec_start) == 1 and "--db /var/lib/probe/probe.db" in exec_start[0], unit

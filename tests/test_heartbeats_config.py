"""[[heartbeat]] tables: what they read, and a table of broken ones, each with its exact
one-line message (the token never shown)."""

import pytest

from probe.config import ConfigError, load

TOKEN = "s3cret-token-0123456789"
H = '[[heartbeat]]\nname = "backup"\ntoken = "${BACKUP_TOKEN}"\n'


def write(tmp_path, text):
    path = tmp_path / "probe.toml"
    path.write_text(text)
    return path


def test_heartbeat_read(tmp_path):
    path = write(tmp_path, H + 'schedule = "0  3 * * *"\ngrace = "30m"\nmin_duration = "1m"\nmax_duration = "2h"\n'
                 'max_severity = "major"\n'
                 '[[heartbeat]]\nname = "full"\nevery = "7d"\ntoken = "' + TOKEN + '"\n')
    cfg = load(path, environ={"BACKUP_TOKEN": TOKEN})
    first, second = cfg.heartbeats
    assert (first.name, first.schedule, first.every, first.grace) == ("backup", "0 3 * * *", None, 1800.0)
    assert (first.min_duration, first.max_duration, first.severity, first.token) == (60.0, 7200.0, "major", TOKEN)
    assert (second.every, second.grace, second.severity) == (7 * 86400.0, 3600.0, "minor")
    assert TOKEN not in repr(cfg)
    assert cfg.heartbeat("full") is second and cfg.heartbeat("nope") is None


def test_unset_token_deferred(tmp_path):
    """A command that sends nothing loads the config without the token's variable."""
    cfg = load(write(tmp_path, H + 'every = "1d"\n'), environ={}, secrets=False)
    assert cfg.unset_secrets == ("heartbeat 'backup' token: BACKUP_TOKEN",)
    assert cfg.heartbeats[0].token != ""


@pytest.mark.parametrize(
    "text, message",
    [
        (H + 'schedule = "0 3 * * *"\nevery = "1d"\n',
         "heartbeat 'backup': give either schedule (cron) or every (a duration), not both or neither"),
        (H, "heartbeat 'backup': give either schedule (cron) or every (a duration), not both or neither"),
        (H + 'schedule = "0 25 * * *"\n',
         "heartbeat 'backup': schedule: '0 25 * * *' is not a cron expression (like \"0 3 * * *\"): Bad hour"),
        (H + 'schedule = "0 3 * *"\n',
         "heartbeat 'backup': schedule: '0 3 * *' is not a cron expression (like \"0 3 * * *\"): Wrong number of fields"),
        (H + 'every = "1d"\ncolour = "red"\n',
         "heartbeat 'backup': colour: unknown key (expected one of: every, grace, max_duration, max_severity,"
         " min_duration, name, schedule, token)"),
        (H + 'every = "10s"\n', "heartbeat 'backup': every: '10s' is out of range (1m to 366d)"),
        (H + 'every = "1d"\ngrace = "soon"\n',
         "heartbeat 'backup': grace: 'soon' is not a duration (like 500ms, 10s, 2m, 1h, 1d)"),
        (H + 'every = "1d"\nmin_duration = "1h"\nmax_duration = "1m"\n',
         "heartbeat 'backup': max_duration: must be longer than min_duration"),
        (H + 'every = "1d"\nmax_severity = "fatal"\n',
         "heartbeat 'backup': max_severity: 'fatal' is not one of minor, major, blocking"),
        ('[[heartbeat]]\nname = "backup"\nevery = "1d"\n',
         "heartbeat 'backup': token: missing (like token = \"${BACKUP_PING_TOKEN}\")"),
        ('[[heartbeat]]\nname = "backup"\nevery = "1d"\ntoken = "short"\n',
         "heartbeat 'backup': token: too short: at least 16 characters (the value is not shown)"),
        ('[[heartbeat]]\nname = "backup"\nevery = "1d"\ntoken = "s3cret token with spaces"\n',
         "heartbeat 'backup': token: must be printable ASCII without spaces or '/' (the value is not shown)"),
        ('[[heartbeat]]\nname = "backup"\nevery = "1d"\ntoken = "${NOPE}"\n',
         "heartbeat 'backup': token: environment variable NOPE is not set"),
        ('[[heartbeat]]\nname = "my backup"\nevery = "1d"\ntoken = "${BACKUP_TOKEN}"\n',
         "heartbeat 'my backup': name: 'my backup' is not a heartbeat name (letters, digits, '.', '_', '-';"
         " it is part of the ping URL)"),
        ('[[heartbeat]]\nevery = "1d"\n', "heartbeat #1: name: missing (every heartbeat needs a unique name)"),
        (H + 'every = "1d"\n' + H + 'every = "2d"\n', "heartbeat 'backup': name: duplicate name (names must be unique)"),
        ('heartbeat = "x"\n', "heartbeat: must be an array of tables ([[heartbeat]])"),
    ],
)
def test_broken_heartbeats(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, environ={"BACKUP_TOKEN": TOKEN})
    assert str(caught.value) == f"{path}: {message}"
    assert "s3cret" not in str(caught.value)


def test_config_check_lists_heartbeats(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, H + 'schedule = "0 3 * * *"\n[[heartbeat]]\nname = "full"\nevery = "7d"\n'
                 'token = "${BACKUP_TOKEN}"\nmax_severity = "major"\n')
    done = subprocess.run([sys.executable, "-m", "probe", "config", "check", str(path)], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "heartbeat: backup: '0 3 * * *', grace 1h, incidents minor\n" in done.stdout
    assert "heartbeat: full: every 7d, grace 1h, incidents major\n" in done.stdout
    assert "heartbeat 'backup' token: BACKUP_TOKEN is not set" in done.stderr


def test_config_check_states_a_heartbeats_duration_bounds(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, H + 'schedule = "0 3 * * *"\nmin_duration = "1m"\nmax_duration = "3h"\n'
                 '[[heartbeat]]\nname = "full"\nevery = "7d"\ntoken = "${BACKUP_TOKEN}"\nmax_duration = "5h"\n')
    done = subprocess.run([sys.executable, "-m", "probe", "config", "check", str(path)], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "BACKUP_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr
    assert "heartbeat: backup: '0 3 * * *', grace 1h, at least 1m, at most 3h, incidents minor\n" in done.stdout
    assert "heartbeat: full: every 7d, grace 1h, at most 5h, incidents minor\n" in done.stdout

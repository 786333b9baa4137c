"""Hostile and unlucky input through the real command line: each gets one clear line on
stderr, no traceback, and loses nothing; names with control characters are refused at input
and shown escaped wherever they reach a terminal or a log line anyway."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from probe.cli import cli as main_cli
from probe.store import Store, import_jsonl
from probe.text import PrintableFormatter, printable
from test_cli_history import one_line_error

EXIT_CANTCREAT = 73  # the daemon's exit status for a database it cannot use


def probe(*args, timeout=60):
    """The CLI as a user runs it: a real process."""
    return subprocess.run([sys.executable, "-m", "probe", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def cli(*args, input=None):
    """The same CLI in this process; an exception escaping it fails the test."""
    result = CliRunner().invoke(main_cli, [str(a) for a in args], input=input, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def line(endpoint="web", **changes) -> str:
    return json.dumps({"endpoint": endpoint, "at": "2026-10-01T00:00:00Z", "state": "up", "interval_s": 60,
                       **changes})


def history(path: Path, checks=2000) -> None:
    """A probe database with `checks` checks of one endpoint, a minute apart."""
    base = 1_790_000_000
    lines = [line(at=base + 60 * i, total_ms=100.5) for i in range(checks)]
    with Store.open(path) as store:
        import_jsonl(store, lines)


def damage(path: Path, page: int) -> None:
    """Overwrite one page of the file with garbage, as a failing disk would."""
    size = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xde\xad\xbe\xef" * (size // 4))


def pages_of(path: Path, table: str) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'",
                                               (table,))]
    finally:
        conn.close()


CONFIG = '[[endpoint]]\nname = "web"\nurl = "https://127.0.0.1:1/"\n'


# ---------------------------------------------------------------- bounds at input


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"endpoint": "web", "at": Infinity, "state": "up", "interval_s": 60}',
         "line 1: at inf is not a time between 1970 and 9999; nothing was imported"),
        ('{"endpoint": "web", "at": 1e20, "state": "up", "interval_s": 60}',
         "line 1: at 1e+20 is not a time between 1970 and 9999; nothing was imported"),
        ('{"endpoint": "web", "at": 18446744073709551616, "state": "up", "interval_s": 60}',
         "line 1: at 18446744073709551616 is not a time between 1970 and 9999; nothing was imported"),
        ('{"endpoint": "web", "at": 1790000000000, "state": "up", "interval_s": 60}',
         "line 1: at 1790000000000 is more than a day ahead of now (milliseconds where seconds are meant?);"
         " nothing was imported"),
        ('{"endpoint": "web", "at": "1969-07-20T20:17:40Z", "state": "up", "interval_s": 60}',
         "line 1: at '1969-07-20T20:17:40Z' is before 1970; nothing was imported"),
        ('{"endpoint": "web", "at": 1790000000, "state": "up", "interval_s": 60, "total_ms": NaN}',
         "line 1: total_ms must be between 0 and 86400000 (a day), not nan; nothing was imported"),
        ('{"endpoint": "web", "at": 1790000000, "state": "up", "interval_s": 60, "http_status": 18446744073709551616}',
         "line 1: http_status must be between 0 and 999, not 18446744073709551616; nothing was imported"),
        ('{"endpoint": "w\\u001b[2Jb", "at": 1790000000, "state": "up", "interval_s": 60}',
         "line 1: endpoint holds a control character (\\x1b); nothing was imported"),
        ('{"endpoint": "w\\u202eb", "at": 1790000000, "state": "up", "interval_s": 60}',
         "line 1: endpoint holds a control character (\\u202e); nothing was imported"),
        ("[" * 100_000, "line 1: not valid JSON (nested too deeply); nothing was imported"),
    ],
)
def test_a_bad_import_file_is_one_line_and_imports_nothing(tmp_path, text, message):
    (tmp_path / "in.jsonl").write_text(line(at=1_790_000_000) + "\n" + text + "\n")
    done = cli("import", tmp_path / "in.jsonl", "--db", tmp_path / "probe.db")
    assert one_line_error(done).endswith(message.replace("line 1", "line 2"))
    with Store.open(tmp_path / "probe.db") as store:
        assert list(store.checks()) == []


def test_a_byte_that_is_not_utf8_in_an_import_file_is_one_line(tmp_path):
    (tmp_path / "in.jsonl").write_bytes(line().encode() + b"\n" + line("w?b").encode().replace(b"?", b"\xff") + b"\n")
    done = probe("import", tmp_path / "in.jsonl", "--db", tmp_path / "probe.db")
    one_line_error(done, "in.jsonl: line 2: not UTF-8 text (byte 0xff at column 16); nothing was imported")
    done = cli("import", tmp_path / "in.jsonl", "--db", tmp_path / "probe.db", "--skip-errors")
    assert done.returncode == 0 and "imported 1 checks" in done.stdout


def test_checks_before_1970_are_refused_not_counted_as_present(tmp_path):
    (tmp_path / "in.jsonl").write_text(line(at="1960-01-01T00:00:00Z") + "\n" + line() + "\n")
    done = cli("import", tmp_path / "in.jsonl", "--db", tmp_path / "probe.db", "--skip-errors")
    assert done.returncode == 0
    assert done.stdout.startswith("imported 1 checks (0 already present)")
    assert "line 1: at '1960-01-01T00:00:00Z' is before 1970" in done.stderr


def test_an_incident_dated_out_of_bounds_is_one_line(tmp_path):
    history(tmp_path / "probe.db", checks=3)
    for start, message in (("57971-01-01", "is not a date or time"), ("1960-01-01", "'1960-01-01' is before 1970"),
                           ("2999-01-01", "'2999-01-01' is more than a day ahead of now")):
        done = cli("incident", "open", "--db", tmp_path / "probe.db", "--endpoint", "web", "--severity", "major",
                   "--summary", "totals wrong", "--start", start)
        one_line_error(done, message)
    done = cli("incident", "list", "--db", tmp_path / "probe.db")
    assert done.returncode == 0 and done.stdout.strip() == "no incidents"


def test_a_deadline_of_centuries_is_refused_by_config_check(tmp_path):
    (tmp_path / "probe.toml").write_text(CONFIG + '[sla.deadlines]\nblocking = { acknowledge = "9999999wd" }\n')
    one_line_error(probe("config", "check", tmp_path / "probe.toml"),
                   "sla.deadlines.blocking: acknowledge: '9999999wd' is out of range")


@pytest.mark.parametrize("extra, message", [
    ("interval = 1" + "0" * 400 + "\n", "interval: a number of 401 digits is too long for a duration"),
    ("confirm = 1" + "0" * 5000 + "\n", "not valid TOML: a number too large"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML: arrays or tables nested too deeply"),
])
def test_huge_and_deep_configs_are_one_line(tmp_path, extra, message):
    (tmp_path / "probe.toml").write_text(CONFIG + extra)
    one_line_error(probe("config", "check", tmp_path / "probe.toml"), message)


@pytest.mark.parametrize("args", [
    ("config", "check", "{long}"),
    ("status", "--config", "{long}"),
    ("export", "--db", "{long}"),
    ("import", "{good}", "--db", "{long}"),
    ("backup", "--db", "{db}", "{long}"),
    ("status", "--db", "{long}"),
])
def test_a_path_of_5000_characters_is_one_line(tmp_path, args):
    history(tmp_path / "probe.db", checks=3)
    (tmp_path / "good.jsonl").write_text(line() + "\n")
    names = {"long": str(tmp_path / ("a" * 5000)), "db": str(tmp_path / "probe.db"), "good": str(tmp_path / "good.jsonl")}
    done = cli(*(arg.format(**names) for arg in args))
    one_line_error(done)


# ---------------------------------------------------------------- control characters


@pytest.mark.parametrize("option, value, shown", [
    ("--summary", "totals\nwrong", "\\n"),
    ("--summary", "\x1b[2J\x1b[Hall good", "\\x1b"),
    ("--summary", "ok\u202egnorw", "\\u202e"),
    ("--summary", "\ufeffok", "\\ufeff"),
    ("--by", "alice\x00", "\\x00"),
    ("--by", "\u2066bob", "\\u2066"),
    ("--by", "eve\r", "\\r"),
])
def test_control_characters_are_refused_in_incident_options(tmp_path, option, value, shown):
    history(tmp_path / "probe.db", checks=3)
    db = tmp_path / "probe.db"
    assert cli("incident", "open", "--db", db, "--endpoint", "web", "--severity", "major", "--summary",
               "fine").returncode == 0
    if option == "--summary":
        done = cli("incident", "open", "--db", db, "--endpoint", "web", "--severity", "major", "--summary", value)
    else:
        done = cli("incident", "ack", "1", "--db", db, "--by", value)
    one_line_error(done, f"{option} holds a control character ({shown})")
    listed = cli("incident", "list", "--db", db, "--json")
    assert [json.loads(row)["summary"] for row in listed.stdout.splitlines()] == ["fine"]
    assert not {"alice", "bob", "eve"} & set(listed.stdout.replace('"', " ").split())


def test_names_already_in_a_database_are_shown_escaped_in_terminal_tables(tmp_path):
    db = tmp_path / "probe.db"
    history(db, checks=3)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE endpoints SET name = ?", ("web\x1b]0;owned\x07\u202e\n",))
    conn.commit()
    conn.close()
    done = cli("status", "--db", db)
    assert done.returncode == 0
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout and "\x07" not in done.stdout
    assert "web\\x1b]0;owned\\x07\\u202e\\n" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 3  # the daemon line, the header, one endpoint


def test_the_daemons_log_lines_show_control_characters_escaped(monkeypatch):
    from probe import daemon

    root = logging.getLogger()
    kept = root.handlers[:], root.level
    monkeypatch.setenv("JOURNAL_STREAM", "1:2")  # the journal's format: no time stamp
    try:
        daemon.setup_logging("INFO")
        formatter = root.handlers[0].formatter
    finally:
        root.handlers[:], _ = kept
        root.setLevel(kept[1])
    record = logging.LogRecord("probe.daemon", logging.WARNING, __file__, 1, "endpoint %s: %s",
                               ("a\u202eb\nWARNING forged", "\x1b[31mred"), None)
    record.priority = 4
    assert formatter.format(record) == "<4>probe.daemon: endpoint a\\u202eb\\nWARNING forged: \\x1b[31mred"


def test_log_lines_show_control_characters_escaped():
    formatter = PrintableFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("probe", logging.WARNING, __file__, 1, "endpoint %s: %s", ("a\nb", "\x1b[31mred"), None)
    assert formatter.format(record) == "WARNING endpoint a\\nb: \\x1b[31mred"
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("probe", logging.ERROR, __file__, 1, "x\ry", (), sys.exc_info())
    text = formatter.format(record)
    assert text.startswith("ERROR x\\ry\nTraceback")  # a traceback, when logged, keeps its lines


def test_printable_escapes_every_control_and_keeps_text():
    assert printable("café ✓ 東京 tab\there") == "café ✓ 東京 tab\\there"
    assert printable("\x00\x1b\x7f\x85\u200f\u2028\u202a\u202e\u2066\u2069\ufeff") == (
        "\\x00\\x1b\\x7f\\x85\\u200f\\u2028\\u202a\\u202e\\u2066\\u2069\\ufeff")


# ---------------------------------------------------------------- passwords


def test_a_password_with_a_slash_is_explained_and_never_printed(tmp_path):
    done = probe("check", "https://ann:pa/ss-w0rd@127.0.0.1:1/")
    message = one_line_error(done, "a '/', '?' or '#' in its user name or password: write them %2F, %3F, %23")
    assert "ss-w0rd" not in done.stderr + done.stdout and "ann" not in message
    (tmp_path / "probe.toml").write_text('[[endpoint]]\nname = "web"\nurl = "https://ann:pa/ss-w0rd@127.0.0.1:1/"\n')
    done = probe("run", "--config", tmp_path / "probe.toml", "--db", tmp_path / "probe.db")
    assert done.returncode == 78 and "ss-w0rd" not in done.stderr + done.stdout
    assert "write them %2F" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- the database itself


def test_another_programs_database_is_not_a_probe_database(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE checks (id INTEGER PRIMARY KEY, what TEXT)")
    conn.execute("INSERT INTO checks (what) VALUES ('theirs')")
    conn.commit()
    conn.close()
    expected = f"{other} is not a probe database (another program's SQLite database?)"
    for args in (("status",), ("export",), ("import", "-"), ("incident", "list")):
        one_line_error(cli(*args, "--db", other, input=line() + "\n"), expected)
    (tmp_path / "probe.toml").write_text(CONFIG)
    done = probe("run", "--config", tmp_path / "probe.toml", "--db", other)
    assert done.returncode == EXIT_CANTCREAT
    assert one_line_error(done, expected)
    conn = sqlite3.connect(other)  # untouched
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("checks",)]
    assert conn.execute("SELECT what FROM checks").fetchall() == [("theirs",)]
    conn.close()


def test_a_database_with_a_damaged_page_is_refused_at_start(tmp_path):
    db = tmp_path / "probe.db"
    history(db, checks=3)
    root = sqlite3.connect(db).execute("SELECT rootpage FROM sqlite_master WHERE name = 'endpoints'").fetchone()[0]
    damage(db, root)
    (tmp_path / "probe.toml").write_text(CONFIG)
    done = probe("run", "--config", tmp_path / "probe.toml", "--db", db, timeout=30)
    assert done.returncode == EXIT_CANTCREAT
    one_line_error(done, f"database {db} is damaged:", "(restore a backup)")
    one_line_error(cli("status", "--db", db), f"database {db} is damaged:")


def test_export_of_damaged_checks_is_one_line(tmp_path):
    db = tmp_path / "probe.db"
    history(db, checks=2000)
    leaves = pages_of(db, "checks")
    assert len(leaves) > 4
    damage(db, leaves[len(leaves) // 2])
    done = probe("export", "--db", db, "-o", tmp_path / "out.jsonl")
    one_line_error(done, f"cannot read {db}: database disk image is malformed")


def test_a_bad_timeout_option_is_one_line():
    one_line_error(probe("check", "--timeout", "9" * 400 + "s", "https://127.0.0.1:1/"),
                   "Invalid value for '--timeout': '9999999999", "is too long for a duration")
    one_line_error(cli("check", "--timeout", "1d", "https://127.0.0.1:1/"),
                   "Invalid value for '--timeout': '1d' is out of range (100ms to 5m)")

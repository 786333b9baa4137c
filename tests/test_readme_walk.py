"""What a new user runs from the README works as written: the first command's environment gives
the example config every secret `probe run` needs (a missing one stops the daemon, exit 78)."""

import re
import shlex
from pathlib import Path

from probe import config as config_module

ROOT = Path(__file__).resolve().parent.parent


def test_the_first_command_of_the_readme_starts_the_example_config():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    [line] = [line for line in section.splitlines() if "probe run --config examples/probe.toml" in line]
    run = line.split("&&")[-1]
    environ = {}
    for word in shlex.split(run):
        match = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", word)
        if not match:
            break
        environ[match[1]] = "0123456789abcdef0123456789abcdef" if match[2].startswith("$(") else match[2]
    cfg = config_module.load(ROOT / "examples" / "probe.toml", environ=environ)  # as `probe run` loads it
    assert cfg.unset_secrets == ()


def test_the_deployment_env_file_names_the_example_configs_secrets():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [line] = [line for line in readme.splitlines() if "/etc/probe/probe.env" in line and "install -m 0600" in line]
    example = (ROOT / "examples" / "probe.toml").read_text(encoding="utf-8")
    for name in set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", example)):
        assert name in line, name

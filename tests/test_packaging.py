"""The dependency floors of setup.cfg are the versions .ci/run tests the suite with."""
import configparser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[Requirement]:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    lines = setup["options"]["install_requires"].splitlines()
    lines += setup["options.extras_require"]["test"].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name.lower()] = Version(spec.version)
    return pins


def test_every_floor_is_pinned_in_the_lowest_constraints():
    pins = _pins()
    for requirement in _requirements():
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{requirement.name} has no floor in setup.cfg"
        assert pins.get(requirement.name.lower()) == max(floors), (
            f"{requirement.name}: setup.cfg's floor {max(floors)} is not pinned in .ci/lowest.txt"
        )


def test_nothing_is_pinned_that_setup_cfg_does_not_ask_for():
    names = {requirement.name.lower() for requirement in _requirements()}
    assert set(_pins()) <= names

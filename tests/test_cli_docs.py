"""docs/cli.md is generated from the commands' --help and must match it; every command has
help text with an example. Regenerate with: python tests/test_cli_docs.py"""

import pathlib

import click

from probe.cli import cli

DOC = pathlib.Path(__file__).parent.parent / "docs" / "cli.md"


def commands(group=cli, path=("probe",), parent=None):
    """(path, command, its context) of every command, each context a child of its group's, as
    when the command runs (so that the group's settings, such as -h, apply)."""
    settings = group.context_settings if parent is None else {}
    ctx = click.Context(group, info_name=path[-1], parent=parent, **settings)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        child = click.Context(command, info_name=name, parent=ctx, terminal_width=100, max_content_width=100)
        yield path + (name,), command, child
        if isinstance(command, click.Group):
            yield from commands(command, path + (name,), ctx)


def generate() -> str:
    parts = ["# Command-line reference", "",
             "Generated from `--help` (`python tests/test_cli_docs.py`); a test keeps it current.", ""]
    for path, command, ctx in commands():
        parts += [f"## `{' '.join(path)}`", "", "```", command.get_help(ctx), "```", ""]
    return "\n".join(parts)


def test_every_command_has_help_with_an_example():
    for path, command, _ in commands():
        assert command.help, f"{' '.join(path)} has no help text"
        if not isinstance(command, click.Group):
            assert "Example:" in command.help, f"{' '.join(path)} has no example"


def test_cli_reference_is_current():
    assert DOC.read_text() == generate(), "docs/cli.md is stale: run python tests/test_cli_docs.py"


if __name__ == "__main__":
    DOC.write_text(generate())
    print(f"wrote {DOC}")

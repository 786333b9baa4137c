"""Bench-only launcher: the `probe` command line with one twist, so that variants the shipped CLI
does not offer (yet) can be measured in the same run as the shipped one.

    python bench/_probe_variant.py [--loop uvloop|asyncio] [--workers N] -- check --json URL...

--loop     the event loop: uvloop (must be installed) or asyncio's own.
--workers  passes workers=N to the library call the CLI makes (run_many or check_many).
"""

from __future__ import annotations

import functools
import sys


def main() -> None:
    args = sys.argv[1:]
    loop, workers = None, None
    while args and args[0] != "--":
        option = args.pop(0)
        if option == "--loop":
            loop = args.pop(0)
        elif option == "--workers":
            workers = int(args.pop(0))
        else:
            sys.exit(f"_probe_variant: unknown option {option}")
    if args:
        args.pop(0)
    import probe.check
    import probe.cli

    extra = {} if workers is None else {"workers": workers}
    if hasattr(probe.cli, "run_many"):  # the CLI calls probe.check.run_many(specs, ...)
        if loop is not None:
            extra["loop"] = loop
        def forced(specs, **kwargs):  # the variant's values win over the CLI's own
            return probe.check.run_many(specs, **{**kwargs, **extra})

        probe.cli.run_many = forced
    else:  # the CLI calls asyncio.run(check_many(specs, ...))
        probe.cli.check_many = functools.partial(probe.check.check_many, **extra)
        if loop == "uvloop":
            import uvloop

            uvloop.install()
    sys.argv = ["probe", *args]
    probe.cli.main()


if __name__ == "__main__":
    main()

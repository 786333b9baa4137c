"""Bench-only launcher: the `probe` command line with one twist, so that variants the shipped CLI
does not offer can be measured in the same run as the shipped one.

    python bench/_probe_variant.py [--uvloop] [--workers N] -- check --json URL...

--uvloop   installs uvloop's event loop policy before the CLI runs (uvloop must be installed).
--workers  passes workers=N to probe.check.check_many (for when the CLI has no such option).
"""

from __future__ import annotations

import functools
import sys


def main() -> None:
    args = sys.argv[1:]
    use_uvloop, workers = False, None
    while args and args[0] != "--":
        option = args.pop(0)
        if option == "--uvloop":
            use_uvloop = True
        elif option == "--workers":
            workers = int(args.pop(0))
        else:
            sys.exit(f"_probe_variant: unknown option {option}")
    if args:
        args.pop(0)
    import probe.check
    import probe.cli

    if workers is not None:
        probe.cli.check_many = functools.partial(probe.check.check_many, workers=workers)
    if use_uvloop:
        import uvloop

        uvloop.install()
    sys.argv = ["probe", *args]
    probe.cli.main()


if __name__ == "__main__":
    main()

"""Tests that run on asyncio's own loop and on uvloop, which the daemon and `probe check` use
when it is installed: the loops differ in how they report a socket's errors.

A test module imports `event_loop_kind` (an autouse fixture there) and runs coroutines with
`arun`, which uses the loop of the current parameter."""

import asyncio

import pytest
import uvloop

LOOPS = {"asyncio": None, "uvloop": uvloop.new_event_loop}
_loop_factory = None


@pytest.fixture(autouse=True, params=list(LOOPS))
def event_loop_kind(request):
    global _loop_factory
    _loop_factory = LOOPS[request.param]
    yield request.param
    _loop_factory = None


def arun(coroutine):
    with asyncio.Runner(loop_factory=_loop_factory) as runner:
        return runner.run(coroutine)

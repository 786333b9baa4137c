"""Headless Chromium driven over the DevTools protocol, for what flags cannot do: lay a page out
in a phone's viewport (narrower than a headless window may be) and measure it."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from browser import CHROMIUM, QUIET_FLAGS, TIMEOUT


def measure(page: Path, expression: str, width: int = 375, height: int = 800, mobile: bool = True):
    """Open ``page`` in a ``width`` x ``height`` phone viewport (its meta viewport honoured) and
    return the value of the JavaScript ``expression`` there. DevTools evaluates it whatever the
    page's Content-Security-Policy; the page itself runs nothing."""
    # Chromium's helper processes may still write to the profile as it is removed
    with tempfile.TemporaryDirectory(prefix="probe-chromium-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [str(CHROMIUM), *QUIET_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            active = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + TIMEOUT
            while not (active.exists() and len(active.read_text().splitlines()) >= 2):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Chromium did not open its DevTools port")
                time.sleep(0.05)
            port = int(active.read_text().splitlines()[0])
            return asyncio.run(asyncio.wait_for(_measure(port, page.resolve().as_uri(), expression, width, height,
                                                         mobile), TIMEOUT))
        finally:
            process.terminate()
            process.wait(10)


async def _measure(port: int, url: str, expression: str, width: int, height: int, mobile: bool):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = json.loads(await response.text())
        target = next(t for t in targets if t["type"] == "page")
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            numbers = itertools.count(1)
            events: list[str] = []

            async def call(method: str, **params):
                number = next(numbers)
                await ws.send_json({"id": number, "method": method, "params": params})
                while True:
                    message = await ws.receive_json()
                    if message.get("id") == number:
                        if "error" in message:
                            raise RuntimeError(f"{method}: {message['error']}")
                        return message.get("result", {})
                    events.append(message.get("method", ""))

            await call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                       mobile=mobile)
            await call("Page.enable")
            await call("Page.navigate", url=url)
            while "Page.loadEventFired" not in events:
                message = await ws.receive_json()
                events.append(message.get("method", ""))
            result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
            return result["result"]["value"]

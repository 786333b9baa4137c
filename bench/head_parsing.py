#!/usr/bin/env python3
"""CPU per response parsed, for the ways the check could read an answer's head tolerantly.

    python bench/head_parsing.py            # a few seconds
    python bench/head_parsing.py --help

One typical answer (nginx's head, 8 fields, a 2-byte body), parsed N times in this process by:
  1. llhttp (httptools) strict, as the check read answers before it became tolerant;
  2. what the check does: the head gathered (its end found, for the exact 64 KiB cap), given to
     strict llhttp; a head llhttp refuses is made canonical by probe.check.head for a lenient llhttp;
  3. llhttp with its leniency flags alone (tolerates bare LF, obs-fold, space before a colon,
     HTTP/1.2, chunked with Content-Length; NOT repeated Content-Length nor lines without a
     colon, so it is not enough on its own);
  4. h11 (pure Python), if installed: it tolerates bare LF and obs-fold but not a space before a
     colon, a line without a colon, nor HTTP/1.2.
Also: which of the tolerated heads each route reads. Only CPU in this process; no network.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import httptools  # noqa: E402

from probe.check.head import HeadError, canonical, head_end  # noqa: E402

ANSWER = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 18:00:00 GMT\r\n"
          b"Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n"
          b"Cache-Control: no-store\r\nX-Request-Id: 5f0c1e2a9b7d4c3e\r\nStrict-Transport-Security: max-age=63072000\r\n"
          b"\r\nok")
TOLERATED = {
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok",
    "bare LF": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "repeated length": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "space before colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "no colon": b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.2": b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "chunked + length": b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
}


class Sink:
    def __init__(self):
        self.body = b""
        self.complete = False

    def on_header(self, name, value):
        pass

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        self.complete = True


def llhttp_strict(data: bytes) -> bytes:
    sink = Sink()
    httptools.HttpResponseParser(sink).feed_data(data)
    return sink.body


def llhttp_lenient(data: bytes) -> bytes:
    sink = Sink()
    parser = httptools.HttpResponseParser(sink)
    parser.set_dangerous_leniencies(lenient_headers=True, lenient_optional_cr_before_lf=True,
                                    lenient_version=True, lenient_chunked_length=True)
    parser.feed_data(data)
    return sink.body


def prepass_llhttp(data: bytes) -> bytes:
    """As the wire does: the head gathered, to strict llhttp; if refused, made canonical and
    given to a lenient llhttp."""
    sink = Sink()
    end = head_end(data, 64 * 1024)
    try:
        if not data.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")):
            raise httptools.HttpParserError("not HTTP/1.1 nor 1.0")
        parser = httptools.HttpResponseParser(sink)
        parser.feed_data(data[:end])
    except httptools.HttpParserError:
        sink = Sink()
        parser = httptools.HttpResponseParser(sink)
        parser.set_dangerous_leniencies(lenient_headers=True)
        parser.feed_data(canonical(data[:end]))
    parser.feed_data(data[end:])
    return sink.body


def h11_parse(data: bytes) -> bytes:
    import h11

    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    connection.receive_data(data)
    connection.receive_data(b"")
    body = b""
    while True:
        event = connection.next_event()
        if isinstance(event, h11.Data):
            body += event.data
        elif event is h11.NEED_DATA or isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            return body


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--times", type=int, default=50000, help="answers parsed per route (default 50000)")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds (default 3)")
    options = parser.parse_args()
    routes = {"llhttp strict (before)": llhttp_strict, "strict, else pre-pass (now)": prepass_llhttp,
              "llhttp leniency flags only": llhttp_lenient}
    try:
        import h11  # noqa: F401

        routes["h11"] = h11_parse
    except ImportError:
        print("h11 is not installed (pip install h11): its row is skipped", file=sys.stderr)
    print(f"{'route':30} {'µs/answer':>10} {'x before':>9}  tolerated heads read")
    base = None
    for name, route in routes.items():
        best = float("inf")
        for _ in range(options.rounds):
            started = time.process_time()
            for _ in range(options.times):
                route(ANSWER)
            best = min(best, time.process_time() - started)
        per = best / options.times * 1e6
        base = base or per
        read = []
        for case, data in TOLERATED.items():
            try:
                if route(data) == b"ok":
                    read.append(case)
            except (httptools.HttpParserError, HeadError, Exception):  # noqa: BLE001
                pass
        print(f"{name:30} {per:10.2f} {per / base:9.2f}  {len(read)}/{len(TOLERATED)}: {', '.join(read)}")


if __name__ == "__main__":
    main()

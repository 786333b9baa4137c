"""Content and transfer codings of a response body, undone before the body is judged.

probe asks for `Accept-Encoding: identity`, but servers compress regardless (nginx's
`gzip_static always`, frameworks that compress every answer), and curl and browsers decode what
they get. gzip (and x-gzip) and deflate (zlib-wrapped, or raw as some servers send it) are
decoded with zlib; br when the `brotli` module is installed. The cap on
the body applies to the decoded bytes: a decompression bomb stops there. A coding that cannot be
decoded leaves the body undecoded, and `problem` says which coding it was.
"""

from __future__ import annotations

import zlib

try:  # optional: br is decoded only where the brotli module is installed
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on what is installed
    _brotli = None

# Compressed bytes read at most for one body, however little they decode to.
RAW_CAP_FACTOR = 16


def codings(headers: list[tuple[str, str]]) -> list[str]:
    """The codings applied to the body, in the order they were applied: the content codings,
    then the transfer codings other than chunked (which the HTTP parser undoes)."""
    content: list[str] = []
    transfer: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in ("content-encoding", "transfer-encoding"):
            found = [part.strip().lower() for part in value.split(",")]
            found = [c for c in found if c and c not in ("identity", "chunked")]
            (content if lowered == "content-encoding" else transfer).extend(found)
    return content + transfer


class Decoder:
    """Undoes `codings` (as `codings()` lists them) on a body fed in pieces."""

    def __init__(self, applied: list[str]):
        self.problem: str | None = None
        self.stages: list[_Zlib | _Brotli] = []
        for coding in reversed(applied):
            stage = _stage(coding)
            if stage is None:
                self.problem = f"the body is encoded with {coding!r}, which probe cannot decode"
                self.stages = []
                return
            self.stages.append(stage)

    @property
    def decoding(self) -> bool:
        return self.problem is None

    def feed(self, data: bytes, room: int) -> bytes:
        """The decoded bytes of `data`, `room` at most (more may be due: the body is then at its
        cap anyway). A corrupt stream sets `problem` and decodes no more."""
        for i, stage in enumerate(self.stages):
            try:
                data = stage(data, room if i == len(self.stages) - 1 else room * RAW_CAP_FACTOR)
            except Exception as exc:  # noqa: BLE001  (zlib.error, brotli.error: a corrupt stream)
                self.problem = f"the body does not decode as {stage.name}: {exc}"
                self.stages = []
                return b""
        return data


def _stage(coding: str) -> _Zlib | _Brotli | None:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16, "gzip")
    if coding == "deflate":
        return _Zlib(zlib.MAX_WBITS, "deflate")
    if coding == "br" and _brotli is not None:
        return _Brotli()
    return None


class _Zlib:
    def __init__(self, wbits: int, name: str):
        self.name = name
        self.wbits = wbits
        self.inflater = zlib.decompressobj(wbits)
        self.started = False

    def __call__(self, data: bytes, room: int) -> bytes:
        if self.inflater.eof:
            return b""  # what follows the end of the stream is not the body's
        try:
            out = self.inflater.decompress(data, room)
        except zlib.error:
            if self.name != "deflate" or self.started:
                raise
            # deflate without its zlib wrapper, as some servers send it and browsers accept
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.inflater.decompress(data, room)
        self.started = True
        return out


class _Brotli:
    name = "br"

    def __init__(self):
        self.decompressor = _brotli.Decompressor()

    def __call__(self, data: bytes, room: int) -> bytes:
        if self.decompressor.is_finished():
            return b""
        return self.decompressor.process(data, output_buffer_limit=room)

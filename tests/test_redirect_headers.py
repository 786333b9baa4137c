"""Configured and --header headers (Authorization, X-Api-Key, any other) go to the URL's own
origin only: scheme, host and port. Two real TLS servers on 127.0.0.1, on two ports, are two
origins; each records the request heads it receives."""

from __future__ import annotations

import asyncio
import ssl

import pytest
import trustme

from probe.check import check
from probe.spec import CheckSpec

SECRETS = (("Authorization", "Bearer s3cret-token"), ("X-Api-Key", "k3y-4567"), ("X-Tenant", "acme"))


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


class Origin:
    """One HTTPS server on 127.0.0.1: answers each request with the next of its answers (a
    function of its own port and the other origin's) and keeps every request head."""

    def __init__(self, context: ssl.SSLContext, answers):
        self.context = context
        self.answers = answers
        self.heads: list[str] = []
        self.port = 0

    async def start(self):
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head.decode("latin-1"))
            answer = self.answers[min(len(self.heads), len(self.answers)) - 1]
            writer.write(answer().encode("latin-1"))
            await writer.drain()
        finally:
            writer.close()


def _redirect(location_of):
    return lambda: f"HTTP/1.1 302 Found\r\nLocation: {location_of()}\r\nContent-Length: 0\r\n\r\n"


def _ok():
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _fields(head: str) -> set[str]:
    return {line.split(":", 1)[0].lower() for line in head.split("\r\n")[1:] if line}


def _run(ca, first_answers, second_answers, url_of=lambda first: f"https://127.0.0.1:{first.port}/"):
    authority, ca_file = ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)

    async def go():
        first = Origin(context, [])
        second = Origin(context, [])
        first.answers = [answer(first, second) for answer in first_answers]
        second.answers = [answer(first, second) for answer in second_answers]
        servers = [await first.start(), await second.start()]
        try:
            result = await check(CheckSpec(url=url_of(first), headers=SECRETS, ca_file=ca_file, timeout=5))
        finally:
            for server in servers:
                server.close()
        return result, first.heads, second.heads

    return asyncio.run(go())


def test_headers_do_not_follow_a_redirect_to_another_port(ca):
    result, first, second = _run(
        ca,
        [lambda a, b: _redirect(lambda: f"https://127.0.0.1:{b.port}/landing")],
        [lambda a, b: _ok],
    )
    assert result.state == "up", result.error
    assert {"authorization", "x-api-key", "x-tenant"} <= _fields(first[0])
    assert len(second) == 1
    assert not {"authorization", "x-api-key", "x-tenant"} & _fields(second[0])
    assert "s3cret" not in second[0] and "k3y" not in second[0]


def test_headers_follow_a_redirect_within_the_origin(ca):
    result, first, second = _run(
        ca,
        [lambda a, b: _redirect(lambda: f"https://127.0.0.1:{a.port}/next"), lambda a, b: _ok],
        [],
    )
    assert result.state == "up", result.error
    assert len(first) == 2 and second == []
    for head in first:
        assert "Authorization: Bearer s3cret-token" in head and "X-Api-Key: k3y-4567" in head


def test_headers_go_to_the_own_origin_again_after_a_detour(ca):
    # like curl: they belong to the URL's origin; a hop elsewhere and back does not lose them
    # there, and the other origin never sees them
    result, first, second = _run(
        ca,
        [lambda a, b: _redirect(lambda: f"https://127.0.0.1:{b.port}/detour"), lambda a, b: _ok],
        [lambda a, b: _redirect(lambda: f"https://127.0.0.1:{a.port}/back")],
    )
    assert result.state == "up", result.error
    assert len(first) == 2 and len(second) == 1
    assert not {"authorization", "x-api-key", "x-tenant"} & _fields(second[0])
    assert "Authorization: Bearer s3cret-token" in first[1]


def test_a_cross_origin_401_is_the_truth(ca):
    result, first, second = _run(
        ca,
        [lambda a, b: _redirect(lambda: f"https://127.0.0.1:{b.port}/")],
        [lambda a, b: lambda: "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"],
    )
    assert (result.state, result.http_status, result.error_class) == ("down", 401, "http_status")
    assert "authorization" not in _fields(second[0])

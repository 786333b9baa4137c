"""`probe.check`: every error class against a real local server that behaves that way."""

import asyncio
import gc
import socket
import ssl
import time

import pytest

from loops import arun, event_loop_kind  # noqa: F401  (every test on both loops)
from probe.check import wire as http1
from probe.check import BODY_CAP, CheckSpec, check, check_many
from probe.result import JSON_KEYS
from servers import (
    close_notify,
    drip,
    endless,
    endless_head,
    endless_interim,
    garbage,
    hang,
    plain_http,
    redirect,
    refused_port,
    reset,
    respond,
    scripted,
    tls_garbage,
)


def run(spec: CheckSpec):
    return arun(check(spec))


@pytest.fixture(scope="module")
def url(servers, certs):
    """url(name) -> an https URL on 127.0.0.1 whose server behaves as named."""
    ports = {}

    def make(name):
        if name in ports:
            return f"https://127.0.0.1:{ports[name]}/"
        tls = certs.context()
        factories = {
            "ok": lambda: servers.serve(respond(), tls),
            "tls13": lambda: servers.serve(respond(), certs.context(min_version=ssl.TLSVersion.TLSv1_3)),
            "tls12": lambda: servers.serve(respond(), certs.context(max_version=ssl.TLSVersion.TLSv1_2)),
            "tls11": lambda: servers.serve(respond(), certs.context(max_version=ssl.TLSVersion.TLSv1_1)),
            "tls10": lambda: servers.serve(respond(), certs.context(max_version=ssl.TLSVersion.TLSv1)),
            "expired": lambda: servers.serve(respond(), certs.context("expired")),
            "self_signed": lambda: servers.serve(respond(), certs.context("self_signed")),
            "wrong_host": lambda: servers.serve(respond(), certs.context("wrong_host")),
            "untrusted": lambda: servers.serve(respond(), certs.context("untrusted")),
            "expiring": lambda: servers.serve(respond(), certs.context("expiring")),
            "500": lambda: servers.serve(respond(500, b"oops"), tls),
            "404": lambda: servers.serve(respond(404, b"nope"), tls),
            "204": lambda: servers.serve(respond(204, b""), tls),
            "slow": lambda: servers.serve(respond(delay=0.6), tls),
            "hang": lambda: servers.serve(hang),
            "hang_tls": lambda: servers.serve(hang, tls),
            "drip": lambda: servers.serve(drip, tls),
            "endless": lambda: servers.serve(endless, tls),
            "endless_interim": lambda: servers.serve(endless_interim, tls),
            "reset": lambda: servers.serve(reset),
            "reset_tls": lambda: servers.serve(reset, tls),
            "plain": lambda: servers.serve(plain_http),
            "garbage": lambda: servers.serve(garbage, tls),
            "wrong_body": lambda: servers.serve(respond(body=b"maintenance"), tls),
        }
        if name == "loop":
            holder = {}
            holder["port"] = servers.serve(redirect(lambda path: f"https://127.0.0.1:{holder['port']}/again"), tls)
            ports[name] = holder["port"]
        elif name == "to_http":
            ports[name] = servers.serve(redirect(lambda path: "http://127.0.0.1:1/"), tls)
        elif name == "to_ok":
            target = make("ok")
            ports[name] = servers.serve(redirect(lambda path: target), tls)
        else:
            ports[name] = factories[name]()
        return f"https://127.0.0.1:{ports[name]}/"

    return make


@pytest.fixture
def spec(certs):
    def make(target, **options):
        options.setdefault("timeout", 2.0)
        return CheckSpec(url=target, ca_file=certs.ca_file, **options)

    return make


def test_up_records_every_fact(url, spec):
    result = run(spec(url("ok"), expect_body="ok"))
    assert result.state == "up" and result.error_class is None and result.error is None
    assert result.http_status == 200
    assert result.tls_version == "TLSv1.3"
    assert result.tls_cipher.startswith("TLS_")
    assert result.cert_days_left > 300 and result.cert_not_after > result.at
    assert "probe test CA" in result.cert_issuer
    assert result.cert_subject
    for key in ("dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"):
        assert getattr(result, key) >= 0, key
    assert result.total_ms >= result.connect_ms + result.tls_ms + result.ttfb_ms
    record = result.to_json()
    assert tuple(record) == JSON_KEYS
    assert record["at"].endswith("Z") and record["cert_not_after"].endswith("Z")


def test_name_is_resolved_and_timed(url, spec):
    result = run(spec(url("ok").replace("127.0.0.1", "localhost")))
    assert result.state == "up", result.error
    assert result.dns_ms > 0


def test_tls12_is_accepted_and_named(url, spec):
    result = run(spec(url("tls12")))
    assert result.state == "up"
    assert result.tls_version == "TLSv1.2"


@pytest.mark.parametrize("name, offered", [("tls11", "TLS 1.1"), ("tls10", "TLS 1.0")])
def test_old_tls_is_refused_and_the_offered_version_named(url, spec, name, offered):
    result = run(spec(url(name)))
    assert (result.state, result.error_class) == ("down", "tls_version")
    assert result.error == f"server offers {offered} at most"
    assert result.tls_version is None


def test_min_tls_13_refuses_a_12_only_server(url, spec):
    result = run(spec(url("tls12"), min_tls="1.3"))
    assert result.error_class == "tls_version"
    assert result.error == "server offers TLS 1.2 at most"
    assert run(spec(url("tls13"), min_tls="1.3")).state == "up"


@pytest.mark.parametrize(
    "name, reason",
    [
        ("expired", "certificate has expired"),
        ("self_signed", "self-signed certificate"),
        ("wrong_host", "the certificate names 127.0.0.1 in no subjectAltName"),
        ("untrusted", "unable to get local issuer certificate"),
    ],
)
def test_bad_certificates_are_tls_cert_with_the_reason(url, spec, name, reason):
    result = run(spec(url(name)))
    assert (result.state, result.error_class) == ("down", "tls_cert")
    assert reason in result.error


def test_system_trust_store_does_not_trust_the_test_ca(url):
    result = run(CheckSpec(url=url("ok"), timeout=2))
    assert result.error_class == "tls_cert"


def test_wrong_host_by_name(url, spec):
    result = run(spec(url("wrong_host").replace("127.0.0.1", "localhost")))
    assert (result.error_class, result.error) == ("tls_cert", "the certificate names localhost in no subjectAltName")


def test_a_name_only_in_the_common_name_is_refused(servers, certs, spec):
    # as browsers do (RFC 9525 §6.3): the Common Name is not where a host name is looked for
    port = servers.serve(respond(), certs.context("cn_only"))
    result = run(spec(f"https://localhost:{port}/"))
    assert (result.state, result.error_class) == ("down", "tls_cert")
    assert result.error == "the certificate names localhost in no subjectAltName"


def test_rsa_key_exchange_is_accepted_and_its_suite_recorded(servers, certs, spec):
    # TLS 1.2 without forward secrecy: curl and browsers connect; judging the suite is not the
    # check's business
    context = certs.context("rsa", max_version=ssl.TLSVersion.TLSv1_2)
    context.set_ciphers("AES128-SHA256")
    result = run(spec(f"https://127.0.0.1:{servers.serve(respond(), context)}/"))
    assert (result.state, result.tls_version, result.tls_cipher) == ("up", "TLSv1.2", "AES128-SHA256"), result.error


def test_expiring_certificate_is_degraded(url, spec):
    result = run(spec(url("expiring")))
    assert (result.state, result.error_class) == ("degraded", "cert_expiring")
    assert result.cert_days_left == 5
    assert "expires in 5 days" in result.error
    assert run(spec(url("expiring"), cert_warn_days=3)).state == "up"


@pytest.mark.parametrize("name, status", [("500", 500), ("404", 404)])
def test_unexpected_status_is_http_status(url, spec, name, status):
    result = run(spec(url(name)))
    assert (result.state, result.error_class, result.http_status) == ("down", "http_status", status)
    assert result.error == f"HTTP {status}, expected 200-299"
    assert result.tls_version == "TLSv1.3"


def test_expected_status_list(url, spec):
    assert run(spec(url("404"), expect_status=((200, 299), (404, 404)))).state == "up"


def test_204_and_head_keep_the_tls_facts(url, spec):
    for result in (run(spec(url("204"))), run(spec(url("ok"), method="HEAD"))):
        assert result.state == "up", result.error
        assert result.tls_version == "TLSv1.3"
        assert result.tls_cipher and result.cert_not_after and result.cert_subject


def test_body_without_expected_text_is_body_mismatch(url, spec):
    result = run(spec(url("wrong_body"), expect_body="ok"))
    assert (result.state, result.error_class) == ("down", "body_mismatch")
    assert "does not contain 'ok'" in result.error


def test_slow_answer_past_the_timeout(url, spec):
    result = run(spec(url("slow"), timeout=0.3))
    assert (result.state, result.error_class) == ("down", "timeout")
    assert result.error == "timed out after 300ms: waiting for the response"
    assert result.total_ms < 1000


def test_slow_answer_under_the_timeout_is_too_slow(url, spec):
    result = run(spec(url("slow"), max_latency=0.2))
    assert (result.state, result.error_class) == ("degraded", "too_slow")
    assert result.ttfb_ms >= 550
    assert "over max_latency 200ms" in result.error


def test_server_that_accepts_and_never_speaks(url, spec):
    result = run(spec(url("hang"), timeout=0.5))
    assert result.error_class == "timeout"
    assert result.error.endswith("TLS handshake")


def test_tls_server_that_never_answers_the_request(url, spec):
    result = run(spec(url("hang_tls"), timeout=0.5))
    assert result.error == "timed out after 500ms: waiting for the response"
    assert result.tls_version == "TLSv1.3"


def test_body_that_drips_forever_hits_the_deadline(url, spec):
    result = run(spec(url("drip"), timeout=0.5))
    assert result.error == "timed out after 500ms: reading the body"
    assert 450 <= result.total_ms < 1500


def test_multi_gigabyte_body_is_read_up_to_the_cap(url, spec):
    result = run(spec(url("endless"), expect_body="ok", timeout=5))
    assert result.state == "up"
    result = run(spec(url("endless"), expect_body="missing", timeout=5))
    assert result.error_class == "body_mismatch"
    assert "first 1 MiB" in result.error


def test_reset_during_handshake(url, spec):
    result = run(spec(url("reset")))
    assert result.error_class == "tls_handshake"
    assert "reset" in result.error


def test_reset_after_the_request(url, spec):
    result = run(spec(url("reset_tls")))
    assert result.error_class == "protocol"
    assert result.tls_version == "TLSv1.3"


def test_plain_http_on_the_tls_port(url, spec):
    result = run(spec(url("plain")))
    assert result.error_class == "tls_handshake"
    assert "did not answer with TLS" in result.error


def test_garbage_instead_of_http_is_one_line(url, spec):
    result = run(spec(url("garbage")))
    assert result.error_class == "protocol"
    assert "\n" not in result.error and len(result.error) <= 300


def test_redirect_is_followed(url, spec):
    result = run(spec(url("to_ok"), expect_body="ok"))
    assert result.state == "up" and result.http_status == 200


def test_redirect_loop(url, spec):
    result = run(spec(url("loop")))
    assert (result.error_class, result.error) == ("redirects", "more than 10 redirects")


def test_redirect_to_plain_http_is_refused(url, spec):
    result = run(spec(url("to_http")))
    assert result.error_class == "redirects"
    assert "non-HTTPS" in result.error


def test_no_follow_judges_the_redirect_itself(url, spec):
    result = run(spec(url("to_ok"), follow_redirects=False))
    assert (result.error_class, result.http_status) == ("http_status", 302)
    assert run(spec(url("to_ok"), follow_redirects=False, expect_status=((302, 302),))).state == "up"


def test_refused_port(spec):
    result = run(spec(f"https://127.0.0.1:{refused_port()}/"))
    assert result.error_class == "connect"
    assert "connection refused" in result.error


def test_name_that_does_not_resolve(spec):
    result = run(spec("https://no-such-host.invalid/"))
    assert result.error_class == "dns"
    assert "no-such-host.invalid" in result.error
    assert result.connect_ms is None and result.tls_version is None


def test_every_check_is_a_fresh_connection(servers, certs, spec):
    connections = []

    async def counting(reader, writer):
        connections.append(writer.get_extra_info("peername"))
        await respond()(reader, writer)

    target = f"https://127.0.0.1:{servers.serve(counting, certs.context())}/"
    results = arun(check_many([spec(target) for _ in range(5)], concurrency=1))
    assert all(r.state == "up" for r in results)
    assert len(connections) == 5
    assert all(r.tls_ms > 0 for r in results)


def test_headers_are_sent(servers, certs, spec):
    seen = []

    async def echo(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.decode())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    target = f"https://127.0.0.1:{servers.serve(echo, certs.context())}/"
    assert run(spec(target, headers=(("Authorization", "Bearer s3cret"),))).state == "up"
    assert "Authorization: Bearer s3cret" in seen[0]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"", ("down", "protocol", "bad HTTP answer: server closed the connection without answering")),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok", ("up", None, None)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",
         ("down", "protocol", "body broken off: connection closed after 2 of 10 bytes")),
    ],
    ids=["no answer", "body to the end", "short body"],
)
def test_the_servers_close_notify_ends_its_answer(servers, certs, spec, answer, expected):
    # The server's TLS close_notify ends its stream, even while it keeps TCP open waiting for
    # the client's: the check ends then, not at its deadline.
    target = f"https://127.0.0.1:{servers.serve(close_notify(answer), certs.context())}/"
    result = run(spec(target, timeout=5))
    assert (result.state, result.error_class, result.error) == expected
    assert result.total_ms < 2000


def test_a_server_that_never_stops_sending_does_not_hold_the_prober(url, spec):
    # Each read event reads a bounded amount: with an answer that never ends and never reaches a
    # cap, the event loop must still run the other checks and the check's own deadline.
    targets = [url("endless_interim"), url("ok"), url("ok")]
    started = time.perf_counter()
    results = arun(check_many([spec(t, timeout=1) for t in targets], concurrency=64))
    assert [(r.state, r.error_class) for r in results] == [("down", "timeout"), ("up", None), ("up", None)]
    assert time.perf_counter() - started < 5


def test_hostile_endpoints_do_not_stall_the_others(url, spec):
    targets = [url("hang"), url("drip"), url("ok"), url("endless"), url("ok")]
    results = arun(check_many([spec(t, timeout=1) for t in targets], concurrency=64))
    assert [r.url for r in results] == targets
    assert [r.state for r in results] == ["down", "down", "up", "up", "up"]
    assert BODY_CAP == 1024 * 1024


# ------------------------------------------------------------- the HTTP/1.1 exchange itself

def _scripted_url(servers, certs, answer: bytes, seen=None, linger=0.0) -> str:
    return f"https://127.0.0.1:{servers.serve(scripted(answer, seen, linger), certs.context())}/"


def test_body_shorter_than_its_content_length_is_broken_off(servers, certs, spec):
    target = _scripted_url(servers, certs, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    result = run(spec(target))
    assert (result.state, result.error_class, result.http_status) == ("down", "protocol", None)
    assert result.error == "body broken off: connection closed after 10 of 100 bytes"


def test_chunked_body_is_decoded(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nall\r\n5\r\n is o\r\n1\r\nk\r\n0\r\n\r\n"
    result = run(spec(_scripted_url(servers, certs, answer, linger=5), expect_body="all is ok"))
    assert result.state == "up", result.error  # complete at the last chunk, not at the close


def test_chunked_body_cut_short_is_broken_off(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly"
    result = run(spec(_scripted_url(servers, certs, answer)))
    assert result.error_class == "protocol"
    assert result.error.startswith("body broken off: connection closed after 4 bytes")


def test_bad_chunk_size_is_protocol(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"
    result = run(spec(_scripted_url(servers, certs, answer)))
    assert result.error_class == "protocol" and result.error.startswith("bad HTTP answer: ")


def test_body_without_length_ends_with_the_connection(servers, certs, spec):
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs to the close: ok"
    result = run(spec(_scripted_url(servers, certs, answer), expect_body="close: ok"))
    assert result.state == "up", result.error


def test_endless_headers_are_cut_at_256_kib(servers, certs, spec):
    target = f"https://127.0.0.1:{servers.serve(endless_head, certs.context())}/"
    result = run(spec(target, timeout=5))
    assert (result.error_class, result.error) == ("protocol", "bad HTTP answer: response head over 256 KiB")


def test_interim_answers_are_skipped(servers, certs, spec):
    answer = (b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    result = run(spec(_scripted_url(servers, certs, answer), expect_body="ok"))
    assert (result.state, result.http_status) == ("up", 200), result.error


def test_head_answer_is_not_waited_for_its_body(servers, certs, spec):
    # a HEAD answer announces the length of a body it never sends; the server then stays open
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
    result = run(spec(_scripted_url(servers, certs, answer, linger=5), method="HEAD", timeout=2))
    assert (result.state, result.http_status) == ("up", 200), result.error


def test_switching_protocols_is_protocol(servers, certs, spec):
    answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    result = run(spec(_scripted_url(servers, certs, answer, linger=5)))
    assert result.error_class == "protocol"
    assert result.error == "bad HTTP answer: the server switched protocols (HTTP 101)"


def test_request_head(servers, certs, spec):
    seen = []
    target = _scripted_url(servers, certs, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", seen)
    user_target = target.replace("https://", "https://ann:p%40ss@") + "a%20b?q=1"
    headers = (("User-Agent", "custom/1"), ("connection", "keep-alive"), ("X-Trace", "42"))
    assert run(spec(user_target, method="POST", headers=headers)).state == "up"
    lines = seen[0].split("\r\n")
    assert lines[0] == "POST /a%20b?q=1 HTTP/1.1"
    fields = dict(line.split(": ", 1) for line in lines[1:] if line)
    port = target.rsplit(":", 1)[1].strip("/")
    assert fields["Host"] == f"127.0.0.1:{port}"
    assert fields["User-Agent"] == "custom/1"  # the caller's header replaces the default
    assert fields["Accept-Encoding"] == "identity"
    assert fields["Connection"] == "close"  # never kept alive, whatever the caller asks
    assert "connection" not in fields
    assert fields["Content-Length"] == "0"
    assert fields["Authorization"] == "Basic YW5uOnBAc3M="  # ann:p@ss, decoded from the URL
    assert fields["X-Trace"] == "42"


def test_header_with_a_line_break_is_never_sent(servers, certs, spec):
    seen = []
    target = _scripted_url(servers, certs, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", seen)
    result = run(spec(target, headers=(("X-Evil", "a\r\nInjected: yes"),)))
    assert result.error_class == "protocol" and "line break" in result.error
    assert seen == []


def test_credentials_follow_a_redirect_to_the_same_origin_only(servers, certs, spec):
    seen = []
    final = _scripted_url(servers, certs, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", seen)
    hops = []  # the first server redirects to itself (same origin), then to `final` (another port)

    async def two_step(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        hops.append(head.decode("latin-1"))
        location = f"https://127.0.0.1:{port}/next" if len(hops) == 1 else final
        writer.write(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()

    port = servers.serve(two_step, certs.context())
    result = run(spec(f"https://ann:secret@127.0.0.1:{port}/"))
    assert result.state == "up", result.error
    assert "Authorization: Basic" in hops[0] and "Authorization: Basic" in hops[1]  # same origin
    assert "Authorization" not in seen[0]  # another port: another origin


def _connect_to(infos, certs):
    """http1.connect over these addresses, then one GET: (status, the address connected to)."""
    from yarl import URL

    from probe.check.http1 import request_head
    from probe.check.wire import Trace, Wire, connect
    from probe.spec import tls_context

    async def go():
        loop = asyncio.get_running_loop()
        trace = Trace()
        head = request_head("GET", URL("https://127.0.0.1/"), (), "test")
        wire = Wire(loop, trace, tls_context(certs.ca_file, "1.2"), "127.0.0.1", head, "GET", 1024)
        try:
            await connect(loop, wire, infos)
            return (await wire.done).status, trace.address
        finally:
            wire.close()

    return arun(go())


def _info(port):
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))


def test_several_addresses_the_next_is_tried(servers, certs):
    good, bad = servers.serve(respond(), certs.context()), refused_port()
    status, address = _connect_to([_info(bad), _info(good)], certs)
    assert (status, address) == (200, ("127.0.0.1", good))


def test_several_addresses_all_refused(certs):
    with pytest.raises(OSError):
        _connect_to([_info(refused_port()), _info(refused_port())], certs)


def test_checks_leave_nothing_for_the_garbage_collector(url, spec):
    # Each check's objects must be freed when it ends: left in reference cycles, they pile up
    # until the collector walks them, and its pauses show in the timings of other checks.
    failing = [url("500"), url("expired"), url("garbage"), f"https://127.0.0.1:{refused_port()}/",
               url("reset"), url("reset_tls"), url("plain")]
    specs = [spec(url("ok")) for _ in range(20)] + [spec(u) for u in failing for _ in range(3)]
    specs += [spec(url("slow"), timeout=0.2)] * 3
    arun(check_many(specs[:2]))  # imports and caches, once
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        results = arun(check_many(specs, concurrency=5))
        gc.collect()
        leftovers = [type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith("probe")]
        leftovers += [f"frame of {o.f_code.co_name}" for o in gc.garbage
                      if type(o).__name__ == "frame" and "probe" in o.f_code.co_filename.split("/")[-2:-1]]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert [r.error_class for r in results] == (
        [None] * 20 + ["http_status"] * 3 + ["tls_cert"] * 3 + ["protocol"] * 3 + ["connect"] * 3
        + ["tls_handshake"] * 3 + ["protocol"] * 3 + ["tls_handshake"] * 3 + ["timeout"] * 3
    )
    assert leftovers == []


def test_a_record_that_does_not_decrypt_is_protocol(servers, certs, spec):
    target = f"https://127.0.0.1:{servers.serve(tls_garbage, certs.context())}/"
    result = run(spec(target, timeout=3))
    assert result.state == "down" and result.error_class == "protocol", result.error
    assert result.error.startswith("bad HTTP answer: TLS error: ")
    assert result.tls_version == "TLSv1.3"  # the handshake itself went well


@pytest.mark.parametrize("reads_per_event", [http1.READS_PER_EVENT, 1], ids=["as shipped", "one read per turn"])
def test_resets_end_the_check_at_once(url, spec, monkeypatch, reads_per_event):
    # uvloop stops polling a socket registered with add_reader at its first error, where
    # asyncio's loop goes on: a reset must end the check at once, classed, on either loop. With
    # one read per turn, the reset comes behind data that takes more than one turn: the rest
    # must be read all the same.
    monkeypatch.setattr(http1, "READS_PER_EVENT", reads_per_event)
    specs = [spec(url("reset_tls"), timeout=3)] * 10 + [spec(url("reset"), timeout=3)] * 3
    results = arun(check_many(specs, concurrency=8))
    assert [r.error_class for r in results] == ["protocol"] * 10 + ["tls_handshake"] * 3
    assert max(r.total_ms for r in results) < 2000  # none waited for its timeout

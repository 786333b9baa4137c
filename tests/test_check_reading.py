"""`probe.check` reads answers as curl and browsers do: the head as RFC 9112 lets a client read
it, bodies decoded, URLs and Locations sent as written, redirects told hop by hop. Each case is
a real local TLS server that sends exactly the bytes in question."""

import gzip
import ssl
import zlib

import pytest

from loops import arun, event_loop_kind  # noqa: F401  (every test on both loops)
from probe.check import BODY_CAP, CheckSpec, check
from servers import alpn_recorder, by_path, h2_only, respond, scripted

try:
    import brotli
except ImportError:  # pragma: no cover
    brotli = None


def run(spec: CheckSpec):
    return arun(check(spec))


@pytest.fixture
def spec(certs):
    def make(target, **options):
        options.setdefault("timeout", 3.0)
        return CheckSpec(url=target, ca_file=certs.ca_file, **options)

    return make


def _serve(servers, certs, answer: bytes, seen=None, linger=5.0) -> str:
    """A server that sends `answer` and then keeps the connection open: an answer is complete
    by its own framing, never by the connection's end."""
    return f"https://127.0.0.1:{servers.serve(scripted(answer, seen, linger), certs.context())}/"


# ------------------------------------------------------------------- the head, as RFC 9112 reads it

@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\n",  # obs-fold, §5.2
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\n",  # bare LF, §2.2
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",  # repeated, §6.3
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n",  # listed, §6.3
        b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n",  # whitespace before the colon
        b"HTTP/1.1 200 OK\r\nthis line has no colon\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n",  # no reason phrase
        b"HTTP/1.1 200 OK\r\nX-Odd: a\x01b\r\nContent-Length: 2\r\n\r\n",  # as browsers take it
    ],
    ids=["obs-fold", "bare LF", "repeated length", "listed length", "space before colon", "no colon",
         "HTTP/1.2", "no reason", "control character in a value"],
)
def test_a_head_a_client_may_read_is_read(servers, certs, spec, head):
    result = run(spec(_serve(servers, certs, head + b"ok"), expect_body="ok"))
    assert (result.state, result.http_status) == ("up", 200), result.error


def test_chunked_overrides_content_length(servers, certs, spec):
    answer = (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"2\r\nok\r\n0\r\n\r\n")
    result = run(spec(_serve(servers, certs, answer), expect_body="ok"))
    assert result.state == "up", result.error


def test_differing_content_lengths_are_protocol(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    result = run(spec(_serve(servers, certs, answer)))
    assert (result.error_class, result.error) == (
        "protocol", "bad HTTP answer: differing Content-Length values ('2', '3')")


@pytest.mark.parametrize(
    "answer, reason",
    [
        (b"RTSP/1.0 200 OK\r\n\r\n", "not an HTTP/1.1 status line: 'RTSP/1.0 200 OK'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "a Content-Length that is not a number: 'x'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "a bad chunk size in the chunked body"),
    ],
)
def test_no_message_carries_the_parsers_wording(servers, certs, spec, answer, reason):
    result = run(spec(_serve(servers, certs, answer)))
    assert (result.error_class, result.error) == ("protocol", f"bad HTTP answer: {reason}")


def _head_of(size: int) -> bytes:
    """A head of exactly `size` bytes, blank line included."""
    start, end = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Fill: ", b"\r\n\r\n"
    return start + b"x" * (size - len(start) - len(end)) + end


def test_the_64_kib_limit_on_the_head_is_exact(servers, certs, spec):
    at_limit = run(spec(_serve(servers, certs, _head_of(256 * 1024) + b"ok"), expect_body="ok"))
    assert at_limit.state == "up", at_limit.error
    over = run(spec(_serve(servers, certs, _head_of(256 * 1024 + 1) + b"ok")))
    assert (over.error_class, over.error) == ("protocol", "bad HTTP answer: response head over 256 KiB")


# ------------------------------------------------------------------- interim answers, ALPN

def test_an_answer_of_interim_answers_only_says_so(servers, certs, spec):
    answer = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
    result = run(spec(_serve(servers, certs, answer, linger=0)))
    assert (result.error_class, result.error) == (
        "protocol", "bad HTTP answer: only an interim answer (HTTP 103), then the connection closed")


def test_an_interim_answer_and_then_nothing_says_so_at_the_deadline(servers, certs, spec):
    answer = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
    result = run(spec(_serve(servers, certs, answer, linger=5), timeout=1))
    assert (result.error_class, result.error) == (
        "timeout", "timed out after 1s: only an interim answer (HTTP 103) came, waiting for the response")


def test_the_client_hello_offers_http11_by_alpn(servers, certs, spec):
    seen = []
    context = certs.context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    result = run(spec(f"https://127.0.0.1:{servers.serve(alpn_recorder(seen), context)}/"))
    assert result.state == "up", result.error
    assert seen == ["http/1.1"]


def test_a_server_that_speaks_only_http2_is_named(servers, certs, spec):
    context = certs.context()
    context.set_alpn_protocols(["h2"])
    result = run(spec(f"https://127.0.0.1:{servers.serve(h2_only, context)}/"))
    assert (result.error_class, result.error) == ("protocol", "bad HTTP answer: the server speaks only HTTP/2")


# ------------------------------------------------------------------- content codings

def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


CODED = {
    "gzip": (b"Content-Encoding: gzip", gzip.compress(b"all is ok")),
    "x-gzip": (b"Content-Encoding: x-gzip", gzip.compress(b"all is ok")),
    "deflate": (b"Content-Encoding: deflate", zlib.compress(b"all is ok")),
    "raw deflate": (b"Content-Encoding: deflate", _raw_deflate(b"all is ok")),
    "gzip then gzip": (b"Content-Encoding: gzip, gzip", gzip.compress(gzip.compress(b"all is ok"))),
}


@pytest.mark.parametrize("coding", list(CODED))
def test_a_coded_body_is_decoded_before_it_is_judged(servers, certs, spec, coding):
    field, body = CODED[coding]
    answer = b"HTTP/1.1 200 OK\r\n%s\r\nContent-Length: %d\r\n\r\n%s" % (field, len(body), body)
    result = run(spec(_serve(servers, certs, answer), expect_body="all is ok"))
    assert result.state == "up", result.error


def test_a_gzip_transfer_coding_is_decoded(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + _chunked(gzip.compress(b"all is ok"))
    result = run(spec(_serve(servers, certs, answer), expect_body="all is ok"))
    assert result.state == "up", result.error


@pytest.mark.skipif(brotli is None, reason="the brotli module is not installed")
def test_a_br_body_is_decoded(servers, certs, spec):
    body = brotli.compress(b"all is ok, " * 100)
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    result = run(spec(_serve(servers, certs, answer), expect_body="all is ok, all is ok"))
    assert result.state == "up", result.error


def test_a_decompression_bomb_stops_at_the_cap(servers, certs, spec):
    bomb = gzip.compress(b"\0" * (64 * BODY_CAP), compresslevel=9)  # 64 MiB in about 64 KiB
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(bomb), bomb)
    result = run(spec(_serve(servers, certs, answer), expect_body="needle", timeout=10))
    assert (result.error_class, result.error) == (
        "body_mismatch", "the first 1 MiB of the body does not contain 'needle'")


def test_a_coding_probe_cannot_decode_fails_a_body_assertion_by_name(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: 4\r\n\r\n\x28\xb5\x2f\xfd"
    target = _serve(servers, certs, answer)
    result = run(spec(target, expect_body="ok"))
    assert (result.error_class, result.error) == (
        "body_mismatch", "the body is encoded with 'zstd', which probe cannot decode: 'ok' cannot be looked for")
    assert run(spec(target)).state == "up"  # no assertion on the body: nothing to decode


def test_a_corrupt_gzip_body_fails_a_body_assertion(servers, certs, spec):
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 7\r\n\r\nnot gz!"
    result = run(spec(_serve(servers, certs, answer), expect_body="ok"))
    assert result.error_class == "body_mismatch"
    assert result.error.startswith("the body does not decode as gzip: ")


# ------------------------------------------------------------------- URLs and redirects

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_the_url_is_sent_as_written(servers, certs, spec):
    seen = []
    port = servers.serve(by_path({}, seen), certs.context())
    run(spec(f"https://127.0.0.1:{port}/a%2Fb%3f/%7e?next=https%3A%2F%2Fx%2F&sig=a%2Bb%3D&q=a b"))
    # reserved escapes kept byte for byte, unreserved ones and their case too; a raw space as %20
    assert seen == ["GET /a%2Fb%3f/%7e?next=https%3A%2F%2Fx%2F&sig=a%2Bb%3D&q=a%20b HTTP/1.1"]


@pytest.mark.parametrize("host", ["exa mple.com", "exa\x01mple.com"])
def test_a_host_with_a_space_or_control_character_is_refused(spec, host):
    result = run(spec(f"https://{host}/"))
    assert result.error_class == "dns"
    url = f"https://{host}/"
    assert result.error == f"cannot resolve {url!r} has a space or a control character in its host"


def test_a_location_in_raw_utf8_is_percent_encoded(servers, certs, spec):
    seen = []
    moved = b"HTTP/1.1 302 Found\r\nLocation: /caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n"
    port = servers.serve(by_path({"/": moved, "/caf%C3%A9": OK}, seen), certs.context())
    result = run(spec(f"https://127.0.0.1:{port}/", expect_body="ok"))
    assert result.state == "up", result.error
    assert seen == ["GET / HTTP/1.1", "GET /caf%C3%A9 HTTP/1.1"]


def test_an_empty_location_is_not_followed(servers, certs, spec):
    moved = b"HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 0\r\n\r\n"
    target = _serve(servers, certs, moved)
    result = run(spec(target))
    assert (result.error_class, result.http_status, result.error) == ("http_status", 302, "HTTP 302, expected 200-299")
    assert run(spec(target, expect_status=((302, 302),))).state == "up"


def test_a_failed_redirect_names_the_hop_and_keeps_no_tls_fact_of_the_first(servers, certs, spec):
    expired = servers.serve(respond(), certs.context("expired"))
    target = f"https://127.0.0.1:{expired}/there"
    moved = f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()
    result = run(spec(_serve(servers, certs, moved)))
    assert (result.error_class, result.error) == (
        "tls_cert", f"redirect 1 to {target}: certificate rejected: certificate has expired")
    assert (result.tls_version, result.tls_cipher, result.cert_subject) == (None, None, None)


def test_the_tls_facts_are_the_final_hops(servers, certs, spec):
    final = servers.serve(respond(), certs.context("rsa", max_version=ssl.TLSVersion.TLSv1_2))
    moved = f"HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:{final}/\r\nContent-Length: 0\r\n\r\n".encode()
    first = servers.serve(scripted(moved, None, 5), certs.context(min_version=ssl.TLSVersion.TLSv1_3))
    result = run(spec(f"https://127.0.0.1:{first}/"))
    assert (result.state, result.tls_version) == ("up", "TLSv1.2"), result.error


def test_a_redirect_that_times_out_names_the_hop(servers, certs, spec):
    from servers import hang

    target = f"https://127.0.0.1:{servers.serve(hang, certs.context())}/slow"
    moved = f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()
    result = run(spec(_serve(servers, certs, moved), timeout=1))
    assert (result.error_class, result.error) == ("timeout", f"timed out after 1s: redirect 1 to {target}: waiting for the response")


# ------------------------------------------------------------------- real server software

@pytest.fixture
def nginx(tmp_path, certs):
    from servers import NGINX, Nginx

    if NGINX is None:
        pytest.skip("Debian's nginx is not installed (.ci/run installs nginx-light)")
    started = []

    def start(server: str):
        started.append(Nginx(tmp_path, certs.good, server))
        return f"https://127.0.0.1:{started[-1].port}"

    yield start
    for one in started:
        one.stop()


def test_nginx_gzip_static_always_is_decoded(nginx, tmp_path, spec):
    # `gzip_static always` sends the .gz file as it is, whatever the request's Accept-Encoding
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "health.txt.gz").write_bytes(gzip.compress(b"service is ok\n"))
    base = nginx("location / { gzip_static always; }")
    result = run(spec(f"{base}/health.txt", expect_body="service is ok"))
    assert (result.state, result.http_status) == ("up", 200), result.error


def test_a_server_that_refuses_http11_by_alpn_is_named(tmp_path, certs, spec):
    from servers import OPENSSL, OpenSSLServer

    if OPENSSL is None:
        pytest.skip("the openssl command is not installed (.ci/run installs it)")
    server = OpenSSLServer(tmp_path, certs.good, "-alpn", "h2")  # answers no_application_protocol
    try:
        result = run(spec(f"https://127.0.0.1:{server.port}/"))
    finally:
        server.stop()
    assert (result.error_class, result.error) == (
        "protocol", "the server speaks only HTTP/2: it refused HTTP/1.1 in the TLS handshake")


def test_a_redirect_to_plain_http_is_told_without_its_credentials(servers, certs, spec):
    moved = b"HTTP/1.1 302 Found\r\nLocation: http://ann:s3cret@127.0.0.1:1/x\r\nContent-Length: 0\r\n\r\n"
    result = run(spec(_serve(servers, certs, moved)))
    assert (result.error_class, result.error) == ("redirects", "redirected to a non-HTTPS URL: http://127.0.0.1:1/x")

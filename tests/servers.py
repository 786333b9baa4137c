"""Real local servers for the tests: TLS on 127.0.0.1 with certificates made here, and servers
that are slow, hang, lie, drip, reset or speak the wrong protocol. No mocks of aiohttp or ssl.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import ssl
import struct
import threading

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Certificates:
    """A CA made for the test run and the server certificates it signs."""

    def __init__(self, tmp_dir):
        self.ca = trustme.CA(organization_name="probe test CA")
        self.ca_file = str(tmp_dir / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        now = dt.datetime.now(dt.timezone.utc)
        self.good = self.ca.issue_cert("localhost", "127.0.0.1")
        self.expired = self.ca.issue_cert(
            "localhost", "127.0.0.1", not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
        )
        self.expiring = self.ca.issue_cert(
            "localhost", "127.0.0.1", not_before=now - dt.timedelta(days=30), not_after=now + dt.timedelta(days=5, hours=12)
        )
        self.wrong_host = self.ca.issue_cert("other.example")
        self.untrusted = trustme.CA().issue_cert("localhost", "127.0.0.1")
        self.self_signed_pem = _self_signed("localhost", "127.0.0.1")
        self.cn_only_pem = _cn_only(self.ca, "localhost")
        self.rsa = self.ca.issue_cert("localhost", "127.0.0.1", key_type=trustme.KeyType.RSA)

    def context(self, which="good", min_version=None, max_version=None) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if which in ("self_signed", "cn_only"):
            cert_pem, key_pem = getattr(self, f"{which}_pem")
            import tempfile, os

            with tempfile.NamedTemporaryFile("wb", delete=False, suffix=".pem") as handle:
                handle.write(cert_pem + key_pem)
            context.load_cert_chain(handle.name)
            os.unlink(handle.name)
        else:
            getattr(self, which).configure_cert(context)
        if min_version is not None or max_version is not None:
            # Old protocol versions are only offered at OpenSSL security level 0.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = min_version or ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = max_version or ssl.TLSVersion.MAXIMUM_SUPPORTED
        return context


def _cn_only(ca: trustme.CA, name: str):
    """A certificate signed by `ca` that names `name` in its Common Name only: no
    subjectAltName at all (trustme always adds one)."""
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def _self_signed(*names):
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    sans = []
    for entry in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(entry)))
        except ValueError:
            sans.append(x509.DNSName(entry))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


# ---------------------------------------------------------------- HTTP behaviours

async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    head = await reader.readuntil(b"\r\n\r\n")
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, path, _ = line.split(" ", 2)
    return method, path


def respond(status=200, body=b"ok", headers=None, delay=0.0):
    """A plain answer after an optional delay."""

    async def handler(reader, writer):
        method, _ = await _read_request(reader)
        if delay:
            await asyncio.sleep(delay)
        reason = {200: "OK", 204: "No Content", 404: "Not Found", 500: "Internal Server Error"}.get(status, "X")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        payload = b"" if status == 204 or method == "HEAD" else body
        length = "" if status == 204 else f"Content-Length: {len(body)}\r\n"
        writer.write(f"HTTP/1.1 {status} {reason}\r\n{length}{extra}Connection: close\r\n\r\n".encode() + payload)
        await writer.drain()

    return handler


def redirect(location_for):
    """Redirect to location_for(path)."""

    async def handler(reader, writer):
        _, path = await _read_request(reader)
        writer.write(
            f"HTTP/1.1 302 Found\r\nLocation: {location_for(path)}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()

    return handler


def _connected(reader, writer) -> bool:
    return not (writer.is_closing() or reader.at_eof() or reader.exception())


async def drip(reader, writer):
    """Headers, then one byte of body every 100 ms, forever."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    while _connected(reader, writer):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.1)


async def endless(reader, writer):
    """A 4 GiB body, sent as fast as the client reads."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n")
    chunk = b"ok" * 32768
    while _connected(reader, writer):
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0)  # drain() does not yield unless paused: let connection_lost run


async def garbage(reader, writer):
    """Something that is not HTTP at all."""
    await reader.read(1)
    writer.write(b"\x00\x01\x02 this is not HTTP \xff\xfe\r\n\r\n")
    await writer.drain()


async def hang(reader, writer):
    """Accepts and never speaks."""
    await asyncio.sleep(3600)


async def plain_http(reader, writer):
    """A plain-HTTP server: whatever arrives, it answers 400 in clear text."""
    await reader.read(1)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


async def reset(reader, writer):
    """Resets the connection as soon as the client has spoken."""
    await reader.read(1)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def scripted(answer: bytes, seen: list | None = None, linger: float = 0.0):
    """Reads the request head (kept in `seen`), writes `answer` byte for byte, waits `linger`
    seconds, then closes: for answers that lie about their length, are chunked, have no length
    at all, or are not quite HTTP."""

    async def handler(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        if seen is not None:
            seen.append(head.decode("latin-1"))
        writer.write(answer)
        await writer.drain()
        if linger:
            await asyncio.sleep(linger)

    return handler


def by_path(answers: dict, seen: list | None = None):
    """Answers with answers[path] (bytes, byte for byte), or a 404 for any other path; each
    request line is kept in `seen`."""

    async def handler(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if seen is not None:
            seen.append(line)
        path = line.split(" ")[1]
        writer.write(answers.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
        await writer.drain()

    return handler


# An HTTP/2 server's first words: an empty SETTINGS frame, then GOAWAY (no error) on stream 0.
H2_PREFACE = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + b"\x00" * 8


async def h2_only(reader, writer):
    """A server that speaks only HTTP/2: whatever the client sent, it answers with HTTP/2
    frames, as one does when the client's ALPN offered no h2."""
    await reader.read(1)
    writer.write(H2_PREFACE)
    await writer.drain()
    await asyncio.sleep(5)


def alpn_recorder(seen: list):
    """Records the protocol that ALPN chose (None when the client offered none it speaks)."""

    async def handler(reader, writer):
        await _read_request(reader)
        seen.append(writer.get_extra_info("ssl_object").selected_alpn_protocol())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    return handler


async def tls_garbage(reader, writer):
    """Completes the TLS handshake and reads the request, then writes, under TLS, straight onto
    the socket, a record that cannot be decrypted."""
    await _read_request(reader)
    os.write(writer.get_extra_info("socket").fileno(), b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
    await asyncio.sleep(5)


async def endless_head(reader, writer):
    """A status line, then headers forever."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    while _connected(reader, writer):
        writer.write(b"X-Filler: " + b"x" * 1000 + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0)


def close_notify(answer: bytes):
    """Send `answer` (perhaps nothing), then end TLS as the standard says: close_notify, then wait
    for the client's before closing TCP (asyncio's TLS does so), which a client may never send."""

    async def handler(reader, writer):
        await _read_request(reader)
        if answer:
            writer.write(answer)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    return handler


async def endless_interim(reader, writer):
    """Interim answers (100 Continue) forever, as fast as the client reads: no cap on the
    answer's size ever applies, and the socket always has more to read."""
    await _read_request(reader)
    burst = b"HTTP/1.1 100 Continue\r\n\r\n" * 2000
    while _connected(reader, writer):
        writer.write(burst)
        await writer.drain()
        await asyncio.sleep(0)


class ServerThread:
    """An event loop in a thread that serves any number of test servers on 127.0.0.1."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers = []

    def serve(self, handler, context: ssl.SSLContext | None = None, host="127.0.0.1") -> int:
        async def guarded(reader, writer):
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError, asyncio.CancelledError):
                pass  # the client went away, or the test is over
            finally:
                writer.transport.abort()

        async def start():
            extra = {"ssl": context, "ssl_handshake_timeout": 30} if context else {}
            server = await asyncio.start_server(guarded, host, 0, **extra)
            self.servers.append(server)
            return server.sockets[0].getsockname()[1]

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self):
        async def stop():
            for server in self.servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def refused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


NGINX = next((path for path in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(path)), None)


class Nginx:
    """Debian's nginx on 127.0.0.1, in the foreground, with a config made for one test: for
    behaviours that are nginx's own. `server` is the inside of its one TLS server block."""

    def __init__(self, tmp_path, cert, server: str):
        import subprocess
        import time

        self.port = refused_port()
        cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
        temp = tmp_path / "temp"
        temp.mkdir()
        paths = " ".join(f"{kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp_path / "nginx.conf").write_text(f"""
daemon off;
master_process off;
pid {tmp_path / "nginx.pid"};
error_log {tmp_path / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {paths}
    server {{
        listen 127.0.0.1:{self.port} ssl;
        ssl_certificate {tmp_path / "server.pem"};
        ssl_certificate_key {tmp_path / "server.pem"};
        root {tmp_path / "www"};
        {server}
    }}
}}
""")
        self.process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx did not start: {self.process.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen within 10 s")

    def stop(self):
        stop_process(self.process)
        self.process.stderr.close()


def stop_process(process):
    """A server program stopped: asked first, killed if it does not go within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except Exception:  # noqa: BLE001
        process.kill()
        process.wait()


OPENSSL = next((path for path in ("/usr/bin/openssl", "/usr/local/bin/openssl") if os.path.exists(path)), None)


class OpenSSLServer:
    """`openssl s_server` on 127.0.0.1 with `options` (e.g. -alpn h2): OpenSSL's own server,
    for what it does in the handshake (it refuses a ClientHello whose ALPN it cannot match)."""

    def __init__(self, tmp_path, cert, *options: str):
        import subprocess
        import time

        self.port = refused_port()
        pem = tmp_path / "s_server.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
        self.process = subprocess.Popen(
            [OPENSSL, "s_server", "-quiet", "-accept", f"127.0.0.1:{self.port}", "-cert", str(pem), "-key", str(pem),
             *options], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            with socket.socket() as probe_socket:
                if probe_socket.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("openssl s_server did not listen within 10 s")

    def stop(self):
        stop_process(self.process)

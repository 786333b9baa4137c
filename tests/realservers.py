"""Real server software on 127.0.0.1 for the verdict tests: Debian's nginx, Apache, lighttpd and
HAProxy, Node's https module and Python's http.server, each started once with one TLS port per
certificate case, from a config made here, with certificates made here by trustme.

Every server serves the same small site (see SITE and the routes each config spells out):

    /ok.txt             "service is ok"
    /café.txt           "café ok" (a UTF-8 file name)
    /r/relative 302, /r/absolute 301, /r/cross 307 (to another host and port), /r/perm 308,
    /r/utf8 302 to /café.txt written as raw UTF-8 in Location
    /nocontent          204
    /close.txt          the body of /ok.txt, then the connection is closed
    /big.txt, /huge.txt the body of /ok.txt under about 62 KiB and about 88 KiB of header fields
    /gzip.txt           gzip-coded whatever the request's Accept-Encoding (where the server can)
    /chunked.txt        chunked transfer coding
and Node's alone: /deflate.txt (zlib), /rawdeflate.txt (raw deflate, as some servers send it),
/br.txt (brotli), each coded whatever the request asked, and /trailer.txt (chunked, a trailer field)
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from servers import OPENSSL, _cn_only, _self_signed, refused_port

OK_BODY = b"service is ok\n"
CAFE = "caf\u00e9.txt"
CAFE_BODY = "caf\u00e9 ok\n".encode()
SPACED = "ok file.txt"  # a file name with a space, written raw in a Location
LAST_MODIFIED = "Wed, 01 Jan 2020 00:00:00 GMT"  # the mtime of every file of the site
BIG_FIELDS = 21  # fields of FIELD_SIZE bytes: a head just under 64 KiB
HUGE_FIELDS = 30  # a head of about 88 KiB: below curl's limits and Chromium's 256 KiB, as probe's
FIELD_SIZE = 3000

# One TLS port per case: (certificate, TLS versions, ALPN).
PORTS = (
    "good", "tls12", "tls13", "expired", "not_yet_valid", "wrong_host", "cn_only", "self_signed",
    "untrusted", "chain", "leaf_only", "ip_san", "h2_only", "rsa_kx", "sha1", "rsa1024",
)
# rsa_kx: TLS 1.2 with RSA key exchange only (no forward secrecy), an RSA certificate
RSA_KX = "AES128-GCM-SHA256"
# The OpenSSL cipher string of a port where it is not the default: a server loads a certificate
# signed with SHA-1, or with a 1024-bit RSA key, only at security level 0
CIPHERS = {"rsa_kx": RSA_KX, "sha1": "DEFAULT:@SECLEVEL=0", "rsa1024": "DEFAULT:@SECLEVEL=0"}


def _weak(ca: trustme.CA, digest, key):
    """A certificate for localhost and 127.0.0.1 signed by `ca` with `digest`, for `key`."""
    import ipaddress

    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, digest)
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def _sha1(ca: trustme.CA, folder: Path):
    """A certificate for localhost and 127.0.0.1 that `ca` signed with SHA-1: by the openssl
    command, as the cryptography package no longer signs with SHA-1."""
    work = Path(tempfile.mkdtemp(dir=folder))
    ca.cert_pem.write_to_path(str(work / "ca.pem"))
    ca.private_key_pem.write_to_path(str(work / "ca.key"))
    (work / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n")
    run = lambda *args: subprocess.run([OPENSSL or "openssl", *args], cwd=work, check=True, capture_output=True)  # noqa: E731
    run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
        "-subj", "/CN=localhost", "-out", "leaf.csr")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-sha1",
        "-days", "90", "-extfile", "san.ext", "-out", "leaf.pem")
    pair = (work / "leaf.pem").read_bytes(), (work / "leaf.key").read_bytes()
    shutil.rmtree(work)
    return pair


def big_fields(count: int) -> list[tuple[str, str]]:
    return [(f"X-Filler-{i:02}", "x" * FIELD_SIZE) for i in range(count)]


class Material:
    """The certificates, written to `folder` as NAME.crt (the chain the server sends), NAME.key
    and NAME.pem (chain then key), and the site's files under `folder`/www."""

    def __init__(self, folder: Path, ca: trustme.CA):
        self.folder = folder
        now = dt.datetime.now(dt.timezone.utc)
        good = ca.issue_cert("localhost", "127.0.0.1")
        intermediate = ca.create_child_ca()
        leaf = intermediate.issue_cert("localhost", "127.0.0.1")
        leaf_pem = leaf.cert_chain_pems[0].bytes()
        chain_pem = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        certs = {
            "good": good,
            "expired": ca.issue_cert("localhost", "127.0.0.1", not_before=now - dt.timedelta(days=30),
                                     not_after=now - dt.timedelta(days=1)),
            "not_yet_valid": ca.issue_cert("localhost", "127.0.0.1", not_before=now + dt.timedelta(days=1),
                                           not_after=now + dt.timedelta(days=90)),
            "wrong_host": ca.issue_cert("other.example"),
            "untrusted": trustme.CA().issue_cert("localhost", "127.0.0.1"),
            "ip_san": ca.issue_cert("127.0.0.1"),
            "rsa_kx": ca.issue_cert("localhost", "127.0.0.1", key_type=trustme.KeyType.RSA),
        }
        pairs = {name: (b"".join(b.bytes() for b in c.cert_chain_pems), c.private_key_pem.bytes())
                 for name, c in certs.items()}
        pairs["cn_only"] = _cn_only(ca, "localhost")
        pairs["self_signed"] = _self_signed("localhost", "127.0.0.1")
        pairs["chain"] = (chain_pem, leaf.private_key_pem.bytes())
        pairs["leaf_only"] = (leaf_pem, leaf.private_key_pem.bytes())
        pairs["sha1"] = _sha1(ca, folder)
        pairs["rsa1024"] = _weak(ca, hashes.SHA256(), rsa.generate_private_key(public_exponent=65537, key_size=1024))
        for name in ("tls12", "tls13", "h2_only"):
            pairs[name] = pairs["good"]
        for name, (chain, key) in pairs.items():
            (folder / f"{name}.crt").write_bytes(chain)
            (folder / f"{name}.key").write_bytes(key)
            (folder / f"{name}.pem").write_bytes(chain + key)
        www = folder / "www"
        www.mkdir()
        (www / "ok.txt").write_bytes(OK_BODY)
        (www / CAFE).write_bytes(CAFE_BODY)
        for name in ("close.txt", "big.txt", "huge.txt", SPACED):
            (www / name).write_bytes(OK_BODY)
        # larger than gzip's own overhead, or Apache's mod_deflate sends it as it is
        (www / "gzip.txt").write_bytes(OK_BODY * 100)
        (www / "gzip.txt.gz").write_bytes(gzip.compress(OK_BODY * 100))
        (www / "chunked.txt.gz").write_bytes(gzip.compress(OK_BODY * 100))
        stamp = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc).timestamp()
        for path in [www, *www.iterdir()]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
            os.utime(path, (stamp, stamp))
        os.chmod(folder, 0o755)  # Apache's children, not root, read the site
        self.www = www

    def crt(self, name):
        return self.folder / f"{name}.crt"

    def key(self, name):
        return self.folder / f"{name}.key"

    def pem(self, name):
        return self.folder / f"{name}.pem"


def _wait_listening(process, ports, what):
    """Wait until `process` (None: this one) listens on every port of `ports`; a port that another
    process took in the meantime makes the server exit, or never counts."""
    deadline = time.monotonic() + 15
    waiting = set(ports)
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} did not start: {process.stderr.read().decode(errors='replace')[-2000:]}")
        waiting -= _listening(process.pid if process is not None else os.getpid(), waiting)
        if not waiting:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {sorted(waiting)} within 15 s")


def _listening(pid: int, ports: set) -> set:
    """The ports of `ports` that process `pid` listens on (by the inodes of its sockets)."""
    sockets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            sockets.add(link[len("socket:["):-1])
    found = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == "0A" and port in ports and fields[9] in sockets:  # 0A: LISTEN
                found.add(port)
    return found


class RealServer:
    """One server program with one TLS port per name of PORTS (where it can serve that case)."""

    name = ""
    binary: str | None = None
    cannot: frozenset = frozenset()  # names of ports or of cases this server cannot serve

    def __init__(self, material: Material):
        self.material = material
        self.ports = {name: refused_port() for name in PORTS if name not in self.cannot}
        self.process = None
        self.folder = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=material.folder))
        os.chmod(self.folder, 0o755)

    @classmethod
    def available(cls) -> bool:
        return cls.binary is None or shutil.which(cls.binary) is not None or os.path.exists(cls.binary)

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self):
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, cwd=self.folder)
        try:
            _wait_listening(self.process, self.ports.values(), self.name)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()

    def targets(self):
        good = self.ports["good"]
        other = self.ports.get("chain", good)
        return {
            "/r/relative": (302, "/ok.txt"),
            "/r/absolute": (301, f"https://127.0.0.1:{good}/ok.txt"),
            "/r/cross": (307, f"https://localhost:{other}/ok.txt"),
            "/r/perm": (308, "/ok.txt"),
            "/r/utf8": (302, "/" + CAFE),
            "/r/fragment": (302, "/ok.txt#top"),
            "/r/space": (302, "/" + SPACED),
            "/r/scheme_relative": (302, f"//localhost:{good}/ok.txt"),
            "/r/dots": (302, "../ok.txt"),
            "/r/absolute_dots": (302, f"https://127.0.0.1:{good}/../ok.txt"),
        }


# ---------------------------------------------------------------------------------- nginx

class NginxServer(RealServer):
    name = "nginx"
    binary = "/usr/sbin/nginx"
    cannot = frozenset({"h2_only"})  # nginx always accepts http/1.1 by ALPN

    def command(self):
        www = self.material.www
        blocks = []
        for name, port in self.ports.items():
            protocols = {"tls12": "TLSv1.2", "tls13": "TLSv1.3", "rsa_kx": "TLSv1.2"}.get(name, "TLSv1.2 TLSv1.3")
            ciphers = f'ssl_ciphers "{CIPHERS[name]}";' if name in CIPHERS else ""
            redirects = "\n".join(f'location = {path} {{ return {code} "{target}"; }}'
                                  for path, (code, target) in self.targets().items())
            big = "\n".join(f"add_header {k} {v};" for k, v in big_fields(BIG_FIELDS))
            huge = "\n".join(f"add_header {k} {v};" for k, v in big_fields(HUGE_FIELDS))
            blocks.append(f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {self.material.crt(name)};
        ssl_certificate_key {self.material.key(name)};
        ssl_protocols {protocols};
        {ciphers}
        root {www};
        if_modified_since exact;
        absolute_redirect off;  # Location as written here, relative ones too
        {redirects}
        location = /nocontent {{ return 204; }}
        location = /close.txt {{ keepalive_timeout 0; }}
        location = /big.txt {{ {big} }}
        location = /huge.txt {{ {huge} }}
        location = /gzip.txt {{ gzip_static always; }}
        location = /chunked.txt {{ gzip_static always; gunzip on; }}
    }}""")
        temp = self.folder / "temp"
        temp.mkdir()
        paths = " ".join(f"{kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = self.folder / "nginx.conf"
        conf.write_text(f"""
daemon off;
master_process off;
pid {self.folder / "nginx.pid"};
error_log {self.folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    types {{ text/plain txt; }}
    charset utf-8;
    large_client_header_buffers 4 16k;
    {paths}
    {"".join(blocks)}
}}
""", encoding="utf-8")
        return [self.binary, "-p", str(self.folder), "-c", str(conf)]


# ---------------------------------------------------------------------------------- Apache

class ApacheServer(RealServer):
    name = "apache"
    binary = "/usr/sbin/apache2"
    # mod_rewrite makes every Location absolute ("//host/x" becomes a path on this host)
    cannot = frozenset({"chunked", "redirect_scheme_relative"})

    def command(self):
        www = self.material.www
        modules = ["mpm_event", "authz_core", "mime", "dir", "alias", "rewrite", "headers", "deflate", "filter",
                   "env", "setenvif", "ssl", "socache_shmcb", "http2"]
        loads = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so" for m in modules)
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        listens = "\n".join(f"Listen 127.0.0.1:{port}" for port in self.ports.values())
        rewrites = "\n".join(f'    RewriteRule ^{path}$ "{target}" [R={code},L,NE]'
                             for path, (code, target) in self.targets().items())
        big = "\n".join(f'    Header set {k} "{v}"' for k, v in big_fields(BIG_FIELDS))
        huge = "\n".join(f'    Header set {k} "{v}"' for k, v in big_fields(HUGE_FIELDS))
        hosts = []
        for name, port in self.ports.items():
            protocol = {"tls12": "-all +TLSv1.2", "tls13": "-all +TLSv1.3", "rsa_kx": "-all +TLSv1.2"}.get(
                name, "-all +TLSv1.2 +TLSv1.3")
            ciphers = f'SSLCipherSuite "{CIPHERS[name]}"' if name in CIPHERS else ""
            protocols = "Protocols h2" if name == "h2_only" else "Protocols http/1.1"
            hosts.append(f"""
<VirtualHost 127.0.0.1:{port}>
    SSLEngine on
    SSLCertificateFile {self.material.crt(name)}
    SSLCertificateKeyFile {self.material.key(name)}
    SSLProtocol {protocol}
    {ciphers}
    {protocols}
    DocumentRoot {www}
    RewriteEngine on
{rewrites}
    RewriteRule ^/nocontent$ - [R=204,L]
</VirtualHost>""")
        conf = self.folder / "apache2.conf"
        conf.write_text(f"""
ServerRoot {self.folder}
ServerName localhost
{loads}
{user}
PidFile {self.folder / "apache2.pid"}
DefaultRuntimeDir {self.folder}
Mutex file:{self.folder} default
ErrorLog {self.folder / "error.log"}
LogLevel warn
TypesConfig /etc/mime.types
AddDefaultCharset utf-8
StartServers 1
ServerLimit 1
ThreadsPerChild 25
MaxRequestWorkers 25
SSLSessionCache shmcb:{self.folder / "ssl_scache"}(512000)
{listens}
<Directory {www}>
    Require all granted
</Directory>
<Files "close.txt">
    SetEnv nokeepalive 1
</Files>
<Files "big.txt">
{big}
</Files>
<Files "huge.txt">
{huge}
</Files>
SetEnvIf Request_URI "^/gzip\\.txt$" force-gzip
<Files "gzip.txt">
    SetOutputFilter DEFLATE
</Files>
{"".join(hosts)}
""", encoding="utf-8")
        return [self.binary, "-f", str(conf), "-DFOREGROUND"]


# ---------------------------------------------------------------------------------- lighttpd

class LighttpdServer(RealServer):
    name = "lighttpd"
    binary = "/usr/sbin/lighttpd"
    cannot = frozenset({"h2_only", "nocontent", "chunked"})  # and its mod_deflate honours identity

    @classmethod
    def available(cls):
        return super().available() and all(os.path.exists(f"/usr/lib/lighttpd/mod_{module}.so")
                                           for module in ("openssl", "deflate"))

    def command(self):
        www = self.material.www
        sockets = []
        for name, port in self.ports.items():
            versions = {"tls12": ("TLSv1.2", "TLSv1.2"), "tls13": ("TLSv1.3", "TLSv1.3"),
                        "rsa_kx": ("TLSv1.2", "TLSv1.2")}.get(name, ("TLSv1.2", "TLSv1.3"))
            ciphers = f', "CipherString" => "{CIPHERS[name]}"' if name in CIPHERS else ""
            sockets.append(f"""
$SERVER["socket"] == "127.0.0.1:{port}" {{
    ssl.engine = "enable"
    ssl.pemfile = "{self.material.crt(name)}"
    ssl.privkey = "{self.material.key(name)}"
    ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "{versions[0]}", "MaxProtocol" => "{versions[1]}"{ciphers})
}}""")
        redirects = "\n".join(f'$HTTP["url"] == "{path}" {{ url.redirect = ("" => "{target}") url.redirect-code = {code} }}'
                              for path, (code, target) in self.targets().items())
        big = ", ".join(f'"{k}" => "{v}"' for k, v in big_fields(BIG_FIELDS))
        huge = ", ".join(f'"{k}" => "{v}"' for k, v in big_fields(HUGE_FIELDS))
        conf = self.folder / "lighttpd.conf"
        good = self.ports.pop("good")
        conf.write_text(f"""
server.modules = ("mod_openssl", "mod_redirect", "mod_setenv", "mod_deflate")
# HTTP/1.1 only, as the others here: lighttpd's HTTP/2 fails a head of about 88 KiB (INTERNAL_ERROR)
server.feature-flags = ("server.h2proto" => "disable")
server.document-root = "{www}"
server.bind = "127.0.0.1"
server.port = {good}
server.errorlog = "{self.folder / "error.log"}"
server.pid-file = "{self.folder / "lighttpd.pid"}"
mimetype.assign = (".txt" => "text/plain; charset=utf-8")
deflate.mimetypes = ("text/")
deflate.allowed-encodings = ("gzip", "deflate")
ssl.engine = "enable"
ssl.pemfile = "{self.material.crt("good")}"
ssl.privkey = "{self.material.key("good")}"
{"".join(sockets)}
{redirects}
$HTTP["url"] == "/close.txt" {{ server.max-keep-alive-requests = 0 }}
$HTTP["url"] == "/big.txt" {{ setenv.add-response-header = ({big}) }}
$HTTP["url"] == "/huge.txt" {{ setenv.add-response-header = ({huge}) }}
""", encoding="utf-8")
        self.ports["good"] = good
        return [self.binary, "-D", "-f", str(conf)]


# ---------------------------------------------------------------------------------- HAProxy

class HAProxyServer(RealServer):
    name = "haproxy"
    binary = "/usr/sbin/haproxy"
    # its buffer (tune.bufsize, 16 KiB) holds no head near 64 KiB; no static files
    # nor loads a certificate that only security level 0 allows (it loads before it reads ciphers)
    cannot = frozenset({"big_head", "huge_head", "gzip", "chunked", "close", "not_modified", "sha1", "rsa1024"})

    def command(self):
        frontends = []
        redirects = "\n".join(f'    http-request redirect location "{target}" code {code} if {{ path {path} }}'
                              for path, (code, target) in self.targets().items())
        for name, port in self.ports.items():
            versions = {"tls12": "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2",
                        "tls13": "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3",
                        "rsa_kx": "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2"}.get(name, "ssl-min-ver TLSv1.2")
            if name in CIPHERS:
                versions += f" ciphers {CIPHERS[name]}"
            alpn = "alpn h2 proto h2" if name == "h2_only" else ""
            frontends.append(f"""
frontend {name}
    bind 127.0.0.1:{port} ssl crt {self.material.pem(name)} {versions} {alpn}
{redirects}
    http-request return status 204 if {{ path /nocontent }}
    http-request return status 200 content-type "text/plain; charset=utf-8" string "service is ok" if {{ path /ok.txt /ok%20file.txt }}
    http-request return status 200 content-type "text/plain; charset=utf-8" string "café ok" if {{ path -i /caf%C3%A9.txt }}
    http-request return status 404
""")
        conf = self.folder / "haproxy.cfg"
        conf.write_text(f"""
global
    maxconn 256
    pidfile {self.folder / "haproxy.pid"}
defaults
    mode http
    timeout client 10s
    timeout connect 5s
    timeout server 10s
{"".join(frontends)}
""", encoding="utf-8")
        return [self.binary, "-db", "-f", str(conf)]


# ---------------------------------------------------------------------------------- Node

NODE_SERVER = r"""
const fs = require('fs'), https = require('https'), http2 = require('http2'), zlib = require('zlib');
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ok = 'service is ok\n';
function handle(req, res) {
  const decoded = decodeURIComponent(req.url);
  const url = decoded === '/café.txt' ? '/caf%C3%A9.txt' : decoded === '/ok file.txt' ? '/ok.txt' : req.url;
  const target = config.targets[url];
  if (target) { res.writeHead(target[0], {Location: target[1]}); return res.end(); }
  if (url === '/ok.txt') { res.writeHead(200, {'Content-Type': 'text/plain'}); return res.end(ok); }
  if (url === '/caf%C3%A9.txt') { res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8'}); return res.end('café ok\n'); }
  if (url === '/nocontent') { res.writeHead(204); return res.end(); }
  if (url === '/close.txt') { res.writeHead(200, {Connection: 'close'}); return res.end(ok); }
  if (url === '/big.txt' || url === '/huge.txt') {
    const count = url === '/big.txt' ? config.big : config.huge;
    for (let i = 0; i < count; i++) res.setHeader('X-Filler-' + String(i).padStart(2, '0'), 'x'.repeat(config.size));
    res.writeHead(200); return res.end(ok);
  }
  if (url === '/gzip.txt') { res.writeHead(200, {'Content-Encoding': 'gzip'}); return res.end(zlib.gzipSync(ok)); }
  if (url === '/deflate.txt') { res.writeHead(200, {'Content-Encoding': 'deflate'}); return res.end(zlib.deflateSync(ok)); }
  if (url === '/rawdeflate.txt') { res.writeHead(200, {'Content-Encoding': 'deflate'}); return res.end(zlib.deflateRawSync(ok)); }
  if (url === '/br.txt') { res.writeHead(200, {'Content-Encoding': 'br'}); return res.end(zlib.brotliCompressSync(ok)); }
  if (url === '/trailer.txt') {
    res.writeHead(200, {Trailer: 'X-Checksum'}); res.write(ok); res.addTrailers({'X-Checksum': 'c0ffee'}); return res.end();
  }
  if (url === '/chunked.txt') { res.writeHead(200); res.write('service '); res.write('is '); return res.end('ok\n'); }
  res.writeHead(404); res.end();
}
for (const [name, spec] of Object.entries(config.ports)) {
  const options = {cert: fs.readFileSync(spec.crt), key: fs.readFileSync(spec.key),
                   minVersion: spec.min, maxVersion: spec.max, maxHeaderSize: 131072};
  if (spec.ciphers) options.ciphers = spec.ciphers;
  const server = name === 'h2_only' ? http2.createSecureServer({...options, allowHTTP1: false}, handle)
                                   : https.createServer(options, handle);
  server.listen(spec.port, '127.0.0.1');
}
"""


class NodeServer(RealServer):
    name = "node"
    binary = "node"
    cannot = frozenset({"not_modified"})

    def command(self):
        import json

        ports = {}
        for name, port in self.ports.items():
            low, high = {"tls12": ("TLSv1.2", "TLSv1.2"), "tls13": ("TLSv1.3", "TLSv1.3"),
                         "rsa_kx": ("TLSv1.2", "TLSv1.2")}.get(name, ("TLSv1.2", "TLSv1.3"))
            ports[name] = {"port": port, "crt": str(self.material.crt(name)), "key": str(self.material.key(name)),
                           "min": low, "max": high}
            if name in CIPHERS:
                ports[name]["ciphers"] = CIPHERS[name]
        # Node writes header strings as Latin-1: the UTF-8 bytes, one character each
        targets = {path: [code, target.encode().decode("latin-1")] for path, (code, target) in self.targets().items()}
        (self.folder / "server.js").write_text(NODE_SERVER, encoding="utf-8")
        (self.folder / "config.json").write_text(json.dumps(
            {"ports": ports, "targets": targets, "big": BIG_FIELDS, "huge": HUGE_FIELDS, "size": FIELD_SIZE}), encoding="utf-8")
        return [shutil.which(self.binary), str(self.folder / "server.js"), str(self.folder / "config.json")]


# ---------------------------------------------------------------------------------- Python

class PythonServer(RealServer):
    """Python's http.server (SimpleHTTPRequestHandler, HTTP/1.1) behind ssl, in threads of the
    test process."""

    name = "python"
    binary = None
    cannot = frozenset({"h2_only", "gzip", "chunked"})

    def start(self):
        www, targets = str(self.material.www), self.targets()

        class Handler(SimpleHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=www, **kwargs)

            def log_message(self, *args):
                pass

            def send_head(self):
                path = self.path.split("?")[0]
                self.fillers = []
                if path in targets:
                    code, target = targets[path]
                    self.send_response(code)
                    # http.server writes header values as Latin-1: the UTF-8 bytes go as they are
                    self.send_header("Location", target.encode().decode("latin-1"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if path == "/nocontent":
                    self.send_response(204)
                    self.end_headers()
                    return None
                if path == "/close.txt":
                    self.close_connection = True
                if path in ("/big.txt", "/huge.txt"):
                    self.fillers = big_fields(BIG_FIELDS if path == "/big.txt" else HUGE_FIELDS)
                return super().send_head()

            def end_headers(self):
                for field, value in getattr(self, "fillers", ()):
                    self.send_header(field, value)
                if self.close_connection:
                    self.send_header("Connection", "close")
                super().end_headers()

        self.httpds = []
        try:
            self._serve(Handler)
        except Exception:
            self.stop()
            raise
        return self

    def _serve(self, handler):
        for name, port in self.ports.items():
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            if name in CIPHERS:  # before the certificate: its security level applies to the load
                context.set_ciphers(CIPHERS[name])
            context.load_cert_chain(self.material.crt(name), self.material.key(name))
            if name in ("tls12", "rsa_kx"):
                context.maximum_version = ssl.TLSVersion.TLSv1_2
            if name == "tls13":
                context.minimum_version = ssl.TLSVersion.TLSv1_3
            httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
            httpd.daemon_threads = True
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            self.httpds.append(httpd)
        _wait_listening(None, self.ports.values(), self.name)

    def stop(self):
        for httpd in getattr(self, "httpds", ()):
            httpd.shutdown()
            httpd.server_close()


SERVERS = {cls.name: cls for cls in (NginxServer, ApacheServer, LighttpdServer, HAProxyServer, NodeServer, PythonServer)}

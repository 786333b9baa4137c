"""Shared pieces of the benchmarks: a throw-away CA and server certificate, free ports, process
CPU from /proc, percentiles, a machine line, and a tear-down that runs even on Ctrl-C.

Everything lives in one temporary directory and only ever listens on 127.0.0.0/8.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The benchmarks measure the probe of this checkout, whatever other probe is installed: its root
# comes first on the path, here and in every Python process they start (`python -m probe`).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, ROOT)  # after the benchmarks' own directory
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (ROOT, os.environ.get("PYTHONPATH"))))


def need(tools: dict[str, str]) -> dict[str, str]:
    """{executable name or alternatives 'a|b': Debian package} -> {name: path}; exit if missing."""
    found, missing = {}, []
    for names, package in tools.items():
        path = next((shutil.which(n) for n in names.split("|") if shutil.which(n)), None)
        if path is None:
            missing.append(package)
        found[names.split("|")[0]] = path
    if missing:
        sys.exit(
            f"{os.path.basename(sys.argv[0])}: missing tools; install them with\n"
            f"  apt-get install {' '.join(sorted(set(missing)))}"
        )
    return found


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_certs(directory: str, addresses: list[str], server_key: str = "rsa:2048") -> dict[str, str]:
    """A CA and a server certificate for the given IP addresses and localhost, made with the
    openssl command. server_key "rsa:2048" (the most common kind on the web) or "ec" (P-256,
    about 30 times cheaper to sign with: a light server). Returns the file paths."""
    p = {name: os.path.join(directory, name) for name in ("ca.key", "ca.pem", "server.key", "server.csr",
                                                           "server.pem", "ext.cnf")}
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p["ca.key"], "-out", p["ca.pem"],
         "-days", "30", "-subj", "/O=probe bench/CN=probe bench CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if server_key == "ec" else ["-newkey", server_key]
    run(["openssl", "req", *newkey, "-nodes", "-keyout", p["server.key"], "-out", p["server.csr"],
         "-subj", "/O=probe bench/CN=probe bench server"])
    sans = ",".join([f"IP:{a}" for a in addresses] + ["DNS:localhost"])
    with open(p["ext.cnf"], "w") as f:
        usage = "digitalSignature" if server_key == "ec" else "digitalSignature,keyEncipherment"
        f.write(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,{usage}\n"
                "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n")
    run(["openssl", "x509", "-req", "-in", p["server.csr"], "-CA", p["ca.pem"], "-CAkey", p["ca.key"],
         "-CAcreateserial", "-out", p["server.pem"], "-days", "30", "-extfile", p["ext.cnf"]])
    return {"ca": p["ca.pem"], "cert": p["server.pem"], "key": p["server.key"]}


def free_port(addresses: list[str]) -> int:
    """A TCP port free on every one of the addresses."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((addresses[0], 0))
            port = s.getsockname()[1]
        try:
            for address in addresses[1:]:
                with socket.socket() as s:
                    s.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def wait_listening(address: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {address}:{port}") from None
            time.sleep(0.05)


def proc_cpu(pid: int) -> float:
    """utime + stime of one process, in seconds (its reaped children not included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_pids(pid: int) -> list[int]:
    """The process and its descendants, now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            total += proc_cpu(p)
    return total


def cpu_ticks() -> list[int]:
    """The machine's CPU time so far, from /proc/stat: user, nice, system, idle, iowait, irq,
    softirq, steal (clock ticks, all CPUs)."""
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:9]]


def machine_load(before: list[int], after: list[int]) -> str:
    """How busy the machine was between two cpu_ticks() readings, and how much time the
    hypervisor gave to others (steal): a run with steal is not comparable with a quiet one."""
    spent = [b - a for a, b in zip(before, after)]
    total = sum(spent) or 1
    busy = total - spent[3] - spent[4] - spent[7]
    return f"machine busy {100 * busy / total:.0f} %, steal {100 * spent[7] / total:.1f} % (all CPUs)"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} CPUs ({model}); "
            f"Linux {platform.release()}; Python {platform.python_version()}")


class Lab(contextlib.ExitStack):
    """A temporary directory plus every process started in it, all stopped on exit (also on
    Ctrl-C and SIGTERM: SIGTERM is turned into KeyboardInterrupt while the lab is open)."""

    def __enter__(self):
        super().__enter__()
        self.dir = tempfile.mkdtemp(prefix="probe-bench-")
        self.callback(shutil.rmtree, self.dir, True)
        self._processes: list[subprocess.Popen] = []
        self.callback(self._stop_all)
        previous = signal.signal(signal.SIGTERM, _sigterm)
        self.callback(signal.signal, signal.SIGTERM, previous)
        return self

    def start(self, cmd: list[str], **kw) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", open(os.path.join(self.dir, os.path.basename(cmd[0]) + ".log"), "ab"))
        proc = subprocess.Popen(cmd, start_new_session=True, **kw)
        self._processes.append(proc)
        return proc

    def _stop_all(self):
        for proc in reversed(self._processes):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self._processes):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _sigterm(signum, frame):
    raise KeyboardInterrupt

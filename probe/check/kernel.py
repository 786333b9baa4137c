"""The kernel's stamps: when each read's data reached this host (SO_TIMESTAMPNS), and when the
connection was made (TCP_INFO), so that a busy event loop does not lengthen the timings."""

from __future__ import annotations

import platform
import socket
import struct
import sys
import time

_LINUX = sys.platform == "linux"


# <asm-generic/socket.h>: each read carries its data's arrival time. SPARC and PA-RISC number it
# otherwise (0x42, 0x4038): there, reads are timed when they are made.
SO_TIMESTAMPNS_NEW = 64 if not platform.machine().startswith(("sparc", "parisc")) else None


_STAMP = struct.Struct("qq")  # struct __kernel_timespec: seconds, nanoseconds (CLOCK_REALTIME)


_ANCILLARY_SIZE = socket.CMSG_SPACE(_STAMP.size) if _LINUX else 0


# struct tcp_info (<linux/tcp.h>): tcpi_rtt (µs) at byte 68, tcpi_total_retrans at byte 100
_TCP_INFO = struct.Struct("=68xI28xI")


def _arrival(ancillary: list, now: float) -> float:
    """When the data of a read arrived, on the perf_counter clock: the kernel's stamp if the read
    carries one, else `now`. The stamp is on the wall clock: one that is not in the past (the
    clock set back meanwhile) is not trusted."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS_NEW and len(data) >= _STAMP.size:
            seconds, nanoseconds = _STAMP.unpack_from(data)
            waited = time.time() - seconds - nanoseconds / 1e9
            if waited > 0.0:
                return now - waited
    return now


def _connect_wait(sock: socket.socket, elapsed: float) -> float:
    """How long a connection made `elapsed` seconds after it was begun waited for the prober to
    notice: all but the round trip the kernel measured from SYN to SYN-ACK. Nothing (0) if the
    SYN had to be sent again (the round trip is then the last attempt's) or the kernel does not
    say: the connect phase is then what the clock says."""
    if not _LINUX:
        return 0.0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size)
    except OSError:
        return 0.0
    if len(info) < _TCP_INFO.size:
        return 0.0
    rtt_us, total_retrans = _TCP_INFO.unpack_from(info)
    if total_retrans or not rtt_us:
        return 0.0
    return max(0.0, elapsed - rtt_us / 1e6)


def _stamp_arrivals(sock: socket.socket) -> None:
    """Ask the kernel to tell, with each read, when its data arrived (Linux 5.1 and later)."""
    if _LINUX and SO_TIMESTAMPNS_NEW is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS_NEW, 1)
        except OSError:
            pass  # an older kernel: reads are timed when they are made

"""One daemon per database: a lock on a file beside it, which the kernel releases when its
holder dies (so a kill -9 never blocks the next start). The file names the holder."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time

from probe.result import iso_utc


class DatabaseInUse(Exception):
    """Another daemon holds the database; the message names it."""


def lock_path(database: str | os.PathLike) -> str:
    return os.path.realpath(database) + ".lock"


class DaemonLock:
    def __init__(self, database: str | os.PathLike):
        self.database = str(database)
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DatabaseInUse; OSError if the file cannot be made."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 4096, 0))
            os.close(fd)
            raise DatabaseInUse(
                f"{self.database}: another probe daemon is running on it ({holder}); stop it first"
            ) from None
        except OSError:
            os.close(fd)
            raise
        mine = {"pid": os.getpid(), "host": socket.gethostname(), "since": iso_utc(time.time())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(mine).encode() + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        # The file stays: removing it would let a third daemon lock a new file while a second
        # one still waits on the old.
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None


def _describe(content: bytes) -> str:
    try:
        holder = json.loads(content)
        return f"pid {int(holder['pid'])} on {holder['host']}, since {holder['since']}"
    except (ValueError, KeyError, TypeError):
        return "pid unknown"

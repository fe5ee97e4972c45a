"""A small FUSE file server that speaks the kernel protocol over /dev/fuse itself (no libfuse, no third-party code).

rshim-user-space presents /dev/rshimN/{boot,misc,console} as CUSE character devices: every open, read, write and
close goes to the rshim daemon, which can refuse an open with an errno, generate the text of a read on the fly and
make a write wait. A plain FUSE mount gives the simulator the same power over ordinary files, so clients use the
very same system calls as against the real device. Only the subset a flat directory of device-like files needs is
implemented (protocol 7.31, see linux/include/uapi/linux/fuse.h):

- files are regular files of size 0 opened with FOPEN_DIRECT_IO, so every read and write reaches the server;
- offsets are passed through, but the rshim model ignores them like CUSE does (the kernel always hands CUSE 0);
- a handler may defer its reply (return ``DEFERRED``) and answer later from another thread, and learns about a
  caller's signal through ``Request.on_interrupt`` (FUSE_INTERRUPT).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import selectors
import stat
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Opcodes (enum fuse_opcode).
LOOKUP = 1
FORGET = 2
GETATTR = 3
SETATTR = 4
MKNOD = 8
MKDIR = 9
UNLINK = 10
RMDIR = 11
RENAME = 12
LINK = 13
OPEN = 14
READ = 15
WRITE = 16
STATFS = 17
RELEASE = 18
FSYNC = 20
FLUSH = 25
INIT = 26
OPENDIR = 27
READDIR = 28
RELEASEDIR = 29
FSYNCDIR = 30
ACCESS = 34
CREATE = 35
INTERRUPT = 36
DESTROY = 38
BATCH_FORGET = 42
RENAME2 = 45

NO_REPLY_OPCODES = {FORGET, BATCH_FORGET, INTERRUPT}
READ_ONLY_TREE_OPCODES = {MKNOD, MKDIR, UNLINK, RMDIR, RENAME, LINK, CREATE, RENAME2}

# INIT flags and open reply flags.
FUSE_ATOMIC_O_TRUNC = 1 << 3
FUSE_BIG_WRITES = 1 << 5
FUSE_MAX_PAGES = 1 << 22
FOPEN_DIRECT_IO = 1 << 0
FOPEN_NONSEEKABLE = 1 << 2

PROTOCOL_MAJOR = 7
PROTOCOL_MINOR = 31
MAX_PAGES = 32
MAX_WRITE = MAX_PAGES * 4096

IN_HEADER = struct.Struct("<IIQQIIIHH")
OUT_HEADER = struct.Struct("<IiQ")
INIT_IN = struct.Struct("<IIII")
INIT_OUT = struct.Struct("<IIIIHHIIHHIIH22x")
ATTR = struct.Struct("<QQQQQQIIIIIIIIII")
ENTRY_OUT = struct.Struct("<QQQQII")
ATTR_OUT = struct.Struct("<QII")
OPEN_IN = struct.Struct("<II")
OPEN_OUT = struct.Struct("<QIi")
READ_IN = struct.Struct("<QQIIQII")
WRITE_IN = struct.Struct("<QQIIQII")
WRITE_OUT = struct.Struct("<II")
RELEASE_IN = struct.Struct("<QIIQ")
INTERRUPT_IN = struct.Struct("<Q")
DIRENT = struct.Struct("<QQII")
STATFS_OUT = struct.Struct("<QQQQQIIII24x")

ROOT_INO = 1
MS_NOSUID = 2
MS_NODEV = 4
MNT_DETACH = 2
READ_BUFFER = MAX_WRITE + 64 * 1024


class Deferred:
    """Marker returned by a handler that will reply later through its Request."""


DEFERRED = Deferred()


class Request:
    """One kernel request; replies exactly once, possibly from another thread."""

    def __init__(self, server: FuseServer, unique: int, opcode: int, nodeid: int, pid: int) -> None:
        self.server = server
        self.unique = unique
        self.opcode = opcode
        self.nodeid = nodeid
        self.pid = pid
        self.interrupted = False
        self.on_interrupt: Callable[[Request], None] | None = None
        self._answered = False
        self._lock = threading.Lock()

    def reply(self, payload: bytes = b"") -> None:
        self._send(0, payload)

    def fail(self, error: int) -> None:
        self._send(-error, b"")

    def reply_written(self, count: int) -> None:
        self.reply(WRITE_OUT.pack(count, 0))

    @property
    def answered(self) -> bool:
        return self._answered

    def _send(self, error: int, payload: bytes) -> None:
        with self._lock:
            if self._answered:
                return
            self._answered = True
        self.server.send_reply(self.unique, error, payload)


@dataclass(frozen=True)
class FileEntry:
    """A file of the flat directory: its inode number and permission bits."""

    ino: int
    name: str
    mode: int = 0o600


class FileHandlers(Protocol):
    """What the served directory does on open/read/write/release (errors as OSError(errno))."""

    def open(self, ino: int, flags: int, request: Request) -> int: ...

    def read(self, ino: int, handle: int, offset: int, size: int, request: Request) -> bytes | Deferred: ...

    def write(self, ino: int, handle: int, offset: int, data: bytes, request: Request) -> int | Deferred: ...

    def release(self, ino: int, handle: int) -> None: ...


class MountError(RuntimeError):
    """The directory could not be mounted (no /dev/fuse, no privilege, ...)."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def mount_fuse(mountpoint: str, fs_name: str) -> int:
    """Mount a FUSE file system on mountpoint; return the /dev/fuse descriptor that serves it."""
    try:
        fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise MountError(f"cannot open /dev/fuse: {exc.strerror}") from exc
    options = f"fd={fd},rootmode=40000,user_id={os.getuid()},group_id={os.getgid()},allow_other,default_permissions"
    result = _libc().mount(fs_name.encode(), mountpoint.encode(), f"fuse.{fs_name}".encode(), ctypes.c_ulong(MS_NOSUID | MS_NODEV), options.encode())
    if result != 0:
        error = ctypes.get_errno()
        os.close(fd)
        raise MountError(f"mount of {mountpoint} failed: {os.strerror(error)}")
    return fd


def unmount_fuse(mountpoint: str) -> bool:
    """Lazily unmount mountpoint; True when something was unmounted."""
    return bool(_libc().umount2(mountpoint.encode(), MNT_DETACH) == 0)


class FuseServer:
    """Serves one flat directory of FileEntry files through FileHandlers until stop()."""

    def __init__(self, mountpoint: str, entries: list[FileEntry], handlers: FileHandlers, fs_name: str = "rshim-sim") -> None:
        self.mountpoint = mountpoint
        self.entries = {entry.name: entry for entry in entries}
        self.by_ino = {entry.ino: entry for entry in entries}
        self.handlers = handlers
        self.fs_name = fs_name
        self.initialized = threading.Event()
        self._fd = -1
        self._fd_lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()
        self._pending: dict[int, Request] = {}
        self._pending_lock = threading.Lock()
        self._started = time.time()

    def mount(self) -> None:
        self._fd = mount_fuse(self.mountpoint, self.fs_name)

    def serve_forever(self) -> None:
        """Answer requests until stop() is called or the file system goes away."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                ready = {key.fd for key, _mask in selector.select()}
                if self._wake_read in ready:
                    return
                if not self._read_and_dispatch():
                    return

    def stop(self) -> None:
        """Make serve_forever() return (safe from signal handlers and other threads)."""
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    def close(self) -> None:
        """Unmount and drop the connection; clients still inside the directory get ENOTCONN."""
        unmount_fuse(self.mountpoint)
        with self._fd_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
        for descriptor in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(descriptor)

    def send_reply(self, unique: int, error: int, payload: bytes) -> None:
        with self._pending_lock:
            self._pending.pop(unique, None)
        message = OUT_HEADER.pack(OUT_HEADER.size + len(payload), error, unique) + payload
        with self._fd_lock:
            if self._fd < 0:
                return
            with contextlib.suppress(OSError):  # ENOENT: the caller gave up (interrupted) meanwhile
                os.write(self._fd, message)

    def _read_and_dispatch(self) -> bool:
        try:
            data = os.read(self._fd, READ_BUFFER)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR, errno.ENOENT):
                return True
            if exc.errno == errno.ENODEV:
                return False
            raise
        length, opcode, unique, nodeid, _uid, _gid, pid, _extlen, _pad = (int(value) for value in IN_HEADER.unpack_from(data))
        body = data[IN_HEADER.size : length]
        request = Request(self, unique, opcode, nodeid, pid)
        try:
            self._dispatch(request, body)
        except OSError as exc:
            if opcode not in NO_REPLY_OPCODES:
                request.fail(exc.errno or errno.EIO)
        return opcode != DESTROY

    def _dispatch(self, request: Request, body: bytes) -> None:
        handler = {
            INIT: self._init,
            LOOKUP: self._lookup,
            GETATTR: self._getattr,
            SETATTR: self._getattr,
            OPEN: self._open,
            READ: self._read,
            WRITE: self._write,
            RELEASE: self._release,
            OPENDIR: self._opendir,
            READDIR: self._readdir,
            STATFS: self._statfs,
            INTERRUPT: self._interrupt,
        }.get(request.opcode)
        if handler is not None:
            handler(request, body)
        elif request.opcode in (FLUSH, FSYNC, FSYNCDIR, RELEASEDIR, ACCESS, DESTROY):
            request.reply()
        elif request.opcode in READ_ONLY_TREE_OPCODES:
            request.fail(errno.EPERM)
        elif request.opcode not in NO_REPLY_OPCODES:
            request.fail(errno.ENOSYS)

    def _init(self, request: Request, body: bytes) -> None:
        _major, _minor, max_readahead, offered = INIT_IN.unpack_from(body)
        wanted = FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_MAX_PAGES
        reply = INIT_OUT.pack(PROTOCOL_MAJOR, PROTOCOL_MINOR, max_readahead, offered & wanted, 16, 12, MAX_WRITE, 1, MAX_PAGES, 0, 0, 0, 0)
        request.reply(reply)
        self.initialized.set()

    def _attr(self, ino: int) -> bytes:
        if ino == ROOT_INO:
            mode, nlink = stat.S_IFDIR | 0o755, 2
        elif ino in self.by_ino:
            mode, nlink = stat.S_IFREG | self.by_ino[ino].mode, 1
        else:
            raise OSError(errno.ENOENT, "no such inode")
        now = int(self._started)
        return ATTR.pack(ino, 0, 0, now, now, now, 0, 0, 0, mode, nlink, 0, 0, 0, 4096, 0)

    def _lookup(self, request: Request, body: bytes) -> None:
        name = body.split(b"\0", 1)[0].decode(errors="replace")
        entry = self.entries.get(name) if request.nodeid == ROOT_INO else None
        if entry is None:
            request.fail(errno.ENOENT)
            return
        request.reply(ENTRY_OUT.pack(entry.ino, 0, 1, 0, 0, 0) + self._attr(entry.ino))

    def _getattr(self, request: Request, _body: bytes) -> None:
        request.reply(ATTR_OUT.pack(0, 0, 0) + self._attr(request.nodeid))

    def _open(self, request: Request, body: bytes) -> None:
        flags, _open_flags = OPEN_IN.unpack_from(body)
        if request.nodeid not in self.by_ino:
            request.fail(errno.EISDIR if request.nodeid == ROOT_INO else errno.ENOENT)
            return
        handle = self.handlers.open(request.nodeid, flags, request)
        request.reply(OPEN_OUT.pack(handle, FOPEN_DIRECT_IO | FOPEN_NONSEEKABLE, 0))

    def _read(self, request: Request, body: bytes) -> None:
        handle, offset, size, *_rest = READ_IN.unpack_from(body)
        self._track(request)
        result = self.handlers.read(request.nodeid, handle, offset, size, request)
        if not isinstance(result, Deferred):
            request.reply(result[:size])

    def _write(self, request: Request, body: bytes) -> None:
        handle, offset, size, *_rest = WRITE_IN.unpack_from(body)
        data = body[WRITE_IN.size : WRITE_IN.size + size]
        self._track(request)
        result = self.handlers.write(request.nodeid, handle, offset, data, request)
        if not isinstance(result, Deferred):
            request.reply_written(result)

    def _release(self, request: Request, body: bytes) -> None:
        handle, *_rest = RELEASE_IN.unpack_from(body)
        self.handlers.release(request.nodeid, handle)
        request.reply()

    def _opendir(self, request: Request, _body: bytes) -> None:
        request.reply(OPEN_OUT.pack(0, 0, 0))

    def _readdir(self, request: Request, body: bytes) -> None:
        _handle, offset, size, *_rest = READ_IN.unpack_from(body)
        names = [(ROOT_INO, ".", stat.S_IFDIR), (ROOT_INO, "..", stat.S_IFDIR)]
        names += [(entry.ino, entry.name, stat.S_IFREG) for entry in self.entries.values()]
        payload = b""
        for index, (ino, name, kind) in enumerate(names):
            if index < offset:
                continue
            encoded = name.encode()
            record = DIRENT.pack(ino, index + 1, len(encoded), kind >> 12) + encoded
            record += b"\0" * (-len(record) % 8)
            if len(payload) + len(record) > size:
                break
            payload += record
        request.reply(payload)

    def _statfs(self, request: Request, _body: bytes) -> None:
        request.reply(STATFS_OUT.pack(0, 0, 0, len(self.entries), 0, 4096, 255, 4096, 0))

    def _track(self, request: Request) -> None:
        with self._pending_lock:
            self._pending[request.unique] = request

    def _interrupt(self, _request: Request, body: bytes) -> None:
        (unique,) = INTERRUPT_IN.unpack_from(body)
        with self._pending_lock:
            target = self._pending.get(unique)
        if target is None:
            return
        target.interrupted = True
        if target.on_interrupt is not None:
            target.on_interrupt(target)

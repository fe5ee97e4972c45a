"""A pexpect-like driver for a QEMU serial console on a unix socket (standard library only).

A reader thread appends everything the guest writes to a buffer (and to a log file); `expect` waits,
with a bounded timeout, for a pattern in what arrived since the last match. `run` executes one shell
command after login and returns its exit status and output, delimited by markers the command's own
echo cannot produce. `attach` connects a terminal to a guest's console (``python -m lab console HOST``).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import select
import socket
import sys
import termios
import threading
import time
import tty
import uuid
from pathlib import Path
from types import TracebackType

ANSI_ESCAPE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


class ConsoleTimeoutError(AssertionError):
    """The pattern did not arrive in time; the message carries the console's last output."""


class SerialConsole:
    """One connection to a QEMU `-serial unix:PATH,server=on` socket."""

    def __init__(self, path: Path, log: Path, *, connect_timeout: float = 30) -> None:
        self.path = path
        self.log_path = log
        self._text = ""  # what arrived, decoded, without terminal escapes and carriage returns
        self._cursor = 0  # start of what `expect` has not consumed yet
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Condition()
        self._closed = False
        self._sock = self._connect(connect_timeout)
        self._log = log.open("ab")
        self._reader = threading.Thread(target=self._read_forever, name=f"console-{path.name}", daemon=True)
        self._reader.start()

    def _connect(self, timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(self.path))
                return sock
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _read_forever(self) -> None:
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            with self._lock:
                if not data:
                    self._closed = True
                    self._lock.notify_all()
                    return
                self._text += self._decoder.decode(ANSI_ESCAPE.sub(b"", data))
                self._lock.notify_all()
            self._log.write(data)
            self._log.flush()

    def __enter__(self) -> SerialConsole:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._reader.join(timeout=5)
        self._log.close()

    # ---- reading ---------------------------------------------------------------------------
    def text(self) -> str:
        """Everything received so far."""
        with self._lock:
            return self._text

    def tail(self, chars: int = 1500) -> str:
        return self.text()[-chars:]

    def expect(self, pattern: str, timeout: float) -> re.Match[str]:
        """Wait for `pattern` (a regex; ^ and $ match at lines) in the output after the previous match; return the match."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                match = regex.search(self._text, self._cursor)
                if match:
                    self._cursor = match.end()
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    why = "the console closed" if self._closed else f"{timeout:.0f} s"
                    raise ConsoleTimeoutError(f"{self.path.name}: no /{pattern}/ after {why}; last output:\n{self._text[-1500:]}")
                self._lock.wait(min(remaining, 1.0))

    # ---- writing ---------------------------------------------------------------------------
    def send(self, text: str) -> None:
        self._sock.sendall(text.encode())

    def send_line(self, text: str) -> None:
        self.send(text + "\r")

    # ---- a shell on the console --------------------------------------------------------------
    def login(self, user: str, password: str, *, hostname: str, timeout: float) -> None:
        """Wait for `HOSTNAME login:`, log in, and make the shell quiet and script-friendly."""
        self.expect(rf"{re.escape(hostname)} login:", timeout)
        self.send_line(user)
        # not anchored at the line's end: kernel messages (late module loads) may follow a prompt on its line
        self.expect(r"Password: ?", 60)
        self.send_line(password)
        self.expect(rf"{re.escape(user)}@{re.escape(hostname)}:[^\n]*[#$] ?", 120)
        # no echo, no prompt, no bracketed paste, no kernel messages over our output
        self.send_line("stty -echo; bind 'set enable-bracketed-paste off' 2>/dev/null; PS1=''; PROMPT_COMMAND=''; dmesg -n 1")
        self.run("true", timeout=30)

    def run(self, command: str, *, timeout: float = 60) -> tuple[int, str]:
        """Run `command` in the logged-in shell; return (exit status, output)."""
        tag = uuid.uuid4().hex[:10]
        self.send_line(f"printf '\\n__B_%s__\\n' {tag}; {command}\nprintf '\\n__E_%s_%s__\\n' {tag} $?")
        match = self.expect(rf"(?s)__B_{tag}__\n(?P<out>.*?)\n?__E_{tag}_(?P<rc>\d+)__", timeout)
        return int(match.group("rc")), match.group("out").strip("\n")

    def check(self, command: str, *, timeout: float = 60) -> str:
        """Run `command`; fail with its output unless it exits 0."""
        status, output = self.run(command, timeout=timeout)
        if status != 0:
            raise AssertionError(f"{self.path.name}: `{command}` exited {status}:\n{output}")
        return output


def attach(path: Path, name: str) -> int:
    """Attach this terminal to the console socket at PATH, raw, until Ctrl-] or the guest closes it."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(path))
    print(f"connected to {name}; Ctrl-] leaves", flush=True)
    saved = termios.tcgetattr(sys.stdin) if sys.stdin.isatty() else None
    try:
        if saved is not None:
            tty.setraw(sys.stdin)
        sock.sendall(b"\r")
        while True:
            readable = select.select([sys.stdin, sock], [], [])[0]
            if sock in readable:
                data = sock.recv(4096)
                if not data:
                    return 0
                os.write(sys.stdout.fileno(), data)
            if sys.stdin in readable:
                data = os.read(sys.stdin.fileno(), 1024)
                if not data or b"\x1d" in data:
                    return 0
                sock.sendall(data)
    finally:
        if saved is not None:
            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, saved)
        sock.close()

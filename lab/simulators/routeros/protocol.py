"""RouterOS API wire format: length-prefixed words grouped into sentences ended by an empty word.

Length prefixes (big-endian), per MikroTik's API manual:
    < 0x80        1 byte   len
    < 0x4000      2 bytes  len | 0x8000
    < 0x200000    3 bytes  len | 0xC00000
    < 0x10000000  4 bytes  len | 0xE0000000
    otherwise     5 bytes  0xF0 followed by len as 4 bytes
A first byte >= 0xF8 is a reserved control byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

ENCODING = "utf-8"
ERRORS = "surrogateescape"  # round-trips bytes that are not UTF-8
RESERVED_CONTROL_BYTE = 0xF8
MAX_LENGTH = 0xFFFFFFFF


class ProtocolError(Exception):
    """The peer sent something that is not a valid API stream."""


class ReservedControlByteError(ProtocolError):
    """A length prefix started with a reserved control byte (>= 0xF8)."""


class ConnectionClosedError(ProtocolError):
    """The peer closed the connection in the middle of a sentence (or before one)."""


def encode_length(length: int) -> bytes:
    if length < 0 or length > MAX_LENGTH:
        raise ValueError(f"word length {length} cannot be encoded")
    if length < 0x80:
        return length.to_bytes(1, "big")
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + length.to_bytes(4, "big")


def prefix_size(first_byte: int) -> int:
    """Total size of a length prefix given its first byte."""
    if first_byte >= RESERVED_CONTROL_BYTE:
        raise ReservedControlByteError(f"reserved control byte 0x{first_byte:02X}")
    if first_byte < 0x80:
        return 1
    if first_byte < 0xC0:
        return 2
    if first_byte < 0xE0:
        return 3
    if first_byte < 0xF0:
        return 4
    return 5


def decode_length(prefix: bytes) -> int:
    """Decode a complete length prefix (as many bytes as prefix_size() says)."""
    size = prefix_size(prefix[0])
    if len(prefix) != size:
        raise ProtocolError(f"length prefix needs {size} bytes, got {len(prefix)}")
    if size == 5:
        return int.from_bytes(prefix[1:], "big")
    masks = {1: 0x00, 2: 0x8000, 3: 0xC00000, 4: 0xE0000000}
    return int.from_bytes(prefix, "big") ^ masks[size]


def encode_word(word: str) -> bytes:
    data = word.encode(ENCODING, ERRORS)
    return encode_length(len(data)) + data


def encode_sentence(words: Iterable[str]) -> bytes:
    return b"".join(encode_word(word) for word in words) + b"\x00"


class SentenceReader:
    """Reads sentences from a ``recv(n) -> bytes`` callable (a socket's recv)."""

    def __init__(self, recv: Callable[[int], bytes]) -> None:
        self._recv = recv
        self._buffer = bytearray()

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self._recv(max(4096, size - len(self._buffer)))
            if not chunk:
                raise ConnectionClosedError("connection closed by peer")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read_word(self) -> str:
        first = self._read_exactly(1)
        prefix = first + self._read_exactly(prefix_size(first[0]) - 1)
        return self._read_exactly(decode_length(prefix)).decode(ENCODING, ERRORS)

    def read_sentence(self) -> list[str]:
        """The next non-empty sentence (empty sentences are ignored, as the manual says)."""
        while True:
            words: list[str] = []
            while (word := self.read_word()) != "":
                words.append(word)
            if words:
                return words

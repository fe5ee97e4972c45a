"""Word length encoding and sentence framing, checked against the table in MikroTik's API manual."""

from __future__ import annotations

import pytest

from lab.simulators.routeros.protocol import (
    ConnectionClosedError,
    ReservedControlByteError,
    SentenceReader,
    decode_length,
    encode_length,
    encode_sentence,
    encode_word,
    prefix_size,
)

# (length, encoding) at both ends of each of the five forms in the manual's table.
BOUNDARIES = [
    (0x00, b"\x00"),
    (0x7F, b"\x7f"),
    (0x80, b"\x80\x80"),
    (0x3FFF, b"\xbf\xff"),
    (0x4000, b"\xc0\x40\x00"),
    (0x1FFFFF, b"\xdf\xff\xff"),
    (0x200000, b"\xe0\x20\x00\x00"),
    (0xFFFFFFF, b"\xef\xff\xff\xff"),
    (0x10000000, b"\xf0\x10\x00\x00\x00"),
    (0xFFFFFFFF, b"\xf0\xff\xff\xff\xff"),
]


@pytest.mark.parametrize(("length", "encoded"), BOUNDARIES)
def test_length_encoding_matches_the_manual(length: int, encoded: bytes) -> None:
    assert encode_length(length) == encoded
    assert prefix_size(encoded[0]) == len(encoded)
    assert decode_length(encoded) == length


@pytest.mark.parametrize("first_byte", range(0xF8, 0x100))
def test_first_byte_from_0xf8_is_a_reserved_control_byte(first_byte: int) -> None:
    with pytest.raises(ReservedControlByteError):
        prefix_size(first_byte)


def test_lengths_beyond_four_bytes_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="cannot be encoded"):
        encode_length(0x100000000)


def chunked(data: bytes, size: int) -> SentenceReader:
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return SentenceReader(lambda _n: chunks.pop(0) if chunks else b"")


def test_sentence_round_trip_with_values_holding_equal_signs_and_long_words() -> None:
    words = ["/ip/address/add", "=address=10.0.0.1/24", "=comment=a=b=c", "=empty=", "=long=" + "x" * 0x4000]
    data = encode_sentence(words)
    assert data.endswith(b"\x00")
    assert chunked(data, 7).read_sentence() == words


def test_word_encoding_is_length_then_bytes() -> None:
    assert encode_word("/login") == b"\x06/login"
    assert encode_word("") == b"\x00"


def test_empty_sentences_are_skipped() -> None:
    data = b"\x00\x00" + encode_sentence(["/system/resource/print"])
    assert chunked(data, 3).read_sentence() == ["/system/resource/print"]


def test_reader_reports_a_closed_connection_mid_sentence() -> None:
    data = encode_sentence(["/interface/print"])[:-1]
    reader = chunked(data, 100)
    with pytest.raises(ConnectionClosedError):
        reader.read_sentence()


def test_reader_rejects_a_reserved_control_byte() -> None:
    with pytest.raises(ReservedControlByteError):
        chunked(b"\xf8\x00", 10).read_sentence()

"""Tests for tlsdoc.records: cutting a direction's stream into records."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdoc.errors import DecodeError, TruncatedError
from tlsdoc.records import (
    MAX_FRAGMENT_LENGTH,
    is_sslv2_client_hello,
    looks_like_tls,
    parse_records,
)
from tlsdoc.registry import ContentType, ProtocolVersion
from tlsdoc.wire import Direction

C2S = Direction.CLIENT_TO_SERVER


def rec(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    """A record built by hand: type, version, 2-byte length, fragment."""
    return bytes([content_type]) + version.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def frames_every_100(start: int, end: int) -> tuple[int, ...]:
    """Pretend every 100 stream bytes came in one frame, numbered from 1."""
    if end <= start:
        return ()
    return tuple(range(start // 100 + 1, (end - 1) // 100 + 2))


def test_several_records():
    data = rec(22, b"\x01" * 10, 0x0301) + rec(20, b"\x01") + rec(23, b"x" * 300)
    stream = parse_records(data, C2S)
    assert [r.content_type for r in stream.records] == [
        ContentType.handshake,
        ContentType.change_cipher_spec,
        ContentType.application_data,
    ]
    first, ccs, app = stream.records
    assert first.legacy_version is ProtocolVersion.TLS_1_0
    assert (first.index, first.length, first.fragment) == (0, 10, b"\x01" * 10)
    assert (first.span.start, first.span.end) == (0, 15)
    assert (first.header_span.start, first.header_span.end) == (0, 5)
    assert ccs.span.start == 15 and ccs.fragment_offset == 20
    assert app.index == 2 and app.span.end == len(data)
    assert stream.problem is None and stream.trailing == b"" and not stream.truncated
    assert stream.warnings == ()


def test_frames_filled_from_frames_for():
    data = rec(22, b"a" * 150) + rec(23, b"b" * 20)
    stream = parse_records(data, C2S, frames_every_100)
    assert stream.records[0].span.frames == (1, 2)
    assert stream.records[0].header_span.frames == (1,)
    assert stream.records[1].span.frames == (2,)
    assert stream.records[0].span.direction is C2S


def test_unknown_version_kept_as_int():
    stream = parse_records(rec(22, b"x", 0x03FF), C2S)
    assert stream.records[0].legacy_version == 0x03FF
    assert type(stream.records[0].legacy_version) is int


def test_empty_stream():
    stream = parse_records(b"", C2S)
    assert stream.records == () and stream.problem is None
    assert not looks_like_tls(b"")


@pytest.mark.parametrize("cut", [1, 3, 5, 6, 12])
def test_truncated_is_a_located_warning(cut):
    good = rec(22, b"h" * 4)
    data = good + rec(23, b"z" * 8)[:cut]
    stream = parse_records(data, C2S, frames_every_100)
    assert len(stream.records) == 1
    assert stream.truncated
    assert stream.trailing == data[len(good) :]
    problem = stream.problem
    assert (problem.kind, problem.offset, problem.record) == ("truncated", len(good), 1)
    err = problem.to_error()
    assert isinstance(err, TruncatedError)
    assert (err.offset, err.record, err.frame, err.field) == (len(good), 1, 1, "TLSPlaintext")
    assert "record 1" in stream.warnings[0]


@pytest.mark.parametrize(
    ("garbage", "found"),
    [
        (b"GET / HTTP/1.1\r\n", "0x47"),
        (bytes([22, 2, 0, 0, 1, 0]), "0x0200"),
        (bytes([23, 3, 3]) + (MAX_FRAGMENT_LENGTH + 1).to_bytes(2, "big"), MAX_FRAGMENT_LENGTH + 1),
        (bytes([25, 3, 3, 0, 1, 0]), "0x19"),
    ],
)
def test_garbage_after_good_records(garbage, found):
    good = rec(22, b"h" * 4) + rec(22, b"i" * 3)
    stream = parse_records(good + garbage, C2S)
    assert len(stream.records) == 2
    assert stream.trailing == garbage
    assert stream.problem.kind == "not_tls"
    assert stream.problem.found == found
    err = stream.problem.to_error()
    assert type(err) is DecodeError
    assert (err.offset, err.record) == (len(good), 2)


def test_maximum_length_accepted():
    data = rec(23, bytes(MAX_FRAGMENT_LENGTH))
    assert parse_records(data, C2S).records[0].length == MAX_FRAGMENT_LENGTH


def test_not_tls_at_start():
    data = b"SSH-2.0-OpenSSH_9.2\r\n"
    assert not looks_like_tls(data)
    stream = parse_records(data, C2S)
    assert stream.records == () and stream.problem.kind == "not_tls" and stream.problem.offset == 0


@pytest.mark.parametrize("prefix", [b"\x16", b"\x16\x03", b"\x16\x03\x01", b"\x16\x03\x01\x02\x00"])
def test_looks_like_tls_on_prefixes(prefix):
    assert looks_like_tls(prefix)


def sslv2_client_hello() -> bytes:
    """An SSLv2-compatible CLIENT-HELLO (RFC 5246 E.2) offering TLS 1.0, built by hand."""
    specs = bytes.fromhex("00002f") + bytes.fromhex("000035")
    challenge = bytes(range(16))
    body = bytes([1]) + b"\x03\x01" + len(specs).to_bytes(2, "big") + b"\x00\x00"
    body += len(challenge).to_bytes(2, "big") + specs + challenge
    return (0x8000 | len(body)).to_bytes(2, "big") + body


def test_sslv2_client_hello_recognised_not_misparsed():
    data = sslv2_client_hello()
    assert is_sslv2_client_hello(data)
    assert looks_like_tls(data)
    stream = parse_records(data, C2S)
    assert stream.records == ()
    assert stream.problem.kind == "sslv2"
    assert "SSLv2" in stream.warnings[0]


def test_record_split_any_way_is_the_same_stream():
    # The input is the reassembled stream: how TCP cut it does not matter,
    # but a prefix of it is a truncated stream, located at the cut record.
    data = rec(22, b"a" * 30) + rec(22, b"b" * 5) + rec(23, b"c" * 7)
    whole = parse_records(data, C2S)
    for cut in range(len(data) + 1):
        part = parse_records(data[:cut], C2S)
        assert part.records == whole.records[: len(part.records)]
        if cut in (0, 35, 45, len(data)):
            assert part.problem is None
        else:
            assert part.truncated and part.problem.offset == sum(r.span.length for r in part.records)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    stream = parse_records(data, C2S)
    consumed = sum(r.span.length for r in stream.records)
    assert consumed + len(stream.trailing) == len(data)
    assert (stream.problem is None) == (stream.trailing == b"")
    for r in stream.records:
        assert r.length == len(r.fragment) <= MAX_FRAGMENT_LENGTH


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([20, 21, 22, 23]), st.binary(max_size=50)), max_size=8))
def test_roundtrip_built_records(parts):
    data = b"".join(rec(t, b) for t, b in parts)
    stream = parse_records(data, C2S)
    assert [(int(r.content_type), r.fragment) for r in stream.records] == parts
    assert stream.problem is None

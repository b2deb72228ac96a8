"""The record layer's fast paths give what the general code gives.

``parse_records`` reads a :class:`tlsdoc.tcp.Stream`'s chunk table
(``Stream.chunk_table``) instead of calling ``frames_for`` per record, and builds its values through
slot builders instead of the dataclass constructors.  Both are checked here
against a plain reference parser written with the constructors and
``frames_for`` only, over real captures and over random streams, cut into
random chunks carried by frames in any order.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdoc import capture, tcp
from tlsdoc.records import (HEADER_LENGTH, MAX_FRAGMENT_LENGTH, RECORD_CONTENT_TYPES, Record, RecordStream,
                            parse_records)
from tlsdoc.registry import ContentType, ProtocolVersion, lookup
from tlsdoc.wire import Direction, Span, slot_builder

ROOT = Path(__file__).resolve().parent.parent
C2S = Direction.CLIENT_TO_SERVER


def reference_records(data: bytes, direction, frames_for) -> list[Record]:
    """The complete, well-formed records at the start of *data*, built the plain way."""
    out = []
    pos = 0
    while len(data) - pos >= HEADER_LENGTH:
        ctype, version, length = data[pos], int.from_bytes(data[pos + 1 : pos + 3], "big"), int.from_bytes(
            data[pos + 3 : pos + 5], "big")
        end = pos + HEADER_LENGTH + length
        if ctype not in RECORD_CONTENT_TYPES or version >> 8 != 3 or length > MAX_FRAGMENT_LENGTH or end > len(data):
            break
        out.append(Record(
            index=len(out),
            content_type=lookup(ContentType, ctype),
            legacy_version=lookup(ProtocolVersion, version),
            length=length,
            fragment=data[pos + HEADER_LENGTH : end],
            span=Span(direction, pos, end, tuple(frames_for(pos, end))),
            header_span=Span(direction, pos, pos + HEADER_LENGTH, tuple(frames_for(pos, pos + HEADER_LENGTH))),
        ))
        pos = end
    return out


def check_same(stream: tcp.Stream, reference: bool = True) -> None:
    got = parse_records(stream.data, stream.direction, stream.frames_for, stream.chunk_table())
    # without the table: the general path (frames_for per record)
    general = parse_records(stream.data, stream.direction, stream.frames_for)
    expected = reference_records(stream.data, stream.direction, stream.frames_for)
    assert got == general
    if reference:  # (on a table that is not sorted, frames_for's answers need not nest)
        assert list(got.records) == expected
    if got.problem is None:  # the RecordStream made through its slot builder is the constructor's
        made = RecordStream(direction=stream.direction, records=got.records, stream_length=len(stream.data),
                            frames_for=stream.frames_for)
        assert type(got) is RecordStream and got == made and repr(got) == repr(made)
        assert (got.trailing, got.problem, got.frames_for) == (made.trailing, made.problem, made.frames_for)
    for record in got.records:
        assert type(record) is Record and type(record.span) is Span and type(record.header_span) is Span
        assert hash(record.span) == hash(Span(record.span.direction, record.span.start, record.span.end,
                                              record.span.frames))


def _streams(path: Path):
    with open(path, "rb") as f:
        for conn in tcp.reassemble(capture.read_segments(f, name=str(path), warn=lambda _t: None),
                                   warn=lambda _t: None):
            for direction in Direction:
                yield conn.stream(direction)


CAPTURE_FILES = sorted(p for p in (ROOT / "tests" / "corpus").glob("*.pcap*")) + sorted(
    (ROOT / "captures").glob("*.pcap*"))


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: p.name)
def test_real_streams_give_the_records_of_the_general_path(path):
    for stream in _streams(path):
        check_same(stream)


def _stream(data: bytes, cuts: list[int], frames: list[int]) -> tcp.Stream:
    bounds = [0] + cuts + [len(data)]
    return tcp.Stream(
        direction=C2S, isn=None, base_seq=0, data=data, gaps=(), fin_frame=None,
        first_time_ns=None, end_time_ns=None,
        _starts=array("q", bounds[:-1]), _ends=array("q", bounds[1:]), _frames=array("q", frames),
    )


def _record(ctype: int, body: bytes, version: int = 0x0303) -> bytes:
    return bytes([ctype]) + version.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


@st.composite
def chunked_streams(draw):
    records = draw(st.lists(st.tuples(st.sampled_from([20, 21, 22, 23, 24, 25]),
                                      st.integers(0, 300), st.sampled_from([0x0303, 0x0301, 0x0200])),
                            max_size=8))
    data = b"".join(_record(t, bytes([i]) * n, v) for i, (t, n, v) in enumerate(records))
    data += draw(st.binary(max_size=8))
    if not data:
        data = b"\x16"
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=12))) - {len(data)})
    frames = draw(st.lists(st.integers(1, 40), min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    return _stream(data, cuts, frames)


@settings(max_examples=400, deadline=None)
@given(chunked_streams())
def test_random_chunk_tables_give_the_records_of_the_general_path(stream):
    assert stream.chunk_table() is not None  # the fast path is taken
    check_same(stream)


def test_a_table_that_does_not_tile_the_data_is_not_walked():
    # chunks with a hole and an overlap: the general path (bisect) decides
    data = _record(22, b"a" * 30) + _record(23, b"b" * 30)
    for starts, ends in (([0, 20, 40], [20, 30, 70]), ([0, 30, 20], [30, 70, 50]), ([0], [50])):
        stream = tcp.Stream(direction=C2S, isn=None, base_seq=0, data=data, gaps=(), fin_frame=None,
                            first_time_ns=None, end_time_ns=None, _starts=array("q", starts),
                            _ends=array("q", ends), _frames=array("q", [3, 1, 2][: len(starts)]))
        assert stream.chunk_table() is None
        check_same(stream, reference=False)


def test_slot_builder_makes_the_frozen_value():
    builder = slot_builder(Span)
    obj = builder()
    obj.direction, obj.start, obj.end, obj.frames = C2S, 3, 9, (4, 5)
    obj.__class__ = Span
    made = Span(C2S, 3, 9, (4, 5))
    assert type(obj) is Span and obj == made and hash(obj) == hash(made) and repr(obj) == repr(made)
    with pytest.raises(AttributeError):
        obj.start = 4


def test_slot_builder_over_a_stateless_mixin():
    import dataclasses

    class Mixin:
        __slots__ = ()

        def twice(self):
            return 2 * self.x

    @dataclasses.dataclass(frozen=True, slots=True)
    class Value(Mixin):
        x: int

    obj = slot_builder(Value)()
    obj.x = 4
    obj.__class__ = Value
    assert type(obj) is Value and obj == Value(4) and obj.twice() == 8

    class Stateful:
        __slots__ = ("y",)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Other(Stateful):
        x: int

    with pytest.raises(TypeError):
        slot_builder(Other)

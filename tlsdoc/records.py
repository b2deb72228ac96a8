"""The TLS record layer over one direction's reassembled byte stream.

Consumes one direction's TCP payload as ``bytes`` (already reordered and
deduplicated by :mod:`tlsdoc.tcp`), its :class:`~tlsdoc.wire.Direction`,
and optionally ``frames_for(start, end) -> tuple[int, ...]`` mapping a
stream range to the frame numbers that carried it.  Produces a frozen
:class:`RecordStream`: the :class:`Record` values in stream order plus, when
the bytes stop being records, one located :class:`StreamProblem` the caller
reports as a warning.  Records are cut from the stream, so a record spread
over many TCP segments and several records in one segment are the same case.

Theory of operation.  A record is ``TLSPlaintext`` (RFC 8446 §5.1;
RFC 5246 §6.2.1 calls the fields ``type``, ``version``, ``length``)::

    struct {
        ContentType type;                      /* 1 byte  */
        ProtocolVersion legacy_record_version; /* 2 bytes */
        uint16 length;
        opaque fragment[TLSPlaintext.length];
    } TLSPlaintext;

The header is checked before the fragment is trusted: a known content type
(change_cipher_spec, alert, handshake, application_data, heartbeat), a
version whose major byte is 3, and a length of at most 2^14 + 2048 (the
TLSCiphertext limit of RFC 5246 §6.2.3; RFC 8446 §5.2 is stricter at
2^14 + 256 but TLS 1.2 peers may use the whole allowance).  The first bad
header ends the record layer for that direction: the records before it are
kept, and the rest is returned as ``trailing`` with a ``not_tls`` problem.
A stream that ends inside a record gives a ``truncated`` problem.  An
SSLv2-compatible ClientHello (RFC 5246 Appendix E.2) is recognised and
reported as ``sslv2`` (unsupported) rather than misread as a TLS header.
Whether a fragment is encrypted is not decided here: that needs the
handshake (:mod:`tlsdoc.handshake`).

Must never import dpkt, cryptography, sphinx, or any tlsdoc module other
than :mod:`tlsdoc.errors`, :mod:`tlsdoc.registry` and :mod:`tlsdoc.wire`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tlsdoc.errors import DecodeError, TruncatedError
from tlsdoc.registry import ContentType, ProtocolVersion, lookup
from tlsdoc.wire import Direction, Span, slot_builder

__all__ = [
    "HEADER_LENGTH",
    "MAX_FRAGMENT_LENGTH",
    "FramesFor",
    "Record",
    "StreamProblem",
    "RecordStream",
    "parse_records",
    "looks_like_tls",
    "is_sslv2_client_hello",
]

#: ``type`` (1) + ``legacy_record_version`` (2) + ``length`` (2), RFC 8446 §5.1.
HEADER_LENGTH = 5

#: Largest fragment accepted: 2^14 + 2048, the TLSCiphertext bound of RFC 5246 §6.2.3.
MAX_FRAGMENT_LENGTH = 2**14 + 2048

#: Content types a TLS (not DTLS) record may carry.  tls12_cid and ACK are
#: DTLS-only (RFC 9146, RFC 9147) and count as "not TLS" on a TCP stream.
RECORD_CONTENT_TYPES: frozenset[int] = frozenset(
    {
        ContentType.change_cipher_spec,
        ContentType.alert,
        ContentType.handshake,
        ContentType.application_data,
        ContentType.heartbeat,
    }
)

#: ``frames_for(start, end)``: frame numbers carrying stream bytes [start, end).
FramesFor = Callable[[int, int], tuple[int, ...]]


def _no_frames(start: int, end: int) -> tuple[int, ...]:
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One TLS record, RFC 8446 §5.1 ``TLSPlaintext`` / ``TLSCiphertext``.

    RFC 5246 §6.2.1 names ``content_type`` ``type`` and ``legacy_version``
    ``version``; RFC 8446 §5.2 calls the outer type of a protected record
    ``opaque_type``.

    Attributes:
        index: 0-based position among this direction's records.
        content_type: the header's content type (outer type for TLS 1.3).
        legacy_version: the header's version (0x0303 for TLS 1.3 too).
        length: the header's length field, == ``len(fragment)``.
        fragment: the bytes after the header (plaintext or ciphertext).
        span: header start to fragment end, with the frames that carried it.
        header_span: the five header bytes.
    """

    index: int
    content_type: ContentType | int
    legacy_version: ProtocolVersion | int
    length: int
    fragment: bytes
    span: Span
    header_span: Span

    @property
    def fragment_offset(self) -> int:
        """Stream offset of the first fragment byte."""
        return self.header_span.end

    @property
    def fragment_span(self) -> Span:
        """Where the fragment lies (frames are those of the whole record)."""
        return Span(self.span.direction, self.header_span.end, self.span.end, self.span.frames)


ProblemKind = Literal["truncated", "not_tls", "sslv2"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamProblem:
    """Why the record layer stopped before the end of the stream: a located warning.

    Attributes:
        kind: ``"truncated"`` (the stream ends inside a record),
            ``"not_tls"`` (the bytes at ``span.start`` are not a record header)
            or ``"sslv2"`` (an SSLv2-compatible ClientHello, not supported).
        message: what went wrong, in words.
        record: index the next record would have had.
        span: the bytes not parsed as records (to the end of the stream).
        expected: what the parser expected.
        found: what it found.
    """

    kind: ProblemKind
    message: str
    record: int
    span: Span
    expected: object = None
    found: object = None

    @property
    def offset(self) -> int:
        """Stream offset where the problem starts."""
        return self.span.start

    @property
    def field(self) -> str:
        """Dotted name of the structure being read, for error messages."""
        return "TLSPlaintext" if self.kind != "sslv2" else "SSLv2ClientHello"

    def to_error(self) -> DecodeError:
        """A fresh located error carrying this problem (TruncatedError for ``truncated``)."""
        cls = TruncatedError if self.kind == "truncated" else DecodeError
        return cls(
            self.message,
            frame=self.span.frames[0] if self.span.frames else None,
            direction=str(self.span.direction) if self.span.direction else None,
            offset=self.offset,
            record=self.record,
            field=self.field,
            expected=self.expected,
            found=self.found,
        )

    def __str__(self) -> str:
        return str(self.to_error())


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordStream:
    """The records of one direction, and what (if anything) stopped the parse.

    Attributes:
        direction: which way the bytes travel.
        records: every complete record, in stream order.
        trailing: the bytes after the last complete record (empty when the
            stream ends on a record boundary).
        problem: why ``trailing`` is not empty, else None.
        stream_length: length of the whole input.
        frames_for: the stream-offset → frames mapping used for the spans
            (kept so later stages can locate bytes inside fragments).
    """

    direction: Direction
    records: tuple[Record, ...]
    trailing: bytes = b""
    problem: StreamProblem | None = None
    stream_length: int = 0
    frames_for: FramesFor = field(default=_no_frames, compare=False, repr=False)

    @property
    def truncated(self) -> bool:
        """True when the stream ends in the middle of a record."""
        return self.problem is not None and self.problem.kind == "truncated"

    @property
    def warnings(self) -> tuple[str, ...]:
        """One located line per problem (zero or one), for the caller to report."""
        return () if self.problem is None else (str(self.problem),)


# Fast constructors for the values made once per record and per field.  A
# frozen dataclass's __init__ sets each field through object.__setattr__ (to
# get past its own refusing __setattr__), and so would a slot's member
# descriptor called directly (``Span.start.__set__(obj, v)``): both are calls
# through a wrapper that packs and unpacks an argument tuple.  Instead the
# value is built as an instance of a plain class with the same slots (so the
# same layout), whose attributes are plain stores, and is then made an
# instance of the frozen class by assigning ``__class__`` (allowed between
# classes of the same layout): the same frozen object, equal and hashing
# alike, in about half the time of the descriptor calls.
#: Span's slot builder, shared by the decoders that make spans by the thousand.
SpanBuilder = slot_builder(Span)
_RecordBuilder = slot_builder(Record)
_RecordStreamBuilder = slot_builder(RecordStream)


# type u8, legacy_record_version u16, length u16
_HEADER = struct.Struct(">BHH")
# lookup(ContentType / ProtocolVersion, value) as plain dict gets, for the loop
_CONTENT_TYPE_MEMBERS = {int(t): t for t in ContentType}
# the same for the types a TLS record may carry (RECORD_CONTENT_TYPES) only
_RECORD_TYPE_MEMBERS = {int(t): t for t in ContentType if t in RECORD_CONTENT_TYPES}
_VERSION_MEMBERS = {int(v): v for v in ProtocolVersion}


def is_sslv2_client_hello(data: bytes) -> bool:
    """True if *data* starts like an SSLv2-compatible CLIENT-HELLO, RFC 5246 Appendix E.2.

    Layout: a 2-byte length with the top bit set, ``msg_type`` 1, then a
    version whose major byte is 0 (SSL 2.0) or 3 (SSL 3.0 / TLS).
    """
    return (
        len(data) >= 5
        and data[0] & 0x80 != 0
        and data[2] == 1
        and data[3] in (0, 3)
        and ((data[0] & 0x7F) << 8 | data[1]) >= 9
    )


def _header_problem(head: bytes) -> tuple[str, object, object] | None:
    """Check the (possibly partial) header bytes; (message, expected, found) or None."""
    if len(head) >= 1 and head[0] not in RECORD_CONTENT_TYPES:
        return ("not a TLS record: unknown content type", "20..24", f"0x{head[0]:02x}")
    if len(head) >= 2 and head[1] != 3:
        found = f"0x{head[1]:02x}{head[2]:02x}" if len(head) >= 3 else f"0x{head[1]:02x}.."
        return ("not a TLS record: version major byte is not 3", "0x03xx", found)
    if len(head) >= HEADER_LENGTH:
        length = int.from_bytes(head[3:5], "big")
        if length > MAX_FRAGMENT_LENGTH:
            return (
                "not a TLS record: length exceeds 2^14 + 2048",
                f"<= {MAX_FRAGMENT_LENGTH}",
                length,
            )
    return None


def looks_like_tls(data: bytes) -> bool:
    """True if the stream starts with a plausible TLS record (or an SSLv2-compatible hello).

    Checks only the first header (content type, version major byte 3,
    length bound), or as much of it as *data* holds; empty data is not TLS.
    Use it to tell "this connection is not TLS" from "TLS with garbage later".
    """
    if not data:
        return False
    if is_sslv2_client_hello(data):
        return True
    return _header_problem(data[:HEADER_LENGTH]) is None


def parse_records(
    data: bytes,
    direction: Direction,
    frames_for: FramesFor | None = None,
    chunks: tuple | None = None,
) -> RecordStream:
    """Cut one direction's stream into TLS records, RFC 8446 §5.1 (RFC 5246 §6.2).

    Never raises on bad input: the records found before a problem are
    returned, and the problem is described (located) in
    :attr:`RecordStream.problem`.

    Args:
        data: the direction's reassembled TCP payload, from offset 0.
        direction: which way *data* travels.
        frames_for: maps a stream range to frame numbers for the spans.
        chunks: the chunk table behind *frames_for*, when it has one that
            tiles *data* (:meth:`tlsdoc.tcp.Stream.chunk_table`): the frames
            of each record are then read off the table, walked forward as
            the records advance, instead of asking *frames_for* (a bisect)
            twice per record.  The spans are the same either way.

    Returns:
        The records and, if the stream does not end on a record boundary,
        the trailing bytes and why.
    """
    data = bytes(data)
    frames_for = frames_for or _no_frames
    size = len(data)
    # (= is_sslv2_client_hello(data), its first tests inlined: no call for a TLS stream)
    if size >= HEADER_LENGTH and data[0] & 0x80 and is_sslv2_client_hello(data):
        return _stop(data, direction, frames_for, [], "sslv2", 0, 0,
                     "SSLv2-compatible ClientHello is not supported", "a TLS record header", "SSLv2 CLIENT-HELLO")
    records: list[Record] = []
    pos = 0
    if chunks is not None and chunks[0] and chunks[0][-1] == size:
        pos = _records_by_table(data, direction, chunks, records)
    return _parse_from(data, direction, frames_for, records, pos)


def _records_by_table(data: bytes, direction: Direction, chunks: tuple, records: list[Record]) -> int:
    """The well-formed records from offset 0, their frames read off the chunk table.

    The table tiles *data* (``chunks[0][-1] == len(data)``, checked by the
    caller; see :meth:`tlsdoc.tcp.Stream.chunk_table`), so the chunks
    overlapping ``[pos, end)`` are the one holding ``pos`` up to the first
    one reaching ``end``, and ``frames_for(pos, end)`` is their frames,
    sorted and deduplicated (one chunk: ``(frames[k],)``).  The chunk is
    walked forward as the records advance, instead of bisecting the table
    twice per record.  Appends the records to *records* and returns the
    offset where the first record it did not take starts (a bad or cut
    header, or the end): :func:`_parse_from` goes on from there.

    Each Record and its two Spans are built by :func:`_new_record`.
    """
    # lists, not the table's arrays: a list index is a specialised
    # instruction, an array's makes a new int through the generic path
    chunk_ends = list(chunks[0])
    chunk_frames = list(chunks[1])
    size = len(data)
    unpack = _HEADER.unpack_from
    record_types = _RECORD_TYPE_MEMBERS.get  # (None: not a TLS record type)
    versions = _VERSION_MEMBERS.get
    new_record = _new_record
    add = records.append
    index = len(records)
    pos = 0
    chunk = 0  # the chunk holding byte pos
    while size - pos >= HEADER_LENGTH:
        ctype, version, length = unpack(data, pos)
        head_end = pos + HEADER_LENGTH
        end = head_end + length
        content_type = record_types(ctype)
        # the checks of the general loop: known type, major version 3, length bound, whole
        if content_type is None or version >> 8 != 3 or length > MAX_FRAGMENT_LENGTH or end > size:
            break
        while chunk_ends[chunk] <= pos:
            chunk += 1
        last = chunk
        while chunk_ends[last] < end:
            last += 1
        if last == chunk:  # one chunk carried the record (the usual case), header included
            frames = header_frames = (chunk_frames[chunk],)
        else:
            frames = tuple(sorted(set(chunk_frames[chunk : last + 1])))
            if head_end <= chunk_ends[chunk]:
                header_frames = (chunk_frames[chunk],)
            else:
                last = chunk
                while chunk_ends[last] < head_end:
                    last += 1
                header_frames = tuple(sorted(set(chunk_frames[chunk : last + 1])))
        add(new_record(index, content_type, versions(version, version), length, data[head_end:end],
                       direction, pos, head_end, end, frames, header_frames))
        index += 1
        pos = end
        # every chunk before *last* ends before the old end, the new pos: the
        # walk for the next record starts there, not over this one's chunks again
        chunk = last
    return pos


def _new_record(index: int, content_type: ContentType | int, legacy_version: ProtocolVersion | int, length: int,
                fragment: bytes, direction: Direction, pos: int, head_end: int, end: int,
                frames: tuple[int, ...], header_frames: tuple[int, ...]) -> Record:
    """``Record(span=Span(direction, pos, end, frames), header_span=Span(direction, pos,
    head_end, header_frames), ...)``, through the slot builders (see
    :func:`tlsdoc.wire.slot_builder`): one per record, from both loops."""
    rec_span = SpanBuilder()
    rec_span.direction = direction
    rec_span.start = pos
    rec_span.end = end
    rec_span.frames = frames
    rec_span.__class__ = Span
    header_span = SpanBuilder()
    header_span.direction = direction
    header_span.start = pos
    header_span.end = head_end
    header_span.frames = header_frames
    header_span.__class__ = Span
    record = _RecordBuilder()
    record.index = index
    record.content_type = content_type
    record.legacy_version = legacy_version
    record.length = length
    record.fragment = fragment
    record.span = rec_span
    record.header_span = header_span
    record.__class__ = Record
    return record


def _stop(data: bytes, direction: Direction, frames_for: FramesFor, records: list[Record], kind: ProblemKind,
          pos: int, index: int, message: str, expected, found) -> RecordStream:
    problem = StreamProblem(
        kind=kind,
        message=message,
        record=index,
        span=Span(direction, pos, len(data), tuple(frames_for(pos, len(data)))),
        expected=expected,
        found=found,
    )
    return RecordStream(
        direction=direction,
        records=tuple(records),
        trailing=data[pos:],
        problem=problem,
        stream_length=len(data),
        frames_for=frames_for,
    )


def _parse_from(data: bytes, direction: Direction, frames_for: FramesFor, records: list[Record],
                pos: int) -> RecordStream:
    """parse_records' general loop: the records from *pos* on (after *records*), and the problem if any."""

    def span(start: int, end: int) -> Span:
        return Span(direction, start, end, tuple(frames_for(start, end)))

    size = len(data)
    unpack = _HEADER.unpack_from
    content_types = _CONTENT_TYPE_MEMBERS.get
    versions = _VERSION_MEMBERS.get
    known_types = RECORD_CONTENT_TYPES
    while pos < size:
        index = len(records)
        if size - pos >= HEADER_LENGTH:
            # The common case, checked inline: a whole, plausible header
            # (the same tests as _header_problem, which words the failures).
            ctype, version, length = unpack(data, pos)
            end = pos + HEADER_LENGTH + length
            if (
                ctype in known_types
                and version >> 8 == 3
                and length <= MAX_FRAGMENT_LENGTH
                and end <= size
            ):
                head_end = pos + HEADER_LENGTH
                frames = tuple(frames_for(pos, end))
                # The header's bytes are some of the record's: when one frame
                # carried the whole record (or none is known), it carried
                # the header too, and frames_for need not be asked again.
                header_frames = frames if len(frames) < 2 else tuple(frames_for(pos, head_end))
                records.append(_new_record(index, content_types(ctype, ctype), versions(version, version), length,
                                           data[head_end:end], direction, pos, head_end, end, frames,
                                           header_frames))
                pos = end
                continue
        head = data[pos : pos + HEADER_LENGTH]
        bad = _header_problem(head)
        if bad is not None:
            return _stop(data, direction, frames_for, records, "not_tls", pos, index, *bad)
        if len(head) < HEADER_LENGTH:
            return _stop(
                data, direction, frames_for, records,
                "truncated",
                pos,
                index,
                "stream ends inside a record header",
                f"{HEADER_LENGTH} header bytes",
                f"{len(head)}",
            )
        length = int.from_bytes(head[3:5], "big")
        end = pos + HEADER_LENGTH + length
        if end > len(data):
            return _stop(
                data, direction, frames_for, records,
                "truncated",
                pos,
                index,
                "stream ends inside a record",
                f"{length} fragment bytes",
                f"{len(data) - pos - HEADER_LENGTH}",
            )
        records.append(
            Record(
                index=index,
                content_type=lookup(ContentType, head[0]),
                legacy_version=lookup(ProtocolVersion, int.from_bytes(head[1:3], "big")),
                length=length,
                fragment=data[pos + HEADER_LENGTH : end],
                span=span(pos, end),
                header_span=span(pos, pos + HEADER_LENGTH),
            )
        )
        pos = end
    # RecordStream(direction=..., records=..., stream_length=..., frames_for=...), through its slot builder
    stream = _RecordStreamBuilder()
    stream.direction = direction
    stream.records = tuple(records)
    stream.trailing = b""
    stream.problem = None
    stream.stream_length = size
    stream.frames_for = frames_for
    stream.__class__ = RecordStream
    return stream

"""Annotated bytes: a run of bytes split into labelled groups, as hex.

Consumes ``bytes`` and :class:`Field` values (hand-made, or built by the
Sphinx extension from parsed values and their spans); produces
:class:`Piece` values that cover every byte exactly once, in order, each
with its hex text, its label and meaning, and a colour slot.  The Sphinx
extension turns pieces into coloured spans (HTML) and a field table (every
builder); :func:`dump` is the classic offset / hex / ASCII listing.
:func:`tcp_header_fields` labels a captured TCP header from its decoded
values (positions from RFC 9293, meanings from the values, bytes checked).

The colour slot is an index into a small palette (``0 … PALETTE-1``) given
to labelled pieces in order, so neighbours always differ; unlabelled gaps
get ``None``.  Colours themselves live in CSS, never here.

Never imports sphinx or docutils.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from tlsdoc.capture import TcpFlags, TcpOptionKind

__all__ = [
    "PALETTE",
    "Field",
    "Piece",
    "annotate",
    "dump",
    "hex_bytes",
    "preview",
    "flag_names",
    "option_length",
    "option_name",
    "option_meaning",
    "tcp_header_fields",
    "record_fields",
]

#: Number of distinct colour slots; the stylesheet defines ``tlsdoc-c0`` … ``tlsdoc-c5``.
PALETTE = 6


@dataclass(frozen=True, slots=True)
class Field:
    """A labelled group of bytes, ``[start, end)`` relative to the dumped bytes."""

    start: int
    end: int
    label: str
    meaning: str = ""
    elide: int | None = None
    """Show only this many bytes (half at each end) of a long field, with ``…``."""
    group: str = ""
    """The group the field belongs to (``random``, ``extensions.server_name``), for ``:fields:``."""


@dataclass(frozen=True, slots=True)
class Piece:
    """One contiguous group of the dump (a field, or an unlabelled gap).

    Attributes:
        start, end: ``[start, end)`` relative to the dumped bytes.
        hex: the bytes as lowercase hex pairs separated by spaces.
        label: the field's name, ``None`` for bytes no field claims.
        meaning: what the bytes mean (may be empty).
        colour: palette slot ``0 … PALETTE-1``, ``None`` for gaps.
    """

    start: int
    end: int
    hex: str
    label: str | None
    meaning: str
    colour: int | None

    @property
    def length(self) -> int:
        return self.end - self.start


def hex_bytes(data: bytes, sep: str = " ") -> str:
    """``b"\\x16\\x03\\x01"`` → ``"16 03 01"``.

    >>> hex_bytes(bytes([22, 3, 1]))
    '16 03 01'
    """
    return data.hex(sep) if sep and data else data.hex()


def preview(data: bytes, limit: int = 8) -> str:
    """Hex of *data*, shortened in the middle when longer than *limit* bytes.

    >>> preview(bytes(range(32)), limit=4)
    '00 01 … 1e 1f (32 bytes)'
    >>> preview(b"\\x01\\x02")
    '01 02'
    """
    if len(data) <= limit:
        return hex_bytes(data)
    half = max(limit // 2, 1)
    return f"{hex_bytes(data[:half])} … {hex_bytes(data[-half:])} ({len(data)} bytes)"


def annotate(data: bytes, fields: Sequence[Field], *, gap_elide: int | None = None) -> tuple[Piece, ...]:
    """Split *data* into pieces following *fields*, filling gaps, checking bounds.

    Fields may come in any order; they must lie within *data* and must not
    overlap.  Bytes that no field claims become unlabelled pieces, so the
    pieces always add up to *data*; with *gap_elide*, an unlabelled piece
    longer than that many bytes is shown shortened (the fields left out by
    a ``:fields:`` selection).

    Raises:
        ValueError: a field is empty, out of bounds, or overlaps another.

    >>> [(p.hex, p.label, p.colour) for p in annotate(b"\\x16\\x03\\x01\\x00\\x05",
    ...     [Field(0, 1, "type"), Field(3, 5, "length", "5 bytes")])]
    [('16', 'type', 0), ('03 01', None, None), ('00 05', 'length', 1)]
    """
    pieces: list[Piece] = []
    position = 0
    colour = 0
    previous: Field | None = None

    def gap(start: int, end: int) -> Piece:
        chunk = data[start:end]
        shown = preview(chunk, gap_elide) if gap_elide is not None else hex_bytes(chunk)
        return Piece(start, end, shown, None, "", None)

    for field in sorted(fields, key=lambda f: (f.start, f.end)):
        if not 0 <= field.start < field.end <= len(data):
            raise ValueError(
                f"field {field.label!r} [{field.start}, {field.end}) does not fit in "
                f"{len(data)} bytes"
            )
        if field.start < position:
            assert previous is not None
            raise ValueError(
                f"field {field.label!r} [{field.start}, {field.end}) overlaps "
                f"{previous.label!r} [{previous.start}, {previous.end})"
            )
        if field.start > position:
            pieces.append(gap(position, field.start))
        value = data[field.start : field.end]
        pieces.append(
            Piece(
                field.start,
                field.end,
                hex_bytes(value) if field.elide is None else preview(value, field.elide),
                field.label,
                field.meaning,
                colour,
            )
        )
        colour = (colour + 1) % PALETTE
        position = field.end
        previous = field
    if position < len(data):
        pieces.append(gap(position, len(data)))
    return tuple(pieces)


def dump(data: bytes, *, width: int = 16, base: int = 0) -> str:
    """The classic listing: offset, hex bytes, printable ASCII; one line per *width* bytes.

    *base* is added to the offsets shown (e.g. a stream offset).

    >>> print(dump(b"GET / HTTP/1.1\\r\\n", width=8))
    0000  47 45 54 20 2f 20 48 54  GET / HT
    0008  54 50 2f 31 2e 31 0d 0a  TP/1.1..
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    digits = max(4, len(f"{base + max(len(data) - 1, 0):x}"))
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(
            f"{base + offset:0{digits}x}  {hex_bytes(chunk):<{3 * width - 1}}  {text}"
        )
    return "\n".join(lines)


# -- TCP headers ---------------------------------------------------------------

# The fixed part of a TCP header, RFC 9293 §3.1:
#   Source Port u16 | Destination Port u16 | Sequence Number u32 |
#   Acknowledgment Number u32 | Data Offset 4 bits, Reserved 3, AE 1 | flags u8 |
#   Window u16 | Checksum u16 | Urgent Pointer u16 | Options (Data Offset × 4 − 20 bytes)
_TCP_FIXED = 20


def option_length(option) -> int:
    """How many bytes a decoded TCP option occupies in the header.

    >>> from tlsdoc.capture import TcpOption, TcpOptionKind
    >>> option_length(TcpOption(TcpOptionKind.TIMESTAMPS, (1, 2)))
    10
    """
    kind = int(option.kind)
    if kind in (0, 1):
        return 1
    fixed = {2: 4, 3: 3, 4: 2, 8: 10}.get(kind)
    if fixed is not None:
        return fixed
    if kind == 5:
        return 2 + 8 * len(option.value)
    return 2 + len(option.value)


# Wireshark's Info column lists flags from the lowest bit up: [SYN, ACK], [FIN, ACK].
_FLAG_ORDER = (
    TcpFlags.FIN, TcpFlags.SYN, TcpFlags.RST, TcpFlags.PSH,
    TcpFlags.ACK, TcpFlags.URG, TcpFlags.ECE, TcpFlags.CWR, TcpFlags.AE,
)


def flag_names(flags: int) -> str:
    """TCP flags as Wireshark's Info column lists them.

    >>> flag_names(0x12)
    'SYN, ACK'
    """
    return ", ".join(f.name for f in _FLAG_ORDER if flags & f) or "none"


def option_name(option) -> str:
    """The option's IANA-style name, or ``kind N`` for one we do not decode."""
    kind = option.kind
    return kind.name if isinstance(kind, TcpOptionKind) else f"kind {int(kind)}"


def option_meaning(option) -> str:
    """What one TCP option says, in words, with its value.

    >>> from tlsdoc.capture import TcpOption, TcpOptionKind
    >>> option_meaning(TcpOption(TcpOptionKind.WINDOW_SCALE, 7))
    'shift count 7: windows this side announces are multiplied by 128'
    """
    kind, value = option.kind, option.value
    if kind == TcpOptionKind.MSS:
        return f"the largest segment this side will accept: {value} bytes of payload"
    if kind == TcpOptionKind.WINDOW_SCALE:
        return f"shift count {value}: windows this side announces are multiplied by {1 << value}"
    if kind == TcpOptionKind.SACK_PERMITTED:
        return "this side understands selective acknowledgements"
    if kind == TcpOptionKind.TIMESTAMPS:
        tsval, tsecr = value
        return f"TSval {tsval} (sender's clock), TSecr {tsecr} (echo of the peer's last TSval)"
    if kind == TcpOptionKind.SACK:
        blocks = ", ".join(f"{left}–{right}" for left, right in value)
        return f"bytes received beyond the acknowledged point: {blocks}"
    if kind == TcpOptionKind.NOP:
        return "padding, so the next option starts on a 4-byte boundary"
    if kind == TcpOptionKind.EOL:
        return "end of the option list"
    return f"not decoded here; value {hex_bytes(value) or 'empty'}"


def tcp_header_fields(header: bytes, packet, *, source: tuple[str, int],
                      destination: tuple[str, int]) -> tuple[Field, ...]:
    """Label every byte of one captured TCP header, using the decoded *packet*.

    *header* is the TCP header as captured (fixed part and options);
    *packet* is the decoded segment (a :class:`tlsdoc.tcp.HandshakePacket`
    or anything with ``seq``, ``ack``, ``relative_seq``, ``relative_ack``,
    ``flags``, ``window`` and ``options``).  Positions follow the layout of
    RFC 9293 §3.1; the meanings quote the decoded values, and the bytes are
    checked against them so a dump can never disagree with the text.

    Raises:
        ValueError: the bytes and the decoded values disagree.
    """
    if len(header) < _TCP_FIXED or len(header) != (header[12] >> 4) * 4:
        raise ValueError(f"{len(header)} bytes are not a whole TCP header")
    checks = (
        (0, 2, source[1], "source port"),
        (2, 4, destination[1], "destination port"),
        (4, 8, packet.seq, "sequence number"),
        (8, 12, packet.ack, "acknowledgement number"),
        (14, 16, packet.window, "window"),
    )
    for start, end, value, what in checks:
        if int.from_bytes(header[start:end], "big") != value:
            raise ValueError(f"the captured {what} is not the decoded {value}")
    if ((header[12] & 1) << 8 | header[13]) != packet.flags:
        raise ValueError("the captured flags are not the decoded ones")

    def relative(value: int | None) -> str:
        return f" (relative {value})" if value is not None else ""

    ack_meaning = (
        f"{packet.ack}{relative(packet.relative_ack)}: the next byte expected from the peer"
        if packet.flags & 0x10
        else "ignored: the ACK flag is not set"
    )
    fields = [
        Field(0, 2, "source port", f"{source[0]} port {source[1]}"),
        Field(2, 4, "destination port", f"{destination[0]} port {destination[1]}"),
        Field(4, 8, "sequence number", f"{packet.seq}{relative(packet.relative_seq)}"),
        Field(8, 12, "acknowledgement", ack_meaning),
        Field(12, 13, "data offset", f"high 4 bits: {len(header) // 4} × 4 = {len(header)} bytes of header"),
        Field(13, 14, "flags", flag_names(packet.flags)),
        Field(14, 16, "window", f"{packet.window} bytes (before any scaling)"),
        Field(16, 18, "checksum", "over a pseudo-header, the header and the data (not checked here)"),
        Field(18, 20, "urgent pointer", "only meaningful with the URG flag"),
    ]
    position = _TCP_FIXED
    for option in packet.options:
        length = option_length(option)
        if position + length > len(header) or header[position] != int(option.kind):
            raise ValueError(
                f"option {option.kind!r} is not at byte {position} of the captured header"
            )
        fields.append(
            Field(position, position + length, f"option {option_name(option)}", option_meaning(option))
        )
        position += length
    if position < len(header):
        fields.append(Field(position, len(header), "padding", "zero bytes after the end of the options"))
    return tuple(fields)


# -- TLS records -----------------------------------------------------------------

# RFC 8446 §5.1 (RFC 5246 §6.2.1):
#   ContentType type (1) | ProtocolVersion legacy_record_version (2) |
#   uint16 length | opaque fragment[length]


def _named(value) -> str:
    label = getattr(value, "label", None) or getattr(value, "name", None)
    number = f"0x{int(value):04x}" if int(value) > 0xFF else str(int(value))
    return f"{label} ({number})" if label else number


def _bytes(count: int) -> str:
    return f"{count} byte" + ("" if count == 1 else "s")


def record_fields(data: bytes, record, *, elide: int = 16, fragment: bool = True) -> tuple[Field, ...]:
    """Label the bytes of one TLS record: the five header bytes and the fragment.

    *data* is the record as it lies in the stream (header and fragment);
    *record* the decoded :class:`tlsdoc.records.Record` (or anything with
    ``content_type``, ``legacy_version``, ``length``).  The fragment is shown
    shortened to *elide* bytes; with ``fragment=False`` only the header is
    labelled (a caller labels the fragment itself, e.g. the handshake
    message inside).  The header bytes are checked against the decoded
    values; the fields are in group ``record``.

    Raises:
        ValueError: the bytes and the decoded values disagree.
    """
    if len(data) != 5 + record.length:
        raise ValueError(f"{len(data)} bytes are not a record of length {record.length}")
    if (data[0], int.from_bytes(data[1:3], "big"), int.from_bytes(data[3:5], "big")) != (
        int(record.content_type), int(record.legacy_version), record.length
    ):
        raise ValueError("the captured record header is not the decoded one")
    kind = getattr(record.content_type, "name", str(int(record.content_type)))
    fields = [
        Field(0, 1, "content type", _named(record.content_type), group="record"),
        Field(1, 3, "legacy version", _named(record.legacy_version), group="record"),
        Field(3, 5, "length", f"{_bytes(record.length)} of fragment follow", group="record"),
    ]
    if record.length and fragment:
        meaning = f"{_bytes(record.length)} of {kind}"
        if int(record.content_type) == 20 and data[5:] == b"\x01":
            meaning = "change_cipher_spec (1): the sender switches to the new keys"
        fields.append(Field(5, len(data), "fragment", meaning, elide, group="fragment"))
    return tuple(fields)

"""Annotated bytes: pieces cover every byte once, fields are checked, TCP headers labelled.

Inputs are hand-made; the TCP header below was written out field by field
from RFC 9293 §3.1, not produced by tlsdoc.
"""

from __future__ import annotations

import struct
from types import SimpleNamespace as NS

import pytest

from tlsdoc.capture import TcpOption, TcpOptionKind
from tlsdoc.render.hexdump import (
    PALETTE,
    Field,
    annotate,
    dump,
    flag_names,
    hex_bytes,
    option_length,
    preview,
    record_fields,
    tcp_header_fields,
)
from tlsdoc.tcp import HandshakePacket

RECORD_HEADER = bytes([0x16, 0x03, 0x01, 0x02, 0x00])


def test_pieces_cover_every_byte_in_order():
    pieces = annotate(RECORD_HEADER, [Field(3, 5, "length"), Field(0, 1, "type", "handshake")])
    assert [(p.start, p.end) for p in pieces] == [(0, 1), (1, 3), (3, 5)]
    assert "".join(p.hex.replace(" ", "") for p in pieces) == RECORD_HEADER.hex()
    assert [p.label for p in pieces] == ["type", None, "length"]
    assert pieces[0].meaning == "handshake"


def test_colours_cycle_over_labelled_pieces_only():
    data = bytes(range(PALETTE + 2))
    pieces = annotate(data, [Field(i, i + 1, f"f{i}") for i in range(0, len(data), 1) if i != 1])
    colours = [p.colour for p in pieces]
    assert colours[1] is None  # the gap
    labelled = [c for c in colours if c is not None]
    assert labelled == [i % PALETTE for i in range(len(labelled))]


@pytest.mark.parametrize(
    "fields, message",
    [
        ([Field(0, 6, "too long")], "does not fit"),
        ([Field(2, 2, "empty")], "does not fit"),
        ([Field(-1, 1, "negative")], "does not fit"),
        ([Field(0, 3, "a"), Field(2, 4, "b")], "overlaps 'a'"),
    ],
)
def test_bad_fields_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        annotate(RECORD_HEADER, fields)


def test_no_fields_is_one_gap():
    (piece,) = annotate(RECORD_HEADER, [])
    assert piece.label is None and piece.hex == "16 03 01 02 00"


def test_hex_and_preview():
    assert hex_bytes(b"") == ""
    assert hex_bytes(b"\x00\xff") == "00 ff"
    assert preview(bytes(range(10)), limit=10) == "00 01 02 03 04 05 06 07 08 09"
    assert preview(bytes(range(10)), limit=4) == "00 01 … 08 09 (10 bytes)"


def test_dump_offsets_and_ascii():
    lines = dump(b"ABC\x00" * 5, width=8, base=0x100).splitlines()
    assert lines[0] == "0100  41 42 43 00 41 42 43 00  ABC.ABC."
    assert lines[-1].startswith("0110  41 42 43 00")
    assert lines[-1].endswith("  ABC.")
    with pytest.raises(ValueError):
        dump(b"x", width=0)


def test_flag_names_follow_wiresharks_info_column():
    assert flag_names(0x002) == "SYN"
    assert flag_names(0x012) == "SYN, ACK"
    assert flag_names(0x019) == "FIN, PSH, ACK"
    assert flag_names(0) == "none"


@pytest.mark.parametrize(
    "option, length",
    [
        (TcpOption(TcpOptionKind.NOP, None), 1),
        (TcpOption(TcpOptionKind.MSS, 1460), 4),
        (TcpOption(TcpOptionKind.WINDOW_SCALE, 7), 3),
        (TcpOption(TcpOptionKind.SACK_PERMITTED, None), 2),
        (TcpOption(TcpOptionKind.TIMESTAMPS, (1, 0)), 10),
        (TcpOption(TcpOptionKind.SACK, ((1, 2), (3, 4))), 18),
        (TcpOption(30, b"\x01\x02"), 4),
    ],
)
def test_option_length(option, length):
    assert option_length(option) == length


def _syn() -> tuple[bytes, HandshakePacket]:
    """A SYN from 192.0.2.1:40000 to 198.51.100.7:443, built from the RFC layout."""
    options = (
        bytes([2, 4]) + struct.pack("!H", 1400)  # MSS 1400
        + bytes([1])  # NOP
        + bytes([3, 3, 7])  # window scale 7
    )
    assert len(options) == 8
    header = struct.pack(
        "!HHIIBBHHH", 40000, 443, 1_000_000, 0, (28 // 4) << 4, 0x02, 29200, 0xBEEF, 0
    ) + options
    packet = HandshakePacket(
        frame=1, time_ns=0, seq=1_000_000, ack=0, relative_seq=0, relative_ack=None,
        flags=0x02, window=29200,
        options=(
            TcpOption(TcpOptionKind.MSS, 1400),
            TcpOption(TcpOptionKind.NOP, None),
            TcpOption(TcpOptionKind.WINDOW_SCALE, 7),
        ),
        mss=1400, window_scale=7, sack_permitted=False, timestamps=None,
    )
    return header, packet


def test_tcp_header_fields_label_every_byte():
    header, packet = _syn()
    fields = tcp_header_fields(
        header, packet, source=("192.0.2.1", 40000), destination=("198.51.100.7", 443)
    )
    pieces = annotate(header, fields)
    assert all(p.label is not None for p in pieces)  # no unexplained bytes
    by_label = {p.label: p for p in pieces}
    assert by_label["source port"].hex == "9c 40"
    assert "198.51.100.7 port 443" in by_label["destination port"].meaning
    assert by_label["sequence number"].meaning == "1000000 (relative 0)"
    assert by_label["acknowledgement"].meaning.startswith("ignored")
    assert by_label["flags"].meaning == "SYN"
    assert by_label["option MSS"].hex == "02 04 05 78"
    assert "multiplied by 128" in by_label["option WINDOW_SCALE"].meaning
    assert (by_label["option WINDOW_SCALE"].start, by_label["option WINDOW_SCALE"].end) == (25, 28)


def test_tcp_header_fields_refuse_bytes_that_disagree():
    header, packet = _syn()
    wrong = header[:4] + struct.pack("!I", 999) + header[8:]
    with pytest.raises(ValueError, match="sequence number"):
        tcp_header_fields(wrong, packet, source=("a", 40000), destination=("b", 443))
    shifted = header[:20] + bytes([1]) + header[20:27]  # options moved by one byte
    with pytest.raises(ValueError, match="option"):
        tcp_header_fields(shifted, packet, source=("a", 40000), destination=("b", 443))
    with pytest.raises(ValueError, match="whole TCP header"):
        tcp_header_fields(header[:20], packet, source=("a", 40000), destination=("b", 443))


def test_long_fields_can_be_elided():
    data = bytes(range(40))
    (piece,) = annotate(data, [Field(0, 40, "random", elide=4)])
    assert piece.hex == "00 01 … 26 27 (40 bytes)"


def test_record_fields():
    from tlsdoc.registry import ContentType, ProtocolVersion

    record = NS(content_type=ContentType.handshake, legacy_version=ProtocolVersion.TLS_1_0, length=20)
    data = bytes([22, 3, 1, 0, 20]) + bytes(range(20))
    pieces = annotate(data, record_fields(data, record, elide=4))
    assert [(p.label, p.hex) for p in pieces] == [
        ("content type", "16"), ("legacy version", "03 01"), ("length", "00 14"),
        ("fragment", "00 01 … 12 13 (20 bytes)"),
    ]
    assert pieces[0].meaning == "handshake (22)"
    assert pieces[1].meaning == "TLS 1.0 (0x0301)"
    with pytest.raises(ValueError, match="not the decoded"):
        record_fields(bytes([23]) + data[1:], record)
    with pytest.raises(ValueError, match="not a record"):
        record_fields(data[:-1], record)

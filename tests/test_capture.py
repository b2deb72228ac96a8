"""tlsdoc.capture: file formats, link layers, IP/TCP decoding, hostile input."""

from __future__ import annotations

import io
import struct

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth import (
    CLIENT,
    SERVER,
    T0_NS,
    capture_bytes,
    ip_bytes,
    link_frame,
    pcap_bytes,
    pcapng_bytes,
    synth_connection,
)
from tlsdoc import capture
from tlsdoc.capture import (
    Frame,
    Segment,
    TcpFlags,
    TcpOption,
    TcpOptionKind,
    decode_segment,
    open_capture,
    read_blocks,
    read_bytes,
    read_frames,
    read_segments,
)
from tlsdoc.errors import CaptureError, DecodeError, TlsdocError, TruncatedError

PACKETS = synth_connection([b"GET / HTTP/1.1\r\n\r\n"], [b"HTTP/1.1 200 OK\r\n\r\nhi"])
PACKETS6 = synth_connection([b"GET / HTTP/1.1\r\n\r\n"], [b"HTTP/1.1 200 OK\r\n\r\nhi"], ipv6=True)


def frames_of(data: bytes, name: str = "t.pcap") -> tuple[list[Frame], list[str]]:
    warnings: list[str] = []
    frames = list(read_frames(io.BytesIO(data), name=name, warn=warnings.append))
    return frames, warnings


def segments_of(data: bytes, name: str = "t.pcap") -> tuple[list[Segment], list[str]]:
    warnings: list[str] = []
    segs = list(read_segments(io.BytesIO(data), name=name, warn=warnings.append))
    return segs, warnings


def frame(data: bytes, linktype: int = 1, number: int = 7) -> Frame:
    return Frame(number, T0_NS, linktype, data, len(data), len(data), 0)


def check_segments(segs: list[Segment], packets) -> None:
    assert len(segs) == len(packets)
    for k, (seg, p) in enumerate(zip(segs, packets), start=1):
        assert seg.frame == k
        assert (seg.src, seg.sport) == p.src
        assert (seg.dst, seg.dport) == p.dst
        assert (seg.seq, seg.ack, seg.flags, seg.window) == (p.seq, p.ack, p.flags, p.window)
        assert seg.payload == p.payload
        assert seg.payload_length == len(p.payload)
        assert not seg.truncated


# -- file formats and link types ---------------------------------------------

LINKTYPES = [
    (1, {}),
    (1, {"vlans": (100,)}),
    (1, {"vlans": (10, 20, 30)}),
    (113, {}),
    (276, {}),
    (0, {}),
    (0, {"null_order": ">"}),
    (0, {"af_inet6": 24}),
    (0, {"af_inet6": 28}),
    (108, {}),
    (101, {}),
    (12, {}),
]


@pytest.mark.parametrize("fmt", ["pcap", "pcap-ns", "pcapng"])
@pytest.mark.parametrize("linktype,kw", LINKTYPES)
@pytest.mark.parametrize("packets", [PACKETS, PACKETS6], ids=["ipv4", "ipv6"])
def test_round_trip(fmt, linktype, kw, packets):
    if fmt == "pcapng":
        ifaces = [(linktype, 9)]
        raw = [(0, p.time_ns, link_frame(ip_bytes(p), linktype, **kw)) for p in packets]
        data = pcapng_bytes(raw, ifaces)
    else:
        raw2 = [(p.time_ns, link_frame(ip_bytes(p), linktype, **kw)) for p in packets]
        data = pcap_bytes(raw2, linktype, nano=fmt == "pcap-ns")
    frames, warnings = frames_of(data)
    assert warnings == []
    assert [f.number for f in frames] == list(range(1, len(packets) + 1))
    for f, p in zip(frames, packets):
        expect = p.time_ns if fmt != "pcap" else p.time_ns // 1000 * 1000
        assert f.time_ns == expect
        assert f.linktype == linktype
    check_segments([decode_segment(f) for f in frames], packets)


@pytest.mark.parametrize("linktype", [228, 229])
def test_raw_ipv4_ipv6_linktypes(linktype):
    packets = PACKETS if linktype == 228 else PACKETS6
    data = capture_bytes(packets, linktype=linktype)
    segs, warnings = segments_of(data)
    assert warnings == []
    check_segments(segs, packets)
    assert {s.ip_version for s in segs} == {4 if linktype == 228 else 6}


def test_addresses_print_as_wireshark_does():
    segs, _ = segments_of(capture_bytes(PACKETS6))
    assert (segs[0].src, segs[0].dst) == ("2001:db8::10", "2001:db8:113::80")
    segs, _ = segments_of(capture_bytes(PACKETS))
    assert (segs[0].src, segs[0].dst) == ("192.0.2.10", "203.0.113.80")


@pytest.mark.parametrize("order", ["<", ">"])
def test_big_and_little_endian_files(order):
    for fmt in ("pcap", "pcap-ns", "pcapng"):
        segs, warnings = segments_of(capture_bytes(PACKETS, fmt=fmt, byte_order=order))
        assert warnings == []
        check_segments(segs, PACKETS)


def test_pcapng_two_interfaces_with_their_own_link_type_and_resolution():
    data = capture_bytes(PACKETS, fmt="pcapng", linktype=1, second_linktype=276)
    frames, warnings = frames_of(data, "two.pcapng")
    assert warnings == []
    assert [f.interface for f in frames] == [k % 2 for k in range(len(PACKETS))]
    assert [f.linktype for f in frames] == [1 if k % 2 == 0 else 276 for k in range(len(PACKETS))]
    for f, p in zip(frames, PACKETS):
        # interface 0 has ns resolution, interface 1 µs (if_tsresol 6)
        assert f.time_ns == (p.time_ns if f.interface == 0 else p.time_ns // 1000 * 1000)
    check_segments([decode_segment(f) for f in frames], PACKETS)


@pytest.mark.parametrize("tsresol,step", [(3, 10**6), (6, 1000), (9, 1), (10, 1), (0x80 | 20, 954), (0x80 | 32, 1)])
def test_pcapng_if_tsresol(tsresol, step):
    raw = [(0, p.time_ns, link_frame(ip_bytes(p), 1)) for p in PACKETS]
    frames, _ = frames_of(pcapng_bytes(raw, [(1, tsresol)]))
    for f, p in zip(frames, PACKETS):
        assert p.time_ns - step <= f.time_ns <= p.time_ns


def test_pcapng_if_tsoffset_and_multiple_sections():
    # two sections (the second big-endian): numbering continues, each
    # section has its own interface table; tsoffset adds whole seconds.
    first = capture_bytes(PACKETS[:3], fmt="pcapng", linktype=276)
    second = bytearray(capture_bytes(PACKETS[3:], fmt="pcapng", linktype=1, byte_order=">"))
    frames, warnings = frames_of(first + bytes(second))
    assert warnings == []
    assert [f.number for f in frames] == list(range(1, len(PACKETS) + 1))
    assert [f.linktype for f in frames] == [276] * 3 + [1] * (len(PACKETS) - 3)
    check_segments([decode_segment(f) for f in frames], PACKETS)

    o = "<"
    shb = struct.pack(o + "II", 0x0A0D0D0A, 28) + struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1) + struct.pack(o + "I", 28)
    opts = struct.pack(o + "HHq", 14, 8, 100) + struct.pack(o + "HH", 0, 0)
    idb_body = struct.pack(o + "HHI", 101, 0, 0) + opts
    idb = struct.pack(o + "II", 1, len(idb_body) + 12) + idb_body + struct.pack(o + "I", len(idb_body) + 12)
    pkt = ip_bytes(PACKETS[0])
    pkt += b"\x00" * (-len(pkt) % 4)
    epb_body = struct.pack(o + "IIIII", 0, 0, 5, len(ip_bytes(PACKETS[0])), 60) + pkt
    epb = struct.pack(o + "II", 6, len(epb_body) + 12) + epb_body + struct.pack(o + "I", len(epb_body) + 12)
    frames, _ = frames_of(shb + idb + epb)
    assert frames[0].time_ns == 100 * 10**9 + 5000  # default µs resolution
    assert frames[0].original_length == 60


def test_pcapng_simple_and_obsolete_packet_blocks():
    o = "<"

    def block(t, body):
        return struct.pack(o + "II", t, len(body) + 12) + body + struct.pack(o + "I", len(body) + 12)

    shb = block(0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack(o + "HHI", 101, 0, 0))
    pkt = ip_bytes(PACKETS[3])
    pad = b"\x00" * (-len(pkt) % 4)
    spb = block(3, struct.pack(o + "I", len(pkt)) + pkt + pad)
    pb = block(2, struct.pack(o + "HHIIII", 0, 0, 0, 7, len(pkt), len(pkt)) + pkt + pad)
    frames, warnings = frames_of(shb + idb + spb + pb)
    assert warnings == []
    assert [f.time_ns for f in frames] == [None, 7000]
    assert [decode_segment(f).payload for f in frames] == [PACKETS[3].payload] * 2


def test_dpkt_writers_are_read_too():
    # an independent writer: dpkt's own pcap (µs and ns) and pcapng
    for nano in (False, True):
        buf = io.BytesIO()
        w = dpkt.pcap.Writer(buf, nano=nano, linktype=dpkt.pcap.DLT_EN10MB)
        for p in PACKETS:
            w.writepkt(link_frame(ip_bytes(p), 1), ts=p.time_ns / 1e9)
        segs, warnings = segments_of(buf.getvalue())
        assert warnings == []
        check_segments(segs, PACKETS)
    buf = io.BytesIO()
    w = dpkt.pcapng.Writer(buf)
    for p in PACKETS:
        w.writepkt(link_frame(ip_bytes(p), 1), ts=p.time_ns / 1e9)
    segs, warnings = segments_of(buf.getvalue())
    assert warnings == []
    check_segments(segs, PACKETS)


def test_frames_stream_from_the_file_object(monkeypatch):
    # read_frames pulls records lazily: the first frame arrives before the
    # file has been read to the end.  (The file is read a chunk at a time;
    # small chunks here, so that a small file has many.)
    monkeypatch.setattr(capture, "_CHUNK", 1024)
    data = capture_bytes(PACKETS * 50)
    f = io.BytesIO(data)
    it = read_frames(f, name="big.pcap", warn=lambda m: None)
    first = next(it)
    assert first.number == 1
    assert f.tell() < len(data) // 10


# -- truncated and corrupt files -----------------------------------------------


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_every_cut_point_gives_frames_so_far_and_a_located_warning(fmt):
    data = capture_bytes(PACKETS[:4], fmt=fmt)
    whole, _ = frames_of(data)
    header = 24 if fmt == "pcap" else 12
    ends = []  # file offsets at which each frame's record is complete
    if fmt == "pcap":
        pos = 24
        for f in whole:
            pos += 16 + len(f.data)
            ends.append(pos)
    for cut in range(len(data)):
        part = data[:cut]
        if cut < header:
            with pytest.raises(CaptureError):
                frames_of(part)
            continue
        frames, warnings = frames_of(part, "cut." + fmt)
        assert frames == whole[: len(frames)]
        if fmt == "pcap":
            complete = sum(1 for e in ends if e <= cut)
            assert len(frames) == complete
            if cut in ends or cut == header:
                assert warnings == []
            else:
                assert len(warnings) == 1
                assert warnings[0].startswith(f"cut.pcap: file ends inside frame {complete + 1} (record header at byte 0x")
        else:
            assert len(warnings) <= 1
            assert all(w.startswith("cut.pcapng: file ends inside") for w in warnings)


def test_pcap_record_with_an_unbelievable_length():
    data = bytearray(capture_bytes(PACKETS[:3]))
    second = 24 + 16 + len(link_frame(ip_bytes(PACKETS[0]), 1))
    struct.pack_into("<I", data, second + 8, 0xFFFFFFF0)
    frames, warnings = frames_of(bytes(data))
    assert len(frames) == 1
    assert "frame 2: record length 4294967280 is not believable" in warnings[0]
    assert f"0x{second:x}" in warnings[0]


def _pcapng_blocks(data: bytes) -> list[int]:
    offs, pos = [], 0
    while pos < len(data):
        offs.append(pos)
        pos += struct.unpack_from("<I", data, pos + 4)[0]
    return offs


@pytest.mark.parametrize("length", [0, 7, 13, 0x7FFFFFFC])
def test_pcapng_block_length_that_lies(length):
    data = bytearray(capture_bytes(PACKETS[:4], fmt="pcapng"))
    offs = _pcapng_blocks(bytes(data))
    struct.pack_into("<I", data, offs[4] + 4, length)  # SHB, IDB, NRB, EPB1, EPB2
    frames, warnings = frames_of(bytes(data))
    assert len(frames) == 1
    assert len(warnings) == 1
    assert f"0x{offs[4]:x}" in warnings[0]


def test_pcapng_mismatched_trailer_and_caplen_beyond_block():
    data = bytearray(capture_bytes(PACKETS[:4], fmt="pcapng"))
    offs = _pcapng_blocks(bytes(data))
    # EPB 2's captured length larger than its block: that frame is skipped
    struct.pack_into("<I", data, offs[4] + 20, 5000)
    # EPB 3's trailing length differs from its leading one: reading stops
    end3 = offs[6]
    struct.pack_into("<I", data, end3 - 4, 12)
    frames, warnings = frames_of(bytes(data))
    assert [f.number for f in frames] == [1]
    assert "frame 2" in warnings[0] and "exceeds the block" in warnings[0]
    assert "mismatched lengths" in warnings[1]


def test_pcapng_packet_for_an_undescribed_interface():
    raw = [(0, PACKETS[0].time_ns, link_frame(ip_bytes(PACKETS[0]), 1)),
           (3, PACKETS[1].time_ns, link_frame(ip_bytes(PACKETS[1]), 1)),
           (0, PACKETS[2].time_ns, link_frame(ip_bytes(PACKETS[2]), 1))]
    data = pcapng_bytes([(i, t, d) for i, t, d in raw[:1]], [(1, 9)])
    good = pcapng_bytes(raw[:1] + raw[2:], [(1, 9)])
    data = bytearray(good)
    offs = _pcapng_blocks(bytes(data))
    struct.pack_into("<I", data, offs[4] + 8, 3)  # second EPB: interface 3
    frames, warnings = frames_of(bytes(data))
    assert [f.number for f in frames] == [1]
    assert "frame 2" in warnings[0] and "interface 3" in warnings[0]


def test_not_a_capture(tmp_path):
    for content, words in [(b"", "empty"), (b"GIF89a and more", "not a pcap"), (b"\x0a\x0d", "not a pcap")]:
        p = tmp_path / "x.bin"
        p.write_bytes(content)
        with pytest.raises(CaptureError) as info:
            open_capture(p)
        assert str(p) in str(info.value) and words in str(info.value)
        with pytest.raises(CaptureError):
            read_frames(io.BytesIO(content), name="x", warn=lambda m: None)
    with pytest.raises(CaptureError, match="no such file"):
        open_capture(tmp_path / "missing.pcap")
    with pytest.raises(CaptureError, match="directory"):
        open_capture(tmp_path)
    with pytest.raises(CaptureError, match="bad byte-order magic"):
        read_frames(io.BytesIO(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00XXXX"), name="x", warn=print)


def test_open_capture_and_read_bytes(tmp_path):
    p = tmp_path / "c.pcapng"
    p.write_bytes(capture_bytes(PACKETS, fmt="pcapng"))
    with open_capture(p) as cap:
        assert cap.format == "pcapng" and cap.name == "c.pcapng"
        assert len(list(cap.frames(warn=print))) == len(PACKETS)
        assert len(list(cap.segments(warn=print))) == len(PACKETS)  # rereads
        assert cap.position() == p.stat().st_size
    k = tmp_path / "keys.log"
    k.write_bytes(b"CLIENT_RANDOM aa bb\n")
    assert read_bytes(k) == b"CLIENT_RANDOM aa bb\n"
    with pytest.raises(CaptureError, match="no such file"):
        read_bytes(tmp_path / "nope.log")
    with pytest.raises(CaptureError, match="directory"):
        read_bytes(tmp_path)
    # read_blocks: the same bytes in pieces; a missing file fails at the call
    k.write_bytes(bytes(range(256)) * 10)
    blocks = list(read_blocks(k, size=1000))
    assert [len(b) for b in blocks] == [1000, 1000, 560] and b"".join(blocks) == k.read_bytes()
    with pytest.raises(CaptureError, match="no such file"):
        read_blocks(tmp_path / "nope.log")
    with pytest.raises(CaptureError, match="directory"):
        read_blocks(tmp_path)


# -- decoding IP and TCP -------------------------------------------------------


def eth(ip: bytes, etype: int = 0x0800) -> bytes:
    return b"\x02" * 6 + b"\x04" * 6 + struct.pack("!H", etype) + ip


def ipv4(payload: bytes, *, proto=6, ihl=5, total=None, frag=0x4000, options=b"") -> bytes:
    total = 4 * ihl + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, frag, 64, proto, 0,
                      bytes([192, 0, 2, 10]), bytes([203, 0, 113, 80]))
    return hdr + options + payload


def tcp(payload: bytes = b"", *, options: bytes = b"", flags=0x18, doff=None) -> bytes:
    doff = 5 + len(options) // 4 if doff is None else doff
    return struct.pack("!HHIIBBHHH", 50514, 443, 1, 2, doff << 4, flags, 1000, 0, 0) + options + payload


def test_not_tcp_gives_none():
    arp = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b"\x00" * 28
    assert decode_segment(frame(arp)) is None
    udp = eth(ipv4(b"\x00" * 8, proto=17))
    assert decode_segment(frame(udp)) is None
    assert decode_segment(frame(b"\x00\x00\x00\x00\xaa\xbb", linktype=0)) is None  # AF 0
    assert decode_segment(frame(eth(b"\x00" * 40), linktype=147)) is None  # unknown link type


def test_ipv4_options_and_ethernet_padding():
    seg = decode_segment(frame(eth(ipv4(tcp(b"ab"), ihl=6, options=b"\x01\x01\x01\x00"))))
    assert seg.payload == b"ab" and seg.sport == 50514 and seg.flags == TcpFlags.PSH | TcpFlags.ACK
    padded = eth(ipv4(tcp())) + b"\x00" * 6  # a 60-byte Ethernet minimum
    seg = decode_segment(frame(padded))
    assert seg.payload == b"" and seg.payload_length == 0 and not seg.truncated


def test_tso_total_length_zero_uses_the_captured_length():
    seg = decode_segment(frame(eth(ipv4(tcp(b"x" * 3000), total=0))))
    assert seg.payload == b"x" * 3000 and not seg.truncated


def test_snaplen_cut_frame_is_marked_truncated():
    data = capture_bytes(PACKETS, snaplen=80)
    segs, warnings = segments_of(data)
    assert warnings == []
    req = segs[3]
    assert req.truncated and req.payload_length == len(PACKETS[3].payload)
    assert req.payload == PACKETS[3].payload[: 80 - 14 - 20 - 32]
    assert not segs[0].truncated  # the SYN fits


def test_frame_cut_inside_the_headers_raises_truncated():
    full = eth(ipv4(tcp(b"hello", options=b"\x01\x01\x08\x0a" + b"\x00" * 8)))
    with pytest.raises(TruncatedError) as info:
        decode_segment(frame(full[: 14 + 20 + 10]))
    assert info.value.frame == 7 and info.value.field == "tcp"
    with pytest.raises(TruncatedError) as info:
        decode_segment(frame(full[: 14 + 20 + 24]))
    assert info.value.field == "tcp.options"
    with pytest.raises(TruncatedError) as info:
        decode_segment(frame(full[: 14 + 12]))
    assert info.value.field == "ip"


@pytest.mark.parametrize(
    "raw,field",
    [
        (eth(ipv4(tcp(), ihl=4)), "ip.hdr_len"),
        (eth(ipv4(tcp(), total=10)), "ip.len"),
        (eth(b"\x65" + ipv4(tcp())[1:]), "ip.version"),
        (eth(ipv4(tcp(doff=3))), "tcp.hdr_len"),
        (eth(ipv4(tcp(doff=15))), "tcp.hdr_len"),
        (eth(ipv4(tcp(options=b"\x02\x05\x05\xb4"))), "tcp.options"),
        (eth(ipv4(tcp(options=b"\x08\x01\x00\x00"))), "tcp.options"),
        (eth(ipv4(tcp(options=b"\x01\x01\x01\x1e"))), "tcp.options"),
        (eth(ipv4(tcp(options=b"\x05\x06\x00\x00\x00\x00\x00\x00"))), "tcp.options.sack"),
        (eth(ipv4(b"\x00" * 12, total=32)), "tcp"),
    ],
)
def test_malformed_headers_raise_located_decode_errors(raw, field):
    with pytest.raises(DecodeError) as info:
        decode_segment(frame(raw))
    assert info.value.frame == 7
    assert info.value.field == field


def test_malformed_frame_is_a_warning_in_read_segments():
    frames = [(T0_NS, link_frame(ip_bytes(PACKETS[0]), 1)), (T0_NS + 1000, eth(ipv4(tcp(doff=3)))),
              (T0_NS + 2000, link_frame(ip_bytes(PACKETS[1]), 1))]
    segs, warnings = segments_of(pcap_bytes(frames, 1), "bad.pcap")
    assert [s.frame for s in segs] == [1, 3]
    assert warnings == [
        "bad.pcap frame 2 (tcp.hdr_len): TCP header length below the minimum: "
        "expected >= 20, found 12; frame skipped"
    ]


def test_tcp_options_are_decoded():
    opts = (
        b"\x02\x04\x05\xb4"  # MSS 1460
        b"\x04\x02"  # SACK permitted
        b"\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02"  # TS 1, 2
        b"\x01\x03\x03\x07"  # NOP, WS 7
        b"\x05\x0a\x00\x00\x00\x10\x00\x00\x00\x20"  # SACK [16, 32)
        b"\x1e\x04\xab\xcd"  # kind 30 (MPTCP), raw
        b"\x00\x00"  # EOL + padding
    )
    seg = decode_segment(frame(eth(ipv4(tcp(b"z", options=opts, flags=0x02)))))
    assert seg.options == (
        TcpOption(TcpOptionKind.MSS, 1460),
        TcpOption(TcpOptionKind.SACK_PERMITTED, None),
        TcpOption(TcpOptionKind.TIMESTAMPS, (1, 2)),
        TcpOption(TcpOptionKind.NOP, None),
        TcpOption(TcpOptionKind.WINDOW_SCALE, 7),
        TcpOption(TcpOptionKind.SACK, ((16, 32),)),
        TcpOption(30, b"\xab\xcd"),
        TcpOption(TcpOptionKind.EOL, None),
    )
    assert seg.option(TcpOptionKind.MSS) == 1460
    assert seg.option(TcpOptionKind.SACK_PERMITTED) is True
    assert seg.option(TcpOptionKind.TIMESTAMPS) == (1, 2)
    assert seg.option(99) is None
    assert seg.flag_names == "SYN"


def test_ipv4_fragments_are_skipped_and_reported_once():
    first = eth(ipv4(tcp(b"a" * 16), frag=0x2000))  # MF
    later = eth(ipv4(b"b" * 16, frag=0x0003))  # offset 24
    assert decode_segment(frame(first)) is None
    assert decode_segment(frame(later)) is None
    frames = [(T0_NS, first), (T0_NS, later), (T0_NS, first), (T0_NS, link_frame(ip_bytes(PACKETS[0]), 1))]
    segs, warnings = segments_of(pcap_bytes(frames, 1), "frag.pcap")
    assert [s.frame for s in segs] == [4]
    assert len(warnings) == 1 and "frame 1: IP fragments are not reassembled" in warnings[0]


def ipv6(payload: bytes, nxt: int) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, 64,
                       bytes.fromhex("20010db8" + "00" * 11 + "10"), bytes.fromhex("20010db8" + "00" * 11 + "80")) + payload


def test_ipv6_extension_headers_are_skipped():
    seg_bytes = tcp(b"six")
    dest = bytes([6, 0]) + b"\x01\x04\x00\x00\x00\x00"  # dest options -> TCP
    routing = bytes([60, 1]) + b"\x00" * 14  # routing (16 bytes) -> dest options
    hop = bytes([43, 0]) + b"\x01\x04\x00\x00\x00\x00"  # hop-by-hop -> routing
    seg = decode_segment(frame(eth(ipv6(hop + routing + dest + seg_bytes, 0), 0x86DD)))
    assert seg.payload == b"six" and seg.src == "2001:db8::10" and seg.ip_version == 6
    frag = bytes([6, 0, 0, 1, 0, 0, 0, 9])
    assert decode_segment(frame(eth(ipv6(frag + seg_bytes, 44), 0x86DD))) is None
    with pytest.raises(DecodeError) as info:
        decode_segment(frame(eth(ipv6(bytes([6, 200]) + b"\x00" * 6 + seg_bytes, 60), 0x86DD)))
    assert info.value.field == "ipv6.ext"


def test_unsupported_link_type_is_reported_once():
    frames = [(T0_NS, b"\x00" * 60)] * 3
    segs, warnings = segments_of(pcap_bytes(frames, 147), "usr.pcap")
    assert segs == []
    assert warnings == ["usr.pcap: frame 1: link type 147 is not supported; its frames are skipped"]


# -- hostile input ---------------------------------------------------------------

PREFIXES = [b"", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a",
            b"\x0a\x0d\x0d\x0a\x00\x00\x00\x1c\x1a\x2b\x3c\x4d"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PREFIXES), st.binary(max_size=400))
def test_arbitrary_bytes_as_a_capture(prefix, body):
    data = prefix + body
    warnings: list[str] = []
    try:
        for f in read_frames(io.BytesIO(data), name="fuzz", warn=warnings.append):
            assert isinstance(f, Frame)
            try:
                decode_segment(f)
            except DecodeError:
                pass
    except CaptureError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0, 1, 12, 101, 108, 113, 228, 229, 276]), st.binary(max_size=200))
def test_arbitrary_bytes_as_a_frame(linktype, data):
    try:
        result = decode_segment(frame(data, linktype))
    except TlsdocError as exc:
        assert isinstance(exc, DecodeError) and exc.frame == 7
        return
    assert result is None or isinstance(result, Segment)
    if result is not None:
        assert len(result.payload) <= result.payload_length or not result.truncated


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.binary(min_size=1, max_size=8))
def test_corrupting_a_valid_capture(pos, junk):
    for fmt in ("pcap", "pcapng"):
        data = bytearray(capture_bytes(PACKETS, fmt=fmt))
        pos %= len(data)
        data[pos : pos + len(junk)] = junk
        try:
            list(read_segments(io.BytesIO(bytes(data)), name="x", warn=lambda m: None))
        except CaptureError:
            assert pos < 12

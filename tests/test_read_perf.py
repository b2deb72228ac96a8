"""The fast paths of reading: the same as the plain code, frame for frame.

``capture.read_segments`` reads a pcap file with one fused loop: records
taken from big chunks at offsets, the common frame decoded in place and,
in share mode, a frame of another share dropped as soon as its addresses
are read.  Everything here compares it, event by event (segments, share
marks, warnings, and ``at[0]`` at each of them), with a reference written
the plain way: one record read at a time (as ``_pcap_records`` was before
chunks), every frame through ``_decode_general`` and the share chosen by
``share_of`` on the decoded segment.  The inputs are synthetic connections
and hypothesis-made frames with damaged headers and options, in files cut
short or with lying record lengths, read with tiny chunks so that records
straddle chunk ends.
"""

from __future__ import annotations

import io
import random
import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth import capture_bytes, synth_connection
from tlsdoc import capture
from tlsdoc.capture import Segment, read_segments
from tlsdoc.errors import CaptureError, DecodeError

SHARES = [None, (0, 2), (1, 2), (0, 3), (2, 3)]


# -- the reference: the plain way ------------------------------------------------------


def _plain_pcap_records(f, name, warn):
    """pcap records read one at a time with two read() calls (the old _pcap_records)."""
    kind, (order, frac_ns, linktype) = capture._open_records(f, name)
    assert kind == "pcap"
    rec = struct.Struct(order + "IIII")
    pos = 24
    number = 0
    while True:
        hdr = f.read(16)
        if len(hdr) < 16:
            if hdr:
                warn(f"{name}: file ends inside frame {number + 1} (record header at byte 0x{pos:x})")
            return
        number += 1
        sec, frac, incl, orig = rec.unpack(hdr)
        if incl > capture.MAX_RECORD:
            warn(f"{name}: frame {number}: record length {incl} is not believable "
                 f"(record header at byte 0x{pos:x}); the rest of the file is skipped")
            return
        data = f.read(incl)
        if len(data) < incl:
            warn(f"{name}: file ends inside frame {number} "
                 f"(record header at byte 0x{pos:x}, {len(data)} of {incl} bytes present)")
            return
        pos += 16 + incl
        yield (number, sec * 1_000_000_000 + frac * frac_ns, linktype, data, incl, orig, 0)


def _plain_events(data: bytes, share, every: int) -> list[tuple]:
    """What read_segments must do, written the plain way (no fast path anywhere)."""
    events: list[tuple] = []
    at = [0]
    name = "t.pcap"

    def warn(text):
        events.append(("w", text, at[0]))

    mine, shares = share or (0, 0)
    told: set = set()
    since = 0
    try:
        for number, time_ns, linktype, frame, _c, _o, _i in _plain_pcap_records(io.BytesIO(data), name, warn):
            at[0] = number
            if shares:
                since += 1
                if since == every:
                    since = 0
                    events.append(("m", number - 1, at[0]))
            try:
                result = capture._decode_general(number, time_ns, linktype, frame)
            except DecodeError as exc:
                exc.with_context(capture=name)
                warn(f"{exc}; frame skipped")
                continue
            if type(result) is Segment:
                if not shares or capture.share_of(result.src, result.sport, result.dst, result.dport,
                                                  shares) == mine:
                    events.append(("s", result, at[0]))
            else:
                capture._report(result, number, linktype, told, name, warn)
    except CaptureError as exc:
        events.append(("error", str(exc)))
    return events


def _events(segments_of, data: bytes, share) -> list[tuple]:
    events: list[tuple] = []
    at = [0]

    def warn(text):
        events.append(("w", text, at[0]))

    try:
        for item in segments_of(io.BytesIO(data), warn, share, at):
            if type(item) is int:
                events.append(("m", item, at[0]))
            else:
                events.append(("s", item, at[0]))
    except CaptureError as exc:
        events.append(("error", str(exc)))
    return events


def _fused(f, warn, share, at):
    return read_segments(f, name="t.pcap", warn=warn, share=share, at=at)


def _general(f, warn, share, at):
    # read_segments' general loop over the (chunked) pcap records
    mine, shares = share or (0, 0)
    return capture._record_segments(capture._records(f, "t.pcap", warn), "t.pcap", warn, mine, shares, at)


def check_same(data: bytes, monkeypatch, chunk: int | None = None, every: int = 5) -> None:
    monkeypatch.setattr(capture, "SHARE_MARK_EVERY", every)
    if chunk is not None:
        monkeypatch.setattr(capture, "_CHUNK", chunk)
    for share in SHARES:
        want = _plain_events(data, share, every)
        assert _events(_fused, data, share) == want, share
        assert _events(_general, data, share) == want, share


# -- hand-made frames ------------------------------------------------------------------

_ADDRS = [0xC000020A, 0xCB007150, 0x0A000001, 0xC0A80101]
_PORTS = [443, 80, 50514, 40000, 40001, 1]
_OPTIONS = [
    b"",
    b"\x01\x01\x08\x0a" + bytes(range(8)),  # NOP NOP TS: the fast path
    b"\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02\x00\x00",  # MSS, NOP, WS, SACK_PERM, EOL
    b"\x01\x01\x08\x0b" + bytes(8),  # bad TS length
    b"\x01\x01\x05\x0a" + bytes(8),  # SACK with a length not 2 + 8n
    b"\x01\x01\x08",  # cut inside: kind without room
    b"\x09\x00\x00\x00",  # an option of length 0
    b"\x01\x01\x08\x0a\x00",  # odd length: the header is not a multiple of 4
]


@st.composite
def frames(draw) -> bytes:
    """An Ethernet frame: most often a well-formed IPv4/TCP one (the fast
    path), else one with a damaged or unusual field."""
    damage = draw(st.sampled_from(["none"] * 6 + ["options", "doff", "total", "vihl", "frag", "proto",
                                                    "etype", "cut", "ae"]))

    def pick(field, good, bad):
        return draw(st.sampled_from(bad)) if damage == field else good

    opts = draw(st.sampled_from(_OPTIONS[:2])) if damage != "options" else draw(st.sampled_from(_OPTIONS))
    opts += b"\x00" * (-len(opts) % 4)
    payload = draw(st.binary(max_size=40))
    thl = 20 + len(opts)
    doff = pick("doff", thl // 4, [4, 5, 8, 15, 0, 3])
    tcp = struct.pack("!HHIIBBHHH", draw(st.sampled_from(_PORTS)), draw(st.sampled_from(_PORTS)),
                      draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1)),
                      (doff << 4) | pick("ae", 0, [1, 2]), draw(st.integers(0, 255)),
                      draw(st.integers(0, 65535)), 0, 0) + opts + payload
    total = 20 + len(tcp)
    total = pick("total", total, [0, 19, 20, 39, total + 7, total - 1, total - 3, 0xFFFF])
    vihl = pick("vihl", 0x45, [0x46, 0x44, 0x55, 0x65, 0x40])
    ip = struct.pack("!BBHHHBBHII", vihl, 0, total & 0xFFFF, 1,
                     pick("frag", draw(st.sampled_from([0, 0x4000])), [0x2000, 0x0001, 0x8000, 0x6000]),
                     64, pick("proto", 6, [17, 1, 0]), 0,
                     draw(st.sampled_from(_ADDRS)), draw(st.sampled_from(_ADDRS)))
    ip += bytes(4) * ((vihl & 15) - 5 if (vihl & 15) > 5 else 0)
    etype = pick("etype", 0x0800, [0x86DD, 0x8100, 0x0806, 0x0008])
    if etype == 0x8100:
        frame = bytes(12) + struct.pack("!HHH", 0x8100, 5, 0x0800) + ip + tcp
    else:
        frame = bytes(12) + struct.pack("!H", etype) + ip + tcp
    frame += b"\x00" * draw(st.sampled_from([0, 0, 6]))  # Ethernet padding
    cut = pick("cut", None, [10, 30, 40, 53, 54, 58, 66, len(frame) - 1])
    return frame if cut is None else frame[:cut]


def pcap(frames_: list[bytes], *, order: str = "<", linktype: int = 1, lengths=None) -> bytes:
    out = [struct.pack(order + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for i, f in enumerate(frames_):
        incl = len(f) if lengths is None or lengths[i] is None else lengths[i]
        out.append(struct.pack(order + "IIII", 1_700_000_000 + i, 1000 * i, incl, len(f)) + f)
    return b"".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(frames(), max_size=25), st.sampled_from(["<", ">"]), st.sampled_from([None, 7, 64, 300]),
       st.sampled_from([1, 2, 5]))
def test_damaged_frames_give_what_the_plain_code_gives(monkeypatch, frames_, order, chunk, every):
    check_same(pcap(frames_, order=order), monkeypatch, chunk, every)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(frames(), min_size=1, max_size=8), st.data())
def test_files_cut_short_or_lying_give_what_the_plain_code_gives(monkeypatch, frames_, data):
    raw = pcap(frames_)
    cut = data.draw(st.integers(24, len(raw)))
    check_same(raw[:cut], monkeypatch, data.draw(st.sampled_from([None, 5, 50])))
    lengths = [data.draw(st.sampled_from([None, None, 0, 3, 1 << 30, capture.MAX_RECORD, capture.MAX_RECORD + 1]))
               for _ in frames_]
    check_same(pcap(frames_, lengths=lengths), monkeypatch, data.draw(st.sampled_from([None, 5, 50])))


@pytest.mark.parametrize("linktype", [1, 101, 113, 147])
def test_other_link_types_take_the_general_path(monkeypatch, linktype):
    packets = synth_connection([b"GET / HTTP/1.1\r\n\r\n" * 30], [b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 3000], mss=500)
    for cut in (None, 100):
        data = capture_bytes(packets, linktype=linktype if linktype != 147 else 1)
        if linktype == 147:  # an unknown link type, reported once
            data = data[:20] + struct.pack("<I", 147) + data[24:]
        check_same(data if cut is None else data[:-cut], monkeypatch, 333, 3)


@pytest.mark.parametrize("chunk", [None, 16, 17, 100, 1000])
def test_synthetic_connections_give_what_the_plain_code_gives(monkeypatch, chunk):
    packets = []
    for k in range(6):
        packets += synth_connection([b"GET / HTTP/1.1\r\n\r\n" * (k + 1)], [b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 900 * k],
                                    mss=400, client=("192.0.2.10", 40000 + k), start_ns=1_700_000_000_000_000_000 + k)
    packets.sort(key=lambda p: p.time_ns)
    check_same(capture_bytes(packets), monkeypatch, chunk, 4)


def test_the_bench_file_gives_what_the_plain_code_gives(monkeypatch, tmp_path):
    # A small file from the benchmark's own synthesiser (bench/synth.py,
    # loaded as test_bench loads it), cut inside a frame.
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_synth_read", ROOT / "bench" / "synth.py")
    bench_synth = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_synth_read", bench_synth)  # (its dataclasses look it up)
    spec.loader.exec_module(bench_synth)
    bench_synth.synthesise(tmp_path / "s.pcap", tmp_path / "s.keys", 60, concurrent=20, seed=3)
    data = (tmp_path / "s.pcap").read_bytes()
    check_same(data[: len(data) - 777], monkeypatch, None, 4096)


def test_memory_stays_flat_whatever_the_file_size(monkeypatch):
    # The file is read a chunk at a time: after the first frame, no more
    # than a chunk (and the file header) has been read.
    packets = synth_connection([b"G" * 20000], [b"H" * 200000], mss=1400)
    data = capture_bytes(packets)
    monkeypatch.setattr(capture, "_CHUNK", 4096)
    f = io.BytesIO(data)
    it = read_segments(f, name="t.pcap", warn=lambda m: None)
    next(it)
    assert f.tell() <= 24 + 4096 + 16 + 1600
    assert len(list(it)) == len(packets) - 1


# -- TCP: feed's hot path against its general form ---------------------------------------

import dataclasses  # noqa: E402
from array import array  # noqa: E402

from synth import data_indices, drop, duplicate, resend  # noqa: E402
from test_tcp import arbitrary_segment  # noqa: E402
from tlsdoc import tcp  # noqa: E402
from tlsdoc.tcp import Reassembler  # noqa: E402


def _deep(v):
    """Every field of a value, the compare=False ones too (a Stream's chunk table)."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return (type(v).__name__,) + tuple(_deep(getattr(v, f.name)) for f in dataclasses.fields(v))
    if isinstance(v, array):
        return ("array", v.typecode, list(v))
    if isinstance(v, (tuple, list)):
        return tuple(_deep(x) for x in v)
    return v


def _reassembled(segs, general: bool):
    warnings: list[str] = []
    r = Reassembler(warn=warnings.append, name="t")
    out = []
    for seg in segs:
        if general:  # every segment through _feed, the hot path's general form
            done = r._feed(seg, r._open.get((seg.src, seg.sport, seg.dst, seg.dport)))
        else:
            done = r.feed(seg)
        out.append((seg.frame, [_deep(c) for c in done], len(warnings)))
        for c in done:
            _check_built(c)
    finished = r.finish()
    for c in finished:
        _check_built(c)
    out.append([_deep(c) for c in finished])
    return out, warnings


def _check_built(conn) -> None:
    # Connection, Stream, Handshake and HandshakePacket are built as slot
    # objects given their class (wire.slot_builder): the same as their
    # dataclass __init__ makes, every field set, and as frozen.
    hs = conn.handshake
    packets = [p for p in (hs.syn, hs.syn_ack, hs.ack) if p is not None]
    for value in (conn, hs, conn.client_stream, conn.server_stream, *packets):
        assert type(value) in (tcp.Connection, tcp.Handshake, tcp.Stream, tcp.HandshakePacket)
        again = dataclasses.replace(value)
        assert _deep(again) == _deep(value) and again == value and hash(again) == hash(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, dataclasses.fields(value)[0].name, None)


def check_feed(segs) -> None:
    assert _reassembled(segs, False) == _reassembled(segs, True)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_feed_hot_path_on_arbitrary_segments(data):
    check_feed([data.draw(arbitrary_segment(k)) for k in range(1, data.draw(st.integers(0, 30)) + 1)])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(0, 2**32), st.integers(0, 3))
def test_feed_hot_path_on_damaged_connections(isn, mss, seed, how):
    rnd = random.Random(seed)
    pk = synth_connection([b"C" * 700, b"c" * 300], [b"S" * 1500, b"s" * 90], mss=mss,
                          client_isn=isn, server_isn=(isn + 2**31 - 5) % 2**32)
    d = data_indices(pk)
    if how == 1 and d:
        pk = drop(pk, rnd.choice(d))
    elif how == 2 and d:
        pk = duplicate(pk, rnd.choice(d), at=rnd.randrange(3, len(pk)))
    elif how == 3:
        pk = resend(pk, rnd.choice([pk[0].src, pk[0].dst]), 3, 40, corrupt=True)
    moved = [pk[k] for k in data_indices(pk)]
    rnd.shuffle(moved)
    mixed = list(pk)
    for k, p in zip(data_indices(pk), moved):
        mixed[k] = p
    for packets in (pk, mixed):
        segs = list(read_segments(io.BytesIO(capture_bytes(packets)), name="t", warn=lambda m: None))
        check_feed(segs)


def test_feed_sweeps_tombstones_when_the_general_form_does():
    # Found by hypothesis: feed's hot path once skipped _feed's tombstone
    # sweep, and a swept tombstone can tell: here frame 3 (on another open
    # connection, 120 s after the RST) sweeps the RST's tombstone, so frame 4
    # (no time, so never "expired" at lookup) starts a new connection
    # instead of being ignored as a straggler.
    def seg(frame, t, dst, flags):
        return capture.Segment(frame, t, "192.0.2.10", dst, 50514, 443, 0, 0, flags, 0, (), b"", 0,
                               False, 4)
    segs = [seg(1, None, "192.0.2.11", 0), seg(2, 0, "203.0.113.80", 4),
            seg(3, 120_000_000_001, "192.0.2.11", 0), seg(4, None, "203.0.113.80", 0)]
    check_feed(segs)
    out, _ = _reassembled(segs, False)
    assert [c[1] for c in out[-1]] == [0, 2]  # frame 4's connection is a new one


# -- the fused loop's one unpack: masks made for the file's byte order ---------------------


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["<", ">"]), st.binary(min_size=63, max_size=63),
       st.sampled_from([b"", b"\x08\x00\x45", b"\x08\x00\x45\x00\x00\x28\x00\x01\x40\x00\x40\x06"]))
def test_record_and_headers_reads_what_network_order_reads(order, raw, head):
    # capture._record_and_headers tests network-order fields read in the file's
    # order with masks: the same answers as reading them in network order.
    raw = raw[:28] + head + raw[28 + len(head):]  # often a real EtherType, IHL, flags, protocol
    unpack, eth_want, frag_mask = capture._record_and_headers(order)
    sec, frac, incl, eth, vihl, tot_hi, tot_lo, frag, proto, key, offb = unpack(raw, 0)
    assert (sec, frac, incl) == struct.unpack_from(order + "III", raw, 0)
    frame = raw[16:]
    n_ether_ip, n_total, n_frag, n_proto = struct.unpack_from("!IH2xH1xB", frame, 12)
    assert (eth == eth_want and vihl == 0x45) == (n_ether_ip >> 8 == 0x080045)
    assert (not frag & frag_mask and proto == 6) == (n_frag & 0x3FFF == 0 and n_proto == 6)
    assert (tot_hi << 8) | tot_lo == n_total
    assert capture._TCP_HEADER_LENGTH[offb] == (frame[46] >> 4) * 4
    assert capture._TCP_AE_FLAG[offb] == (frame[46] & 1) << 8
    assert capture._IP_END[tot_hi] + tot_lo == 14 + n_total
    assert key == frame[26:38] and offb == frame[46]

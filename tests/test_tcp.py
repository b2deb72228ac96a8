"""tlsdoc.tcp: handshake, reassembly under reordering/duplication/overlap, gaps, frames_for."""

from __future__ import annotations

import io
import random
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_tool
from synth import (
    CLIENT,
    SERVER,
    T0_NS,
    Packet,
    capture_bytes,
    data_indices,
    drop,
    duplicate,
    resend,
    shuffled,
    swap,
    synth_connection,
    write_capture,
)
from tlsdoc.capture import Segment, TcpOption, TcpOptionKind, read_segments
from tlsdoc.tcp import Connection, Gap, Reassembler, _hs_packet, reassemble
from tlsdoc.wire import Direction

C_MSGS = [b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n" * 7, b"second request " * 40]
S_MSGS = [bytes(range(256)) * 9, b"and the end"]
C_DATA = b"".join(C_MSGS)
S_DATA = b"".join(S_MSGS)


def segments(packets, **kw) -> list[Segment]:
    segs = list(read_segments(io.BytesIO(capture_bytes(packets, **kw)), name="t.pcap", warn=pytest.fail))
    assert len(segs) == len(packets)
    return segs


def run(packets, **kw) -> tuple[list[Connection], list[str]]:
    warnings: list[str] = []
    return reassemble(segments(packets, **kw), warn=warnings.append, name="t.pcap"), warnings


def one(packets, **kw) -> tuple[Connection, list[str]]:
    conns, warnings = run(packets, **kw)
    assert len(conns) == 1
    return conns[0], warnings


def first_frames(packets, src, base_seq) -> list[int]:
    """Brute force: for each stream offset, the frame that first carried it."""
    owner: dict[int, int] = {}
    for number, p in enumerate(packets, start=1):
        if p.src == src and p.payload and not p.flags & 0x04:
            off = (p.seq + (1 if p.flags & 0x02 else 0) - base_seq) & 0xFFFFFFFF
            for k in range(len(p.payload)):
                owner.setdefault(off + k, number)
    return [owner[k] for k in range(len(owner))]


def check(conn: Connection, packets, c_data=C_DATA, s_data=S_DATA) -> None:
    assert conn.client_stream.data == c_data
    assert conn.server_stream.data == s_data
    assert conn.client_stream.gaps == () and conn.server_stream.gaps == ()
    for stream, src in ((conn.client_stream, conn.client), (conn.server_stream, conn.server)):
        owner = first_frames(packets, src, stream.base_seq)
        rng = random.Random(len(owner))
        for _ in range(20):
            a = rng.randrange(len(owner))
            b = rng.randrange(a, len(owner) + 1)
            assert stream.frames_for(a, b) == tuple(sorted(set(owner[a:b])))
        assert stream.frames == tuple(sorted(set(owner)))


BASE = synth_connection(C_MSGS, S_MSGS, mss=100)


# -- the handshake ---------------------------------------------------------------


def test_handshake_fields():
    conn, warnings = one(BASE)
    assert warnings == []
    assert conn.client == CLIENT and conn.server == SERVER and not conn.client_guessed
    assert conn.label == "192.0.2.10:50514 → 203.0.113.80:443"
    hs = conn.handshake
    assert hs.names == ("SYN", "SYN-ACK", "ACK") and hs.complete
    assert (hs.syn.frame, hs.syn_ack.frame, hs.ack.frame) == (1, 2, 3)
    assert hs.syn.time_ns == T0_NS // 1000 * 1000  # a µs pcap
    assert (hs.syn.seq, hs.syn.ack) == (0x1A2B3C4D, 0)
    assert (hs.syn.relative_seq, hs.syn.relative_ack) == (0, None)
    assert (hs.syn_ack.seq, hs.syn_ack.ack) == (0x5E6F7081, 0x1A2B3C4E)
    assert (hs.syn_ack.relative_seq, hs.syn_ack.relative_ack) == (0, 1)
    assert (hs.ack.relative_seq, hs.ack.relative_ack) == (1, 1)
    assert (hs.syn.mss, hs.syn.window_scale, hs.syn.sack_permitted, hs.syn.timestamps) == (100, 7, True, (1000, 0))
    assert (hs.syn_ack.mss, hs.syn_ack.timestamps) == (100, (5000, 1000))
    assert (hs.ack.mss, hs.ack.sack_permitted) == (None, False)
    assert (hs.syn.window, hs.syn_ack.window) == (64240, 65160)
    assert hs.syn_to_syn_ack_ns == 50_000_000  # both times cut to µs
    assert hs.rtt_ns == hs.ack.time_ns - hs.syn.time_ns
    assert hs.syn_ack_to_ack_ns == hs.rtt_ns - hs.syn_to_syn_ack_ns
    assert conn.closed_by == "FIN"
    assert conn.frames == tuple(range(1, len(BASE) + 1))
    assert (conn.first_frame, conn.last_frame) == (1, len(BASE))
    assert conn.client_stream.isn == 0x1A2B3C4D and conn.client_stream.base_seq == 0x1A2B3C4E
    assert conn.client_stream.seq_at(10) == 0x1A2B3C4E + 10
    assert conn.stream(Direction.SERVER_TO_CLIENT) is conn.server_stream
    assert conn.streams[Direction.CLIENT_TO_SERVER] is conn.client_stream
    fin_frames = [k for k, p in enumerate(BASE, 1) if p.flags & 0x01]
    assert (conn.client_stream.fin_frame, conn.server_stream.fin_frame) == tuple(fin_frames)


def test_missing_handshake_pieces_are_none():
    conn, warnings = one(BASE[1:])  # no SYN
    assert conn.handshake.syn is None and conn.handshake.rtt_ns is None
    assert conn.handshake.syn_ack.relative_ack is None  # client ISN unknown
    assert conn.client == CLIENT and not conn.client_guessed
    assert any("its SYN was not captured" in w for w in warnings)
    check(conn, BASE[1:])


def test_without_syn_the_higher_port_is_guessed_to_be_the_client():
    conn, warnings = one(BASE[3:])
    assert conn.client_guessed and conn.client == CLIENT
    assert conn.handshake.names == ()
    assert conn.client_stream.isn is None
    assert conn.client_stream.data == C_DATA and conn.server_stream.data == S_DATA
    assert "no SYN or SYN-ACK was captured; the client is guessed to be the higher port" in warnings[0]
    low = synth_connection([b"x"], [b"y"], client=("192.0.2.10", 80), server=("203.0.113.80", 8443))
    conn, _ = one(low[3:])
    assert conn.client == ("203.0.113.80", 8443)  # guessed, and wrong: that is why it warns


def test_retransmitted_syn_is_counted_not_a_new_connection():
    pk = duplicate(BASE, 0)
    conn, warnings = one(pk)
    assert warnings == []
    assert conn.handshake.syn.frame == 1 and conn.handshake.syn_retransmissions == 1
    check(conn, pk)


# -- reassembly ------------------------------------------------------------------


def test_in_order():
    conn, warnings = one(BASE)
    assert warnings == []
    check(conn, BASE)


@pytest.mark.parametrize("seed", range(6))
def test_reordered(seed):
    pk = shuffled(BASE, random.Random(seed))
    conn, warnings = one(pk)
    assert warnings == []
    check(conn, pk)


def test_swapped_and_duplicated():
    d = data_indices(BASE, CLIENT)
    pk = swap(BASE, d[0], d[3])
    pk = duplicate(pk, d[1], at=len(pk) - 4)
    pk = duplicate(pk, d[2])
    conn, warnings = one(pk)
    assert warnings == []
    check(conn, pk)
    first = next(k for k, p in enumerate(pk, 1) if p.payload and p.seq == BASE[d[0]].seq)
    assert first > d[3]  # byte 0 came late, with the swapped segment
    assert conn.client_stream.frames_for(0, 1) == (first,)


def test_overlapping_retransmissions():
    pk = resend(BASE, CLIENT, 50, 260)  # spans three segments, partly
    pk = resend(pk, SERVER, 0, 5, at=10)
    pk = resend(pk, SERVER, 1990, 300, at=12)  # ahead of the data: fills in later
    conn, warnings = one(pk)
    assert warnings == []
    check(conn, pk)


def test_overlap_with_different_bytes_keeps_the_first_and_warns():
    at = len(BASE) - 3
    pk = resend(BASE, CLIENT, 150, 20, corrupt=True, at=at)
    conn, warnings = one(pk)
    check(conn, pk)
    assert warnings == [
        f"t.pcap: frame {at + 1}: 192.0.2.10:50514 → 203.0.113.80:443 (client→server): "
        "bytes at offset 150–170 differ from those first seen in frame 5; the first are kept"
    ]


@pytest.mark.parametrize("mss", [1, 3, 7])
def test_tiny_mss(mss):
    c, s = [b"tiny client hello " * 3], [b"tiny server hello " * 4]
    pk = synth_connection(c, s, mss=mss)
    pk = shuffled(pk, random.Random(mss))
    conn, warnings = one(pk)
    assert warnings == []
    check(conn, pk, c[0], s[0])
    assert len(conn.client_stream.frames) == -(-len(c[0]) // mss)


@pytest.mark.parametrize("isn", [0xFFFFFFFF, 0xFFFFFF00, 0xFFFFFFF0 - 1000])
def test_sequence_wraparound(isn):
    pk = synth_connection(C_MSGS, S_MSGS, mss=100, client_isn=isn, server_isn=isn - 5)
    pk = shuffled(pk, random.Random(isn))
    conn, warnings = one(pk)
    assert warnings == []
    check(conn, pk)
    assert conn.client_stream.seq_at(len(C_DATA)) == (isn + 1 + len(C_DATA)) & 0xFFFFFFFF


def test_ipv6_and_other_link_types():
    pk = shuffled(synth_connection(C_MSGS, S_MSGS, mss=300, ipv6=True), random.Random(1))
    conn, warnings = one(pk, linktype=276, fmt="pcapng")
    assert warnings == []
    assert conn.label == "[2001:db8::10]:50514 → [2001:db8:113::80]:443"
    check(conn, pk)


def test_data_in_syn_starts_after_the_syn_sequence_number():
    pk = list(BASE)
    pk[0] = pk[0].replace(payload=b"early")  # TCP Fast Open style
    conn, _ = one(pk)
    assert conn.client_stream.data.startswith(b"early")


def test_bytes_before_the_isn_are_ignored():
    d = data_indices(BASE, CLIENT)
    first = BASE[d[0]]
    keepalive = first.replace(seq=first.seq - 1, payload=b"\x00")  # one byte below: a probe
    straddle = first.replace(seq=first.seq - 2, payload=b"zz" + first.payload[:3])
    conn, warnings = one(BASE[:3] + [keepalive, straddle] + BASE[3:])
    assert conn.client_stream.data == C_DATA
    assert conn.client_stream.frames_for(0, 1) == (5,)  # the straddling segment came first
    assert warnings == ["t.pcap: 192.0.2.10:50514 → 203.0.113.80:443 (client→server): "
                        "2 byte(s) before the initial sequence number are ignored"]


# -- gaps ------------------------------------------------------------------------


def test_dropped_segment_gives_a_located_gap_and_no_bytes_after_it():
    d = data_indices(BASE, SERVER)
    pk = drop(BASE, d[2])  # the third 100-byte server segment
    conn, warnings = one(pk)
    s = conn.server_stream
    assert s.data == S_DATA[:200]
    assert s.gaps == (Gap(offset=200, length=100, after_frame=d[1] + 1),)
    assert not s.complete and conn.client_stream.complete
    assert conn.client_stream.data == C_DATA
    assert warnings == [
        f"t.pcap: 192.0.2.10:50514 → 203.0.113.80:443 (server→client): 100 byte(s) missing at "
        f"offset 200 (after frame {d[1] + 1}); the stream stops there; {len(S_DATA) - 300} byte(s) "
        f"captured after it (frames {d[2] + 1}–{d[-1]}) are left out"
    ]
    assert s.frames_for(0, 10**6) == tuple(k + 1 for k in d[:2])


def test_lost_first_and_last_segments():
    d = data_indices(BASE, CLIENT)
    conn, warnings = one(drop(BASE, d[0]))
    assert conn.client_stream.data == b""
    assert conn.client_stream.gaps[0] == Gap(0, 100, 1)  # after the SYN
    *_, before, last = data_indices(BASE, SERVER)
    conn, warnings = one(drop(BASE, last))
    s = conn.server_stream
    assert s.data == S_DATA[: -len(S_MSGS[-1])]
    assert s.gaps == (Gap(len(S_DATA) - len(S_MSGS[-1]), len(S_MSGS[-1]), before + 1),)  # the FIN shows it
    assert conn.closed_by == "FIN"  # waited for it, then came from finish()


def test_snaplen_truncated_frames_leave_gaps():
    conn, warnings = one(BASE, snaplen=14 + 20 + 32 + 60)
    assert conn.client_stream.data == C_DATA[:60]
    assert conn.client_stream.gaps[0] == Gap(60, 40, 4)
    assert len(warnings) == 2


def test_gap_then_capture_ends():
    pk = synth_connection(C_MSGS, S_MSGS, mss=100, close=None)
    d = data_indices(pk, SERVER)  # the first message ends with a 4-byte segment
    conn, warnings = one(drop(pk, d[-2]))
    assert conn.closed_by is None
    assert conn.server_stream.gaps == (Gap(2300, 4, d[-3] + 1),)
    assert conn.server_stream.data == S_DATA[:2300]
    assert "11 byte(s) captured after it" in warnings[0]


# -- several connections, closing, streaming --------------------------------------


def test_interleaved_connections_and_port_reuse():
    a = synth_connection([b"A" * 500], [b"a" * 900], mss=100)
    b = synth_connection([b"B" * 300], [b"b" * 700], mss=100, client=("192.0.2.11", 40000), start_ns=T0_NS + 5000)
    c = synth_connection([b"C" * 50], [b"c" * 60], start_ns=T0_NS + 10**9, client_isn=7)  # reuses a's 4-tuple
    mixed = []
    for k in range(max(len(a), len(b))):
        mixed += a[k : k + 1] + b[k : k + 1]
    conns, warnings = run(mixed + c)
    assert warnings == []
    assert [x.index for x in conns] == [0, 1, 2]
    assert [(x.client_stream.data, x.server_stream.data) for x in conns] == [
        (b"A" * 500, b"a" * 900), (b"B" * 300, b"b" * 700), (b"C" * 50, b"c" * 60)]
    assert conns[0].client == conns[2].client
    assert conns[2].first_frame == len(mixed) + 1


def test_feed_returns_connections_as_they_close():
    a = synth_connection([b"A" * 50], [b"a" * 90])
    b = synth_connection([b"B" * 30], [b"b" * 70], client=("192.0.2.11", 40000), close=None)
    r = Reassembler(warn=pytest.fail)
    segs = segments(b[:3] + a + b[3:])
    out = [(seg.frame, [c.index for c in r.feed(seg)]) for seg in segs]
    done = [(frame, ids) for frame, ids in out if ids]
    assert done == [(3 + len(a), [1])]  # a completes at its last ACK
    assert r.open_connections == 1  # only b remains
    rest = r.finish()
    assert [c.index for c in rest] == [0] and rest[0].closed_by is None


def test_rst_closes_and_stragglers_are_reported():
    pk = synth_connection([b"hello"], [b"world"], close="rst")
    late = pk[-2].replace(time_ns=pk[-1].time_ns + 1, payload=b"late!", seq=pk[-2].seq + 5)
    conns, warnings = run(pk + [late])
    assert len(conns) == 1 and conns[0].closed_by == "RST"
    assert conns[0].server_stream.data == b"world"
    assert warnings == [
        f"t.pcap: frame {len(pk) + 1}: data for 192.0.2.10:50514 → 203.0.113.80:443 after the "
        f"connection closed (frame {len(pk)}) is ignored, as is any later"
    ]


def test_new_syn_on_an_open_connection_ends_the_old_one():
    old = synth_connection([b"old"], [b"OLD"], close=None)
    new = synth_connection([b"new"], [b"NEW"], client_isn=99, start_ns=T0_NS + 10**9)
    conns, warnings = run(old + new)
    assert [(c.client_stream.data, c.closed_by) for c in conns] == [(b"old", None), (b"new", "FIN")]
    assert "a new SYN (different ISN)" in warnings[0]


def test_a_late_packet_is_judged_by_its_own_connection_alone():
    # A packet for a closed 4-tuple is ignored while the tombstone is less
    # than TOMBSTONE_NS old, and starts a new (guessed) connection after:
    # whatever other connections did meanwhile (their packets trigger the
    # sweeps), so processes that see different connections decide alike.
    from tlsdoc.tcp import TOMBSTONE_NS

    closed = synth_connection([b"hello"], [b"world"])
    end = closed[-1].time_ns
    for age, ignored in ((TOMBSTONE_NS - 2 * 10**8, True), (TOMBSTONE_NS + 2 * 10**8, False)):
        late = closed[-2].replace(time_ns=end + age, payload=b"late!", seq=closed[-2].seq + 6)
        # another connection's SYN half a second before, so a sweep has just run
        other = synth_connection([b"x"], [b"y"], client=("192.0.2.11", 40000), start_ns=end + age - 5 * 10**8,
                                 close=None)[:1]
        for packets in (closed + [late], closed + other + [late]):
            conns, warnings = run(packets)
            mine = [c for c in conns if c.client != ("192.0.2.11", 40000)]
            if ignored:
                assert len(mine) == 1 and any("after the connection closed" in w for w in warnings)
            else:
                assert len(mine) == 2 and not any("after the connection closed" in w for w in warnings)


def test_memory_is_proportional_to_open_connections():
    r = Reassembler(warn=pytest.fail)
    done = 0
    for k in range(200):
        pk = synth_connection([b"q" * 10], [b"r" * 10], client=("192.0.2.10", 1024 + k), start_ns=T0_NS + k * 10**9)
        for seg in segments(pk):
            done += len(r.feed(seg))
        assert r.open_connections == 0
    assert done == 200
    assert len(r._closed) <= 2 * 122  # tombstones expire after 120 s of capture time


# -- properties --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=3),
    st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=3),
    st.integers(1, 120),
    st.integers(0, 0xFFFFFFFF),
    st.randoms(use_true_random=False),
    st.integers(0, 4),
)
def test_reassembly_ignores_order_and_duplicates(c_msgs, s_msgs, mss, isn, rnd, dups):
    pk = synth_connection(c_msgs, s_msgs, mss=mss, client_isn=isn, server_isn=isn ^ 0x80000000)
    base, _ = one(pk)
    d = data_indices(pk)
    moved = [pk[k] for k in d]
    rnd.shuffle(moved)
    mixed = list(pk)
    for k, p in zip(d, moved):
        mixed[k] = p
    for _ in range(dups):
        mixed = duplicate(mixed, rnd.choice(d), at=rnd.randrange(3, len(mixed)))
    conn, warnings = one(mixed)
    assert warnings == []
    c_data, s_data = b"".join(c_msgs), b"".join(s_msgs)
    assert (base.client_stream.data, base.server_stream.data) == (c_data, s_data)
    check(conn, mixed, c_data, s_data)
    assert conn.handshake == base.handshake


# -- against tshark ------------------------------------------------------------------


def _tshark_follow(path) -> tuple[bytes, bytes]:
    out = subprocess.run(
        ["tshark", "-r", str(path), "-o", "tcp.reassemble_out_of_order:TRUE", "-q", "-z", "follow,tcp,raw,0"],
        capture_output=True, text=True, check=True,
    ).stdout
    node0, node1 = [], []
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Node 1:")) + 1
    for line in lines[start:]:
        if line.startswith("====="):
            break
        (node1 if line.startswith("\t") else node0).append(bytes.fromhex(line.strip()))
    return b"".join(node0), b"".join(node1)


def test_matches_tshark(tmp_path):
    require_tool("tshark")
    d, s = data_indices(BASE, CLIENT), data_indices(BASE, SERVER)
    pk = swap(BASE, d[0], d[1])
    pk = swap(pk, s[2], s[4])
    pk = duplicate(pk, s[1])
    pk = resend(pk, SERVER, 150, 300, at=s[6])
    path = write_capture(tmp_path / "t.pcapng", pk, fmt="pcapng", linktype=1, second_linktype=276)
    warnings: list[str] = []
    with open(path, "rb") as f:
        conns = reassemble(read_segments(f, name="t.pcapng", warn=warnings.append), warn=warnings.append)
    assert warnings == [] and len(conns) == 1
    conn = conns[0]
    assert _tshark_follow(path) == (conn.client_stream.data, conn.server_stream.data)

    fields = ["frame.number", "frame.time_epoch", "ip.src", "tcp.srcport", "tcp.seq_raw", "tcp.ack_raw",
              "tcp.window_size_value", "tcp.options.mss_val", "tcp.options.wscale.shift",
              "tcp.options.sack_perm", "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr",
              "tcp.analysis.initial_rtt", "tcp.len"]
    cmd = ["tshark", "-r", str(path), "-T", "fields", "-E", "occurrence=f"]
    for name in fields:
        cmd += ["-e", name]
    rows = [line.split("\t") for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()]
    hs = conn.handshake
    for pkt, row in zip((hs.syn, hs.syn_ack, hs.ack), rows[:3]):
        number, epoch, src, sport, seq, ack, win, mss, ws, sack, tsval, tsecr, _irtt, _len = row
        assert pkt.frame == int(number)
        assert pkt.time_ns == int(epoch.replace(".", ""))
        assert (pkt.seq, pkt.ack, pkt.window) == (int(seq), int(ack), int(win))
        assert pkt.mss == (int(mss) if mss else None)
        assert pkt.window_scale == (int(ws) if ws else None)
        assert pkt.sack_permitted == bool(sack)
        assert pkt.timestamps == (int(tsval), int(tsecr))
    irtt = rows[3][12]
    assert hs.rtt_ns == int(irtt.replace(".", ""))
    # every frame: time, ports, payload length
    segs = segments(pk, fmt="pcapng", linktype=1, second_linktype=276)
    for seg, row in zip(segs, rows):
        assert (seg.frame, seg.time_ns, seg.src, seg.sport, seg.payload_length) == (
            int(row[0]), int(row[1].replace(".", "")), row[2], int(row[3]), int(row[13]))


_ENDS = [("192.0.2.10", 50514), ("203.0.113.80", 443), ("192.0.2.11", 443)]


@st.composite
def arbitrary_segment(draw, number):
    src, dst = draw(st.permutations(_ENDS))[:2]
    payload = draw(st.binary(max_size=20))
    return Segment(
        number, draw(st.one_of(st.none(), st.integers(0, 10**12))), src[0], dst[0], src[1], dst[1],
        draw(st.sampled_from([0, 1, 2, 100, 2**31, 2**32 - 3, 2**32 - 1])), draw(st.integers(0, 2**32 - 1)),
        draw(st.integers(0, 0x1FF)), 0, (), payload, len(payload) + draw(st.sampled_from([0, 0, 5])), False, 4,
    )


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_arbitrary_segments_never_crash(data):
    segs = [data.draw(arbitrary_segment(k)) for k in range(1, data.draw(st.integers(0, 25)) + 1)]
    warnings: list[str] = []
    conns = reassemble(segs, warn=warnings.append)
    assert sorted(f for c in conns for f in c.frames) == sorted(set(f for c in conns for f in c.frames))
    for c in conns:
        for stream in (c.client_stream, c.server_stream):
            assert stream.frames_for(0, len(stream.data)) == stream.frames or not stream.data


def _bare(frame, seq, payload, *, src=_ENDS[0], dst=_ENDS[1], t=None, flags=0x18):
    return Segment(frame, t, src[0], dst[0], src[1], dst[1], seq, 0, flags, 0, (), payload,
                   len(payload), False, 4)


@pytest.mark.parametrize("first", [0, 5, 2**31 - 3, 2**32 - 10, 2**32 - 1])
def test_raw_sequence_numbers_without_a_syn(first):
    # Without a SYN, the unwrapped numbers count from the first seq seen
    # (see _Half.raw0); what is reported must still be the raw numbers.
    # The later segment goes back across the start (and, for the high
    # values, across 2**32), then a differing copy overlaps it.
    back = (first - 4) % 2**32
    segs = [_bare(1, first, b"abcdef"), _bare(2, back, b"0123"), _bare(3, back, b"XY23")]
    warnings: list[str] = []
    (conn,) = reassemble(segs, warn=warnings.append, name="t")
    stream = conn.stream(Direction.CLIENT_TO_SERVER) if conn.client == _ENDS[0] else conn.stream(Direction.SERVER_TO_CLIENT)
    assert stream.base_seq == back and stream.data == b"0123abcdef" and stream.seq_at(4) == first
    assert stream.frames_for(0, 4) == (2,) and stream.frames_for(4, 10) == (1,)
    assert any(f"bytes at seq {back}–{(back + 4) % 2**32} differ" in w for w in warnings), warnings


_OPTION = st.one_of(
    st.builds(TcpOption, st.sampled_from(list(TcpOptionKind)), st.one_of(st.none(), st.integers(0, 65535),
                                                                          st.tuples(st.integers(), st.integers()))),
    st.builds(TcpOption, st.integers(0, 255), st.one_of(st.none(), st.binary(max_size=4))),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_OPTION, max_size=8))
def test_handshake_packet_options_are_those_of_the_options_dict(options):
    # _hs_packet picks mss, window scale, SACK-permitted and timestamps out
    # with a loop, instead of dict(options) (whose enum keys are slow to
    # hash): the same picks, the last of a kind winning.
    seg = _bare(1, 7, b"", flags=0x02)._replace(options=tuple(options))
    p = _hs_packet(seg, 7, None)
    d = dict(options)
    assert (p.mss, p.window_scale, p.sack_permitted, p.timestamps) == (
        d.get(TcpOptionKind.MSS), d.get(TcpOptionKind.WINDOW_SCALE), TcpOptionKind.SACK_PERMITTED in d,
        d.get(TcpOptionKind.TIMESTAMPS))
    assert p.options == seg.options


def test_started_counts_the_connections_begun_so_far():
    # Reassembler.started (a plain attribute, read per segment by
    # tlsdoc.shares) is always the index the next new connection gets.
    a = synth_connection([b"a"], [b"b"], client=("192.0.2.10", 50001))
    b = synth_connection([b"c"], [b"d"], client=("192.0.2.11", 50002))
    r = Reassembler(warn=pytest.fail, name="t.pcap")
    assert r.started == 0
    indices = []
    for seg in segments(a[:2] + b + a[2:]):
        before = r.started
        done = r.feed(seg)
        indices.extend(c.index for c in done)
        assert r.started in (before, before + 1)
        if r.started == before + 1:
            assert r.open_connections >= 1
    indices.extend(c.index for c in r.finish())
    assert sorted(indices) == [0, 1] and r.started == 2

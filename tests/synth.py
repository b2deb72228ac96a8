"""Synthesise TCP connections and capture files, for tests.

Three layers, each usable on its own:

1. **Packets.**  :func:`synth_connection` turns two lists of application
   messages into the :class:`Packet` list of one TCP connection as a
   capture on the client would see it: SYN, SYN-ACK, ACK (Linux-like
   options), the messages alternating in the order given (client[0],
   server[0], client[1], ...) cut into MSS-sized segments with ACKs, then
   a FIN close (or RST, or none).  Transforms return new lists:
   :func:`swap`, :func:`shuffled`, :func:`duplicate`, :func:`drop`,
   :func:`resend` (retransmit any byte range, e.g. overlapping two
   segments, optionally with different bytes).
2. **Frames.**  :func:`ip_bytes` builds the IPv4/IPv6 + TCP bytes with
   dpkt's packet classes (an implementation independent of the decoder
   under test, with real checksums); :func:`link_frame` wraps them for a
   link type: Ethernet (with any VLAN tags), Linux SLL / SLL2, BSD null /
   OpenBSD loop, raw IP.
3. **Files.**  :func:`pcap_bytes` (microsecond or nanosecond, either byte
   order) and :func:`pcapng_bytes` (any number of interfaces, each with its
   own link type and ``if_tsresol``) are written by hand here, because
   dpkt's writers take float timestamps and one interface.
   :func:`capture_bytes` and :func:`write_capture` do all three steps.

Example::

    pkts = synth_connection([b"GET / HTTP/1.1\\r\\n\\r\\n"], [b"HTTP/1.1 200 OK\\r\\n\\r\\n"])
    data = capture_bytes(shuffled(pkts, random.Random(1)), linktype=276, fmt="pcapng")

Frame numbers are 1-based positions in the list given to the writer.
"""

from __future__ import annotations

import dataclasses
import random
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import dpkt

__all__ = [
    "Packet",
    "CLIENT",
    "SERVER",
    "CLIENT6",
    "SERVER6",
    "T0_NS",
    "synth_connection",
    "data_indices",
    "swap",
    "shuffled",
    "duplicate",
    "drop",
    "resend",
    "stream_of",
    "ip_bytes",
    "link_frame",
    "pcap_bytes",
    "pcapng_bytes",
    "capture_bytes",
    "write_capture",
    "FIN",
    "SYN",
    "RST",
    "PSH",
    "ACK",
]

CLIENT = ("192.0.2.10", 50514)
SERVER = ("203.0.113.80", 443)
CLIENT6 = ("2001:db8::10", 50514)
SERVER6 = ("2001:db8:113::80", 443)
#: 2023-11-14T22:13:20.123456789Z: has digits below the microsecond.
T0_NS = 1_700_000_000_123_456_789

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(frozen=True, slots=True)
class Packet:
    """One TCP/IP packet to synthesise (numbers are raw, mod 2^32)."""

    time_ns: int
    src: tuple[str, int]
    dst: tuple[str, int]
    seq: int
    ack: int
    flags: int
    payload: bytes = b""
    window: int = 502
    options: bytes = b""

    def replace(self, **changes) -> "Packet":
        return dataclasses.replace(self, **changes)

    @property
    def ipv6(self) -> bool:
        return ":" in self.src[0]


def _syn_options(mss: int, tsval: int, tsecr: int, wscale: int) -> bytes:
    # Linux order: MSS, SACK_PERM, TS, NOP, WS
    return (
        struct.pack("!BBH", 2, 4, mss)
        + b"\x04\x02"
        + struct.pack("!BBII", 8, 10, tsval, tsecr)
        + struct.pack("!BBBB", 1, 3, 3, wscale)
    )


def synth_connection(
    client_payloads: Sequence[bytes],
    server_payloads: Sequence[bytes],
    *,
    mss: int = 1460,
    client: tuple[str, int] | None = None,
    server: tuple[str, int] | None = None,
    rtt_ms: float = 50,
    ipv6: bool = False,
    start_ns: int = T0_NS,
    client_isn: int = 0x1A2B3C4D,
    server_isn: int = 0x5E6F7081,
    timestamps: bool = True,
    wscale: int = 7,
    close: str | None = "fin",
) -> list[Packet]:
    """The packets of one TCP connection carrying the given messages.

    Args:
        client_payloads: messages the client sends, in order.
        server_payloads: the server's messages; sent alternately with the
            client's: c[0], s[0], c[1], s[1], ... then whatever is left.
        mss: largest payload per segment (use 1..10 for "tiny MSS").
        client, server: ``(address, port)``; default 192.0.2.10:50514 and
            203.0.113.80:443 (2001:db8::10 and 2001:db8:113::80 with ipv6).
        rtt_ms: round trip as seen at the client: each reply from the
            server comes this long after what it answers.
        ipv6: use the IPv6 default addresses.
        start_ns: time of the SYN.
        client_isn, server_isn: initial sequence numbers (pick values near
            2^32 to test wraparound).
        timestamps: add TCP timestamp options (NOP, NOP, TS on data).
        wscale: window scale shift offered by both sides.
        close: ``"fin"`` (client FIN, server FIN, last ACK), ``"rst"``
            (client RST) or ``None`` (stays open).

    Returns:
        list[Packet]: in capture order; the handshake is ``[0:3]``.
    """
    client = client or (CLIENT6 if ipv6 else CLIENT)
    server = server or (SERVER6 if ipv6 else SERVER)
    rtt = int(rtt_ms * 1_000_000)
    step = 10_000  # 10 µs between back-to-back packets of one side
    t = start_ns
    cseq = client_isn
    sseq = server_isn
    out: list[Packet] = []
    ts_c, ts_s = 1000, 5000  # TSval clocks in ms

    def ts(mine: int, theirs: int) -> bytes:
        return b"\x01\x01" + struct.pack("!BBII", 8, 10, mine, theirs) if timestamps else b""

    def m32(v: int) -> int:
        return v & 0xFFFFFFFF

    plain = struct.pack("!BBH", 2, 4, mss)
    out.append(Packet(t, client, server, cseq, 0, SYN, window=64240,
                      options=_syn_options(mss, ts_c, 0, wscale) if timestamps else plain))
    cseq = m32(cseq + 1)
    t += rtt
    out.append(Packet(t, server, client, sseq, cseq, SYN | ACK, window=65160,
                      options=_syn_options(mss, ts_s, ts_c, wscale) if timestamps else plain))
    sseq = m32(sseq + 1)
    t += step
    out.append(Packet(t, client, server, cseq, sseq, ACK, options=ts(ts_c + 50, ts_s)))

    def send(src, dst, seq, ack, msg, mine, theirs) -> int:
        nonlocal t
        for pos in range(0, len(msg), mss):
            chunk = msg[pos : pos + mss]
            last = pos + mss >= len(msg)
            t += step
            out.append(Packet(t, src, dst, seq, ack, ACK | (PSH if last else 0), chunk,
                              options=ts(mine, theirs)))
            seq = m32(seq + len(chunk))
        return seq

    for i in range(max(len(client_payloads), len(server_payloads))):
        c_msg = client_payloads[i] if i < len(client_payloads) else b""
        s_msg = server_payloads[i] if i < len(server_payloads) else b""
        if c_msg:
            cseq = send(client, server, cseq, sseq, c_msg, ts_c, ts_s)
            ts_c += 1
            t += rtt
            if not s_msg:  # the server acknowledges with a pure ACK
                out.append(Packet(t, server, client, sseq, cseq, ACK, options=ts(ts_s, ts_c)))
        if s_msg:
            sseq = send(server, client, sseq, cseq, s_msg, ts_s, ts_c)
            ts_s += 1
            t += step
            out.append(Packet(t, client, server, cseq, sseq, ACK, options=ts(ts_c, ts_s)))
    if close == "fin":
        t += step
        out.append(Packet(t, client, server, cseq, sseq, FIN | ACK, options=ts(ts_c, ts_s)))
        cseq = m32(cseq + 1)
        t += rtt
        out.append(Packet(t, server, client, sseq, cseq, FIN | ACK, options=ts(ts_s, ts_c)))
        sseq = m32(sseq + 1)
        t += step
        out.append(Packet(t, client, server, cseq, sseq, ACK, options=ts(ts_c, ts_s)))
    elif close == "rst":
        t += step
        out.append(Packet(t, client, server, cseq, sseq, RST | ACK))
    return out


# --------------------------------------------------------------------------
# Transforms (each returns a new list)
# --------------------------------------------------------------------------


def data_indices(packets: Sequence[Packet], src: tuple[str, int] | None = None) -> list[int]:
    """Indices of the packets that carry payload (from *src* only, if given)."""
    return [i for i, p in enumerate(packets) if p.payload and (src is None or p.src == src)]


def swap(packets: Sequence[Packet], i: int, j: int) -> list[Packet]:
    """Exchange packets *i* and *j* (the times stay where they were, as captured)."""
    out = list(packets)
    out[i], out[j] = out[j].replace(time_ns=out[i].time_ns), out[i].replace(time_ns=out[j].time_ns)
    return out


def shuffled(packets: Sequence[Packet], rng: random.Random, *, keep: int = 3) -> list[Packet]:
    """Shuffle every packet after the first *keep* (the handshake); times stay sorted."""
    head, tail = list(packets[:keep]), list(packets[keep:])
    times = [p.time_ns for p in tail]
    rng.shuffle(tail)
    return head + [p.replace(time_ns=t) for p, t in zip(tail, times)]


def duplicate(packets: Sequence[Packet], i: int, at: int | None = None) -> list[Packet]:
    """Insert a copy of packet *i* at index *at* (default: right after it)."""
    out = list(packets)
    at = i + 1 if at is None else at
    ref = out[at - 1] if at > 0 else out[0]
    out.insert(at, out[i].replace(time_ns=ref.time_ns))
    return out


def drop(packets: Sequence[Packet], *indices: int) -> list[Packet]:
    """Remove the packets at *indices* (a lost segment makes a gap)."""
    gone = set(indices)
    return [p for k, p in enumerate(packets) if k not in gone]


def stream_of(packets: Sequence[Packet], src: tuple[str, int]) -> tuple[int, bytes]:
    """(ISN, bytes sent by *src*), rebuilt from the packets (first copy wins)."""
    isn = next(p.seq for p in packets if p.src == src and p.flags & SYN)
    buf: dict[int, int] = {}
    for p in packets:
        if p.src == src and p.payload:
            off = (p.seq - isn - 1) & 0xFFFFFFFF
            for k, b in enumerate(p.payload):
                buf.setdefault(off + k, b)
    return isn, bytes(buf[k] for k in range(len(buf)))


def resend(
    packets: Sequence[Packet],
    src: tuple[str, int],
    offset: int,
    length: int,
    *,
    at: int | None = None,
    corrupt: bool = False,
) -> list[Packet]:
    """Insert a retransmission of stream bytes ``[offset, offset+length)`` sent by *src*.

    The range may span several original segments, which makes partial
    overlaps.  With ``corrupt`` the resent bytes are inverted (an overlap
    whose bytes differ).  Inserted at index *at* (default: before the last
    packet).  Needs the SYN (or SYN-ACK) of *src* in *packets*.
    """
    isn, data = stream_of(packets, src)
    chunk = data[offset : offset + length]
    if corrupt:
        chunk = bytes(b ^ 0xFF for b in chunk)
    at = len(packets) - 1 if at is None else at
    ref = packets[at - 1] if at > 0 else packets[0]
    model = next(p for p in packets if p.src == src and p.payload)
    pkt = model.replace(time_ns=ref.time_ns, seq=(isn + 1 + offset) & 0xFFFFFFFF, payload=chunk)
    out = list(packets)
    out.insert(at, pkt)
    return out


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------


def ip_bytes(p: Packet) -> bytes:
    """IPv4 or IPv6 + TCP bytes for *p*, built by dpkt with valid checksums."""
    opts = p.options + b"\x00" * (-len(p.options) % 4)
    tcp = dpkt.tcp.TCP(
        sport=p.src[1], dport=p.dst[1], seq=p.seq, ack=p.ack, flags=p.flags & 0xFF,
        win=p.window, opts=opts, data=p.payload,
    )
    tcp.off = 5 + len(opts) // 4
    if p.ipv6:
        fam = socket.AF_INET6
        ip = dpkt.ip6.IP6(
            src=socket.inet_pton(fam, p.src[0]), dst=socket.inet_pton(fam, p.dst[0]),
            nxt=6, hlim=64, data=tcp, plen=len(bytes(tcp)),
        )
    else:
        ip = dpkt.ip.IP(
            src=socket.inet_aton(p.src[0]), dst=socket.inet_aton(p.dst[0]),
            p=6, ttl=64, id=0, df=1, data=tcp,
        )
    return bytes(ip)


_MAC_C = bytes.fromhex("020000000010")
_MAC_S = bytes.fromhex("020000000080")


def link_frame(
    ip: bytes,
    linktype: int,
    *,
    vlans: Sequence[int] = (),
    outgoing: bool = True,
    null_order: str = "<",
    af_inet6: int = 30,
) -> bytes:
    """Wrap IP bytes in a link-layer header.

    Args:
        ip: an IPv4 or IPv6 packet.
        linktype: 1 Ethernet, 113 SLL, 276 SLL2, 0 null, 108 loop, 101 /
            12 / 228 / 229 raw.
        vlans: VLAN ids, outermost first (Ethernet only); with two or more
            the outermost tag is 802.1ad (0x88a8), the others 802.1Q.
        outgoing: SLL/SLL2 packet type: sent by this host (4) or to it (0).
        null_order: byte order of the null header's AF value.
        af_inet6: AF_INET6 value for null/loop: 24, 28 or 30.
    """
    v6 = ip[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    if linktype == 1:
        tags = b""
        for k, vid in enumerate(vlans):
            tpid = 0x88A8 if k == 0 and len(vlans) > 1 else 0x8100
            tags += struct.pack("!HH", tpid, vid & 0x0FFF)
        return _MAC_S + _MAC_C + tags + struct.pack("!H", etype) + ip
    if linktype == 113:
        return struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, _MAC_C, etype) + ip
    if linktype == 276:
        return struct.pack("!HHIHBB8s", etype, 0, 2, 1, 4 if outgoing else 0, 6, _MAC_C) + ip
    if linktype == 0:
        return struct.pack(null_order + "I", af_inet6 if v6 else 2) + ip
    if linktype == 108:
        return struct.pack("!I", af_inet6 if v6 else 2) + ip
    if linktype in (101, 12, 228, 229):
        return ip
    raise ValueError(f"link type {linktype} not supported by synth")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def pcap_bytes(
    frames: Iterable[tuple[int, bytes]],
    linktype: int,
    *,
    nano: bool = False,
    byte_order: str = "<",
    snaplen: int = 262144,
) -> bytes:
    """A libpcap file; ``frames`` are ``(time_ns, data)``, data cut at *snaplen*."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(byte_order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for time_ns, data in frames:
        sec, frac = divmod(time_ns, 1_000_000_000)
        if not nano:
            frac //= 1000
        cap = data[:snaplen]
        out.append(struct.pack(byte_order + "IIII", sec, frac, len(cap), len(data)) + cap)
    return b"".join(out)


def _block(order: str, btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def _option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def pcapng_bytes(
    frames: Iterable[tuple[int, int, bytes]],
    interfaces: Sequence[tuple[int, int]],
    *,
    byte_order: str = "<",
    snaplen: int = 262144,
    extra_blocks: bool = True,
) -> bytes:
    """A one-section pcapng file of Enhanced Packet Blocks.

    Args:
        frames: ``(interface, time_ns, data)``.
        interfaces: ``(linktype, tsresol)`` per interface; tsresol is the
            ``if_tsresol`` byte (6 = µs, 9 = ns, 0x80|n = 2^-n s).
        byte_order: ``"<"`` or ``">"``.
        snaplen: data beyond it is cut (original length kept).
        extra_blocks: add a Name Resolution and an Interface Statistics
            block, which a reader must skip.
    """
    o = byte_order
    out = [_block(o, 0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                  + _option(o, 4, b"tlsdoc tests/synth.py") + _option(o, 0, b""))]
    for linktype, tsresol in interfaces:
        opts = _option(o, 9, bytes([tsresol])) + _option(o, 0, b"")
        out.append(_block(o, 1, struct.pack(o + "HHI", linktype, 0, snaplen) + opts))
    if extra_blocks:  # NRB: one IPv4 record, then nrb_record_end
        rec = struct.pack(o + "HH", 1, 4 + 8) + socket.inet_aton("203.0.113.80") + b"example\x00"
        out.append(_block(o, 4, rec + struct.pack(o + "HH", 0, 0)))
    for iface, time_ns, data in frames:
        tsresol = interfaces[iface][1]
        if tsresol & 0x80:
            ticks = (time_ns << (tsresol & 0x7F)) // 1_000_000_000
        else:
            ticks = time_ns * 10**tsresol // 1_000_000_000
        cap = data[:snaplen]
        body = struct.pack(o + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(cap), len(data))
        body += cap + b"\x00" * (-len(cap) % 4) + _option(o, 1, b"synth") + _option(o, 0, b"")
        out.append(_block(o, 6, body))
    if extra_blocks:  # ISB for interface 0, timestamp 0, no options
        out.append(_block(o, 5, struct.pack(o + "III", 0, 0, 0)))
    return b"".join(out)


def capture_bytes(
    packets: Sequence[Packet],
    *,
    linktype: int = 1,
    fmt: str = "pcap",
    vlans: Sequence[int] = (),
    snaplen: int = 262144,
    byte_order: str = "<",
    second_linktype: int | None = None,
) -> bytes:
    """A whole capture file holding *packets*, in list order.

    Args:
        packets: e.g. from :func:`synth_connection` (lists may be joined).
        linktype: link type of every frame (of interface 0 for pcapng).
        fmt: ``"pcap"`` (µs), ``"pcap-ns"`` or ``"pcapng"`` (ns resolution).
        vlans: VLAN ids for Ethernet frames.
        snaplen: frames are cut to this many bytes.
        byte_order: ``"<"`` or ``">"`` for the file's headers.
        second_linktype: pcapng only: add interface 1 with this link type
            and µs resolution; packets alternate between the interfaces.
    """
    if fmt == "pcapng":
        ifaces = [(linktype, 9)]
        if second_linktype is not None:
            ifaces.append((second_linktype, 6))
        frames = []
        for k, p in enumerate(packets):
            iface = k % len(ifaces)
            lt = ifaces[iface][0]
            frames.append((iface, p.time_ns, link_frame(ip_bytes(p), lt, vlans=vlans if lt == 1 else ())))
        return pcapng_bytes(frames, ifaces, byte_order=byte_order, snaplen=snaplen)
    if fmt not in ("pcap", "pcap-ns"):
        raise ValueError(f"unknown format {fmt!r}")
    frames2 = [(p.time_ns, link_frame(ip_bytes(p), linktype, vlans=vlans)) for p in packets]
    return pcap_bytes(frames2, linktype, nano=fmt == "pcap-ns", byte_order=byte_order, snaplen=snaplen)


def write_capture(path: str | Path, packets: Sequence[Packet], **kw) -> Path:
    """Write :func:`capture_bytes` of *packets* to *path*; returns the path."""
    path = Path(path)
    path.write_bytes(capture_bytes(packets, **kw))
    return path

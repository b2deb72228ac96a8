"""TCP reassembly: segments in, connections with two byte streams out.

Consumes :class:`tlsdoc.capture.Segment` values (in capture order) and
produces frozen :class:`Connection` values: the endpoints, the three-way
handshake (:class:`Handshake`), and one :class:`Stream` per direction whose
``data`` is the reassembled byte stream, every byte traceable to the frames
that carried it (:meth:`Stream.frames_for`).  Pure: no files, no I/O.

Rules (what a reader of a chapter or a warning may rely on):

* **Connections** are keyed by their 4-tuple.  The client is the side that
  sent the SYN; when only the SYN-ACK was captured its sender is the
  server; when neither was, the side with the higher port is guessed to be
  the client (``Connection.client_guessed``) and a warning says so.  A new
  SYN on a 4-tuple whose connection has closed starts a new connection
  (port reuse); a SYN with a different ISN on a still-open 4-tuple ends the
  old connection (with a warning) and starts a new one.
* **Closing.**  A connection is complete, and :meth:`Reassembler.feed`
  returns it, when a RST is seen (``closed_by="RST"``) or when both FINs
  have been acknowledged and no byte before either FIN is still missing
  (``closed_by="FIN"``; a hole keeps the connection open, waiting for a
  late or retransmitted segment).  Connections still open at
  the end of the capture come from :meth:`Reassembler.finish`, with
  ``closed_by="FIN"`` if both FINs were seen, else ``None``.  Segments that
  arrive after their connection completed (a duplicate RST, a last ACK)
  are not part of it; those carrying data are reported by a warning.
* **Sequence numbers** are unwrapped to unbounded integers relative to the
  highest seen so far, so wraparound at 2^32 is invisible; SYN and FIN each
  consume one sequence number.  Stream offset 0 is the byte after the ISN
  (Wireshark's relative sequence number 1).  Without a SYN the stream starts
  at the lowest sequence number seen.
* **Overlaps: first arrival wins.**  Retransmitted, duplicated and
  overlapping bytes are compared with those already held; the first copy
  is kept (so each byte maps to the frame that first carried it), and a
  warning is given when the bytes differ.  A 1-byte overlap is not compared:
  that is how keep-alive probes look.  Out-of-order segments are held until
  the hole before them fills.
* **Gaps.**  Bytes never captured (a lost segment, a frame cut by snaplen, a
  FIN beyond the last data) are reported as :class:`Gap` values with their
  offset, and ``Stream.data`` ends at the first gap: bytes captured after
  it are left out (a warning counts them), because nothing can be decoded
  reliably across a hole.
* **Memory** is proportional to the connections open at once: a completed
  connection is handed out and forgotten (a small marker remains for two
  minutes of capture time to recognise its stragglers).  The payloads are
  joined once, when a stream is finalised.

Must never import dpkt (or any file-format library); it sees only the
segment values of :mod:`tlsdoc.capture`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from operator import le
from dataclasses import dataclass, field, fields
from typing import Callable, Iterable, Iterator, Sequence

from tlsdoc.capture import Segment, TcpFlags, TcpOption, TcpOptionKind
from tlsdoc.wire import Direction, slot_builder

__all__ = [
    "Gap",
    "Stream",
    "HandshakePacket",
    "Handshake",
    "Connection",
    "Reassembler",
    "reassemble",
]

Warn = Callable[[str], None]

_MOD = 1 << 32
_MASK = _MOD - 1
_HALF = 1 << 31
_FIN = int(TcpFlags.FIN)
_SYN = int(TcpFlags.SYN)
_RST = int(TcpFlags.RST)
_ACK = int(TcpFlags.ACK)
_SYN_RST = _SYN | _RST
#: How long (capture time) a completed connection's 4-tuple is remembered.
TOMBSTONE_NS = 120 * 1_000_000_000
_TOMBSTONE_MAX = 65536


def _expired(tomb: tuple, now: int | None) -> bool:
    """Whether a tombstone (time of the connection's last frame, …) is too old to hold at *now*."""
    return tomb[0] is not None and now is not None and now - tomb[0] > TOMBSTONE_NS


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gap:
    """Bytes of a stream that were never captured.

    Attributes:
        offset: stream offset of the first missing byte.
        length: number of missing bytes.
        after_frame: the frame that carried the byte just before the gap
            (for a gap at offset 0, the SYN), or ``None`` when unknown.
    """

    offset: int
    length: int
    after_frame: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stream:
    """One direction's reassembled byte stream.

    Attributes:
        direction: which way the bytes travel.
        isn: the initial sequence number (raw, from the SYN or SYN-ACK), or
            ``None`` when that was not captured.
        base_seq: raw sequence number of ``data[0]`` (``isn + 1`` when the
            ISN is known), ``None`` when nothing at all was seen.
        data: the contiguous bytes from offset 0 up to the first gap.
        gaps: every hole, in offset order; ``data`` ends at the first.
        fin_frame: the frame of the first FIN in this direction, if any.
        first_time_ns, end_time_ns: times of the first and last frames
            that carried data or a FIN this way (``None`` if none did).
    """

    direction: Direction
    isn: int | None
    base_seq: int | None
    data: bytes
    gaps: tuple[Gap, ...]
    fin_frame: int | None
    first_time_ns: int | None
    end_time_ns: int | None
    # chunk table: [starts[i], ends[i]) came first from frame frames[i]
    _starts: array = field(repr=False, compare=False)
    _ends: array = field(repr=False, compare=False)
    _frames: array = field(repr=False, compare=False)

    def frames_for(self, start: int, end: int) -> tuple[int, ...]:
        """The sorted frame numbers that carried any of ``data[start:end]``.

        Args:
            start: stream offset of the first byte.
            end: stream offset after the last byte.
        """
        if end <= start:
            return ()
        starts, frames = self._starts, self._frames
        i = bisect_right(self._ends, start)
        j = bisect_left(starts, end, lo=i)
        if j == i + 1:  # inside one chunk: the common case, asked for every span
            return (frames[i],)
        return tuple(sorted(set(frames[i:j])))

    def chunk_table(self) -> tuple[array, array] | None:
        """``(ends, frames)`` when the chunks tile ``data`` exactly; otherwise ``None``.

        Chunk *k* is then ``data[ends[k - 1]:ends[k]]`` (from 0 for the
        first), first carried by frame ``frames[k]``, so :meth:`frames_for`
        of a range inside chunk *k* is ``(frames[k],)``.  A reader going
        through ``data`` in order (the record layer) can walk the table
        forward instead of bisecting it for every range.
        """
        starts, ends, frames = self._starts, self._ends, self._frames
        if (not starts or starts[0] != 0 or ends[-1] != len(self.data) or len(frames) != len(starts)
                or starts[1:] != ends[:-1] or not all(map(le, starts, ends))):
            return None
        return ends, frames

    @property
    def frames(self) -> tuple[int, ...]:
        """Every frame that contributed bytes to ``data``, sorted."""
        return tuple(sorted(set(self._frames)))

    @property
    def complete(self) -> bool:
        """No gap: every byte sent this way (as far as seen) is in ``data``."""
        return not self.gaps

    def seq_at(self, offset: int) -> int | None:
        """The raw 32-bit sequence number of the byte at stream *offset*."""
        if self.base_seq is None:
            return None
        return (self.base_seq + offset) & _MASK


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakePacket:
    """One of SYN, SYN-ACK, ACK as captured.

    Attributes:
        frame, time_ns: where and when it was captured.
        seq, ack: raw 32-bit numbers.
        relative_seq, relative_ack: relative to the sender's / receiver's
            ISN, as Wireshark shows them (SYN: 0; SYN-ACK: 0 and 1; ACK: 1
            and 1); ``relative_ack`` is ``None`` without the ACK flag, and
            either is ``None`` when the ISN it needs was not captured.
        flags, window: the raw header fields (window unscaled).
        options: all TCP options, in order.
        mss, window_scale, sack_permitted, timestamps: the options that
            matter in a handshake, ``None`` (``False``) when absent.
    """

    frame: int
    time_ns: int | None
    seq: int
    ack: int
    relative_seq: int | None
    relative_ack: int | None
    flags: int
    window: int
    options: tuple[TcpOption, ...]
    mss: int | None
    window_scale: int | None
    sack_permitted: bool
    timestamps: tuple[int, int] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Handshake:
    """The three-way handshake (RFC 9293 §3.5) as seen at the capture point.

    Attributes:
        syn, syn_ack, ack: the packets, ``None`` when not captured.  For a
            retransmitted SYN the first is kept.
        syn_retransmissions: extra copies of the SYN seen.
    """

    syn: HandshakePacket | None
    syn_ack: HandshakePacket | None
    ack: HandshakePacket | None
    syn_retransmissions: int = 0

    @staticmethod
    def _delta(a: HandshakePacket | None, b: HandshakePacket | None) -> int | None:
        if a is None or b is None or a.time_ns is None or b.time_ns is None:
            return None
        return b.time_ns - a.time_ns

    @property
    def rtt_ns(self) -> int | None:
        """time(ACK) − time(SYN): the initial round trip as seen here."""
        return self._delta(self.syn, self.ack)

    @property
    def syn_to_syn_ack_ns(self) -> int | None:
        """time(SYN-ACK) − time(SYN)."""
        return self._delta(self.syn, self.syn_ack)

    @property
    def syn_ack_to_ack_ns(self) -> int | None:
        """time(ACK) − time(SYN-ACK)."""
        return self._delta(self.syn_ack, self.ack)

    @property
    def complete(self) -> bool:
        return None not in (self.syn, self.syn_ack, self.ack)

    @property
    def names(self) -> tuple[str, ...]:
        """The packets seen, e.g. ``("SYN", "SYN-ACK", "ACK")``."""
        return tuple(
            n for n, p in (("SYN", self.syn), ("SYN-ACK", self.syn_ack), ("ACK", self.ack)) if p
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """One TCP connection, reassembled.

    Attributes:
        index: 0-based, in order of first frame (Wireshark's ``tcp.stream``).
        client, server: ``(address, port)``.
        client_guessed: no SYN or SYN-ACK was captured; the client is the
            higher-port side.
        first_frame, last_frame: its first and last frame numbers.
        first_time_ns, last_time_ns: their times.
        handshake: the three-way handshake.
        client_stream: bytes the client sent.
        server_stream: bytes the server sent.
        closed_by: ``"RST"``, ``"FIN"`` (both FINs seen) or ``None``.
        frames: every frame of the connection, in capture order.
    """

    index: int
    client: tuple[str, int]
    server: tuple[str, int]
    client_guessed: bool
    first_frame: int
    last_frame: int
    first_time_ns: int | None
    last_time_ns: int | None
    handshake: Handshake
    client_stream: Stream
    server_stream: Stream
    closed_by: str | None
    frames: tuple[int, ...]

    def stream(self, direction: Direction) -> Stream:
        """The stream travelling in *direction*."""
        if direction is Direction.CLIENT_TO_SERVER:
            return self.client_stream
        return self.server_stream

    @property
    def streams(self) -> dict[Direction, Stream]:
        return {
            Direction.CLIENT_TO_SERVER: self.client_stream,
            Direction.SERVER_TO_CLIENT: self.server_stream,
        }

    @property
    def label(self) -> str:
        """``client → server``, e.g. ``192.0.2.10:50514 → 203.0.113.80:443``."""
        return f"{_endpoint(self.client)} → {_endpoint(self.server)}"


def _endpoint(ep: tuple[str, int]) -> str:
    host, port = ep
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --------------------------------------------------------------------------
# Builders (mutable, private)
# --------------------------------------------------------------------------


class _Half:
    """One direction while the connection is open."""

    __slots__ = (
        "direction", "isn", "syn_frame", "ref", "ref_u", "raw0", "starts", "ends", "frames",
        "datas", "max_end", "fin_u", "fin_next_raw", "fin_frame", "fin_acked",
        "first_time", "end_time", "differ",
    )

    def __init__(self, direction: Direction) -> None:
        self.direction = direction
        self.isn: int | None = None
        self.syn_frame: int | None = None
        self.ref: int | None = None  # raw seq of the unwrapping reference
        self.ref_u = 0  # its unwrapped value
        # The raw seq whose unwrapped value is 0: the first one unwrapped.
        # Unwrapped values count from it (not from raw 0) so that with a SYN
        # they are the stream offsets themselves, which finalise() then need
        # not convert, and they stay small ints.  An unwrapped value u is raw
        # seq (u + raw0) & _MASK; before the first unwrap, u is the raw seq.
        self.raw0 = 0
        self.starts: list[int] = []  # sorted, non-overlapping chunks
        self.ends: list[int] = []
        self.frames: list[int] = []
        self.datas: list[bytes] = []
        self.max_end: int | None = None  # furthest sequence number announced
        self.fin_u: int | None = None
        self.fin_next_raw: int | None = None  # raw seq that acknowledges the FIN
        self.fin_frame: int | None = None
        self.fin_acked = False
        self.first_time: int | None = None
        self.end_time: int | None = None
        self.differ = 0

    def unwrap(self, seq: int) -> int:
        """Map a raw 32-bit number to an unbounded one near the highest seen."""
        ref = self.ref
        if ref is None:
            self.ref, self.ref_u, self.raw0 = seq, 0, seq
            return 0
        d = (seq - ref) & _MASK
        if d >= _HALF:
            return self.ref_u + d - _MOD
        u = self.ref_u + d
        self.ref, self.ref_u = seq, u
        return u

    def add(self, s: int, payload: bytes, frame: int) -> list[tuple[int, int, int]]:
        """Insert bytes at unwrapped seq *s*; first arrival wins.

        Returns the overlapping ranges whose bytes differ, as (start, end,
        frame that first carried them).
        """
        e = s + len(payload)
        starts, ends = self.starts, self.ends
        if not ends or s >= ends[-1]:  # in order: the common case
            starts.append(s)
            ends.append(e)
            self.frames.append(frame)
            self.datas.append(payload)
            return []
        i = bisect_right(ends, s)  # first chunk ending after s
        j = i
        n = len(starts)
        cur = s
        new_s: list[int] = []
        new_e: list[int] = []
        differ: list[tuple[int, int, int]] = []
        datas = self.datas
        while j < n and starts[j] < e:
            cs, ce = starts[j], ends[j]
            if cur < cs:
                new_s.append(cur)
                new_e.append(cs)
            lo, hi = max(s, cs), min(e, ce)
            if hi - lo > 1 and payload[lo - s : hi - s] != datas[j][lo - cs : hi - cs]:
                differ.append((lo, hi, self.frames[j]))
            if ce > cur:
                cur = ce
            j += 1
        if cur < e:
            new_s.append(cur)
            new_e.append(e)
        if new_s:
            # interleave the new pieces with the old chunks i..j-1
            m_s = starts[i:j] + new_s
            order = sorted(range(len(m_s)), key=m_s.__getitem__)
            old = [(starts[k], ends[k], self.frames[k], datas[k]) for k in range(i, j)]
            old += [(a, b, frame, payload[a - s : b - s]) for a, b in zip(new_s, new_e)]
            merged = [old[k] for k in order]
            starts[i:j] = [c[0] for c in merged]
            ends[i:j] = [c[1] for c in merged]
            self.frames[i:j] = [c[2] for c in merged]
            datas[i:j] = [c[3] for c in merged]
        return differ

    def whole(self) -> bool:
        """Every byte up to the FIN is held (nothing more is awaited)."""
        starts, ends = self.starts, self.ends
        if self.isn is not None:
            pos = self.unwrap_peek(self.isn) + 1
        elif starts:
            pos = starts[0]
        else:
            return True
        if starts and (starts[0] > pos or starts[1:] != ends[:-1]):  # a hole before or between chunks
            return False
        end = ends[-1] if ends else pos
        return self.fin_u is None or self.fin_u <= end

    def finalise(self, where: Callable[[], str], warn: Warn) -> Stream:
        """The frozen Stream; *where()* names it in warnings (made only if one is given)."""
        if self.isn is not None:
            base = self.unwrap_peek(self.isn) + 1
        elif self.starts:
            base = self.starts[0]
        else:
            base = None
        starts, ends, frames, datas = self.starts, self.ends, self.frames, self.datas
        if base is not None and starts and starts[0] < base:
            # bytes before ISN + 1 are not part of the stream; one byte there
            # is a keep-alive probe (seq = next - 1), anything more is odd
            k = bisect_right(ends, base)  # chunks wholly before base
            early = sum(min(ends[i], base) - starts[i] for i in range(bisect_left(starts, base)))
            if early > 1:
                warn(f"{where()}: {early} byte(s) before the initial sequence number are ignored")
            starts, ends, frames, datas = starts[k:], ends[k:], frames[k:], datas[k:]
            if starts and starts[0] < base:
                datas[0] = datas[0][base - starts[0]:]
                starts[0] = base
        gaps: list[Gap] = []
        cut = len(starts)  # chunks kept in data
        pos = base
        prev_frame = self.syn_frame
        if starts and starts[0] == base and starts[1:] == ends[:-1]:
            # no hole between the chunks (the usual case): compared at C speed
            pos = ends[-1]
            prev_frame = frames[-1]
        else:
            for k in range(len(starts)):
                if starts[k] > pos:
                    gaps.append(Gap(pos - base, starts[k] - pos, prev_frame))
                    if cut == len(starts):
                        cut = k
                pos = ends[k]
                prev_frame = frames[k]
        announced = self.max_end
        if self.fin_u is not None and (announced is None or self.fin_u > announced):
            announced = self.fin_u
        if base is not None and announced is not None and pos is not None and announced > pos:
            gaps.append(Gap(pos - base, announced - pos, prev_frame))
        if gaps:
            g = gaps[0]
            lost = sum(ends[k] - starts[k] for k in range(cut, len(starts)))
            after = f"after frame {g.after_frame}" if g.after_frame is not None else "at the start"
            more = f" ({len(gaps)} gaps in all)" if len(gaps) > 1 else ""
            tail = (
                f"; {lost} byte(s) captured after it (frames {min(frames[cut:])}–{max(frames[cut:])}) are left out"
                if lost
                else ""
            )
            warn(
                f"{where()}: {g.length} byte(s) missing at offset {g.offset} ({after}){more}; "
                f"the stream stops there{tail}"
            )
        if cut < len(starts):
            starts, ends, frames, datas = starts[:cut], ends[:cut], frames[:cut], datas[:cut]
        if base:  # offsets relative to the stream start (already, with a SYN: see raw0)
            starts = [v - base for v in starts]
            ends = [v - base for v in ends]
        stream = _StreamBuilder()  # Stream(...), see wire.slot_builder
        stream.direction = self.direction
        stream.isn = self.isn
        stream.base_seq = None if base is None else (base + self.raw0) & _MASK
        stream.data = b"".join(datas)
        stream.gaps = tuple(gaps)
        stream.fin_frame = self.fin_frame
        stream.first_time_ns = self.first_time
        stream.end_time_ns = self.end_time
        # array("q", list), without array()'s argument parsing (a third of its cost here)
        stream._starts = a = _EMPTY_Q[:]
        a.fromlist(starts)
        stream._ends = a = _EMPTY_Q[:]
        a.fromlist(ends)
        stream._frames = a = _EMPTY_Q[:]
        a.fromlist(frames)
        stream.__class__ = Stream
        return stream

    def unwrap_peek(self, seq: int) -> int:
        """Like :meth:`unwrap` but without moving the reference."""
        if self.ref is None:
            return seq
        d = (seq - self.ref) & _MASK
        return self.ref_u + (d - _MOD if d >= _HALF else d)


# Stream(...), Connection(...), Handshake(...) and HandshakePacket(...)
# without the frozen dataclass's __init__ (one object.__setattr__ per
# field, about 0.14 µs each): an instance of a plain class with the same
# slots is filled, then given the frozen class, which gives the same frozen
# objects.  Setting each slot through its member descriptor's __set__, as
# this module did before, cost about as much again per field in argument
# parsing (a method-wrapper call): 2,500 instructions per frame of
# reassembly, 17% of it, with four values and three handshake packets per
# connection.  Used only for values built here from checked data, with
# every field set (tests/test_read_perf.py checks them against
# dataclasses.replace).
_StreamBuilder = slot_builder(Stream)
_EMPTY_Q = array("q")  # copied (_EMPTY_Q[:]) for each chunk table: never changed
_HandshakeBuilder = slot_builder(Handshake)
_ConnectionBuilder = slot_builder(Connection)
_HandshakePacketBuilder = slot_builder(HandshakePacket)
# The fields each builder's caller sets: update it when a class gains one.
_STREAM_FIELDS = ("direction", "isn", "base_seq", "data", "gaps", "fin_frame", "first_time_ns",
                  "end_time_ns", "_starts", "_ends", "_frames")
_HANDSHAKE_FIELDS = ("syn", "syn_ack", "ack", "syn_retransmissions")
_CONNECTION_FIELDS = ("index", "client", "server", "client_guessed", "first_frame", "last_frame",
                      "first_time_ns", "last_time_ns", "handshake", "client_stream", "server_stream",
                      "closed_by", "frames")
_HS_FIELDS = ("frame", "time_ns", "seq", "ack", "relative_seq", "relative_ack", "flags", "window",
              "options", "mss", "window_scale", "sack_permitted", "timestamps")
assert _STREAM_FIELDS == tuple(f.name for f in fields(Stream)), "update _Half.finalise"
assert _HANDSHAKE_FIELDS == tuple(f.name for f in fields(Handshake)), "update Reassembler._complete"
assert _CONNECTION_FIELDS == tuple(f.name for f in fields(Connection)), "update Reassembler._complete"
assert _HS_FIELDS == tuple(f.name for f in fields(HandshakePacket)), "update _hs_packet"

_MSS, _WS, _SACK_OK, _TS = (int(k) for k in (TcpOptionKind.MSS, TcpOptionKind.WINDOW_SCALE,
                                               TcpOptionKind.SACK_PERMITTED, TcpOptionKind.TIMESTAMPS))


def _hs_packet(seg: Segment, my_isn: int | None, peer_isn: int | None) -> HandshakePacket:
    # What dict(seg.options).get(kind) gave (the last of a kind wins), without
    # the dict: hashing an IntEnum kind goes through a Python-level slot
    # (about 0.1 µs a key), comparing it does not.
    mss = window_scale = timestamps = None
    sack_permitted = False
    for kind, value in seg.options:
        if kind == _MSS:
            mss = value
        elif kind == _WS:
            window_scale = value
        elif kind == _SACK_OK:
            sack_permitted = True
        elif kind == _TS:
            timestamps = value
    packet = _HandshakePacketBuilder()  # HandshakePacket(...), see wire.slot_builder
    packet.frame = seg.frame
    packet.time_ns = seg.time_ns
    packet.seq = seg.seq
    packet.ack = seg.ack
    packet.relative_seq = None if my_isn is None else (seg.seq - my_isn) & _MASK
    packet.relative_ack = None if not seg.flags & _ACK or peer_isn is None else (seg.ack - peer_isn) & _MASK
    packet.flags = seg.flags
    packet.window = seg.window
    packet.options = seg.options
    packet.mss = mss
    packet.window_scale = window_scale
    packet.sack_permitted = sack_permitted
    packet.timestamps = timestamps
    packet.__class__ = HandshakePacket
    return packet


class _Conn:
    """A connection while it is open."""

    __slots__ = (
        "index", "client", "server", "guessed", "c2s", "s2c", "syn", "syn_ack",
        "ack", "syn_retx", "closed_by", "frames", "first_time", "last_time",
    )

    def __init__(self, index: int, client: tuple[str, int], server: tuple[str, int], guessed: bool) -> None:
        self.index = index
        self.client = client
        self.server = server
        self.guessed = guessed
        self.c2s = _Half(Direction.CLIENT_TO_SERVER)
        self.s2c = _Half(Direction.SERVER_TO_CLIENT)
        self.syn: HandshakePacket | None = None
        self.syn_ack: HandshakePacket | None = None
        self.ack: HandshakePacket | None = None
        self.syn_retx = 0
        self.closed_by: str | None = None
        self.frames: list[int] = []
        self.first_time: int | None = None
        self.last_time: int | None = None

    @property
    def label(self) -> str:
        return f"{_endpoint(self.client)} → {_endpoint(self.server)}"


# --------------------------------------------------------------------------
# The reassembler
# --------------------------------------------------------------------------


class Reassembler:
    """Turns a capture's segments into connections, streaming.

    Feed segments in capture order; completed connections come back from
    :meth:`feed` as soon as they close, the rest from :meth:`finish`.

    Args:
        warn: receives one located line per problem (gaps, differing
            overlaps, guessed clients, stragglers).
        name: the capture's name, to prefix messages with.

    Attributes:
        started: how many connections have started so far (the next one's
            ``index``); read it, do not set it.  A plain attribute, not a
            property, because a worker process reads it twice per segment
            (:mod:`tlsdoc.shares`), and on Python 3.11 a property costs
            about 0.1-0.3 µs a read against a few ns.
    """

    def __init__(self, *, warn: Warn, name: str | None = None) -> None:
        self._warn = warn
        self._prefix = f"{name}: " if name else ""
        # both orientations of each open 4-tuple -> (connection, towards the server?)
        self._open: dict[tuple, tuple[_Conn, bool]] = {}
        # Tombstones: (client, cport, server, sport) of each closed connection
        # -> (time of its last frame, its last frame[, True once a straggler
        # was reported]), oldest first.  One small entry per connection (the
        # strings in the key are the segment's own, shared): about 0.25 KB.
        self._closed: OrderedDict[tuple, tuple] = OrderedDict()
        self.started = 0
        self._next_evict = 0  # capture time of the next tombstone sweep

    # -- public --------------------------------------------------------
    def feed(self, seg: Segment) -> Sequence[Connection]:
        """Add one segment; return the connections it completed (often none:
        then an empty tuple)."""
        frame, t, src, dst, sport, dport, seq, ack, flags, _win, _opts, payload, n, _cut, _ipv = seg
        if self._closed and t is not None and t >= self._next_evict:
            # _feed's tombstone sweep, for every segment: a swept tombstone
            # can tell (a later segment without a time, or with an earlier
            # one, would still find an unswept one), so the paths below must
            # sweep when _feed would.
            self._next_evict = t + 1_000_000_000
            self._evict(t)
        entry = self._open.get((src, sport, dst, dport))
        if entry is not None and not flags & _SYN_RST:
            # The hot path: data, an ACK or a FIN on an open connection.  It
            # is _segment() for that case, inlined: this runs for nearly every
            # packet, and the calls and attribute lookups were half its cost.
            conn, to_server = entry
            conn.frames.append(frame)
            if conn.first_time is None:
                conn.first_time = t
            conn.last_time = t
            if to_server:
                me, peer = conn.c2s, conn.s2c
                if conn.ack is None and conn.syn_ack is not None and flags & _ACK and ack == (peer.isn + 1) & _MASK:
                    conn.ack = _hs_packet(seg, me.isn, peer.isn)
            else:
                me, peer = conn.s2c, conn.c2s
            fin = flags & _FIN
            if n or fin:
                ref = me.ref  # s = me.unwrap(seq), inlined
                if ref is None:
                    me.ref = me.raw0 = seq
                    me.ref_u = s = 0
                else:
                    d = (seq - ref) & _MASK
                    if d >= _HALF:
                        s = me.ref_u + d - _MOD
                    else:
                        s = me.ref_u + d
                        me.ref = seq
                        me.ref_u = s
                end = s + n
                if me.max_end is None or end > me.max_end:
                    me.max_end = end
                if payload:
                    ends = me.ends
                    if not ends or s >= ends[-1]:  # in order: append (as _Half.add would)
                        me.starts.append(s)
                        ends.append(s + len(payload))
                        me.frames.append(frame)
                        me.datas.append(payload)
                    else:
                        for lo, hi, first in me.add(s, payload, frame):
                            self._warn_differ(conn, me, frame, lo, hi, first)
                if me.first_time is None:
                    me.first_time = t
                me.end_time = t
                if fin and me.fin_u is None:
                    me.fin_u = end
                    me.fin_next_raw = (seq + n + 1) & _MASK
                    me.fin_frame = frame
            if peer.fin_next_raw is not None and flags & _ACK and not peer.fin_acked:
                if (ack - peer.fin_next_raw) & _MASK < _HALF:
                    peer.fin_acked = True
            if me.fin_acked and peer.fin_acked and me.whole() and peer.whole():
                conn.closed_by = "FIN"
                return [self._complete(conn)]
            return ()  # the common case: no list made
        return self._feed(seg, entry)

    # -- private -------------------------------------------------------
    def _feed(self, seg: Segment, entry: tuple[_Conn, bool] | None) -> list[Connection]:
        """feed() for any segment (*entry*: its 4-tuple's entry in _open, if any).

        feed() takes its hot path for data and ACKs on an open connection;
        everything else comes here.  (Every segment could: the hot path is
        this for that case, written out; tests/test_read_perf.py checks
        that they agree.)
        """
        key = (seg.src, seg.sport, seg.dst, seg.dport)
        flags = seg.flags
        conn = entry[0] if entry is not None else None
        done: list[Connection] = []
        t = seg.time_ns
        if self._closed and t is not None and t >= self._next_evict:
            self._next_evict = t + 1_000_000_000
            self._evict(t)
        if flags & _SYN and not flags & _ACK:
            if conn is not None and (seg.src, seg.sport) == conn.client and conn.c2s.isn is not None:
                if conn.c2s.isn != seg.seq:
                    self._warn(
                        f"{self._prefix}frame {seg.frame}: a new SYN (different ISN) on "
                        f"{conn.label}, whose connection from frame {conn.frames[0]} had not "
                        "closed; that one ends here"
                    )
                    done.append(self._complete(conn))
                    conn = None
            if conn is None:
                self._closed.pop(key, None)
                self._closed.pop((seg.dst, seg.dport, seg.src, seg.sport), None)
                conn = self._new(seg, (seg.src, seg.sport), (seg.dst, seg.dport), False)
        elif conn is None:
            tomb_key = key
            tomb = self._closed.get(key)
            if tomb is None:
                tomb_key = (seg.dst, seg.dport, seg.src, seg.sport)
                tomb = self._closed.get(tomb_key)
            if tomb is not None and _expired(tomb, t):
                # Decided here, per 4-tuple, not by when the last sweep ran:
                # the sweeps depend on every other connection's packets, and
                # worker processes that each see a share of the connections
                # must decide alike (see analysis.iter_analyze_part).
                del self._closed[tomb_key]
                tomb = None
            if tomb is not None:
                if seg.payload and len(tomb) == 2:
                    self._closed[tomb_key] = (*tomb, True)  # reported once
                    label = f"{_endpoint(tomb_key[:2])} → {_endpoint(tomb_key[2:])}"
                    self._warn(
                        f"{self._prefix}frame {seg.frame}: data for {label} after the "
                        f"connection closed (frame {tomb[1]}) is ignored, as is any later"
                    )
                return done
            if flags & _SYN:  # a SYN-ACK: its sender is the server
                client, server = (seg.dst, seg.dport), (seg.src, seg.sport)
                guessed = False
                why = "its SYN was not captured"
            else:
                a, b = (seg.src, seg.sport), (seg.dst, seg.dport)
                client, server = (a, b) if a[1] > b[1] or (a[1] == b[1] and a > b) else (b, a)
                guessed = True
                why = "no SYN or SYN-ACK was captured; the client is guessed to be the higher port"
            conn = self._new(seg, client, server, guessed)
            self._warn(f"{self._prefix}frame {seg.frame}: {conn.label}: {why}")
        self._segment(conn, seg, (seg.src, seg.sport) == conn.client)
        if conn.closed_by == "RST" or (
            conn.c2s.fin_acked
            and conn.s2c.fin_acked
            and conn.c2s.whole()
            and conn.s2c.whole()
        ):
            if conn.closed_by is None:
                conn.closed_by = "FIN"
            done.append(self._complete(conn))
        return done

    @property
    def open_connections(self) -> int:
        """How many connections are held, waiting to complete."""
        return len(self._open) // 2

    def finish(self) -> list[Connection]:
        """The connections still open, in the order of their first frame."""
        return list(self.iter_finish())

    def iter_finish(self) -> Iterator[Connection]:
        """:meth:`finish` one connection at a time: each is completed (and its
        warnings given) just before it is yielded."""
        conns = sorted({id(c): c for c, _ in self._open.values()}.values(), key=lambda c: c.index)
        for conn in conns:
            if conn.closed_by is None and conn.c2s.fin_u is not None and conn.s2c.fin_u is not None:
                conn.closed_by = "FIN"
            yield self._complete(conn, tombstone=False)
        self._open.clear()
        self._closed.clear()

    def _new(self, seg: Segment, client, server, guessed: bool) -> _Conn:
        conn = _Conn(self.started, client, server, guessed)
        self.started += 1
        self._open[client + server] = (conn, True)
        self._open[server + client] = (conn, False)
        return conn

    def _complete(self, conn: _Conn, tombstone: bool = True) -> Connection:
        self._open.pop(conn.client + conn.server, None)
        self._open.pop(conn.server + conn.client, None)
        if tombstone:
            self._closed[conn.client + conn.server] = (conn.last_time, conn.frames[-1])
            while len(self._closed) > _TOMBSTONE_MAX:
                self._closed.popitem(last=False)
        prefix = self._prefix
        c2s = conn.c2s.finalise(lambda: f"{prefix}{conn.label} (client→server)", self._warn)
        s2c = conn.s2c.finalise(lambda: f"{prefix}{conn.label} (server→client)", self._warn)
        handshake = _HandshakeBuilder()  # Handshake(...), see wire.slot_builder
        handshake.syn = conn.syn
        handshake.syn_ack = conn.syn_ack
        handshake.ack = conn.ack
        handshake.syn_retransmissions = conn.syn_retx
        handshake.__class__ = Handshake
        frames = conn.frames
        done = _ConnectionBuilder()  # Connection(...), see wire.slot_builder
        done.index = conn.index
        done.client = conn.client
        done.server = conn.server
        done.client_guessed = conn.guessed
        done.first_frame = frames[0]
        done.last_frame = frames[-1]
        done.first_time_ns = conn.first_time
        done.last_time_ns = conn.last_time
        done.handshake = handshake
        done.client_stream = c2s
        done.server_stream = s2c
        done.closed_by = conn.closed_by
        done.frames = tuple(frames)
        done.__class__ = Connection
        return done

    def _evict(self, now: int) -> None:
        # Memory only: an old tombstone is ignored at lookup anyway (_expired).
        closed = self._closed
        while closed:
            key, tomb = next(iter(closed.items()))
            if not _expired(tomb, now):
                return
            closed.popitem(last=False)

    def _segment(self, conn: _Conn, seg: Segment, to_server: bool) -> None:
        flags = seg.flags
        t = seg.time_ns
        frame = seg.frame
        conn.frames.append(frame)
        if conn.first_time is None:
            conn.first_time = t
        conn.last_time = t
        me, peer = (conn.c2s, conn.s2c) if to_server else (conn.s2c, conn.c2s)

        if flags & _RST:
            conn.closed_by = "RST"
            return  # a RST's payload (diagnostic text) is not stream data
        start = seg.seq
        if flags & _SYN:
            if me.isn is None:
                me.isn = seg.seq
                me.syn_frame = seg.frame
            if to_server and not flags & _ACK:
                if conn.syn is None:
                    conn.syn = _hs_packet(seg, me.isn, None)
                elif seg.seq == me.isn:
                    conn.syn_retx += 1
            elif not to_server and flags & _ACK and conn.syn_ack is None:
                if peer.isn is None or seg.ack == (peer.isn + 1) & _MASK:
                    conn.syn_ack = _hs_packet(seg, me.isn, peer.isn)
            start = (start + 1) & _MASK  # the SYN takes one sequence number
        elif (
            conn.ack is None
            and to_server
            and conn.syn_ack is not None
            and flags & _ACK
            and seg.ack == (peer.isn + 1) & _MASK
        ):
            conn.ack = _hs_packet(seg, me.isn, peer.isn)

        n = seg.payload_length
        if n or flags & (_FIN | _SYN):
            s = me.unwrap(start)
            end = s + n
            if me.max_end is None or end > me.max_end:
                me.max_end = end
            payload = seg.payload
            if payload:
                ends = me.ends
                if not ends or s >= ends[-1]:  # in order: append (as _Half.add would)
                    me.starts.append(s)
                    ends.append(s + len(payload))
                    me.frames.append(frame)
                    me.datas.append(payload)
                else:
                    for lo, hi, first in me.add(s, payload, frame):
                        self._warn_differ(conn, me, frame, lo, hi, first)
            if n or flags & _FIN:
                if me.first_time is None:
                    me.first_time = t
                me.end_time = t
            if flags & _FIN and me.fin_u is None:
                me.fin_u = end
                me.fin_next_raw = (start + n + 1) & _MASK
                me.fin_frame = seg.frame
        if flags & _ACK and peer.fin_next_raw is not None and not peer.fin_acked:
            if (seg.ack - peer.fin_next_raw) & _MASK < _HALF:
                peer.fin_acked = True

    def _warn_differ(self, conn: _Conn, half: _Half, frame: int, lo: int, hi: int, first: int) -> None:
        half.differ += 1
        if half.differ > 3:
            return
        if half.isn is not None:
            base = half.unwrap_peek(half.isn) + 1
            where = f"offset {lo - base}–{hi - base}"
        else:
            where = f"seq {(lo + half.raw0) & _MASK}–{(hi + half.raw0) & _MASK}"
        more = " (further differences are not reported)" if half.differ == 3 else ""
        self._warn(
            f"{self._prefix}frame {frame}: {conn.label} ({half.direction}): bytes at {where} "
            f"differ from those first seen in frame {first}; the first are kept{more}"
        )


def reassemble(segments: Iterable[Segment], *, warn: Warn | None = None, name: str | None = None) -> list[Connection]:
    """Reassemble every connection of a list of segments (capture order).

    Args:
        segments: e.g. from :func:`tlsdoc.capture.read_segments`.
        warn: receives the warnings; ``None`` drops them.
        name: the capture's name, for messages.

    Returns:
        list[Connection]: in the order of their first frame.
    """
    r = Reassembler(warn=warn or (lambda _msg: None), name=name)
    out: list[Connection] = []
    for seg in segments:
        out.extend(r.feed(seg))
    out.extend(r.finish())
    out.sort(key=lambda c: c.index)
    return out

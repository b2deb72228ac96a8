"""Capture files in, frames and TCP segments out: the first stage of the data flow.

Consumes a binary file object (or a path) holding a pcap or pcapng capture
and produces, lazily, :class:`Frame` values (number, timestamp, link-layer
bytes) and from them :class:`Segment` values (the IP and TCP header fields
plus the TCP payload).  Also reads small sidecar files (key logs, PEM keys)
as bytes, so that no other module opens a file.

Streaming.
    Captures may be gigabytes: :func:`read_frames` reads one record (or
    pcapng block) at a time from the file object and keeps nothing but the
    pcapng interface table, so memory does not grow with the file.

Why the file formats are parsed here and not by dpkt.
    ``dpkt.pcap.Reader`` returns float (or ``Decimal``) timestamps, which
    lose nanoseconds, and ends silently on a record cut short.
    ``dpkt.pcapng.Reader`` takes the link type and timestamp resolution of
    the *first* interface for every packet and drops the interface id, so a
    two-interface capture (``dumpcap -i eth0 -i any``) is misread, and it
    handles a single section only.  Both formats are a few fixed headers,
    so they are decoded here with :mod:`struct`, per interface and per
    section, with located warnings.  dpkt still supplies the magic numbers,
    block types and link-type constants.

Why headers are decoded with ``struct.unpack_from`` and not dpkt packets.
    Building ``dpkt.ethernet.Ethernet`` decodes every layer into a new
    object per frame (and swallows decode errors, see STYLE.md); on a
    million frames that is most of the run time.  The fields we need sit at
    fixed offsets, so :func:`decode_segment` reads them straight from the
    frame bytes with precompiled :class:`struct.Struct` objects, a few
    microseconds per frame; the common case (untagged Ethernet, IPv4
    without options, TCP) is one ``unpack_from`` and a handful of checks.
    Checksums are not verified (captures taken on the sending host carry
    offloaded, unfinished checksums).

Warnings versus errors.
    A file that is not a capture at all raises :class:`CaptureError`.  A
    capture that ends early or has a corrupt record yields the frames read
    so far and reports the problem through ``warn`` with its location.  A
    malformed IP or TCP header raises :class:`DecodeError` from
    :func:`decode_segment`; :func:`read_segments` turns that into a warning.

This is the only module that imports ``dpkt``.  It must never import a
tlsdoc module other than :mod:`tlsdoc.errors`.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import starmap
from typing import BinaryIO, Callable, Iterator, NamedTuple

import dpkt.pcap
import dpkt.pcapng

from tlsdoc.errors import CaptureError, DecodeError, TruncatedError

__all__ = [
    "Frame",
    "Segment",
    "TcpFlags",
    "TcpOptionKind",
    "TcpOption",
    "LinkType",
    "Capture",
    "open_capture",
    "read_frames",
    "read_segments",
    "share_of",
    "SHARE_MARK_EVERY",
    "decode_segment",
    "read_bytes",
    "read_blocks",
    "SUPPORTED_LINKTYPES",
    "FIN",
    "SYN",
    "RST",
    "PSH",
    "ACK",
    "URG",
    "ECE",
    "CWR",
]

Warn = Callable[[str], None]


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


class LinkType(enum.IntEnum):
    """The link-layer header types we decode (tcpdump.org LINKTYPE_* values)."""

    NULL = dpkt.pcap.DLT_NULL  # 0: BSD loopback, AF in host byte order
    ETHERNET = dpkt.pcap.DLT_EN10MB  # 1
    RAW_DLT = dpkt.pcap.DLT_RAW  # 12: raw IP, as some BSDs number it
    RAW = 101  # LINKTYPE_RAW: raw IPv4 or IPv6
    LOOP = dpkt.pcap.DLT_LOOP  # 108: OpenBSD loopback, AF in network byte order
    LINUX_SLL = dpkt.pcap.DLT_LINUX_SLL  # 113: Linux cooked v1
    IPV4 = dpkt.pcap.DLT_IPV4  # 228
    IPV6 = dpkt.pcap.DLT_IPV6  # 229
    LINUX_SLL2 = dpkt.pcap.DLT_LINUX_SLL2  # 276: Linux cooked v2 (tcpdump -i any)


SUPPORTED_LINKTYPES = frozenset(int(t) for t in LinkType)


@dataclass(frozen=True, slots=True)
class Frame:
    """One packet record of a capture file, as Wireshark numbers them.

    Attributes:
        number: 1-based position among all packet records of the file
            (every interface, decodable or not), as Wireshark counts.
        time_ns: capture time in nanoseconds since the Unix epoch, at the
            file's precision (nanosecond pcap, pcapng ``if_tsresol``), or
            ``None`` for a pcapng Simple Packet Block, which has no time.
        linktype: LINKTYPE_* value of the interface the frame came from.
        data: the captured bytes (``captured_length`` of them).
        captured_length: bytes present in the file.
        original_length: bytes on the wire (more when snaplen cut it).
        interface: pcapng interface id (0 for pcap).
    """

    number: int
    time_ns: int | None
    linktype: int
    data: bytes
    captured_length: int
    original_length: int
    interface: int = 0


class TcpFlags(enum.IntFlag):
    """TCP header flags (RFC 9293 §3.1; AE, formerly NS, from RFC 3540/AccECN)."""

    FIN = 0x001
    SYN = 0x002
    RST = 0x004
    PSH = 0x008
    ACK = 0x010
    URG = 0x020
    ECE = 0x040
    CWR = 0x080
    AE = 0x100


# Wireshark's order in the Info column.
_FLAG_ORDER = tuple(TcpFlags[n] for n in ("CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN", "AE"))

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = (
    TcpFlags.FIN,
    TcpFlags.SYN,
    TcpFlags.RST,
    TcpFlags.PSH,
    TcpFlags.ACK,
    TcpFlags.URG,
    TcpFlags.ECE,
    TcpFlags.CWR,
)


class TcpOptionKind(enum.IntEnum):
    """TCP option kinds we decode (IANA "TCP Option Kind Numbers")."""

    EOL = 0  # End of Option List, RFC 9293
    NOP = 1  # No-Operation, RFC 9293
    MSS = 2  # Maximum Segment Size, RFC 9293
    WINDOW_SCALE = 3  # RFC 7323 §2
    SACK_PERMITTED = 4  # RFC 2018
    SACK = 5  # RFC 2018
    TIMESTAMPS = 8  # RFC 7323 §3


class TcpOption(NamedTuple):
    """One TCP option, decoded.

    ``value`` by kind: EOL, NOP, SACK_PERMITTED -> ``None``; MSS -> int
    (bytes); WINDOW_SCALE -> int (shift count); SACK -> tuple of
    ``(left_edge, right_edge)`` sequence numbers; TIMESTAMPS -> ``(TSval,
    TSecr)``; any other kind -> its raw value bytes (``kind`` stays an int).
    """

    kind: TcpOptionKind | int
    value: object


class Segment(NamedTuple):
    """One TCP segment: the IP and TCP header fields and the payload.

    A named tuple rather than a frozen dataclass (STYLE.md's default) because
    it is the one value made for every packet: building it costs a quarter
    as much (0.2 against 0.9 µs), and the reassembler unpacks it in one step.
    It is just as immutable.

    Attributes:
        frame: number of the frame that carried it.
        time_ns: the frame's timestamp (see :class:`Frame`).
        src, dst: addresses as Wireshark prints them (``192.0.2.10``,
            ``2001:db8::1``).
        sport, dport: TCP ports.
        seq, ack: raw 32-bit sequence and acknowledgement numbers.
        flags: TCP flags as an int (test with :class:`TcpFlags`).
        window: the raw (unscaled) window field.
        options: decoded options, in header order (EOL and the padding
            after it are not listed).
        payload: the TCP payload bytes that were captured.
        payload_length: the payload length the IP header announces (equal
            to ``len(payload)`` unless ``truncated``).
        truncated: the frame was cut (snaplen) before the end the IP header
            announces; ``payload`` holds only what was captured.
        ip_version: 4 or 6.
    """

    frame: int
    time_ns: int | None
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    options: tuple[TcpOption, ...]
    payload: bytes
    payload_length: int
    truncated: bool
    ip_version: int

    def option(self, kind: int) -> object:
        """The value of the first option of *kind*, or ``None`` when absent.

        SACK_PERMITTED, which has no value, gives ``True`` when present.
        """
        for opt in self.options:
            if opt.kind == kind:
                return True if opt.value is None else opt.value
        return None

    @property
    def flag_names(self) -> str:
        """Flags as Wireshark's summary shows them, e.g. ``"SYN, ACK"``."""
        return ", ".join(f.name for f in _FLAG_ORDER if self.flags & f)


# Fast constructor.  A frozen dataclass's __init__ sets each field through
# object.__setattr__ (to get past its own __setattr__, which refuses), about
# 0.14 µs a field.  Setting the slots through their member descriptors gives
# the same frozen objects in about a third of the time.  Used only for
# values built from checked data.  (A Segment, made per packet, is a named
# tuple built with tuple.__new__, cheaper still.)
def _slot_setters(cls: type) -> tuple:
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))


_new_object = object.__new__
(_f0, _f1, _f2, _f3, _f4, _f5, _f6) = _slot_setters(Frame)


def _new_frame(a0, a1, a2, a3, a4, a5, a6) -> Frame:
    obj = _new_object(Frame)
    _f0(obj, a0); _f1(obj, a1); _f2(obj, a2); _f3(obj, a3); _f4(obj, a4); _f5(obj, a5); _f6(obj, a6)  # noqa: E702
    return obj




# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

#: Largest record or block we accept; larger lengths are taken to be lies.
#: (Wireshark's limit for most link types is 256 KiB; pcapng blocks holding
#: name tables or secrets can be larger, so leave generous room.)
MAX_RECORD = 64 * 1024 * 1024

_PCAP_MAGICS = {
    # magic as read little-endian -> (byte order, nanosecond?)
    dpkt.pcap.TCPDUMP_MAGIC: ("<", False),
    dpkt.pcap.TCPDUMP_MAGIC_NANO: ("<", True),
    dpkt.pcap.PMUDPCT_MAGIC: (">", False),
    dpkt.pcap.PMUDPCT_MAGIC_NANO: (">", True),
}
_PCAPNG_SHB = dpkt.pcapng.PCAPNG_BT_SHB  # 0x0A0D0D0A, a palindrome
_PCAPNG_IDB = dpkt.pcapng.PCAPNG_BT_IDB  # 1
_PCAPNG_PB = dpkt.pcapng.PCAPNG_BT_PB  # 2, obsolete Packet Block
_PCAPNG_SPB = dpkt.pcapng.PCAPNG_BT_SPB  # 3
_PCAPNG_EPB = dpkt.pcapng.PCAPNG_BT_EPB  # 6
_PCAPNG_BOM = dpkt.pcapng.BYTE_ORDER_MAGIC  # 0x1A2B3C4D
_PCAPNG_BOM_SWAPPED = dpkt.pcapng.BYTE_ORDER_MAGIC_LE  # the same, read in the other order
_OPT_IF_TSRESOL = dpkt.pcapng.PCAPNG_OPT_IF_TSRESOL  # 9
_OPT_IF_TSOFFSET = dpkt.pcapng.PCAPNG_OPT_IF_TSOFFSET  # 14


def _sniff(head: bytes) -> str | None:
    """``"pcap"``, ``"pcapng"`` or ``None`` from a file's first 4 bytes."""
    if len(head) < 4:
        return None
    (magic,) = struct.unpack("<I", head[:4])
    if magic in _PCAP_MAGICS:
        return "pcap"
    if magic == _PCAPNG_SHB:
        return "pcapng"
    return None


def read_frames(fileobj: BinaryIO, *, name: str, warn: Warn) -> Iterator[Frame]:
    """The frames of a pcap or pcapng capture, read one record at a time.

    Args:
        fileobj: a binary file object positioned at the start of the file.
        name: the capture's name, used in messages.
        warn: called with a one-line, located message for each problem that
            still allows a partial result (a file cut short, a corrupt
            record).

    Returns:
        Iterator[Frame]: in file order.

    Raises:
        CaptureError: the file is empty, neither pcap nor pcapng, or its
            file header is cut short (raised by the call itself, before
            any frame).
    """
    return starmap(_new_frame, _records(fileobj, name, warn))


# A record is the tuple of Frame's fields, in order: the readers yield
# tuples so that read_segments need not build a Frame per packet.
_Record = tuple


def _records(fileobj: BinaryIO, name: str, warn: Warn) -> Iterator[_Record]:
    kind, how = _open_records(fileobj, name)
    if kind == "pcap":
        return _pcap_records(fileobj, *how, name, warn)
    return _read_pcapng(fileobj, how, name, warn)


def _open_records(fileobj: BinaryIO, name: str) -> tuple[str, tuple]:
    """Read and check the file header: ``("pcap", (order, frac_ns, linktype))``
    or ``("pcapng", first 12 bytes)``; raises CaptureError."""
    head = fileobj.read(4)
    kind = _sniff(head)
    if kind is None:
        if not head:
            raise CaptureError("the file is empty", capture=name)
        raise CaptureError(
            "not a pcap or pcapng file",
            capture=name,
            expected="a pcap magic (a1b2c3d4, a1b23c4d) or pcapng 0a0d0d0a",
            found=head.hex() or "nothing",
        )
    if kind == "pcap":
        return kind, _read_pcap_header(fileobj, head, name)
    # Check the first section header now, so a bad file fails at the call.
    head += fileobj.read(8)
    if len(head) < 12:
        raise CaptureError(
            "pcapng section header cut short", capture=name, expected="12 bytes", found=len(head)
        )
    if struct.unpack_from("<I", head, 8)[0] not in (_PCAPNG_BOM, _PCAPNG_BOM_SWAPPED):
        raise CaptureError(
            "pcapng section header has a bad byte-order magic",
            capture=name,
            offset=8,
            expected="1a2b3c4d",
            found=head[8:12].hex(),
        )
    return kind, head


def _read_pcap_header(f: BinaryIO, head: bytes, name: str) -> tuple[str, int, int]:
    # File header (libpcap format): magic u32, version_major u16,
    # version_minor u16, thiszone i32, sigfigs u32, snaplen u32,
    # linktype u32 (upper bits may hold FCS length); 24 bytes.
    rest = f.read(20)
    if len(rest) < 20:
        raise CaptureError(
            "pcap file header cut short",
            capture=name,
            expected="24 bytes",
            found=f"{4 + len(rest)}",
        )
    order, nano = _PCAP_MAGICS[struct.unpack("<I", head)[0]]
    _vmaj, _vmin, _zone, _sig, _snaplen, linktype = struct.unpack(order + "HHiIII", rest)
    linktype &= 0xFFFF  # bits 16-31: FCS length and flags, not the type
    frac_ns = 1 if nano else 1000
    return order, frac_ns, linktype


#: How much of a pcap file is read at once.  Records are taken from the
#: chunk at offsets (one read call per chunk rather than two per frame);
#: only one chunk (or one record, if bigger) is held at a time, so memory
#: stays flat however big the file.  Not more: malloc gives blocks above
#: 128 KiB fresh pages from the kernel (mmap), and faulting them in for
#: every chunk made 1 MiB chunks cost 0.3 µs a frame more than 64 KiB ones.
_CHUNK = 1 << 16


def _more(read: Callable[[int], bytes], buf: bytes, off: int, need: int) -> bytes:
    """``buf[off:]`` and what follows in the file: at least *need* bytes,
    fewer only at the end of the file."""
    parts = [buf[off:]]
    have = len(parts[0])
    while have < need:
        more = read(max(_CHUNK, need - have))
        if not more:
            break
        parts.append(more)
        have += len(more)
    return b"".join(parts)


def _pcap_records(
    f: BinaryIO, order: str, frac_ns: int, linktype: int, name: str, warn: Warn
) -> Iterator[_Record]:
    # Record header: ts_sec u32, ts_usec (or ts_nsec) u32, incl_len u32,
    # orig_len u32; then incl_len bytes.  buf holds the file from byte
    # `base`; `off` is the current record's offset in it.
    rec = struct.Struct(order + "IIII").unpack_from
    read = f.read
    buf = b""
    avail = off = 0
    base = 24
    number = 0
    while True:
        start = off + 16
        if start > avail:
            base += off
            buf, off, start = _more(read, buf, off, 16), 0, 16
            avail = len(buf)
            if avail < 16:
                if avail:
                    warn(_pcap_cut_header(name, number, base))
                return
        sec, frac, incl, orig = rec(buf, off)
        number += 1
        end = start + incl
        if end > avail or incl > MAX_RECORD:
            if incl > MAX_RECORD:
                warn(_pcap_unbelievable(name, number, incl, base + off))
                return
            base += off
            buf, off, start, end = _more(read, buf, off, 16 + incl), 0, 16, 16 + incl
            avail = len(buf)
            if end > avail:
                warn(_pcap_cut_record(name, number, incl, avail - 16, base))
                return
        off = end
        yield (number, sec * 1_000_000_000 + frac * frac_ns, linktype, buf[start:end], incl, orig, 0)


# The warnings of a damaged pcap file (pos: the file offset of the record header).
def _pcap_cut_header(name: str, number: int, pos: int) -> str:
    return f"{name}: file ends inside frame {number + 1} (record header at byte 0x{pos:x})"


def _pcap_unbelievable(name: str, number: int, incl: int, pos: int) -> str:
    return (
        f"{name}: frame {number}: record length {incl} is not believable "
        f"(record header at byte 0x{pos:x}); the rest of the file is skipped"
    )


def _pcap_cut_record(name: str, number: int, incl: int, present: int, pos: int) -> str:
    return (
        f"{name}: file ends inside frame {number} "
        f"(record header at byte 0x{pos:x}, {present} of {incl} bytes present)"
    )


class _Interface(NamedTuple):
    linktype: int
    snaplen: int
    mul: int  # time_ns = (ticks * mul // div >> shift) + offset_ns
    div: int
    shift: int
    offset_ns: int


def _parse_idb(body: bytes, order: str, name: str, pos: int, warn: Warn) -> _Interface:
    # Interface Description Block body: LinkType u16, Reserved u16,
    # SnapLen u32, then options (code u16, length u16, value padded to 4).
    linktype, _res, snaplen = struct.unpack_from(order + "HHI", body, 0)
    mul, div, shift, offset_ns = 1000, 1, 0, 0  # default resolution: 10^-6 s
    i = 8
    while i + 4 <= len(body):
        code, length = struct.unpack_from(order + "HH", body, i)
        if code == 0:  # opt_endofopt
            break
        value = body[i + 4 : i + 4 + length]
        if len(value) < length:
            warn(f"{name}: interface block at byte 0x{pos:x}: option {code} overruns the block")
            break
        if code == _OPT_IF_TSRESOL and length == 1:
            res = value[0]
            if res & 0x80:  # a power of two: 2^-n seconds
                mul, div, shift = 1_000_000_000, 1, res & 0x7F
            elif res <= 9:
                mul, div, shift = 10 ** (9 - res), 1, 0
            else:
                mul, div, shift = 1, 10 ** (res - 9), 0
        elif code == _OPT_IF_TSOFFSET and length == 8:
            (offset_s,) = struct.unpack(order + "q", value)
            offset_ns = offset_s * 1_000_000_000
        i += 4 + ((length + 3) & ~3)
    return _Interface(linktype, snaplen, mul, div, shift, offset_ns)


def _read_pcapng(f: BinaryIO, head: bytes, name: str, warn: Warn) -> Iterator[Frame]:
    # Every block: Block Type u32, Block Total Length u32, body, Block Total
    # Length u32 again; lengths are multiples of 4.  Byte order is set per
    # section by the Section Header Block's Byte-Order Magic; a new section
    # starts a new interface table.
    read = f.read
    pos = 0  # file offset of the current block
    number = 0
    order = "<"
    interfaces: list[_Interface] = []
    first = head  # the first 12 bytes, already read and checked
    while True:
        if first:
            hdr, bom_raw, first = first[:8], first[8:12], b""
        else:
            hdr = read(8)
            bom_raw = b""
        if len(hdr) < 8:
            if hdr:
                warn(f"{name}: file ends inside a block header at byte 0x{pos:x}")
            return
        btype = struct.unpack_from("<I", hdr)[0]
        if btype == _PCAPNG_SHB:
            bom_raw = bom_raw or read(4)
            if len(bom_raw) < 4:
                warn(f"{name}: file ends inside the section header at byte 0x{pos:x}")
                return
            bom = struct.unpack("<I", bom_raw)[0]
            if bom == _PCAPNG_BOM:
                order = "<"
            elif bom == _PCAPNG_BOM_SWAPPED:
                order = ">"
            else:
                warn(
                    f"{name}: section header at byte 0x{pos:x} has a bad byte-order "
                    f"magic ({bom_raw.hex()}); the rest of the file is skipped"
                )
                return
            interfaces = []
            (blen,) = struct.unpack_from(order + "I", hdr, 4)
            already = 12
        else:
            btype, blen = struct.unpack(order + "II", hdr)
            already = 8
        if blen < 12 or blen % 4 or blen > MAX_RECORD:
            warn(
                f"{name}: block at byte 0x{pos:x} has an impossible length {blen}"
                f"{f' (after frame {number})' if number else ''}; the rest of the file is skipped"
            )
            return
        is_packet = btype in (_PCAPNG_EPB, _PCAPNG_SPB, _PCAPNG_PB)
        body = read(blen - already)
        if len(body) < blen - already:
            what = f"frame {number + 1}" if is_packet else f"a block of type 0x{btype:x}"
            warn(
                f"{name}: file ends inside {what} (block at byte 0x{pos:x}, "
                f"{already + len(body)} of {blen} bytes present)"
            )
            return
        (trailer,) = struct.unpack_from(order + "I", body, len(body) - 4)
        if trailer != blen:
            warn(
                f"{name}: block at byte 0x{pos:x} has mismatched lengths ({blen} and "
                f"{trailer}); the rest of the file is skipped"
            )
            return
        start = pos
        pos += blen
        if btype == _PCAPNG_SHB:
            continue  # the rest is version, section length, options
        # body offsets below are relative to the end of the 8-byte header
        content = body[: len(body) - 4]
        if btype == _PCAPNG_IDB:
            if len(content) < 8:
                warn(f"{name}: interface block at byte 0x{start:x} is too short; skipped")
                interfaces.append(_Interface(-1, 0, 1000, 1, 0, 0))
                continue
            interfaces.append(_parse_idb(content, order, name, start, warn))
            continue
        if not is_packet:
            continue  # NRB, ISB, DSB, custom blocks: not frames
        number += 1
        record = _pcapng_packet(btype, content, order, interfaces, number, name, start, warn)
        if record is not None:
            yield record


def _pcapng_packet(
    btype: int,
    content: bytes,
    order: str,
    interfaces: list[_Interface],
    number: int,
    name: str,
    pos: int,
    warn: Warn,
) -> _Record | None:
    where = f"{name}: frame {number} (block at byte 0x{pos:x})"
    if btype == _PCAPNG_EPB:
        # Enhanced Packet Block: Interface ID u32, Timestamp high u32,
        # Timestamp low u32, Captured Len u32, Original Len u32, data, options.
        if len(content) < 20:
            warn(f"{where}: block too short for its header; skipped")
            return None
        iface, hi, lo, caplen, origlen = struct.unpack_from(order + "IIIII", content, 0)
        off = 20
    elif btype == _PCAPNG_PB:
        # obsolete Packet Block: Interface ID u16, Drops Count u16, then as EPB.
        if len(content) < 20:
            warn(f"{where}: block too short for its header; skipped")
            return None
        iface, _drops, hi, lo, caplen, origlen = struct.unpack_from(order + "HHIIII", content, 0)
        off = 20
    else:
        # Simple Packet Block: Original Len u32, data; interface 0, no time.
        if len(content) < 4:
            warn(f"{where}: block too short for its header; skipped")
            return None
        (origlen,) = struct.unpack_from(order + "I", content, 0)
        iface, off = 0, 4
        caplen = min(origlen, len(content) - 4)
        if interfaces and interfaces[0].snaplen:
            caplen = min(caplen, interfaces[0].snaplen)
        hi = lo = None
    if iface >= len(interfaces):
        warn(f"{where}: interface {iface} is not described by any interface block; skipped")
        return None
    info = interfaces[iface]
    if info.linktype < 0:
        return None
    if caplen > len(content) - off:
        warn(
            f"{where}: captured length {caplen} exceeds the block "
            f"({len(content) - off} bytes); skipped"
        )
        return None
    data = content[off : off + caplen]
    if hi is None:
        time_ns = None
    else:
        ticks = (hi << 32) | lo
        time_ns = ((ticks * info.mul // info.div) >> info.shift) + info.offset_ns
    return (number, time_ns, info.linktype, data, caplen, origlen, iface)


# --------------------------------------------------------------------------
# Opening files
# --------------------------------------------------------------------------


class Capture:
    """An opened, checked capture file; a context manager.

    Use :func:`open_capture` to make one.  Iterate over :meth:`frames` or
    :meth:`segments`; each call rereads the file from the start.
    """

    __slots__ = ("path", "name", "format", "_file")

    def __init__(self, path: str, name: str, fmt: str, fileobj: BinaryIO) -> None:
        self.path = path
        self.name = name
        self.format = fmt
        self._file = fileobj

    def frames(self, *, warn: Warn) -> Iterator[Frame]:
        """Every frame of the file, see :func:`read_frames`."""
        self._file.seek(0)
        return read_frames(self._file, name=self.name, warn=warn)

    def segments(self, *, warn: Warn, share: tuple[int, int] | None = None,
                 at: list[int] | None = None) -> Iterator[Segment]:
        """Every TCP segment of the file (or of one share), see :func:`read_segments`."""
        self._file.seek(0)
        return read_segments(self._file, name=self.name, warn=warn, share=share, at=at)

    def position(self) -> int:
        """Bytes of the file read so far (for progress reports)."""
        try:
            return self._file.tell()
        except (OSError, ValueError):  # closed file
            return 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Capture {self.name!r} {self.format}>"


def _open(path: str | os.PathLike, what: str) -> BinaryIO:
    p = os.fspath(path)
    if os.path.isdir(p):
        raise CaptureError(f"{p}: is a directory, not a {what}")
    try:
        return open(p, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise CaptureError(f"{p}: no such file") from None
    except OSError as exc:
        raise CaptureError(f"{p}: cannot read ({exc.strerror or exc})") from None


def open_capture(path: str | os.PathLike) -> Capture:
    """Open a capture file and check that it is pcap or pcapng.

    Args:
        path: the capture file.

    Returns:
        Capture: ready to iterate; close it (or use ``with``).

    Raises:
        CaptureError: the file is missing, a directory, unreadable, empty,
            or neither pcap nor pcapng.  The message names the path.
    """
    p = os.fspath(path)
    f = _open(p, "capture file")
    try:
        head = f.read(4)
        fmt = _sniff(head)
        if fmt is None:
            if not head:
                raise CaptureError(f"{p}: the file is empty, not a capture")
            raise CaptureError(
                f"{p}: not a pcap or pcapng file (starts with {head.hex()})"
            )
        f.seek(0)
    except BaseException:
        f.close()
        raise
    return Capture(p, os.path.basename(p), fmt, f)


def read_blocks(path: str | os.PathLike, size: int = 1 << 20) -> Iterator[bytes]:
    """The content of a sidecar file in consecutive blocks of *size* bytes.

    For a file that may be big and is parsed as it is read (a key log grows
    with its capture), so it is never held whole.  The file is opened by
    the call itself.

    Raises:
        CaptureError: the file is missing, a directory or unreadable.
    """
    f = _open(path, "file")

    def blocks() -> Iterator[bytes]:
        with f:
            while True:
                try:
                    block = f.read(size)
                except OSError as exc:
                    raise CaptureError(f"{os.fspath(path)}: cannot read ({exc.strerror or exc})") from None
                if not block:
                    return
                yield block

    return blocks()


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole content of a small sidecar file (key log, PEM key).

    Raises:
        CaptureError: the file is missing, a directory or unreadable.
    """
    with _open(path, "file") as f:
        try:
            return f.read()
        except OSError as exc:
            raise CaptureError(f"{os.fspath(path)}: cannot read ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------
# Link layer, IP and TCP
# --------------------------------------------------------------------------

_ETH_IPV4 = 0x0800
_ETH_IPV6 = 0x86DD
_ETH_VLAN = frozenset((0x8100, 0x88A8, 0x9100))  # 802.1Q, 802.1ad, old QinQ

# BSD address families as they appear in DLT_NULL / DLT_LOOP headers.
_AF_INET = 2
_AF_INET6 = frozenset((24, 28, 30))  # NetBSD/OpenBSD, FreeBSD, Darwin

# Why a frame gave no segment (internal; read_segments warns about some).
_NOT_IP, _NOT_TCP, _FRAGMENT, _UNKNOWN_LINK, _OTHER_SHARE = range(5)


def share_of(src: str, sport: int, dst: str, dport: int, shares: int) -> int:
    """Which of *shares* shares a TCP connection belongs to (see :func:`read_segments`).

    The same for both directions of a connection (the two endpoints are
    combined symmetrically), so a connection is never split between shares,
    and the same in every process.
    """
    return _share(_address_int(src) ^ _address_int(dst) ^ sport ^ dport, shares)


def _share(mixed: int, shares: int) -> int:
    # Fibonacci hashing of the endpoints' XOR: neighbouring ports and
    # addresses land in different shares.
    return (((mixed * 0x9E3779B1) & 0xFFFFFFFF) >> 16) % shares


@lru_cache(maxsize=4096)
def _address_int(address: str) -> int:
    return int(ipaddress.ip_address(address))


_U16 = struct.Struct("!H")
_U32LE = struct.Struct("<I")
_U32BE = struct.Struct("!I")
# IPv4: ver/ihl B, tos x, total length H, id xx, flags/frag H, ttl x,
# protocol B, checksum xx, src 4s, dst 4s.
_IPV4 = struct.Struct("!BxH2xHxB2x4s4s")
# IPv6: ver/tc/flow xxxx, payload length H, next header B, hop limit x,
# src 16s, dst 16s.
_IPV6 = struct.Struct("!4xHBx16s16s")
# TCP: sport H, dport H, seq I, ack I, data offset/AE B, flags B, window H.
_TCP = struct.Struct("!HHIIBBH")
_TS = struct.Struct("!II")
_IPV6_SKIP = frozenset((0, 43, 60))  # hop-by-hop, routing, destination options

_ntoa = socket.inet_ntoa


@lru_cache(maxsize=4096)
def _ntop6(raw: bytes) -> str:
    # RFC 5952 text form, as Wireshark prints it.
    return ipaddress.IPv6Address(raw).compressed


def _link_offset(linktype: int, data: bytes, n: int) -> tuple[int, int]:
    """(offset of the IP header, 4 / 6 / _NOT_IP / _UNKNOWN_LINK) for one frame."""
    if linktype == 1:  # Ethernet II, then any number of VLAN tags
        if n < 14:
            return 0, _NOT_IP
        off = 12
        etype = (data[12] << 8) | data[13]
        while etype in _ETH_VLAN:
            off += 4
            if n < off + 2:
                return 0, _NOT_IP
            etype = (data[off] << 8) | data[off + 1]
        off += 2
    elif linktype == 276:  # SLL2: protocol type H, reserved H, ifindex I, ...
        if n < 20:
            return 0, _NOT_IP
        etype = (data[0] << 8) | data[1]
        off = 20
    elif linktype == 113:  # SLL: packet type H, ARPHRD H, addr len H, addr 8s, protocol H
        if n < 16:
            return 0, _NOT_IP
        etype = (data[14] << 8) | data[15]
        off = 16
    elif linktype in (0, 108):
        # NULL: the AF value in the capturing host's byte order; LOOP: in
        # network byte order.  Try both, as Wireshark does.
        if n < 4:
            return 0, _NOT_IP
        af = _U32LE.unpack_from(data)[0]
        if af > 0xFFFF:
            af = _U32BE.unpack_from(data)[0]
        if af == _AF_INET:
            return 4, 4
        if af in _AF_INET6:
            return 4, 6
        return 0, _NOT_IP
    elif linktype in (101, 12):  # raw IP: the version nibble says which
        if n < 1:
            return 0, _NOT_IP
        v = data[0] >> 4
        return 0, (v if v in (4, 6) else _NOT_IP)
    elif linktype == 228:
        return 0, 4
    elif linktype == 229:
        return 0, 6
    else:
        return 0, _UNKNOWN_LINK
    if etype == _ETH_IPV4:
        return off, 4
    if etype == _ETH_IPV6:
        return off, 6
    return 0, _NOT_IP


def decode_segment(frame: Frame) -> Segment | None:
    """The TCP segment a frame carries, or ``None`` when it carries none.

    ``None`` means not IP (ARP, an unsupported link type), not TCP (UDP,
    ICMP) or an IP fragment (fragments are not reassembled).

    Args:
        frame: one frame from :func:`read_frames`.

    Returns:
        Segment | None: the segment, marked ``truncated`` when the frame
        was cut before the end the IP header announces.

    Raises:
        DecodeError: a malformed IPv4, IPv6 or TCP header (located by frame
            number and field); :class:`TruncatedError` when the frame ends
            inside the headers themselves.
    """
    result = _decode(frame.number, frame.time_ns, frame.linktype, frame.data)
    return result if type(result) is Segment else None


# From byte 15 of an Ethernet frame (the byte after IPv4's version/IHL) to
# the TCP window: tos x, total length H, id xx, flags/fragment H, ttl x,
# protocol B, checksum xx, src I, dst I; TCP sport H, dport H, seq I, ack I,
# data offset/AE B, flags B, window H.
_ETH_IPV4_TCP = struct.Struct("!xH2xHxB2xIIHHIIBBH")


def _decode(number: int, time_ns: int | None, linktype: int, data: bytes,
            share: int = 0, shares: int = 0) -> Segment | int:
    # The common case first, in one unpack: untagged Ethernet, IPv4 without
    # options, a TCP header whose lengths all fit.  Anything else (or
    # anything wrong) takes the general path below, which finds the same
    # segment or words the problem.
    n = len(data)
    if linktype == 1 and n >= 54 and data[12] == 8 and data[13] == 0 and data[14] == 0x45:
        total, frag, proto, s, d, sport, dport, seq, ack, offb, flagb, window = _ETH_IPV4_TCP.unpack_from(data, 15)
        thl = (offb >> 4) * 4
        if proto == 6 and not frag & 0x3FFF and thl >= 20 and total >= 20 + thl and n >= 34 + thl:
            if thl == 20:
                options = ()
            elif thl == 32 and data[54:58] == b"\x01\x01\x08\x0a":
                options = (_NOP_OPT, _NOP_OPT, _new_tuple(TcpOption, (_KIND_TS, _TS.unpack_from(data, 58))))
            else:
                options = _parse_options(data, 54, 34 + thl, number)
            if shares and ((((s ^ d ^ sport ^ dport) * 0x9E3779B1) & 0xFFFFFFFF) >> 16) % shares != share:
                return _OTHER_SHARE  # (_share, inline: this runs for every frame)
            end = 14 + total
            cap_end = n if n < end else end  # Ethernet padding beyond `end` is not payload
            return _new_tuple(
                Segment,
                (
                    number,
                    time_ns,
                    _V4_NAMES.get(s) or _v4_name(s),
                    _V4_NAMES.get(d) or _v4_name(d),
                    sport,
                    dport,
                    seq,
                    ack,
                    ((offb & 1) << 8) | flagb,
                    window,
                    options,
                    data[34 + thl : cap_end],
                    end - 34 - thl,
                    cap_end < end,
                    4,
                ),
            )
    result = _decode_general(number, time_ns, linktype, data)
    if shares and type(result) is Segment and share_of(result.src, result.sport, result.dst,
                                                        result.dport, shares) != share:
        return _OTHER_SHARE
    return result


# IPv4 address (as an int) -> its text.  A capture has few distinct
# addresses, so their strings are made once and shared by every segment
# (and every 4-tuple key built from them, whose hash is then cached).
_V4_NAMES: dict[int, str] = {}


def _v4_name(address: int) -> str:
    if len(_V4_NAMES) >= 65536:
        _V4_NAMES.clear()
    name = _V4_NAMES[address] = _ntoa(address.to_bytes(4, "big"))
    return name


def _decode_general(number: int, time_ns: int | None, linktype: int, data: bytes) -> Segment | int:
    n = len(data)
    if linktype == 1 and n >= 14 and data[12] == 8 and data[13] == 0:
        off, kind = 14, 4  # untagged Ethernet + IPv4, inline
    else:
        off, kind = _link_offset(linktype, data, n)
    if kind == 4:
        if n - off < 20:
            raise TruncatedError(
                f"{n - off} byte(s) of IPv4 header captured, 20 needed", frame=number, field="ip"
            )
        b0, total, frag, proto, s, d = _IPV4.unpack_from(data, off)
        if b0 >> 4 != 4:
            raise DecodeError(
                "bad IP version", frame=number, field="ip.version", expected=4, found=b0 >> 4
            )
        ihl = (b0 & 15) * 4
        if ihl < 20:
            raise DecodeError(
                "IPv4 header length below the minimum",
                frame=number,
                field="ip.hdr_len",
                expected=">= 20",
                found=ihl,
            )
        if proto != 6:
            return _NOT_TCP
        if frag & 0x3FFF:  # MF set or a fragment offset: a fragment
            return _FRAGMENT
        if total == 0:
            # TCP segmentation offload on the capturing host: the kernel
            # fills the length in later; trust the captured bytes.
            total = n - off
        elif total < ihl:
            raise DecodeError(
                "IPv4 total length shorter than its header",
                frame=number,
                field="ip.len",
                expected=f">= {ihl}",
                found=total,
            )
        if n - off < ihl:
            raise TruncatedError(
                f"{n - off} byte(s) of a {ihl}-byte IPv4 header captured",
                frame=number,
                field="ip.options",
            )
        src = _ntoa(s)
        dst = _ntoa(d)
        t = off + ihl
        end = off + total  # where the IP datagram ends, as announced
    elif kind == 6:
        if n - off < 40:
            raise TruncatedError(
                f"{n - off} byte(s) of IPv6 header captured, 40 needed", frame=number, field="ipv6"
            )
        if data[off] >> 4 != 6:
            raise DecodeError(
                "bad IP version",
                frame=number,
                field="ipv6.version",
                expected=6,
                found=data[off] >> 4,
            )
        plen, nxt, s, d = _IPV6.unpack_from(data, off)
        t = off + 40
        end = t + plen if plen else n  # 0: a jumbogram or TSO; trust the capture
        while nxt in _IPV6_SKIP:
            # Extension header: Next Header u8, Hdr Ext Len u8 (8-octet
            # units, not counting the first 8), RFC 8200 §4.
            if n < t + 2:
                raise TruncatedError(
                    "IPv6 extension header cut short", frame=number, field="ipv6.ext"
                )
            nxt, units = data[t], data[t + 1]
            t += (units + 1) * 8
            if t > end:
                raise DecodeError(
                    "IPv6 extension header overruns the payload length",
                    frame=number,
                    field="ipv6.ext",
                )
        if nxt == 44:
            return _FRAGMENT
        if nxt != 6:
            return _NOT_TCP
        src = _ntop6(s)
        dst = _ntop6(d)
    else:
        return kind

    # TCP header, RFC 9293 §3.1.
    if end < t + 20:
        raise DecodeError(
            "IP length leaves no room for a TCP header",
            frame=number,
            field="tcp",
            expected=">= 20 bytes",
            found=end - t,
        )
    if n < t + 20:
        raise TruncatedError(
            f"{max(n - t, 0)} byte(s) of TCP header captured, 20 needed",
            frame=number,
            field="tcp",
        )
    sport, dport, seq, ack, offb, flagb, window = _TCP.unpack_from(data, t)
    thl = (offb >> 4) * 4
    if thl < 20:
        raise DecodeError(
            "TCP header length below the minimum",
            frame=number,
            field="tcp.hdr_len",
            expected=">= 20",
            found=thl,
        )
    p = t + thl
    if p > end:
        raise DecodeError(
            "TCP header length exceeds the segment",
            frame=number,
            field="tcp.hdr_len",
            expected=f"<= {end - t}",
            found=thl,
        )
    if p > n:
        raise TruncatedError(
            f"TCP options cut short ({n - t} of {thl} header bytes captured)",
            frame=number,
            field="tcp.options",
        )
    if thl == 20:
        options = ()
    elif thl == 32 and data[t + 20 : t + 24] == b"\x01\x01\x08\x0a":
        # The common case on every data segment: NOP, NOP, timestamps.
        options = (_NOP_OPT, _NOP_OPT, _new_tuple(TcpOption, (_KIND_TS, _TS.unpack_from(data, t + 24))))
    else:
        options = _parse_options(data, t + 20, p, number)
    cap_end = n if n < end else end  # Ethernet padding beyond `end` is not payload
    return _new_tuple(
        Segment,
        (
            number,
            time_ns,
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            ((offb & 1) << 8) | flagb,
            window,
            options,
            data[p:cap_end],
            end - p,
            cap_end < end,
            kind,
        ),
    )


_new_tuple = tuple.__new__  # TcpOption(...) without the Python-level __new__
_KIND_TS = TcpOptionKind.TIMESTAMPS
_NOP_OPT = TcpOption(TcpOptionKind.NOP, None)
_EOL_OPT = TcpOption(TcpOptionKind.EOL, None)
# kind -> exact total length, for the fixed-size options we decode
_OPT_LENGTHS = {2: 4, 3: 3, 4: 2, 8: 10}


def _parse_options(data: bytes, i: int, end: int, number: int) -> tuple[TcpOption, ...]:
    """Decode TCP options in ``data[i:end]`` (RFC 9293 §3.2, RFC 7323, RFC 2018)."""
    out: list[TcpOption] = []
    while i < end:
        kind = data[i]
        if kind == 0:
            out.append(_EOL_OPT)
            break  # the rest is padding
        if kind == 1:
            out.append(_NOP_OPT)
            i += 1
            continue
        if i + 1 >= end:
            raise DecodeError(
                f"TCP option kind {kind} has no length byte",
                frame=number,
                field="tcp.options",
            )
        length = data[i + 1]
        if length < 2 or i + length > end:
            raise DecodeError(
                f"TCP option kind {kind} has a bad length",
                frame=number,
                field="tcp.options",
                expected=f"2..{end - i}",
                found=length,
            )
        want = _OPT_LENGTHS.get(kind)
        if want is not None and length != want:
            raise DecodeError(
                f"TCP option {TcpOptionKind(kind).name} has a bad length",
                frame=number,
                field="tcp.options",
                expected=want,
                found=length,
            )
        if kind == 2:
            out.append(TcpOption(TcpOptionKind.MSS, _U16.unpack_from(data, i + 2)[0]))
        elif kind == 3:
            out.append(TcpOption(TcpOptionKind.WINDOW_SCALE, data[i + 2]))
        elif kind == 4:
            out.append(TcpOption(TcpOptionKind.SACK_PERMITTED, None))
        elif kind == 8:
            out.append(TcpOption(TcpOptionKind.TIMESTAMPS, _TS.unpack_from(data, i + 2)))
        elif kind == 5:
            if (length - 2) % 8:
                raise DecodeError(
                    "TCP SACK option length is not 2 + 8n",
                    frame=number,
                    field="tcp.options.sack",
                    found=length,
                )
            blocks = tuple(
                _TS.unpack_from(data, j) for j in range(i + 2, i + length, 8)
            )
            out.append(TcpOption(TcpOptionKind.SACK, blocks))
        else:
            out.append(TcpOption(kind, bytes(data[i + 2 : i + length])))
        i += length
    return tuple(out)


#: How often (in frames) read_segments says how far it has read, in share mode.
SHARE_MARK_EVERY = 4096


def read_segments(
    fileobj: BinaryIO,
    *,
    name: str,
    warn: Warn,
    share: tuple[int, int] | None = None,
    at: list[int] | None = None,
) -> Iterator[Segment]:
    """Yield the TCP segments of a capture, turning decode problems into warnings.

    Frames that are not TCP over IP are passed over in silence, except that
    an unsupported link type and the first IP fragment are each reported
    once (fragments are not reassembled, so the segment they carry is
    missing and the TCP stage will report a gap).  A malformed header is
    reported per frame and the frame is skipped.

    Args:
        fileobj, name, warn: as for :func:`read_frames`.
        share: ``(k, n)``: yield only the segments of the connections in
            share *k* of *n* (:func:`share_of`), for one of *n* processes
            reading the same capture.  The warnings are the same in every
            share.  Every :data:`SHARE_MARK_EVERY` frames it also yields an
            ``int``: the number of the last frame fully handled, so that a
            share with no segment for a long stretch still says how far it
            has read.
        at: a one-item list; ``at[0]`` is set to each frame's number as it
            is read, so that a caller can tell where a warning was met.

    Raises:
        CaptureError: as for :func:`read_frames`.
    """
    kind, how = _open_records(fileobj, name)
    mine, shares = share if share is not None else (0, 0)
    if at is None:
        at = [0]
    if kind != "pcap":
        yield from _record_segments(_read_pcapng(fileobj, how, name, warn), name, warn, mine, shares, at)
        return
    # A pcap file: _pcap_records and _record_segments fused into one loop
    # over the file's chunks, which is what this function does for every
    # frame, so it is written out for speed:
    #
    # * frames on _decode's fast path (untagged Ethernet, IPv4 without
    #   options, TCP whose lengths all fit) are decoded from the chunk at
    #   their offset, so only the payload is copied out, and no record tuple
    #   is made;
    # * in share mode, such a frame of another share is dropped as soon as
    #   its addresses are read: only its TCP options, if any but the usual
    #   NOP, NOP, timestamps, are parsed, since they alone could give a
    #   warning (as _decode does before it looks at the share).
    #
    # Every other frame is sliced out and goes through _decode, as in
    # _record_segments; the file is read and its damage reported as
    # _pcap_records does.  at[0] is set only when control leaves this
    # loop (a yield or a warning), to the value the general loop would
    # have given it then.  tests/test_read_perf.py checks the two agree.
    order, frac_ns, linktype = how
    rec = struct.Struct(order + "IIII").unpack_from
    # The record header and the frame's Ethernet/IPv4/TCP fields in one
    # unpack (see _record_and_headers); used when the frame's first 54
    # bytes are in the buffer, as they are for every frame but a short
    # last one.
    rec_headers, eth_want, frag_mask = _record_and_headers(order)
    if linktype != 1:  # not Ethernet: no frame takes the fast path
        eth_want = -1
    thl_of = _TCP_HEADER_LENGTH
    ae_of = _TCP_AE_FLAG
    ip_end_of = _IP_END
    tcp_rest = _TCP_SEQ_TO_WINDOW.unpack_from
    ts = _TS.unpack_from
    new_tuple = _new_tuple
    read = fileobj.read
    max_record = MAX_RECORD
    mark = SHARE_MARK_EVERY if shares else -1
    flows: dict[bytes, tuple | None] = {}
    told: set[object] = set()
    buf = b""
    avail = off = 0
    fast_end = -54  # avail - 54: a record starting at or before it has 54 bytes in buf
    last_sec = -1  # the fast path's last ts_sec, and its sec_ns = ts_sec * 10**9
    sec_ns = 0
    base = 24  # file offset of buf[0]
    number = 0
    while True:
        start = off + 16
        if start <= fast_end:
            # (the header fields are the next record's bytes when incl < 54:
            # then the fast path's tests fail, as incl >= 34 + thl >= 54 does)
            sec, frac, incl, eth, vihl, tot_hi, tot_lo, frag, proto, key, offb = rec_headers(buf, off)
        else:
            # Keep the next record header and 54 bytes after it in buf
            # (fewer only at the end of the file): the unpack above needs them.
            base += off
            buf, off, start = _more(read, buf, off, 70), 0, 16
            avail = len(buf)
            fast_end = avail - 54
            if avail < 16:
                at[0] = number
                if avail:
                    warn(_pcap_cut_header(name, number, base))
                return
            if avail >= 70:
                sec, frac, incl, eth, vihl, tot_hi, tot_lo, frag, proto, key, offb = rec_headers(buf, 0)
            else:  # the file's last record, shorter than 54 bytes: not for the fast path
                sec, frac, incl, _orig = rec(buf, 0)
                eth = -1
        number += 1
        end = start + incl
        if end > avail or incl > max_record:
            # (buf keeps the record at its offset: the fields stay valid)
            at[0] = number - 1
            if incl > MAX_RECORD:
                warn(_pcap_unbelievable(name, number, incl, base + off))
                return
            base += off
            buf, off, start, end = _more(read, buf, off, 16 + incl), 0, 16, 16 + incl
            avail = len(buf)
            fast_end = avail - 54
            if end > avail:
                warn(_pcap_cut_record(name, number, incl, avail - 16, base))
                return
        off = end
        if number == mark:
            mark += SHARE_MARK_EVERY
            at[0] = number
            yield number - 1  # type: ignore[misc]  (share mode only, see above)
        # EtherType IPv4, version 4 and IHL 5; not a fragment, TCP; lengths
        # that fit (the IP total length, tot_hi * 256 + tot_lo, is at least
        # 20 + thl <= 80 when tot_hi is not 0: it is not made here, to spare
        # the frames of another share two int objects); hdrs, the Ethernet,
        # IPv4 and TCP headers' length, is where the payload starts
        if (
            eth == eth_want and vihl == 0x45 and not frag & frag_mask and proto == 6
            and (thl := thl_of[offb]) >= 20 and (tot_hi or tot_lo >= 20 + thl) and incl >= (hdrs := 34 + thl)
        ):
            try:  # (a plain dict and try: the specialised, cheapest lookup)
                flow = flows[key]  # (src, dst, sport, dport), or None for another share's
            except KeyError:
                flow = _new_flow(flows, key, mine, shares)
            if flow is None:  # another share's: only its options could give a warning
                if thl != 20 and not (thl == 32 and buf.startswith(_NOP_NOP_TS, start + 54)):
                    try:
                        _parse_options(buf, start + 54, start + hdrs, number)
                    except DecodeError as exc:
                        at[0] = number
                        exc.with_context(capture=name)
                        warn(f"{exc}; frame skipped")
                continue
            elif thl == 20 or (thl == 32 and buf.startswith(_NOP_NOP_TS, start + 54)):
                src, dst, sport, dport = flow
                seq, ack, flagb, window = tcp_rest(buf, start + 38)
                ip_end = ip_end_of[tot_hi] + tot_lo
                cut = incl < ip_end  # the frame was cut (snaplen) before the datagram's end
                cap_end = incl if cut else ip_end  # Ethernet padding is not payload
                if sec != last_sec:  # sec * 10**9 is a big-int product: made once per second
                    last_sec = sec
                    sec_ns = sec * 1_000_000_000
                at[0] = number
                yield new_tuple(
                    Segment,
                    (
                        number,
                        sec_ns + frac * frac_ns,
                        src,
                        dst,
                        sport,
                        dport,
                        seq,
                        ack,
                        flagb | ae_of[offb],
                        window,
                        () if thl == 20 else (_NOP_OPT, _NOP_OPT, new_tuple(TcpOption, (_KIND_TS, ts(buf, start + 58)))),
                        buf[start + hdrs : start + cap_end],
                        ip_end - hdrs,
                        cut,
                        4,
                    ),
                )
                continue
        # Everything else: what _record_segments does with the record.
        at[0] = number
        try:
            result = _decode(number, sec * 1_000_000_000 + frac * frac_ns, linktype, buf[start:end],
                             mine, shares)
        except DecodeError as exc:
            exc.with_context(capture=name)
            warn(f"{exc}; frame skipped")
            continue
        if type(result) is Segment:
            yield result
        else:
            _report(result, number, linktype, told, name, warn)


# What read_segments' fast path checks, with the record header before it:
# from the record header, ts_sec I, ts_frac I, incl_len I, orig_len 4x;
# then from byte 12 of the Ethernet frame, EtherType H, IPv4 version/IHL
# B, tos x; total length as two bytes BB; id xx; flags/fragment offset H,
# ttl x, protocol B; checksum xx; the flow key 12s (IPv4 source and
# destination, TCP source and destination ports); seq and ack 8x; the TCP
# data offset/AE B.  One struct, so in the record header's byte order,
# which is the file's: the network-order 16-bit fields read as H are
# tested against a value and a mask made for that order, and the total
# length is read a byte at a time.  (Two unpacks, one per byte order,
# measured 430 more instructions per frame, 2.4% of reading segments.)
# The fields are small so that, in a little-endian file, the values of a
# usual frame are Python's cached small ints (EtherType 0x0800 reads as
# 8, flags DF as 64): testing them makes no int object, which matters on
# the frames of another share, for which these tests are most of the work.
@lru_cache(maxsize=None)
def _record_and_headers(order: str) -> tuple:
    """``(unpack_from, eth_want, frag_mask)`` for a pcap file in byte *order*:
    ``eth == eth_want`` is EtherType 0x0800 (IPv4), and ``not frag &
    frag_mask`` is not a fragment (no MF, offset 0).  The unpack gives
    ``(ts_sec, ts_frac, incl_len, eth, version_ihl, total_hi, total_lo, frag,
    protocol, flow_key, data_offset_byte)``."""
    unpack = struct.Struct(order + "III4x12xHBxBB2xHxB2x12s8xB").unpack_from

    def as_read(big_endian: int) -> int:  # a 2-byte network-order value as this order reads it
        return int.from_bytes(big_endian.to_bytes(2, "big"), "little" if order == "<" else "big")

    return (unpack, as_read(0x0800), as_read(0x3FFF))


#: The TCP header length in bytes for each value of the data offset byte
#: (its high nibble, in 32-bit words): one tuple index instead of a shift
#: and a product per frame in read_segments.
_TCP_HEADER_LENGTH = tuple((b >> 4) * 4 for b in range(256))
#: The AE flag (bit 0 of that byte) as Segment.flags has it, 0x100, the same way.
_TCP_AE_FLAG = tuple((b & 1) << 8 for b in range(256))
#: 14 (the Ethernet header) + the high byte of the IPv4 total length * 256:
#: with the low byte added, where the IP datagram ends in the frame.
_IP_END = tuple(14 + (b << 8) for b in range(256))


# The rest of the TCP header, from its seq: seq I, ack I, data offset x,
# flags B, window H.
_TCP_SEQ_TO_WINDOW = struct.Struct("!IIxBH")
_FLOW_KEY = struct.Struct("!IIHH")


def _new_flow(flows: dict[bytes, tuple | None], key: bytes, mine: int, shares: int) -> tuple | None:
    """What read_segments needs to know of a flow key (one direction of a
    connection), put in *flows*: ``(src, dst, sport, dport)``, or ``None``
    when it is another share's.

    Made once per key and kept: a frame then costs one dict lookup instead
    of four ints, two address lookups and the share hash.  At most 65,536
    keys are kept (then the table starts again).
    """
    if len(flows) >= 65536:
        flows.clear()
    s, d, sport, dport = _FLOW_KEY.unpack(key)
    if shares and _share(s ^ d ^ sport ^ dport, shares) != mine:
        flow = None
    else:
        flow = (_V4_NAMES.get(s) or _v4_name(s), _V4_NAMES.get(d) or _v4_name(d), sport, dport)
    flows[key] = flow
    return flow


_NOP_NOP_TS = b"\x01\x01\x08\x0a"  # TCP options NOP, NOP, timestamps (kind 8, length 10)


def _record_segments(records: Iterator[_Record], name: str, warn: Warn, mine: int, shares: int,
                     at: list[int]) -> Iterator[Segment]:
    """read_segments for any records (the general loop; pcap files take a fused one)."""
    told: set[object] = set()
    decode = _decode
    since = 0
    for number, time_ns, linktype, data, _cap, _orig, _iface in records:
        at[0] = number
        if shares:
            since += 1
            if since == SHARE_MARK_EVERY:
                since = 0
                yield number - 1  # type: ignore[misc]  (share mode only, see read_segments)
        try:
            result = decode(number, time_ns, linktype, data, mine, shares)
        except DecodeError as exc:
            exc.with_context(capture=name)
            warn(f"{exc}; frame skipped")
            continue
        if type(result) is Segment:
            yield result
        else:
            _report(result, number, linktype, told, name, warn)


def _report(result: int, number: int, linktype: int, told: set[object], name: str, warn: Warn) -> None:
    """Warn, once per capture, about a frame that gave no segment because it is a fragment
    or of an unsupported link type."""
    if result == _FRAGMENT and "frag" not in told:
        told.add("frag")
        warn(
            f"{name}: frame {number}: IP fragments are not reassembled; "
            "the TCP data they carry is missing (this and any later fragments)"
        )
    elif result == _UNKNOWN_LINK and ("link", linktype) not in told:
        told.add(("link", linktype))
        warn(
            f"{name}: frame {number}: link type {linktype} is not supported; "
            "its frames are skipped"
        )

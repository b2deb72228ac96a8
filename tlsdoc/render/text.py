"""Human output of ``tlsdoc show``: a compact, Wireshark-like summary.

Consumes :class:`~tlsdoc.analysis.ConnectionAnalysis` values, produces
lines of text, one connection at a time (so any capture size streams).
Example of one connection::

    #0  192.0.2.10:50514 → 203.0.113.80:443  (frames 1–24)
      TCP  SYN #1 · SYN-ACK #2 · ACK #3   handshake RTT 50.213 ms
      TLS  TLS 1.3 · TLS_AES_128_GCM_SHA256 (0x1301) · SNI www.example.com · ALPN http/1.1
      client  ClientHello #4
      server  ServerHello #6 · Encrypted #6 …

Never imports sphinx, docutils or cli.
"""

from __future__ import annotations

from typing import IO, Iterable

from tlsdoc.render.jsondoc import endpoint
from tlsdoc.wire import Direction

__all__ = ["connection_lines", "frames_text", "write_show"]


def frames_text(frames: Iterable[int]) -> str:
    """``#4`` or ``#6–8`` or ``#6,9`` — the frames a message came in."""
    numbers = sorted(set(frames))
    if not numbers:
        return "#?"
    if len(numbers) == 1:
        return f"#{numbers[0]}"
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"#{numbers[0]}–{numbers[-1]}"
    return "#" + ",".join(str(n) for n in numbers)


def _tcp_line(conn) -> str:
    hs = conn.handshake
    parts = []
    for name, segment in (("SYN", hs.syn), ("SYN-ACK", hs.syn_ack), ("ACK", hs.ack)):
        parts.append(f"{name} #{segment.frame}" if segment is not None else f"({name} not seen)")
    line = "  TCP  " + " · ".join(parts)
    if hs.rtt_ns is not None:
        line += f"   handshake RTT {hs.rtt_ns / 1e6:.3f} ms"
    return line


def _tls_line(tls) -> str:
    parts = []
    parts.append(tls.version.label if tls.version is not None else "version unknown")
    suite = tls.cipher_suite
    if suite is not None:
        name = getattr(suite, "name", None) or "unassigned"
        parts.append(f"{name} (0x{int(suite):04x})")
    if tls.sni:
        parts.append(f"SNI {tls.sni}")
    if tls.alpn:
        parts.append(f"ALPN {tls.alpn}")
    if getattr(tls, "hello_retry", False):
        parts.append("HelloRetryRequest")
    if getattr(tls, "resumed", False):
        parts.append("resumed")
    return "  TLS  " + " · ".join(parts)


def connection_lines(c) -> list[str]:
    """The lines for one connection."""
    conn = c.tcp
    frames = conn.frames
    span = f"frames {frames[0]}–{frames[-1]}" if frames else "no frames"
    lines = [f"#{c.index}  {endpoint(conn.client)} → {endpoint(conn.server)}  ({span})"]
    lines.append(_tcp_line(conn))
    if c.tls is None:
        lines.append("  (not TLS)")
        return lines
    lines.append(_tls_line(c.tls))
    for direction in Direction:
        messages = c.tls.messages(direction)
        flight = " · ".join(f"{m.name} {frames_text(m.frames)}" for m in messages)
        lines.append(f"  {direction.sender:<6}  {flight or '(no handshake messages)'}")
    return lines


def write_show(run, out: IO[str]) -> None:
    """Write every connection of *run*, separated by blank lines."""
    count = 0
    for c in run:
        if count:
            out.write("\n")
        out.write("\n".join(connection_lines(c)))
        out.write("\n")
        count += 1
    if count == 0:
        out.write(f"{run.capture}: no TCP connections\n")


def _app_line(c) -> list[str]:
    lines = []
    for direction in Direction:
        app = c.application_data.get(direction)
        if app is None:
            text = "not decrypted"
        else:
            text = f"{app.records} application data record(s), {app.length} bytes"
        lines.append(f"  {direction.sender:<6}  {text}")
    return lines


def write_decrypt(run, out: IO[str]) -> None:
    """Write every connection of *run* with what decrypting it gave."""
    count = 0
    for c in run:
        if count:
            out.write("\n")
        lines = connection_lines(c)
        if c.tls is not None:
            lines.extend(_app_line(c))
        out.write("\n".join(lines))
        out.write("\n")
        count += 1
    if count == 0:
        out.write(f"{run.capture}: no TCP connections\n")

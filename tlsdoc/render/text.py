"""Human output of ``tlsdoc show``, ``decrypt`` and ``verify``.

Consumes :class:`~tlsdoc.analysis.ConnectionAnalysis` values, produces
lines of text, one connection at a time (so any capture size streams).
``show`` is a compact, Wireshark-like summary of one connection::

    #0  192.0.2.10:50514 → 203.0.113.80:443  (frames 1–24)
      TCP  SYN #1 · SYN-ACK #2 · ACK #3   handshake RTT 50.213 ms
      TLS  TLS 1.3 · TLS_AES_128_GCM_SHA256 (0x1301) · SNI www.example.com · ALPN http/1.1
      client  ClientHello #4
      server  ServerHello #6 · Encrypted #6 …

``decrypt`` adds where the keys came from, the application data per
direction, and each HTTP request and response (headers, and the body
when it is text, cut at :data:`BODY_LINES` lines / :data:`BODY_CHARS`
characters with a note).  ``verify`` prints one line per check: ``✓``
passed, ``✗`` failed, ``–`` not possible, with the reason.

Bytes from the capture (HTTP headers and bodies) are shown with control
characters escaped (``\\x1b``), so a hostile capture cannot drive the
terminal.

Never imports sphinx, docutils or cli.
"""

from __future__ import annotations

import re
from typing import IO, Iterable

from tlsdoc.render.jsondoc import endpoint
from tlsdoc.wire import Direction

__all__ = [
    "connection_lines",
    "frames_text",
    "write_show",
    "decrypt_lines",
    "write_decrypt",
    "check_lines",
    "write_verify",
    "BODY_LINES",
    "BODY_CHARS",
]


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
    _write_each(run, out, connection_lines)



# -- decrypt ------------------------------------------------------------------------

#: A text body is shown up to this many lines …
BODY_LINES = 40
#: … and this many characters.
BODY_CHARS = 3000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded)"
                         r"|[^;]*\+(json|xml)\b)", re.IGNORECASE)


def _safe(text: str) -> str:
    """Escape control characters (except tab and newline) as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _body_text(message) -> str | None:
    """The body as text when it is text, else None."""
    if message.header("content-encoding") not in (None, "identity"):
        return None
    ctype = message.header("content-type")
    if ctype is not None and not _TEXT_TYPES.match(ctype.strip()):
        return None
    charset = "utf-8"
    if ctype is not None:
        found = re.search(r"charset=\"?([A-Za-z0-9._-]+)", ctype)
        if found:
            charset = found.group(1)
    try:
        text = message.body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    return text


def _message_lines(message, arrow: str) -> list[str]:
    lines = [f"  {arrow} {_safe(message.start_line)}"]
    lines.extend(f"    {_safe(k)}: {_safe(v)}" for k, v in message.headers)
    body = message.body
    if not body:
        if not message.complete:
            lines.append("    (incomplete: the stream ended inside the message)")
        return lines
    text = _body_text(message)
    note = f"{len(body)} bytes, {message.framing}"
    if not message.complete:
        note += ", incomplete"
    if text is None:
        lines.append(f"    (body: {note}, not text; sha256 {message.body_sha256})")
        return lines
    shown = text[:BODY_CHARS].split("\n")[:BODY_LINES]
    shown_text = "\n".join(shown)
    if len(shown) > 1 and shown[-1] == "":
        shown.pop()  # the final newline ends the last line; no empty line after it
    lines.append("")
    lines.extend(f"    {_safe(line.rstrip(chr(13)))}" for line in shown)
    rest = len(text) - len(shown_text)
    if rest > 0:
        lines.append(f"    … ({rest} more characters not shown; body: {note})")
    else:
        lines.append(f"    (body: {note})")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def decrypt_lines(c) -> list[str]:
    """The ``decrypt`` lines for one connection: the ``show`` lines, keys, data and HTTP."""
    lines = connection_lines(c)
    if c.tls is not None:
        keys = c.keys
        if keys is None:
            lines.append("  keys    none given (--keylog, or --key for RSA key exchange)")
        elif keys.source:
            lines.append(f"  keys    {keys.source}")
        else:
            lines.append("  keys    not found (see the warnings)")
        for direction in Direction:
            app = c.application_data.get(direction)
            if app is None:
                text = "not decrypted"
            else:
                text = (f"{_plural(app.records, 'application data record')}, "
                        f"{_plural(app.length, 'byte')}")
            lines.append(f"  {direction.sender:<6}  {text}")
    conversation = c.http
    if conversation is not None:
        if conversation.protocol == "HTTP/2":
            lines.append("  HTTP/2 is not decoded")
        for exchange in conversation.exchanges:
            lines.append("")
            if exchange.request is None:
                lines.append("  → (request not decrypted)")
            else:
                lines.extend(_message_lines(exchange.request, "→"))
            if exchange.response is None:
                unread = c.tls is not None and c.application_data.get(Direction.SERVER_TO_CLIENT) is None
                lines.append("  ← (response not decrypted)" if unread else "  ← (no response in the capture)")
            else:
                lines.extend(_message_lines(exchange.response, "←"))
    return lines


def write_decrypt(run, out: IO[str]) -> None:
    """Write every connection of *run* with what decrypting it gave."""
    _write_each(run, out, decrypt_lines)


# -- verify ---------------------------------------------------------------------------

_MARKS = {"passed": "✓", "failed": "✗", "not possible": "–"}


def check_lines(c) -> list[str]:
    """The ``verify`` lines for one connection: a header, then a line per check."""
    conn = c.tcp
    head = f"#{c.index}  {endpoint(conn.client)} → {endpoint(conn.server)}"
    if c.tls is None:
        return [head, "  (not TLS: nothing to verify)"]
    lines = [head, _tls_line(c.tls)]
    width = max((len(k.name) for k in c.checks), default=0)
    for k in c.checks:
        status = str(k.status)
        reason = k.detail if status != "not possible" else f"not possible: {k.detail}"
        lines.append(f"  {_MARKS.get(status, '?')} {k.name:<{width}}  {reason}")
    return lines


def write_verify(run, out: IO[str]) -> None:
    """Write every connection's checks, then a one-line tally."""
    tally = {"passed": 0, "failed": 0, "not possible": 0}

    def lines(c) -> list[str]:
        for k in c.checks:
            tally[str(k.status)] = tally.get(str(k.status), 0) + 1
        return check_lines(c)

    count = _write_each(run, out, lines)
    if count:
        total = sum(tally.values())
        out.write(f"\n{_plural(total, 'check')}: {tally['passed']} passed, {tally['failed']} failed, "
                  f"{tally['not possible']} not possible\n")


def _write_each(run, out: IO[str], make) -> int:
    count = 0
    for c in run:
        if count:
            out.write("\n")
        out.write("\n".join(make(c)))
        out.write("\n")
        count += 1
    if count == 0:
        out.write(f"{run.capture}: no TCP connections\n")
    return count

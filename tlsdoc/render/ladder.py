"""Ladder (sequence) diagrams of one connection, as SVG and as text.

Consumes a :class:`Ladder`: two endpoints and the :class:`Arrow` s between
them in capture order (frame number, time since the first frame, which way,
a label and an optional detail line), plus :class:`Bracket` s that mark a
span of arrows on the left, e.g. a round trip.  Produces an SVG document
(:func:`svg`) and a plain-text drawing (:func:`text`).

The drawing is a function of its input and nothing else: no random ids, no
dates, coordinates printed with fixed precision, so two builds write the
same bytes.  Arrows are spaced evenly, one row each, rather than placed by
time: frames a few microseconds apart would otherwise overprint each
other.  Times are written in the left column instead.  The captures of this
handbook were recorded at the client, so times are the client's clock and
the arrows' slant only says "this takes a while", not how long.

Colours are fixed in the SVG (client→server blue, server→client orange);
the stylesheet inverts the image in dark mode.

Never imports sphinx or docutils.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from tlsdoc.render.hexdump import flag_names
from tlsdoc.render.jsondoc import endpoint
from tlsdoc.wire import Direction

__all__ = ["Arrow", "Bracket", "Ladder", "svg", "text", "tcp_ladder", "tls_labels", "record_labels",
           "tls_round_trips"]


@dataclass(frozen=True, slots=True)
class Arrow:
    """One frame (or message) on the ladder.

    Attributes:
        frame: the 1-based frame number, as Wireshark shows it.
        time: seconds since the first frame of the capture.
        direction: who sends it.
        label: short text above the arrow (``"SYN"``, ``"ClientHello"``).
        detail: optional smaller text under the arrow (``"seq=0 · MSS 1460"``).
    """

    frame: int
    time: float
    direction: Direction
    label: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Bracket:
    """A span of arrows marked on the left, from arrow *first* to arrow *last* (indices)."""

    first: int
    last: int
    label: str


@dataclass(frozen=True, slots=True)
class Ladder:
    """Everything a ladder diagram shows.

    Attributes:
        client: caption of the left lifeline (``"client 192.0.2.10:50514"``).
        server: caption of the right lifeline.
        arrows: in capture order.
        brackets: spans to mark on the left (round trips).
        title: accessible title of the drawing.
    """

    client: str
    server: str
    arrows: tuple[Arrow, ...]
    brackets: tuple[Bracket, ...] = ()
    title: str = "Ladder diagram"

    def __post_init__(self) -> None:
        for bracket in self.brackets:
            if not 0 <= bracket.first <= bracket.last < len(self.arrows):
                raise ValueError(
                    f"bracket {bracket.label!r} spans arrows {bracket.first}–{bracket.last}, "
                    f"but there are {len(self.arrows)}"
                )


# Geometry (SVG user units = CSS pixels at 100 %).
_FONT = 13.0
_SMALL = 11.0
_CHAR = 0.6  # average glyph width of a sans-serif font, in em
_BOLD = 0.72  # the same for bold text (arrow labels)
_TOP = 18.0
_HEAD = 44.0  # height of the endpoint boxes
_ROW = 54.0  # vertical space per arrow
_DROP = 16.0  # how far an arrow descends while crossing
_TIME_X = 8.0  # left edge of the frame/time column
_BRACKET_W = 96.0  # width of the bracket column
_MIN_SPAN = 300.0  # minimum distance between the lifelines
_PAD = 14.0
_CLIENT_COLOUR = "#1f5fa8"
_SERVER_COLOUR = "#b35300"
_INK = "#1b1b1b"
_MUTED = "#5a5a5a"


def _n(value: float) -> str:
    """A coordinate with at most one decimal, no trailing zeros: deterministic and short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _width(text: str, size: float) -> float:
    return len(text) * size * _CHAR


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


_COMPACT_SPAN = 200.0  # minimum distance between the lifelines of a compact ladder
_LINE = _FONT + 3  # line height of a label split over several lines
_COMPACT_LINE = 16  # a compact ladder splits labels longer than this, at commas


def _label_lines(label: str, compact: bool) -> list[str]:
    """A compact ladder puts each message of a long label on a line of its own.

    >>> _label_lines("SYN, ACK", True), _label_lines("ServerHello, Certificate", True)
    (['SYN, ACK'], ['ServerHello,', 'Certificate'])
    """
    if not compact or len(label) <= _COMPACT_LINE:
        return [label]
    parts = label.split(", ")
    return [part + ("," if number < len(parts) - 1 else "") for number, part in enumerate(parts)]


def svg(ladder: Ladder, *, compact: bool = False) -> str:
    """The ladder as a standalone SVG document (UTF-8 text, no XML declaration).

    *compact* makes a narrower drawing, for two ladders side by side: each
    message of a label on a line of its own, no detail lines, lifelines
    closer together (the endpoint captions should then be short).

    >>> from tlsdoc.wire import Direction
    >>> drawing = svg(Ladder("client", "server", (Arrow(1, 0.0, Direction.CLIENT_TO_SERVER, "SYN"),)))
    >>> drawing.startswith("<svg") and "SYN" in drawing
    True
    """
    time_w = max(
        [_width(f"#{a.frame}", _SMALL) + _width(_ms(a.time), _SMALL) + 10 for a in ladder.arrows]
        or [0.0]
    )
    bracket_w = _BRACKET_W if ladder.brackets else 0.0
    if ladder.brackets:
        bracket_w = max(
            bracket_w,
            max(_width(part, _SMALL) for b in ladder.brackets for part in _lines(b.label)) + 24,
        )
    labels = [_label_lines(a.label, compact) for a in ladder.arrows]
    details = ["" if compact else a.detail for a in ladder.arrows]
    label_w = max(
        [
            max(max(_width(line, _FONT) for line in lines) * _BOLD / _CHAR,
                _width(detail, _SMALL)) + 2 * _PAD
            for lines, detail in zip(labels, details)
        ]
        + [_width(ladder.client, _FONT) + 2 * _PAD, _width(ladder.server, _FONT) + 2 * _PAD]
    )
    head_w = max(_width(ladder.client, _FONT), _width(ladder.server, _FONT)) + 2 * _PAD
    client_x = _TIME_X + time_w + bracket_w + head_w / 2
    span = max(_COMPACT_SPAN if compact else _MIN_SPAN, label_w)
    server_x = client_x + span
    width = server_x + head_w / 2 + _TIME_X
    lifeline_top = _TOP + _HEAD
    # A row per arrow, taller when its label takes more than one line.
    tops = []
    top = lifeline_top + 24 + (len(labels[0]) - 1) * _LINE if labels else 0.0
    for index, lines in enumerate(labels):
        if index:
            top += _ROW + (len(lines) - 1) * _LINE
        tops.append(top)
    bottom = (tops[-1] + _ROW) if tops else lifeline_top + 24
    height = bottom + 12

    out: list[str] = []
    add = out.append
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{_attr(ladder.title)}" '
        f'font-family="DejaVu Sans, Verdana, Helvetica, Arial, sans-serif" font-size="{_n(_FONT)}">'
    )
    add(f"<title>{escape(ladder.title)}</title>")
    add(
        "<defs>"
        + "".join(
            f'<marker id="head-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            f'markerHeight="8" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
            f'fill="{colour}"/></marker>'
            for name, colour in (("c", _CLIENT_COLOUR), ("s", _SERVER_COLOUR))
        )
        + "</defs>"
    )
    add(f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>')
    # Endpoint boxes and lifelines.
    for x, caption in ((client_x, ladder.client), (server_x, ladder.server)):
        add(
            f'<rect x="{_n(x - head_w / 2)}" y="{_n(_TOP)}" width="{_n(head_w)}" '
            f'height="{_n(_HEAD - 12)}" rx="4" fill="#f2f2f2" stroke="{_INK}"/>'
        )
        add(
            f'<text x="{_n(x)}" y="{_n(_TOP + (_HEAD - 12) / 2 + _FONT / 3)}" '
            f'text-anchor="middle" fill="{_INK}">{escape(caption)}</text>'
        )
        add(
            f'<line x1="{_n(x)}" y1="{_n(lifeline_top - 12)}" x2="{_n(x)}" y2="{_n(bottom)}" '
            f'stroke="{_MUTED}" stroke-width="1.5"/>'
        )
    # Arrows, one row each.
    rows: list[tuple[float, float]] = []  # (y at the client end, y at the server end)
    for index, arrow in enumerate(ladder.arrows):
        top = tops[index]
        outbound = arrow.direction is Direction.CLIENT_TO_SERVER
        y_client, y_server = (top, top + _DROP) if outbound else (top + _DROP, top)
        rows.append((y_client, y_server))
        x1, y1, x2, y2 = (
            (client_x, y_client, server_x, y_server)
            if outbound
            else (server_x, y_server, client_x, y_client)
        )
        colour = _CLIENT_COLOUR if outbound else _SERVER_COLOUR
        marker = "c" if outbound else "s"
        add(f'<g class="arrow" data-frame="{arrow.frame}">')
        add(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{colour}" '
            f'stroke-width="2" marker-end="url(#head-{marker})"/>'
        )
        middle_x = (client_x + server_x) / 2
        middle_y = (y1 + y2) / 2
        lines = labels[index]
        for number, line in enumerate(lines):
            y = middle_y - 6 - (len(lines) - 1 - number) * _LINE
            add(
                f'<text x="{_n(middle_x)}" y="{_n(y)}" text-anchor="middle" '
                f'fill="{colour}" font-weight="bold">{escape(line)}</text>'
            )
        if details[index]:
            add(
                f'<text x="{_n(middle_x)}" y="{_n(middle_y + _SMALL + 4)}" text-anchor="middle" '
                f'fill="{_MUTED}" font-size="{_n(_SMALL)}">{escape(details[index])}</text>'
            )
        # Frame number and capture time, level with the client end (the capture point).
        add(
            f'<text x="{_n(_TIME_X)}" y="{_n(y_client + _SMALL / 3)}" fill="{_INK}" '
            f'font-size="{_n(_SMALL)}"><tspan font-weight="bold">#{arrow.frame}</tspan> '
            f'{escape(_ms(arrow.time))}</text>'
        )
        add("</g>")
    # Brackets, between the time column and the client lifeline.
    for bracket in ladder.brackets:
        x = client_x - head_w / 2 - 6
        y1 = rows[bracket.first][0]
        y2 = rows[bracket.last][0]
        add(
            f'<path d="M{_n(x + 6)} {_n(y1)} H{_n(x)} V{_n(y2)} H{_n(x + 6)}" fill="none" '
            f'stroke="{_INK}" stroke-width="1.2"/>'
        )
        lines = _lines(bracket.label)
        middle = (y1 + y2) / 2 - (len(lines) - 1) * (_SMALL + 2) / 2
        for number, line in enumerate(lines):
            add(
                f'<text x="{_n(x - 5)}" y="{_n(middle + number * (_SMALL + 2) + _SMALL / 3)}" '
                f'text-anchor="end" fill="{_INK}" font-size="{_n(_SMALL)}">{escape(line)}</text>'
            )
    add("</svg>")
    return "\n".join(out) + "\n"


def _lines(label: str) -> list[str]:
    return label.split("\n")


def text(ladder: Ladder, *, width: int = 40) -> str:
    """The ladder as plain text, one line per arrow (for alt text and terminals).

    >>> from tlsdoc.wire import Direction as D
    >>> print(text(Ladder("client", "server", (
    ...     Arrow(1, 0.0, D.CLIENT_TO_SERVER, "SYN"),
    ...     Arrow(2, 0.0503, D.SERVER_TO_CLIENT, "SYN-ACK"))), width=20))
    #1  0.000 ms   client ─────── SYN ───────▶ server
    #2  50.300 ms  client ◀───── SYN-ACK ───── server
    """
    stamps = [f"#{a.frame}  {_ms(a.time)}" for a in ladder.arrows]
    pad = max((len(s) for s in stamps), default=0)
    lines = []
    for stamp, arrow in zip(stamps, ladder.arrows):
        body = f" {arrow.label} "
        room = max(width - len(body) - 1, 2)
        left, right = room // 2, room - room // 2
        if arrow.direction is Direction.CLIENT_TO_SERVER:
            line = "─" * left + body + "─" * right + "▶"
        else:
            line = "◀" + "─" * left + body + "─" * right
        lines.append(f"{stamp:<{pad}}  {ladder.client} {line} {ladder.server}")
    return "\n".join(lines)


_MOD = 1 << 32


def tcp_ladder(connection, segments, *, frames=None, labels=None, title=None) -> Ladder:
    """A ladder of a TCP connection, one arrow per captured segment.

    Args:
        connection: a :class:`tlsdoc.tcp.Connection` (endpoints, ISNs, first time).
        segments: :class:`tlsdoc.capture.Segment` values of the capture; those
            not in ``connection.frames`` are skipped.
        frames: if given, only these frame numbers are drawn.
        labels: optional ``{frame: label}`` replacing the TCP flags as an
            arrow's label (e.g. the TLS messages the frame carries); the
            flags then move to the detail line.
        title: accessible title; defaults to the connection's endpoints.

    Each arrow is labelled with the TCP flags (as Wireshark's Info column),
    the detail line gives the relative sequence and acknowledgement numbers
    and the payload length.  When both the SYN and the SYN-ACK are drawn, a
    bracket marks the round trip between them.
    """
    wanted = set(connection.frames if frames is None else frames) & set(connection.frames)
    labels = labels or {}
    isn = {
        Direction.CLIENT_TO_SERVER: connection.client_stream.isn,
        Direction.SERVER_TO_CLIENT: connection.server_stream.isn,
    }
    start = connection.first_time_ns
    arrows: list[Arrow] = []
    for segment in segments:
        if segment.frame not in wanted:
            continue
        outbound = (segment.src, segment.sport) == tuple(connection.client)
        direction = Direction.CLIENT_TO_SERVER if outbound else Direction.SERVER_TO_CLIENT
        flags = flag_names(segment.flags)
        numbers = []
        own, peer = isn[direction], isn[direction.reverse]
        numbers.append(f"seq={(segment.seq - own) % _MOD}" if own is not None else f"seq={segment.seq}")
        if segment.flags & 0x10:
            numbers.append(
                f"ack={(segment.ack - peer) % _MOD}" if peer is not None else f"ack={segment.ack}"
            )
        numbers.append(f"len={segment.payload_length}")
        label = labels.get(segment.frame)
        detail = " ".join(numbers)
        if label is None:
            label = flags
        else:
            detail = f"{flags} · {detail}"
        time = 0.0 if start is None or segment.time_ns is None else (segment.time_ns - start) / 1e9
        arrows.append(Arrow(segment.frame, time, direction, label, detail))
    brackets = []
    handshake = connection.handshake
    if handshake.syn is not None and handshake.syn_ack is not None:
        index = {a.frame: i for i, a in enumerate(arrows)}
        first, last = index.get(handshake.syn.frame), index.get(handshake.syn_ack.frame)
        if first is not None and last is not None and handshake.syn_to_syn_ack_ns is not None:
            brackets.append(
                Bracket(first, last, f"1 round trip\n{handshake.syn_to_syn_ack_ns / 1e6:.1f} ms")
            )
    client = f"client {endpoint(connection.client)}"
    server = f"server {endpoint(connection.server)}"
    return Ladder(
        client,
        server,
        tuple(arrows),
        tuple(brackets),
        title or f"Ladder diagram of {client} ⇄ {server}",
    )


def tls_labels(tls, *, limit: int = 36) -> dict[int, str]:
    """``{frame: label}`` naming the TLS handshake messages each frame carries.

    *tls* is a :class:`tlsdoc.handshake.TlsHandshake` (anything with
    ``client_messages`` and ``server_messages`` whose entries have a
    ``name`` and ``frames``).  A message spread over several frames is named
    on each of them; repeats within a frame are counted (``Encrypted ×3``);
    labels longer than *limit* characters are cut with an ellipsis.

    >>> from types import SimpleNamespace as NS
    >>> tls_labels(NS(client_messages=(NS(name="ClientHello", frames=(4,)),),
    ...               server_messages=(NS(name="ServerHello", frames=(6,)),
    ...                                NS(name="Encrypted", frames=(6,)),
    ...                                NS(name="Encrypted", frames=(6, 8)))))
    {4: 'ClientHello', 6: 'ServerHello, Encrypted ×2', 8: 'Encrypted'}
    """
    names: dict[int, list[str]] = {}
    for entry in (*tls.client_messages, *tls.server_messages):
        for frame in entry.frames:
            names.setdefault(frame, []).append(entry.name)
    labels = {}
    for frame in sorted(names):
        counted: dict[str, int] = {}
        for name in names[frame]:
            counted[name] = counted.get(name, 0) + 1
        label = ", ".join(n if c == 1 else f"{n} ×{c}" for n, c in counted.items())
        labels[frame] = label if len(label) <= limit else label[: limit - 1] + "…"
    return labels


_RECORD_NAMES = {20: "ChangeCipherSpec", 21: "Alert", 22: "Handshake", 23: "Application data"}


def record_labels(records, tls, *, limit: int = 48) -> dict[int, str]:
    """``{frame: label}`` naming what each frame carries, record by record.

    Like :func:`tls_labels`, but every TLS record counts: a record of
    handshake messages is named by its messages (decrypted ones included),
    any other by its type (``ChangeCipherSpec``, ``Alert``, ``Application
    data``), so that the ladder shows the whole conversation.

    Args:
        records: ``{Direction: RecordStream}`` (anything with ``records``
            whose items have ``index``, ``content_type`` and ``span.frames``).
        tls: the handshake view (``messages(direction)`` → entries with
            ``name`` and ``records``).
        limit: longer labels are cut with an ellipsis.
    """
    names: dict[int, list[str]] = {}
    for direction, stream in records.items():
        by_record: dict[int, list[str]] = {}
        for entry in tls.messages(direction):
            for index in entry.records:
                by_record.setdefault(index, []).append(entry.name)
        for record in stream.records:
            kind = int(record.content_type)
            parts = by_record.get(record.index) or [_RECORD_NAMES.get(kind, f"type {kind}")]
            for frame in record.span.frames:
                for part in parts:
                    listed = names.setdefault(frame, [])
                    if not listed or listed[-1] != part or part in ("Application data", "Alert"):
                        listed.append(part)
    labels = {}
    for frame in sorted(names):
        counted: dict[str, int] = {}
        for name in names[frame]:
            counted[name] = counted.get(name, 0) + 1
        label = ", ".join(n if c == 1 else f"{n} ×{c}" for n, c in counted.items())
        labels[frame] = label if len(label) <= limit else label[: limit - 1] + "…"
    return labels


def tls_round_trips(drawing: Ladder, tls) -> tuple[Bracket, ...]:
    """Brackets for the TLS handshake's round trips, to add to a ladder.

    A round trip starts with a client flight (a frame carrying client
    handshake messages after the server last spoke, or the first one) and
    ends with the last frame of the server's answering flight, i.e. the
    frames before the client speaks again.  Its label gives the time from
    the client's frame leaving to the first answering frame arriving (the
    capture is the client's view).  Only flights drawn on *drawing* count.

    *tls* is a :class:`tlsdoc.handshake.TlsHandshake` (entries with
    ``frames``); ChangeCipherSpec
    is not needed: the Finished after it travels in the same frame.

    >>> from types import SimpleNamespace as NS
    >>> from tlsdoc.wire import Direction as D
    >>> lad = Ladder("c", "s", (Arrow(4, 0.05, D.CLIENT_TO_SERVER, "ClientHello"),
    ...                         Arrow(6, 0.10, D.SERVER_TO_CLIENT, "ServerHello"),
    ...                         Arrow(8, 0.101, D.SERVER_TO_CLIENT, "ServerHelloDone")))
    >>> tls_round_trips(lad, NS(client_messages=(NS(frames=(4,)),),
    ...                         server_messages=(NS(frames=(6,)), NS(frames=(8,)))))
    (Bracket(first=0, last=2, label='TLS round trip 1\\n50.0 ms'),)
    """
    index = {arrow.frame: number for number, arrow in enumerate(drawing.arrows)}
    sender: dict[int, Direction] = {}
    for entry in tls.client_messages:
        for frame in entry.frames:
            sender.setdefault(frame, Direction.CLIENT_TO_SERVER)
    for entry in tls.server_messages:
        for frame in entry.frames:
            sender.setdefault(frame, Direction.SERVER_TO_CLIENT)
    flights: list[tuple[Direction, list[int]]] = []
    for frame in sorted(f for f in sender if f in index):
        if flights and flights[-1][0] is sender[frame]:
            flights[-1][1].append(frame)
        else:
            flights.append((sender[frame], [frame]))
    brackets = []
    for number in range(len(flights) - 1):
        (who, frames), (other, answer) = flights[number], flights[number + 1]
        if who is not Direction.CLIENT_TO_SERVER or other is not Direction.SERVER_TO_CLIENT:
            continue
        start, reply = drawing.arrows[index[frames[-1]]], drawing.arrows[index[answer[0]]]
        label = f"TLS round trip {len(brackets) + 1}\n{(reply.time - start.time) * 1000:.1f} ms"
        brackets.append(Bracket(index[frames[0]], index[answer[-1]], label))
    return tuple(brackets)

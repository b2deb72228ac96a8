"""Tables: analysis values in, rows of strings out.

Consumes parsed values (a TCP :class:`~tlsdoc.tcp.Handshake`, TCP options,
the captures' :class:`~tlsdoc.manifest.Manifest`, key-schedule
:class:`~tlsdoc.keyschedule.Step` traces, annotated-bytes
:class:`~tlsdoc.render.hexdump.Piece` s) and produces a :class:`Table`: a
header row and body rows of plain strings.  The Sphinx extension turns a
table into a docutils table (HTML and PDF); :meth:`Table.text` lays it out
in monospace for terminals and tests.

Every builder reads its arguments by attribute only, so tests can pass
hand-made values.  Wording of the "meaning" columns lives here, next to
the numbers it explains; the numbers always come from the values given.

Never imports sphinx or docutils.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from tlsdoc.capture import TcpFlags, TcpOption
from tlsdoc.render.hexdump import (
    Piece,
    flag_names,
    option_length,
    option_meaning,
    option_name,
    preview,
)

__all__ = [
    "Table",
    "handshake_table",
    "options_table",
    "captures_table",
    "steps_table",
    "pieces_table",
    "records_table",
]


@dataclass(frozen=True, slots=True)
class Table:
    """A header row and body rows, all strings; ``widths`` are relative column widths."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(self.columns)}")
        if self.widths and len(self.widths) != len(self.columns):
            raise ValueError("one width per column")

    def text(self) -> str:
        """The table in monospace: columns padded, a rule under the header.

        >>> print(Table(("a", "bb"), (("1", "2"), ("333", "4"))).text())
        a    bb
        ───  ──
        1    2
        333  4
        """
        sizes = [
            max(len(cell) for cell in column)
            for column in zip(self.columns, *self.rows)
        ]
        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, sizes)).rstrip()
        out = [line(self.columns), line(["─" * w for w in sizes])]
        out.extend(line(row) for row in self.rows)
        return "\n".join(out)


def options_table(options: Iterable[TcpOption]) -> Table:
    """One row per TCP option: kind, length in bytes, value, meaning.

    >>> from tlsdoc.capture import TcpOptionKind
    >>> options_table([TcpOption(TcpOptionKind.WINDOW_SCALE, 7)]).rows[0][:3]
    ('WINDOW_SCALE', '3', '3')
    """
    rows = tuple(
        (option_name(o), str(int(o.kind)), str(option_length(o)), option_meaning(o))
        for o in options
    )
    return Table(("option", "kind", "length", "meaning"), rows, (2, 1, 1, 6))


def _packet_options(packet) -> str:
    parts = []
    if packet.mss is not None:
        parts.append(f"MSS {packet.mss}")
    if packet.sack_permitted:
        parts.append("SACK permitted")
    if packet.timestamps is not None:
        parts.append("timestamps")
    if packet.window_scale is not None:
        parts.append(f"window scale {packet.window_scale}")
    return ", ".join(parts) or "—"


def _number(raw: int | None, relative: int | None) -> str:
    if raw is None:
        return "—"
    return f"{relative} ({raw})" if relative is not None else str(raw)


def handshake_table(handshake) -> Table:
    """The three packets of a TCP handshake, one row each.

    Sequence and acknowledgement numbers are shown relative (as Wireshark
    shows them by default) with the raw 32-bit value in brackets; times are
    milliseconds after the SYN.
    """
    rows = []
    start = handshake.syn.time_ns if handshake.syn is not None else None
    for name, packet in (("SYN", handshake.syn), ("SYN-ACK", handshake.syn_ack), ("ACK", handshake.ack)):
        if packet is None:
            rows.append((name, "not captured", "", "", "", "", "", ""))
            continue
        if start is not None and packet.time_ns is not None:
            time = f"{(packet.time_ns - start) / 1e6:.3f}"
        else:
            time = "—"
        ack = (
            _number(packet.ack, packet.relative_ack)
            if packet.flags & TcpFlags.ACK
            else "— (no ACK flag)"
        )
        rows.append(
            (
                name,
                str(packet.frame),
                time,
                flag_names(packet.flags),
                _number(packet.seq, packet.relative_seq),
                ack,
                str(packet.window),
                _packet_options(packet),
            )
        )
    return Table(
        ("packet", "frame", "ms after SYN", "flags", "seq (raw)", "ack (raw)", "window", "options"),
        tuple(rows),
        (2, 1, 2, 2, 3, 3, 1, 4),
    )


def captures_table(manifest) -> Table:
    """The bundled captures: file, what it demonstrates, frames, key files."""
    rows = []
    for entry in manifest.captures():
        claims = entry.claims
        keys = [k for k in (claims.keylog, claims.rsa_key) if k]
        rows.append(
            (
                entry.path,
                entry.description,
                str(claims.frames),
                ", ".join(keys) or "—",
            )
        )
    return Table(("capture", "what it shows", "frames", "decrypts with"), tuple(rows), (3, 8, 1, 3))


def _input_value(value) -> str:
    if isinstance(value, bytes):
        if value and all(0x20 <= b < 0x7F for b in value):
            return f'"{value.decode("ascii")}"'
        return preview(value) if value else "(empty)"
    return str(value)


def steps_table(steps) -> Table:
    """A derivation chain, one step per row: ``output = op(inputs)``.

    Byte inputs are shortened in the middle; labels (printable ASCII) are
    shown as text, the way the RFCs write them.
    """
    rows = tuple(
        (
            step.name,
            step.op,
            "\n".join(f"{name} = {_input_value(value)}" for name, value in step.inputs),
            preview(step.output),
        )
        for step in steps
    )
    return Table(("derived", "operation", "inputs", "output"), rows, (3, 3, 6, 4))


def pieces_table(pieces: Iterable[Piece]) -> Table:
    """The legend of an annotated dump: offsets, bytes, field and meaning of each labelled piece."""
    rows = tuple(
        (
            f"{p.start}" if p.length == 1 else f"{p.start}–{p.end - 1}",
            p.hex,
            p.label or "",
            p.meaning,
        )
        for p in pieces
        if p.label is not None
    )
    return Table(("bytes", "hex", "field", "meaning"), rows, (1, 3, 3, 5))


def _label(value) -> str:
    label = getattr(value, "label", None) or getattr(value, "name", None)
    return label if label else str(int(value))


def records_table(records) -> Table:
    """One direction's TLS records, one row each: index, frames, type, version, length.

    *records* are :class:`tlsdoc.records.Record` values (anything with
    ``index``, ``content_type``, ``legacy_version``, ``length`` and
    ``span.frames``).
    """
    rows = tuple(
        (
            str(r.index),
            ", ".join(str(f) for f in r.span.frames) or "—",
            _label(r.content_type),
            _label(r.legacy_version),
            str(r.length),
        )
        for r in records
    )
    return Table(("record", "frames", "content type", "version", "length"), rows, (1, 2, 3, 2, 1))

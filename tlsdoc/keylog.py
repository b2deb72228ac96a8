"""NSS key log files (``SSLKEYLOGFILE``), parsed into a lookup table.

Consumes the bytes of a key log as written by Firefox/Chrome (NSS, BoringSSL),
curl, OpenSSL (``SSL_CTX_set_keylog_callback``) and Python's ``ssl``
(``SSLContext.keylog_filename``); produces a frozen :class:`KeyLog` that
answers "which secret, of which kind, for this connection?".  One key log
serves any number of connections: lines are keyed by the ClientHello random
(or, for the ``RSA`` label, by the first 8 bytes of the encrypted premaster).

The format (NSS's "Key Log Format" page) is one entry per line::

    <label> <SP> <client_random or key id, hex> <SP> <secret, hex>

with ``#`` comment lines and blank lines allowed.  Labels this module knows:

========================================  ==================================
``CLIENT_RANDOM``                         TLS 1.2 master secret (48 bytes)
``RSA``                                   first 8 bytes of the encrypted
                                          premaster → premaster (48 bytes)
``CLIENT_EARLY_TRAFFIC_SECRET``           TLS 1.3, RFC 8446 §7.1
``CLIENT_HANDSHAKE_TRAFFIC_SECRET``       TLS 1.3
``SERVER_HANDSHAKE_TRAFFIC_SECRET``       TLS 1.3
``CLIENT_TRAFFIC_SECRET_0``               TLS 1.3
``SERVER_TRAFFIC_SECRET_0``               TLS 1.3
``EARLY_EXPORTER_SECRET``                 TLS 1.3
``EXPORTER_SECRET``                       TLS 1.3
========================================  ==================================

Other labels (ECH, future ones) are kept as they are, unchecked but for
being hex.  Written by hand because no library parses this format; it is a
line-oriented text format of three fields.

Must never import cryptography, dpkt or sphinx; never opens files (the
caller hands it bytes).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tlsdoc.errors import KeyMaterialError

__all__ = [
    "CLIENT_RANDOM",
    "RSA",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EARLY_EXPORTER_SECRET",
    "EXPORTER_SECRET",
    "TLS13_LABELS",
    "KeyLogEntry",
    "KeyLog",
    "parse_keylog",
]

CLIENT_RANDOM = "CLIENT_RANDOM"
RSA = "RSA"
CLIENT_EARLY_TRAFFIC_SECRET = "CLIENT_EARLY_TRAFFIC_SECRET"
CLIENT_HANDSHAKE_TRAFFIC_SECRET = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE_TRAFFIC_SECRET = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_TRAFFIC_SECRET_0 = "CLIENT_TRAFFIC_SECRET_0"
SERVER_TRAFFIC_SECRET_0 = "SERVER_TRAFFIC_SECRET_0"
EARLY_EXPORTER_SECRET = "EARLY_EXPORTER_SECRET"
EXPORTER_SECRET = "EXPORTER_SECRET"

#: TLS 1.3 labels: their secret is Hash.length bytes (32 or 48).
TLS13_LABELS = frozenset(
    {
        CLIENT_EARLY_TRAFFIC_SECRET,
        CLIENT_HANDSHAKE_TRAFFIC_SECRET,
        SERVER_HANDSHAKE_TRAFFIC_SECRET,
        CLIENT_TRAFFIC_SECRET_0,
        SERVER_TRAFFIC_SECRET_0,
        EARLY_EXPORTER_SECRET,
        EXPORTER_SECRET,
    }
)

# label -> (allowed key lengths, allowed secret lengths), in bytes
_SHAPES: dict[str, tuple[frozenset[int], frozenset[int]]] = {
    CLIENT_RANDOM: (frozenset({32}), frozenset({48})),
    RSA: (frozenset({8}), frozenset({48})),
    **{label: (frozenset({32}), frozenset({32, 48})) for label in TLS13_LABELS},
}

_LABEL = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyLogEntry:
    """One line of a key log.

    Attributes:
        label: e.g. ``"CLIENT_RANDOM"``.
        key: what the line is looked up by: the 32-byte ClientHello.random,
            or for ``RSA`` the first 8 bytes of the encrypted premaster.
        secret: the secret the line gives.
        line: 1-based line number in the key log.
    """

    label: str
    key: bytes
    secret: bytes
    line: int


class _Lines:
    """The parsed lines, compactly: what a big key log costs in memory.

    A key log grows with its capture (five lines per TLS 1.3 connection);
    one :class:`KeyLogEntry` per line with a ``(label, key)`` index cost
    about 540 bytes a line.  Here each key (client random, or RSA prefix)
    maps to one ``bytes`` holding its lines one after the other, each as
    label number (u16), line number (u32), secret length (u8), secret:
    about 70 bytes a line.  Entries are made when asked for.
    """

    __slots__ = ("by_key", "labels", "label_ids", "count")

    def __init__(self) -> None:
        self.by_key: dict[bytes, bytes] = {}
        self.labels: list[str] = []
        self.label_ids: dict[str, int] = {}
        self.count = 0

    def add(self, label: str, key: bytes, secret: bytes, line: int) -> None:
        label_id = self.label_ids.get(label)
        if label_id is None:
            label_id = self.label_ids[label] = len(self.labels)
            self.labels.append(label)
        record = _RECORD_HEAD.pack(label_id, line, len(secret)) + secret
        self.by_key[key] = self.by_key.get(key, b"") + record
        self.count += 1

    def first(self, label: str, key: bytes) -> KeyLogEntry | None:
        """The first line giving (*label*, *key*), or None."""
        label_id = self.label_ids.get(label)
        packed = self.by_key.get(key)
        if label_id is None or packed is None:
            return None
        pos = 0
        while pos < len(packed):  # (a loop, not _records(): this runs per line parsed)
            lid, line, length = _RECORD_HEAD.unpack_from(packed, pos)
            pos += _RECORD_HEAD.size
            if lid == label_id:
                return KeyLogEntry(label=label, key=key, secret=packed[pos : pos + length], line=line)
            pos += length
        return None

    def for_key(self, key: bytes) -> list[KeyLogEntry]:
        labels = self.labels
        return [KeyLogEntry(label=labels[lid], key=key, secret=secret, line=line)
                for lid, line, secret in _records(self.by_key.get(key, b""))]

    def in_file_order(self) -> tuple[KeyLogEntry, ...]:
        entries = [e for key in self.by_key for e in self.for_key(key)]
        entries.sort(key=lambda e: e.line)
        return tuple(entries)


_RECORD_HEAD = struct.Struct(">HIB")  # label number, line number, secret length


def _records(packed: bytes):
    """(label number, line, secret) for each line packed by _Lines.add, in file order."""
    pos = 0
    while pos < len(packed):
        label_id, line, length = _RECORD_HEAD.unpack_from(packed, pos)
        pos += _RECORD_HEAD.size
        yield label_id, line, packed[pos : pos + length]
        pos += length


class _Entries(Sequence):
    """KeyLog.entries: the lines in file order, made into KeyLogEntry values when read.

    ``len()`` and truth need no entries at all; iterating or indexing makes
    them all once (a big key log is usually only looked up by key).
    """

    __slots__ = ("_lines", "_made")

    def __init__(self, lines: _Lines) -> None:
        self._lines = lines
        self._made: tuple[KeyLogEntry, ...] | None = None

    def _all(self) -> tuple[KeyLogEntry, ...]:
        if self._made is None:
            self._made = self._lines.in_file_order()
        return self._made

    def __len__(self) -> int:
        return self._lines.count

    def __getitem__(self, index):
        return self._all()[index]

    def __iter__(self):
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:  # as the tuple of entries it stands for
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<{len(self)} key log entries>"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyLog:
    """Every entry of a key log, indexed by (label, key).

    Build it with :func:`parse_keylog`.  When two lines give the same
    (label, key) the first one wins; a *different* secret on a later line
    is reported in :attr:`warnings`.

    Attributes:
        source: name used in messages (usually the file name).
        entries: the entries in file order (duplicates included), a
            sequence of :class:`KeyLogEntry` made on first use (the lines
            are kept packed; see ``_Lines``).
        warnings: located one-line messages about lines that were skipped
            (lenient mode) or conflicted.
    """

    source: str
    entries: Sequence[KeyLogEntry]
    warnings: tuple[str, ...] = ()
    _lines: _Lines = field(
        init=False, repr=False, compare=False, hash=False, default=None  # type: ignore[assignment]
    )

    def __post_init__(self) -> None:
        if isinstance(self.entries, _Entries):
            lines = self.entries._lines
        else:  # made from entries directly: pack them
            lines = _Lines()
            for entry in self.entries:
                lines.add(entry.label, entry.key, entry.secret, entry.line)
            object.__setattr__(self, "entries", _Entries(lines))
        object.__setattr__(self, "_lines", lines)

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, label: str, key: bytes) -> KeyLogEntry | None:
        """The entry for (*label*, *key*), with its line number, or None."""
        return self._lines.first(label, bytes(key))

    def secret(self, label: str, client_random: bytes) -> bytes | None:
        """The secret logged under *label* for the connection *client_random*.

        Args:
            label: e.g. :data:`CLIENT_RANDOM` (TLS 1.2 master secret) or
                :data:`SERVER_HANDSHAKE_TRAFFIC_SECRET`.
            client_random: the 32-byte ClientHello.random (RFC 8446 §4.1.2).
        """
        entry = self._lines.first(label, bytes(client_random))
        return entry.secret if entry else None

    def rsa_premaster(self, encrypted_premaster: bytes) -> bytes | None:
        """The premaster secret logged for an RSA ClientKeyExchange.

        Args:
            encrypted_premaster: the EncryptedPreMasterSecret (RFC 5246
                §7.4.7.1) as sent, or just its first 8 bytes; the key log
                keys ``RSA`` lines by those 8 bytes.
        """
        entry = self._lines.first(RSA, bytes(encrypted_premaster[:8]))
        return entry.secret if entry else None

    def secrets_for(self, client_random: bytes) -> dict[str, bytes]:
        """Every secret logged for one connection: label → secret."""
        out: dict[str, bytes] = {}
        for entry in self._lines.for_key(bytes(client_random)):
            out.setdefault(entry.label, entry.secret)
        return out

    def client_randoms(self) -> tuple[bytes, ...]:
        """The distinct client randoms that have at least one line, in file order."""
        seen: dict[bytes, None] = {}
        for entry in self.entries:
            if entry.label != RSA:
                seen.setdefault(entry.key, None)
        return tuple(seen)


# One well-formed line, the common case, checked in one match (anything else
# goes through _parse_line, which says what is wrong).
# (An odd number of hex digits makes bytes.fromhex raise: that line too.)
_FAST_LINE = re.compile(rb"([A-Z][A-Z0-9_]*)[ \t]+([0-9A-Fa-f]+)[ \t]+([0-9A-Fa-f]+)")


def parse_keylog(data: bytes | Iterable[bytes], *, source: str = "keylog", strict: bool = True) -> KeyLog:
    """Parse an NSS key log (``SSLKEYLOGFILE``).

    Lines end in LF or CRLF; a UTF-8 byte-order mark at the start is
    ignored; ``#`` starts a comment line; blank lines are skipped; fields
    may be separated by any run of spaces or tabs.  Known labels have their
    lengths checked (see the module docstring); unknown labels are kept.

    Args:
        data: the whole key log, or its bytes in consecutive pieces (any
            cut; e.g. a file read block by block, so that a big key log is
            never held whole).
        source: name for messages, e.g. ``"tls13.keylog"``.
        strict: raise on the first malformed line (default); when False,
            skip malformed lines and describe each in :attr:`KeyLog.warnings`.

    Returns:
        The :class:`KeyLog`.

    Raises:
        KeyMaterialError: (strict mode) a malformed line; ``field`` is
            ``"line N"`` and ``offset`` the byte offset where the line starts.
    """
    parser = _Parser(source, strict)
    for piece in ((data,) if isinstance(data, (bytes, bytearray, memoryview)) else data):
        parser.feed(bytes(piece))
    return parser.finish()


class _Parser:
    """parse_keylog's state: lines are taken as their newline arrives."""

    def __init__(self, source: str, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.lines = _Lines()
        self.warnings: list[str] = []
        self.pending = b""  # the start of a line whose newline has not come yet
        self.offset = 0  # file offset of pending[0]
        self.number = 0  # lines taken so far

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk if self.pending else chunk
        start = 0
        # Line by line with find() rather than split(): no list of lines is
        # made (for a big key log that list alone held more than the file).
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            self.line(data[start:newline], self.offset + start)
            start = newline + 1
        self.pending = data[start:]
        self.offset += start

    def finish(self) -> KeyLog:
        self.line(self.pending, self.offset)  # the last line (empty after a final newline)
        return KeyLog(source=self.source, entries=_Entries(self.lines), warnings=tuple(self.warnings))

    def line(self, raw: bytes, line_offset: int) -> None:
        self.number += 1
        number = self.number
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark
            raw = raw[3:]
            line_offset += 3
        stripped = raw.rstrip(b"\r").strip(b" \t")
        if not stripped or stripped.startswith(b"#"):
            return
        entry = None
        match = _FAST_LINE.fullmatch(stripped)
        if match is not None:
            label = match[1].decode("ascii")
            try:
                key, secret = bytes.fromhex(match[2].decode("ascii")), bytes.fromhex(match[3].decode("ascii"))
            except ValueError:
                pass  # odd length
            else:
                shape = _SHAPES.get(label)
                if shape is None or (len(key) in shape[0] and len(secret) in shape[1]):
                    entry = (label, key, secret)
        if entry is None:  # the careful path: it says what is wrong
            try:
                parsed = _parse_line(stripped, number, line_offset, self.source)
            except KeyMaterialError as err:
                if self.strict:
                    raise
                self.warnings.append(str(err))
                return
            entry = (parsed.label, parsed.key, parsed.secret)
        label, key, secret = entry
        previous = self.lines.first(label, key)
        if previous is not None and previous.secret != secret:
            self.warnings.append(
                str(
                    KeyMaterialError(
                        f"{label} for {key.hex()} conflicts with line "
                        f"{previous.line}; keeping line {previous.line}",
                        capture=self.source,
                        offset=line_offset,
                        field=f"line {number}",
                    )
                )
            )
        self.lines.add(label, key, secret, number)


def _parse_line(text: bytes, number: int, line_offset: int, source: str) -> KeyLogEntry:
    def bad(message: str, **kw) -> KeyMaterialError:
        return KeyMaterialError(
            message, capture=source, offset=line_offset, field=f"line {number}", **kw
        )

    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        raise bad("not an ASCII key log line") from None
    fields = decoded.split()
    if len(fields) != 3:
        raise bad(
            "malformed key log line",
            expected="3 fields: <label> <client_random> <secret>",
            found=f"{len(fields)} field(s)",
        )
    label, key_hex, secret_hex = fields
    if not _LABEL.match(label):
        raise bad("malformed key log label", expected="an upper-case label", found=repr(label))
    for name, value in (("client_random", key_hex), ("secret", secret_hex)):
        if not _HEX.match(value):
            raise bad(f"{label} {name} is not hex", found=repr(value[:20]))
    key, secret = bytes.fromhex(key_hex), bytes.fromhex(secret_hex)
    shape = _SHAPES.get(label)
    if shape is not None:
        key_lengths, secret_lengths = shape
        what = "encrypted premaster prefix" if label == RSA else "client_random"
        if len(key) not in key_lengths:
            raise bad(
                f"{label} {what} has the wrong length",
                expected=" or ".join(f"{n} bytes" for n in sorted(key_lengths)),
                found=f"{len(key)} bytes",
            )
        if len(secret) not in secret_lengths:
            raise bad(
                f"{label} secret has the wrong length",
                expected=" or ".join(f"{n} bytes" for n in sorted(secret_lengths)),
                found=f"{len(secret)} bytes",
            )
    return KeyLogEntry(label=label, key=key, secret=secret, line=number)

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


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyLog:
    """Every entry of a key log, indexed by (label, key).

    Build it with :func:`parse_keylog`.  When two lines give the same
    (label, key) the first one wins; a *different* secret on a later line
    is reported in :attr:`warnings`.

    Attributes:
        source: name used in messages (usually the file name).
        entries: the entries in file order (duplicates included).
        warnings: located one-line messages about lines that were skipped
            (lenient mode) or conflicted.
    """

    source: str
    entries: tuple[KeyLogEntry, ...]
    warnings: tuple[str, ...] = ()
    _index: dict[tuple[str, bytes], KeyLogEntry] = field(
        init=False, repr=False, compare=False, hash=False, default=None  # type: ignore[assignment]
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, bytes], KeyLogEntry] = {}
        for entry in self.entries:
            index.setdefault((entry.label, entry.key), entry)
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, label: str, key: bytes) -> KeyLogEntry | None:
        """The entry for (*label*, *key*), with its line number, or None."""
        return self._index.get((label, bytes(key)))

    def secret(self, label: str, client_random: bytes) -> bytes | None:
        """The secret logged under *label* for the connection *client_random*.

        Args:
            label: e.g. :data:`CLIENT_RANDOM` (TLS 1.2 master secret) or
                :data:`SERVER_HANDSHAKE_TRAFFIC_SECRET`.
            client_random: the 32-byte ClientHello.random (RFC 8446 §4.1.2).
        """
        entry = self._index.get((label, bytes(client_random)))
        return entry.secret if entry else None

    def rsa_premaster(self, encrypted_premaster: bytes) -> bytes | None:
        """The premaster secret logged for an RSA ClientKeyExchange.

        Args:
            encrypted_premaster: the EncryptedPreMasterSecret (RFC 5246
                §7.4.7.1) as sent, or just its first 8 bytes; the key log
                keys ``RSA`` lines by those 8 bytes.
        """
        entry = self._index.get((RSA, bytes(encrypted_premaster[:8])))
        return entry.secret if entry else None

    def secrets_for(self, client_random: bytes) -> dict[str, bytes]:
        """Every secret logged for one connection: label → secret."""
        key = bytes(client_random)
        return {label: e.secret for (label, k), e in self._index.items() if k == key}

    def client_randoms(self) -> tuple[bytes, ...]:
        """The distinct client randoms that have at least one line, in file order."""
        seen: dict[bytes, None] = {}
        for entry in self.entries:
            if entry.label != RSA:
                seen.setdefault(entry.key, None)
        return tuple(seen)


def parse_keylog(data: bytes, *, source: str = "keylog", strict: bool = True) -> KeyLog:
    """Parse an NSS key log (``SSLKEYLOGFILE``).

    Lines end in LF or CRLF; a UTF-8 byte-order mark at the start is
    ignored; ``#`` starts a comment line; blank lines are skipped; fields
    may be separated by any run of spaces or tabs.  Known labels have their
    lengths checked (see the module docstring); unknown labels are kept.

    Args:
        data: the whole key log.
        source: name for messages, e.g. ``"tls13.keylog"``.
        strict: raise on the first malformed line (default); when False,
            skip malformed lines and describe each in :attr:`KeyLog.warnings`.

    Returns:
        The :class:`KeyLog`.

    Raises:
        KeyMaterialError: (strict mode) a malformed line; ``field`` is
            ``"line N"`` and ``offset`` the byte offset where the line starts.
    """
    entries: list[KeyLogEntry] = []
    warnings: list[str] = []
    seen: dict[tuple[str, bytes], KeyLogEntry] = {}
    offset = 0
    if data.startswith(b"\xef\xbb\xbf"):
        offset = 3
    for number, raw in enumerate(data[offset:].split(b"\n"), start=1):
        line_offset = offset
        offset += len(raw) + 1
        text = raw.rstrip(b"\r")
        stripped = text.strip(b" \t")
        if not stripped or stripped.startswith(b"#"):
            continue
        try:
            entry = _parse_line(stripped, number, line_offset, source)
        except KeyMaterialError as err:
            if strict:
                raise
            warnings.append(str(err))
            continue
        previous = seen.get((entry.label, entry.key))
        if previous is None:
            seen[(entry.label, entry.key)] = entry
        elif previous.secret != entry.secret:
            warnings.append(
                str(
                    KeyMaterialError(
                        f"{entry.label} for {entry.key.hex()} conflicts with line "
                        f"{previous.line}; keeping line {previous.line}",
                        capture=source,
                        offset=line_offset,
                        field=f"line {number}",
                    )
                )
            )
        entries.append(entry)
    return KeyLog(source=source, entries=tuple(entries), warnings=tuple(warnings))


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

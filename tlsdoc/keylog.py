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

Must never import cryptography, dpkt or sphinx; never opens the caller's
files (the caller hands it bytes).  A big key log's parsed lines go to an
unnamed temporary file of its own (see ``_Lines``): a key log grows with its
capture, and kept in memory it made memory grow with the capture.
"""

from __future__ import annotations

import os
import re
import struct
from array import array
from binascii import unhexlify
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, count
from operator import add, ne

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


def _entry(label: str, key: bytes, secret: bytes, line: int) -> KeyLogEntry:
    """``KeyLogEntry(label=label, key=key, secret=secret, line=line)``, in less than half the time.

    A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``; a lookup makes four entries per TLS 1.3
    connection, and that was half its cost.  Setting the slots directly
    makes the same value (``test_keylog_perf`` checks it, field by field).
    """
    entry = _new_entry(KeyLogEntry)
    _set_label(entry, label)
    _set_key(entry, key)
    _set_secret(entry, secret)
    _set_line(entry, line)
    return entry


_new_entry = KeyLogEntry.__new__
_set_label, _set_key, _set_secret, _set_line = (
    KeyLogEntry.__dict__[name].__set__ for name in ("label", "key", "secret", "line")
)


class _Lines:
    """The parsed lines, kept where a big key log costs no memory.

    A key log grows with its capture (five lines per TLS 1.3 connection, and
    one connection's lines must be kept until that connection is seen), so
    holding its lines made memory grow with the capture (packed, ~70 bytes a
    line: 17 MB for 50,000 connections).  Here the lines of one key (client
    random, or RSA prefix) that come together make a *run*, written once to
    a :class:`_Store` (an unnamed temporary file once past 1 MiB)::

        key length (u16), record count (u16), key,
        per record: label number (u16), line (u32), line offset (u64), secret length (u16),
        the records' secrets one after the other

    Memory keeps only an index of 16 bytes per run: a fingerprint of the key
    and where its run is, sorted by fingerprint once parsing ends and
    searched with :func:`bisect.bisect_left`.  A lookup reads the key's runs
    back and makes the entry asked for.

    A key whose lines are scattered through the file (connections that
    interleave) has several runs: all of them are found (same fingerprint,
    kept in file order by a stable sort), and the last :data:`_OPEN_RUNS`
    keys keep their run open so that lines a few connections apart still
    make one run.  Keys with the same fingerprint are told apart by the key
    each run holds.
    """

    __slots__ = ("labels", "label_ids", "count", "_store", "_fingerprints", "_where",
                 "_open", "_current_key", "_current", "_recheck", "_sealed", "_last")

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.label_ids: dict[str, int] = {}
        self.count = 0
        self._store = _Store()
        self._fingerprints = array("Q")  # per run, sorted once sealed
        self._where = array("Q")  # per run: store position << _SIZE_BITS | run size
        # key -> its open run: [record heads, secrets, record count, bit mask of its label numbers]
        self._open: dict[bytes, list] = {}
        self._current_key: bytes | None = None  # the last line's key, and its open run
        self._current: list | None = None
        self._recheck: set[bytes] = set()  # keys with a label twice in one run
        self._sealed = False
        # the last key looked up, and label -> (line, secret) of its first line with that label
        self._last: tuple[bytes | None, dict[str, tuple[int, bytes]]] = (None, {})

    # -- while parsing ------------------------------------------------------
    def add(self, label: str, key: bytes, secret: bytes, line: int, offset: int = 0) -> None:
        """Add a line (*offset*: where it starts in the key log, for messages)."""
        label_id = self.label_ids.get(label)
        if label_id is None:
            label_id = self.label_ids[label] = len(self.labels)
            self.labels.append(label)
        if key == self._current_key:  # the common case: the line before had the same key
            run = self._current
        else:
            run = self._open.get(key)
            if run is None:
                if len(self._open) >= _OPEN_RUNS:
                    self._flush(next(iter(self._open)))  # the oldest
                run = self._open[key] = [bytearray(), bytearray(), 0, 0]
            self._current_key, self._current = key, run
        run[0] += _RECORD_HEAD.pack(label_id, line, offset, len(secret))
        run[1] += secret
        run[2] += 1
        bit = 1 << label_id
        if run[3] & bit:  # a label twice in a run: seal() looks for a conflict
            self._recheck.add(key)
        run[3] |= bit
        self.count += 1
        if len(run[0]) + len(run[1]) >= _RUN_BYTES:
            self._flush(key)

    def add_groups(self, keys: Sequence[bytes], starts: Sequence[int], labels: Sequence[str],
                   secrets: Sequence[bytes], first_line: int, offsets: Sequence[int],
                   repeated: bool) -> None:
        """Add consecutive lines at once, one run per group of lines with the same key.

        What :meth:`add` does line by line, for :meth:`_Parser.feed`'s clean
        stretches: line ``first_line + i`` has ``labels[i]``, ``secrets[i]``
        and starts at ``offsets[i]``; group *g* is lines ``starts[g]`` up to
        the next start, all with key ``keys[g]``.  *repeated*: some group may
        hold a label twice (then its key is rechecked in :meth:`seal`).

        Each group becomes its own run instead of joining an open one: the
        same lines in more runs, which lookups gather in file order (a
        key's runs must be indexed in file order, so the open runs are
        written first).
        """
        for key in list(self._open):
            self._flush(key)
        label_ids = self.label_ids
        for label in dict.fromkeys(labels):  # (new labels numbered in order of appearance)
            if label not in label_ids:
                label_ids[label] = len(self.labels)
                self.labels.append(label)
        heads = list(map(_RECORD_HEAD.pack, map(label_ids.__getitem__, labels),
                         count(first_line), offsets, map(len, secrets)))
        join, run_head, store, fingerprints, where = (b"".join, _RUN_HEAD.pack, self._store,
                                                      self._fingerprints, self._where)
        fingerprint = _fingerprint
        ends = [*starts[1:], len(labels)]
        for key, start, end in zip(keys, starts, ends):
            while start < end:
                stop = min(end, start + _GROUP_LINES)
                run = join((run_head(len(key), stop - start), key, *heads[start:stop], *secrets[start:stop]))
                fingerprints.append(fingerprint(key))
                where.append(store.append(run) << _SIZE_BITS | len(run))
                if repeated and len(set(labels[start:stop])) < stop - start:
                    self._recheck.add(key)
                start = stop
        self.count += len(labels)

    def _flush(self, key: bytes) -> None:
        """Write *key*'s open run to the store and index it."""
        heads, secrets, count, _ = self._open.pop(key)
        if key == self._current_key:
            self._current_key = self._current = None
        run = _RUN_HEAD.pack(len(key), count) + key + heads + secrets
        self._fingerprints.append(_fingerprint(key))
        self._where.append(self._store.append(run) << _SIZE_BITS | len(run))

    def seal(self) -> list[tuple[int, str, bytes, int, int]]:
        """Parsing is over: write the open runs, sort the index.

        Returns the lines that give (label, key) another secret than an
        earlier line, as (line, label, key, earlier line, line offset):
        found here rather than as each line comes, which needed every
        earlier line of the key at hand.
        """
        for key in list(self._open):
            self._flush(key)
        fingerprints, where = self._fingerprints, self._where
        # a stable sort: a key's runs stay in file order
        order = sorted(range(len(fingerprints)), key=fingerprints.__getitem__)
        self._fingerprints = array("Q", map(fingerprints.__getitem__, order))  # (map: no list)
        self._where = array("Q", map(where.__getitem__, order))
        del fingerprints, where, order
        self._sealed = True
        # Only a key with several runs, or a label twice in its run, can conflict.
        suspects = self._recheck
        self._recheck = set()
        fingerprints = self._fingerprints
        for i in range(1, len(fingerprints)):
            if fingerprints[i] == fingerprints[i - 1]:
                suspects.add(self._run(i - 1)[0])
                suspects.add(self._run(i)[0])
        return sorted(conflict for key in suspects for conflict in self._conflicts(key))

    def _conflicts(self, key: bytes):
        """(line, label, key, earlier line, line offset) for each line that gives another secret."""
        first: dict[int, tuple[int, bytes]] = {}
        for label_id, line, offset, secret in self._records(key):
            earlier = first.setdefault(label_id, (line, secret))
            if earlier[1] != secret:
                yield line, self.labels[label_id], key, earlier[0], offset

    # -- reading ------------------------------------------------------------
    def _run(self, i: int) -> tuple[bytes, list[tuple[int, int, int, bytes]]]:
        """Run *i* (in index order): its key, and (label number, line, line offset, secret) per line."""
        where = self._where[i]
        run = self._store.read(where >> _SIZE_BITS, where & _SIZE_MASK)
        key_length, count = _RUN_HEAD.unpack_from(run)
        pos = _RUN_HEAD.size + key_length
        secrets = pos + count * _RECORD_HEAD.size
        records = []
        for label_id, line, offset, length in _RECORD_HEAD.iter_unpack(run[pos:secrets]):
            records.append((label_id, line, offset, run[secrets : secrets + length]))
            secrets += length
        return run[_RUN_HEAD.size : pos], records

    def _records(self, key: bytes) -> list[tuple[int, int, int, bytes]]:
        """(label number, line, line offset, secret) of each line of *key*, in file order."""
        assert self._sealed, "_Lines read before seal()"
        fingerprint, fingerprints = _fingerprint(key), self._fingerprints
        i = bisect_left(fingerprints, fingerprint)
        records = []
        while i < len(fingerprints) and fingerprints[i] == fingerprint:
            run_key, run_records = self._run(i)
            if run_key == key:  # (not another key with the same fingerprint)
                records += run_records
            i += 1
        return records

    def first(self, label: str, key: bytes) -> KeyLogEntry | None:
        """The first line giving (*label*, *key*), or None."""
        last_key, firsts = self._last
        if key != last_key:  # one connection's labels are asked for one after another
            firsts = self._firsts(key)
            self._last = (key, firsts)
        found = firsts.get(label)
        return None if found is None else _entry(label, key, found[1], found[0])

    def _firsts(self, key: bytes) -> dict[str, tuple[int, bytes]]:
        """label -> (line, secret) of the first line of *key* with that label.

        What :meth:`_records` gives, written out in one loop: this runs for
        every connection (``test_keylog_perf`` checks both agree).
        """
        assert self._sealed, "_Lines read before seal()"
        fingerprint, fingerprints, where = _fingerprint(key), self._fingerprints, self._where
        read, labels, size = self._store.read, self.labels, len(key)
        firsts: dict[str, tuple[int, bytes]] = {}
        i = bisect_left(fingerprints, fingerprint)
        while i < len(fingerprints) and fingerprints[i] == fingerprint:
            run = read(where[i] >> _SIZE_BITS, where[i] & _SIZE_MASK)
            i += 1
            key_length, count = _RUN_HEAD.unpack_from(run)
            if key_length != size or not run.startswith(key, _RUN_HEAD.size):
                continue  # another key with the same fingerprint
            pos = _RUN_HEAD.size + size
            secrets = pos + count * _RECORD_HEAD.size
            for label_id, line, _, length in _RECORD_HEAD.iter_unpack(run[pos:secrets]):
                if labels[label_id] not in firsts:
                    firsts[labels[label_id]] = (line, run[secrets : secrets + length])
                secrets += length
        return firsts

    def for_key(self, key: bytes) -> list[KeyLogEntry]:
        labels = self.labels
        return [KeyLogEntry(label=labels[lid], key=key, secret=secret, line=line)
                for lid, line, _, secret in self._records(key)]

    def in_file_order(self) -> tuple[KeyLogEntry, ...]:
        labels, entries = self.labels, []
        for i in range(len(self._where)):
            key, records = self._run(i)
            entries.extend(KeyLogEntry(label=labels[lid], key=key, secret=secret, line=line)
                           for lid, line, _, secret in records)
        entries.sort(key=lambda e: e.line)
        return tuple(entries)

    def __reduce__(self):  # pickled as its lines (a temporary file does not travel)
        return _lines_of, (self.in_file_order(),)


def _lines_of(entries: Iterable[KeyLogEntry]) -> _Lines:
    lines = _Lines()
    for entry in entries:
        lines.add(entry.label, entry.key, entry.secret, entry.line)
    lines.seal()
    return lines


def _fingerprint(key: bytes) -> int:
    """*key*'s hash as 8 unsigned bytes (the same in every process forked from this one).

    (A bytes object keeps its hash, so the lookups of one connection hash its client random once.)
    """
    return hash(key) & 0xFFFF_FFFF_FFFF_FFFF


_RUN_HEAD = struct.Struct(">HH")  # key length, record count
_RECORD_HEAD = struct.Struct(">HIQH")  # label number, line number, line offset, secret length
#: A key's run is written out once it holds this many bytes (more lines make another run).
_RUN_BYTES = 4096
_SIZE_BITS = 20  # a run's size in _Lines._where: < _RUN_BYTES + one record (< 2**17) < 2**20
_SIZE_MASK = (1 << _SIZE_BITS) - 1
#: This many keys keep their run open at once (interleaved connections).
_OPEN_RUNS = 64
#: _Lines.add_groups puts at most this many lines in a run (so a run stays
#: well under 2**_SIZE_BITS bytes: add_groups takes only known labels,
#: whose lines are at most 16 + 48 bytes here).
_GROUP_LINES = 64


class _Store:
    """Append-only bytes for _Lines: in memory while small, then an unnamed temporary file.

    Only the last :data:`_SPILL_BYTES` (at most) stay in memory; everything
    before is in the file and read back with ``os.pread`` (no shared file
    position: worker processes forked after parsing read it too), a block
    of :data:`_BLOCK_BYTES` at a time (kept until the next one is needed:
    connections come in about the order of their key log lines, so the next
    lookup is usually in the same block, without a system call).  The file
    has no name, so nothing is left behind.  Where there is no ``os.pread``,
    or no temporary file can be made, everything stays in memory (as before:
    the key log then costs memory, but works).
    """

    __slots__ = ("_file", "_spilled", "_buffer", "spill_bytes", "_block")

    def __init__(self) -> None:
        self._file = None
        self._spilled = 0  # bytes in the file; the buffer follows them
        self._buffer = bytearray()
        self.spill_bytes = _SPILL_BYTES  # (no file: set to "never")
        self._block = (0, b"")  # the last block read from the file, and where it starts

    def append(self, data: bytes) -> int:
        """Add *data*; returns its position (for :meth:`read`)."""
        position = self._spilled + len(self._buffer)
        self._buffer += data
        if len(self._buffer) >= self.spill_bytes:
            self._spill()
        return position

    def _spill(self) -> None:
        if self._file is None:
            if not hasattr(os, "pread"):
                self.spill_bytes = 1 << 62  # stay in memory
                return
            import tempfile

            try:
                self._file = tempfile.TemporaryFile(buffering=0)
            except OSError:
                self.spill_bytes = 1 << 62
                return
        fd = self._file.fileno()
        view = memoryview(self._buffer)
        done = 0
        try:
            while done < len(view):
                done += os.write(fd, view[done:])
        except OSError:  # (disk full): keep the rest in memory from now on
            self.spill_bytes = 1 << 62
        view.release()
        del self._buffer[:done]
        self._spilled += done

    def read(self, position: int, size: int) -> bytes:
        """The *size* bytes at *position*."""
        block_start, block = self._block  # (one attribute: threads may read at once)
        start = position - block_start
        if 0 <= start and start + size <= len(block):  # the common case
            return block[start : start + size]
        if position >= self._spilled:
            start = position - self._spilled
            return bytes(self._buffer[start : start + size])
        return self._read_block(position, size)

    def _read_block(self, position: int, size: int) -> bytes:
        block_start = position - position % _BLOCK_BYTES
        wanted = min(max(block_start + _BLOCK_BYTES, position + size), self._spilled) - block_start
        block = os.pread(self._file.fileno(), wanted, block_start)
        if len(block) != wanted:
            raise OSError(f"key log scratch file: {len(block)} bytes at {block_start}, not {wanted}")
        self._block = (block_start, block)
        start = position - block_start
        data = block[start : start + size]
        if len(data) < size:  # (a run cut by a spill that failed half way)
            data += self._buffer[: size - len(data)]
        return data


#: _Store reads its file this many bytes at a time.
_BLOCK_BYTES = 1 << 16
#: The parsed lines go to a temporary file past this many bytes (about
#: 3,000 TLS 1.3 connections): below it, no file is made.
_SPILL_BYTES = 1 << 20


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
            lines = _lines_of(self.entries)
            object.__setattr__(self, "entries", _Entries(lines))
        object.__setattr__(self, "_lines", lines)

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:  # (what __len__ gives, without two calls: asked once per connection)
        return self._lines.count > 0

    def entry(self, label: str, key: bytes) -> KeyLogEntry | None:
        """The entry for (*label*, *key*), with its line number, or None."""
        return self._lines.first(label, bytes(key))

    def first_lines(self, key: bytes) -> dict[str, tuple[int, bytes]]:
        """label -> (line, secret) of the first line of each label for *key*, in one lookup.

        ``{label: (e.line, e.secret)}`` for every label whose
        :meth:`entry` (*label*, *key*) is an entry ``e``; a new dict each
        call (the caller may keep or change it).  A TLS 1.3 connection
        wants five labels of one client random: this reads its lines once
        and makes no :class:`KeyLogEntry` (``test_keylog_perf`` checks it
        against :meth:`entry`).
        """
        return self._lines._firsts(bytes(key))

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


# The fields of a well-formed line, the common case, checked quickly (a line
# that fails any check goes through _parse_line, which says what is wrong):
# split on whitespace into 3 fields, a label, and two fields bytes.fromhex
# takes (hex digits only: a field has no whitespace; an odd number of them
# raises).  _parse_line splits on whitespace too, so it takes such a line
# as the same three fields.
_KNOWN_LABELS = {label.encode("ascii"): label for label in _SHAPES}
#: _Parser.feed takes the key log this many bytes at a time (in whole lines):
#: about 420 lines of TLS 1.3, whose lists stay in the CPU's caches (1 MiB
#: took as many instructions, but 20% longer, and 3 MB more memory at peak).
_FEED_BYTES = 1 << 16
#: Fewer well-formed lines than this in a row go through _Parser.line, one by one.
_CLEAN_LINES = 4
_LABEL_BYTES = re.compile(rb"[A-Z][A-Z0-9_]*\Z")


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
        self.warnings: list[tuple[int, str]] = []  # (line number, message)
        self.pending = b""  # the start of a line whose newline has not come yet
        self.offset = 0  # file offset of pending[0]
        self.number = 0  # lines taken so far
        self.key_hex = b""  # the last key field decoded, and its bytes
        self.key = b""

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk if self.pending else chunk
        start = 0
        # A stretch of whole lines at a time, at most about _FEED_BYTES (the
        # lists made of a stretch's lines then stay small for any input).
        while True:
            end = data.rfind(b"\n", start, start + _FEED_BYTES)
            if end < 0:
                end = data.find(b"\n", start + _FEED_BYTES)  # (a line longer than that)
                if end < 0:
                    break
            self.stretch(data[start:end], self.offset + start)
            start = end + 1
        self.pending = data[start:]
        self.offset += start

    def stretch(self, text: bytes, base: int) -> None:
        """Take the lines of *text* (newlines between them, none after), which starts at *base*.

        A key log is mostly well-formed lines of known labels, and taken one
        by one (:meth:`line`), each cost about 2 µs: 0.5 s for a key log of
        50,000 TLS 1.3 connections, time the CLI spends before it can start
        its workers.  So stretches of lines with three fields go through
        :meth:`clean`, which checks and stores them with whole-list
        operations; any other line (blank, a comment, malformed), the first
        line of the file (it may start with a byte-order mark), and any
        stretch :meth:`clean` turns down go through :meth:`line`.  Both give
        the same lines (``test_keylog_perf`` checks it).
        """
        lines = text.split(b"\n")
        # where each line starts: base + the lengths of the lines before it + their newlines
        offsets = list(map(add, accumulate(map(len, lines), initial=base), count()))
        fields = list(map(bytes.split, lines))
        first = self.number + 1  # lines[0]'s line number
        others = [] if set(map(len, fields)) == {3} else [i for i, f in enumerate(fields) if len(f) != 3]
        if first == 1 and others[:1] != [0]:
            others.insert(0, 0)
        done = 0
        for i in [*others, len(lines)]:
            if i - done >= _CLEAN_LINES and self.clean(fields[done:i], first + done, offsets[done:i]):
                self.number = first + i - 1
            else:
                for j in range(done, i):
                    self.number = first + j - 1
                    self.line(lines[j], offsets[j])
            if i < len(lines):
                self.number = first + i - 1
                self.line(lines[i], offsets[i])
            done = i + 1

    def clean(self, fields: list[list[bytes]], first_line: int, offsets: list[int]) -> bool:
        """Take lines of three fields each at once, if each is a well-formed line of a known label.

        Returns False, having taken nothing, when any is not (then they go
        through :meth:`line`, which says what is wrong).  A line taken here
        is one :meth:`line` takes as the same (label, key, secret): the
        fields are its fields (``bytes.split``, as there), the label is a
        known one, ``unhexlify`` takes hex digits only (``bytes.fromhex``
        takes those, and more, which are sent to :meth:`line`), and the
        lengths fit the label.
        """
        label_fields, keys_hex, secrets_hex = zip(*fields)
        labels = list(map(_KNOWN_LABELS.get, label_fields))
        if None in labels:
            return False
        try:
            secrets = list(map(unhexlify, secrets_hex))
            # lines with the same key come together: one group each, its key decoded once
            starts = [0, *compress(count(1), map(ne, keys_hex[1:], keys_hex))]
            keys = list(map(unhexlify, map(keys_hex.__getitem__, starts)))
        except ValueError:  # (binascii.Error): not hex, or an odd number of digits
            return False
        for label, key_digits, secret_length in set(zip(labels, map(len, keys_hex), map(len, secrets))):
            key_lengths, secret_lengths = _SHAPES[label]
            if key_digits // 2 not in key_lengths or secret_length not in secret_lengths:
                return False
        repeated = len(set(zip(keys_hex, labels))) < len(labels)  # a label twice for one key
        self.lines.add_groups(keys, starts, labels, secrets, first_line, offsets, repeated)
        return True

    def finish(self) -> KeyLog:
        self.line(self.pending, self.offset)  # the last line (empty after a final newline)
        for number, label, key, earlier, line_offset in self.lines.seal():
            error = KeyMaterialError(
                f"{label} for {key.hex()} conflicts with line {earlier}; keeping line {earlier}",
                capture=self.source,
                offset=line_offset,
                field=f"line {number}",
            )
            self.warnings.append((number, str(error)))
        self.warnings.sort(key=lambda warning: warning[0])  # in line order (a line has one at most)
        return KeyLog(source=self.source, entries=_Entries(self.lines),
                      warnings=tuple(message for _, message in self.warnings))

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
        fields = stripped.split()
        if len(fields) == 3:
            label_field, key_hex, secret_hex = fields
            label = _KNOWN_LABELS.get(label_field)
            if label is None and _LABEL_BYTES.match(label_field):
                label = label_field.decode("ascii")
            try:
                if key_hex != self.key_hex:  # (a connection's lines come together: decode its key once)
                    self.key, self.key_hex = bytes.fromhex(key_hex.decode("ascii")), key_hex
                key, secret = self.key, bytes.fromhex(secret_hex.decode("ascii"))
            except ValueError:
                label = None  # not hex, or an odd number of digits
            if label is not None:
                shape = _SHAPES.get(label)
                if shape is None or (len(key) in shape[0] and len(secret) in shape[1]):
                    entry = (label, key, secret)
        if entry is None:  # the careful path: it says what is wrong
            try:
                parsed = _parse_line(stripped, number, line_offset, self.source)
            except KeyMaterialError as err:
                if self.strict:
                    raise
                self.warnings.append((number, str(err)))
                return
            entry = (parsed.label, parsed.key, parsed.secret)
        label, key, secret = entry
        self.lines.add(label, key, secret, number, line_offset)  # (conflicts: see _Lines.seal)


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

"""Per-connection decryption: find one connection's keys, then open its records.

Consumes what the earlier stages produced for one TCP connection — the
:class:`~tlsdoc.handshake.TlsHandshake` view and each direction's
:class:`~tlsdoc.records.RecordStream` — plus key material the caller has
already read: a :class:`~tlsdoc.keylog.KeyLog` and the server's RSA
private keys (:class:`ServerKey`).  Produces frozen values, each carrying
its working so a chapter can show every step:

1. :func:`connection_keys` → :class:`ConnectionKeys`: where the secrets
   came from and what was derived from them (``trace``).

   * TLS 1.2 (RFC 5246 §8.1, §6.3): the master secret from the key log's
     ``CLIENT_RANDOM`` line; or the premaster from its ``RSA`` line or by
     decrypting the ClientKeyExchange with each ``--key`` in turn
     (RSA key exchange only), then the master secret (RFC 7627 extended
     master secret when negotiated: ``session_hash`` = transcript hash up
     to and including ClientKeyExchange), then the key block.
   * TLS 1.3 (RFC 8446 §7.1, §7.3): the traffic secrets from the key log
     (``CLIENT_HANDSHAKE_TRAFFIC_SECRET`` … ``SERVER_TRAFFIC_SECRET_0``,
     and ``CLIENT_EARLY_TRAFFIC_SECRET`` for 0-RTT), then write key and IV.
     A server's RSA key cannot decrypt TLS 1.3 (nor TLS 1.2 (EC)DHE): the
     result says so.

2. :func:`decrypt_direction` → :class:`DirectionDecryption`: every
   encrypted record of one direction opened with the right key and
   sequence number (:class:`DecryptedRecord`, with the
   :class:`~tlsdoc.decrypt.Plaintext` working), the decrypted handshake
   messages reassembled across records, alerts, and the application data.

   * TLS 1.2: one key per direction from the ChangeCipherSpec on; the
     sequence number starts at 0 after it (RFC 5246 §6.1).
   * TLS 1.3 (RFC 8446 §5.3, §4.6.3): early traffic keys (client, 0-RTT)
     until EndOfEarlyData; handshake keys until the sender's Finished;
     then application traffic keys, replaced by the next generation after
     each KeyUpdate; the sequence number restarts at 0 at every change.

3. :func:`decrypt_connection` → :class:`Decryption`: both directions,
   and the handshake view with the decrypted messages in place of the
   ``Encrypted`` entries (:meth:`~tlsdoc.handshake.TlsHandshake.with_decrypted`).

:func:`handshake_transcript` gives both directions' messages in the order
they were sent (what the transcript hash covers, RFC 8446 §4.4.1 with the
HelloRetryRequest ``message_hash``; RFC 5246 §7.4.9); the checks use it too.

A missing secret or a record that fails its tag/MAC is never papered over:
decryption of that direction stops there with a located warning (which
direction, which record, which secret), and its application data is None.

Must never import dpkt, sphinx, h11, nor :mod:`tlsdoc.checks`,
:mod:`tlsdoc.http`, :mod:`tlsdoc.analysis`, :mod:`tlsdoc.render` or
:mod:`tlsdoc.cli`; never opens files.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Iterable, Mapping, Sequence

from tlsdoc import keylog as keylog_mod
from tlsdoc.decrypt import Plaintext, RecordProtection
from tlsdoc.decrypt import _tls13_protection  # RecordProtection.tls13's fast path
from tlsdoc.decrypt import _TLS13_AAD  # (the TLS 1.3 additional data, for _open_tls13)
from tlsdoc.errors import DecryptionError, KeyMaterialError, TlsdocError
from tlsdoc.handshake import (
    AlertEntry,
    ClientHello,
    ServerHello,
    ClientKeyExchange,
    EarlyDataIndication,
    HandshakeEntry,
    HandshakeReassembler,
    HandshakeContext,
    RawHandshake,
    TlsHandshake,
    decode_message,
    new_entry,
)
from tlsdoc.keylog import KeyLog
from tlsdoc.keyschedule import (
    RsaPremaster,
    Step,
    Tls12Keys,
    extended_master_secret,
    master_secret,
    next_traffic_secret,
    rsa_premaster,
    tls12_keys,
    transcript_hash,
)
from tlsdoc.keyschedule import _new_step  # the fast Step constructor
from tlsdoc.records import Record, RecordStream
from tlsdoc.registry import (
    AlertDescription,
    AlertLevel,
    ContentType,
    ExtensionType,
    HandshakeType,
    ProtocolVersion,
    lookup,
    members,
)
from tlsdoc.suites import KeyExchange, SuiteParams, suite_params
from tlsdoc.wire import Direction, Span, slot_builder

_DIRECTIONS = tuple(Direction)  # (iterating the enum goes through EnumType.__iter__ each time)
# (an enum member read from its class goes through the enum's metaclass, a few
# times slower than a global: the ones read per connection or record, once)
_TLS_1_3 = int(ProtocolVersion.TLS_1_3)

__all__ = [
    "ServerKey",
    "ConnectionKeys",
    "DecryptedRecord",
    "ApplicationData",
    "DirectionDecryption",
    "Decryption",
    "connection_keys",
    "decrypt_direction",
    "decrypt_connection",
    "handshake_transcript",
    "transcript_bytes",
    "message_hash",
    "POST_HANDSHAKE_TLS13",
]

CLIENT, SERVER = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT

#: TLS 1.3 messages sent after the handshake; never part of the transcript
#: of Finished or CertificateVerify (RFC 8446 §4.6).
POST_HANDSHAKE_TLS13 = frozenset({"NewSessionTicket", "KeyUpdate"})


# ===========================================================================
# Values
# ===========================================================================


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerKey:
    """A server private key and where it came from (for messages).

    Attributes:
        name: e.g. the PEM file's path.
        key: a loaded ``cryptography`` private key
            (:func:`tlsdoc.keyschedule.load_private_key`).
    """

    name: str
    key: object = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionKeys:
    """The keys of one connection and how they were found and derived.

    TLS 1.2 fills ``master_secret``, ``key_block``, ``client_write`` and
    ``server_write`` (and ``pre_master`` on the RSA route); TLS 1.3 fills
    ``secrets`` and the ``client_*`` / ``server_*`` protections it could.
    Every protection is a :class:`~tlsdoc.decrypt.RecordProtection` whose
    own ``trace`` shows how its key and IV were derived.

    Attributes:
        version: the negotiated version (``0x0303``, ``0x0304``), if known.
        params: the negotiated suite's parameters, None if tlsdoc cannot
            decrypt that suite.
        source: where the secret came from, in words (``"key log line 2
            (CLIENT_RANDOM)"``, ``"RSA key captures/pki/….pem"``), or None.
        pre_master: the RSA route's decrypted premaster and its working.
        master_secret: the TLS 1.2 master secret.
        key_block: the TLS 1.2 key block, split (RFC 5246 §6.3).
        secrets: TLS 1.3 secrets found in the key log, by key-log label.
        client_write / server_write: TLS 1.2 record protection per sender.
        client_early: TLS 1.3 0-RTT protection (client_early_traffic_secret).
        client_handshake / server_handshake: TLS 1.3 handshake traffic keys.
        client_application / server_application: TLS 1.3
            application_traffic_secret_0 keys.
        missing: key-log labels (or other secrets) that were looked for
            and not found, e.g. ``("SERVER_TRAFFIC_SECRET_0",)``.
        trace: every step, in order: where each secret came from, then each
            derivation (premaster, master secret, key block / traffic keys).
        warnings: located, one-line problems (wrong RSA key, forward secrecy,
            premaster version mismatch …), without the capture name.
    """

    version: int | None
    params: SuiteParams | None
    source: str | None = None
    pre_master: RsaPremaster | None = None
    master_secret: bytes | None = None
    key_block: Tls12Keys | None = None
    secrets: Mapping[str, bytes] = field(default_factory=dict)
    client_write: RecordProtection | None = None
    server_write: RecordProtection | None = None
    client_early: RecordProtection | None = None
    client_handshake: RecordProtection | None = None
    server_handshake: RecordProtection | None = None
    client_application: RecordProtection | None = None
    server_application: RecordProtection | None = None
    missing: tuple[str, ...] = ()
    trace: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = ()

    def __getattr__(self, name: str):
        # Python calls this only when the normal lookup fails, that is for an
        # unset slot: ``trace`` of TLS 1.3 keys from _tls13_keys, which leaves
        # it to be worked out on first use (only the docs' chapters read a
        # trace; JSON and text never do).  The steps are the ones _tls13_keys
        # made before (see _tls13_trace), built once.
        if name == "trace":
            secrets = self.secrets
            if isinstance(secrets, _KeyLogSecrets):
                trace = _tls13_trace(self, secrets)
                _SET_TRACE(self, trace)
                return trace
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def tls13(self) -> bool:
        return self.version is not None and self.version >= _TLS_1_3

    @property
    def usable(self) -> bool:
        """True when at least one direction can be (at least partly) decrypted."""
        # (any(p is not None for p in (...)), written out: read once per connection)
        return (self.client_handshake is not None or self.server_handshake is not None
                or self.client_application is not None or self.server_application is not None
                or self.client_early is not None or self.client_write is not None
                or self.server_write is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecryptedRecord:
    """One encrypted record, opened.

    Attributes:
        record: the record's index in its direction's
            :class:`~tlsdoc.records.RecordStream`.
        epoch: which keys opened it: ``"TLS 1.2"`` (``"TLS 1.2
            renegotiation N"`` after N renegotiations), ``"early"``,
            ``"handshake"``, ``"application"`` or ``"application N"`` (after
            N KeyUpdates).
        secret_name: the secret those keys come from (a key-log label, or
            ``"client write keys"`` for TLS 1.2).
        plaintext: the content and the working (nonce, AAD, tag …).
        frames: the frames that carried the record.
    """

    record: int
    epoch: str
    secret_name: str | None
    plaintext: Plaintext
    frames: tuple[int, ...]
    # Set instead of ``plaintext`` by the TLS 1.3 fast path (_open_tls13):
    # (protection, record, seq), to work the Plaintext out on first use.
    _reopen: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __getattr__(self, name: str):
        # Python calls this only when the normal lookup fails, that is for an
        # unset slot: ``plaintext`` of a record the fast path opened.  The
        # Plaintext is the general route's (RecordProtection.decrypt of the
        # same record, key and seq), built once, when something reads it
        # (the chapters' tables do; JSON, text and HTTP never do).
        if name == "plaintext":
            reopen = self._reopen
            if reopen is not None:
                prot, rec, seq = reopen
                plaintext = _open(prot, rec, seq)
                _d3(self, plaintext)
                _d5(self, None)
                return plaintext
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def content_type(self) -> ContentType | int:
        """The real content type (TLS 1.3: the inner type)."""
        return lookup(ContentType, self.plaintext.content_type)

    @property
    def content(self) -> bytes:
        return self.plaintext.content

    @property
    def seq(self) -> int:
        return self.plaintext.seq


# Fast constructors for the DecryptedRecord made per record.  A frozen
# dataclass's __init__ sets each field through object.__setattr__ (to get
# past its own __setattr__, which refuses); a slot builder filled with plain
# attribute stores, then given the class, is the same frozen value in about
# a third of the time (records.slot_builder, as records.py does for Record).
_DecryptedRecordBuilder = slot_builder(DecryptedRecord)
_d3, _d5 = (DecryptedRecord.__dict__[name].__set__ for name in ("plaintext", "_reopen"))  # (__getattr__)


def _new_decrypted_record(record: int, epoch: str, secret_name: str | None, plaintext: Plaintext,
                          frames: tuple[int, ...]) -> DecryptedRecord:
    obj = _DecryptedRecordBuilder()
    obj.record = record
    obj.epoch = epoch
    obj.secret_name = secret_name
    obj.plaintext = plaintext
    obj.frames = frames
    obj._reopen = None
    obj.__class__ = DecryptedRecord
    return obj


def _records_of(rows: list) -> tuple[DecryptedRecord, ...]:
    """The records of _Direction.records, where _open_tls13's fast path keeps a row
    ``(index, epoch, secret_name, frames, protection, record, seq)`` rather than
    the DecryptedRecord: made here as it made them before (``plaintext`` unset,
    ``_reopen`` set, see DecryptedRecord.__getattr__); the other routes' records
    are kept as they are."""
    out = []
    builder = _DecryptedRecordBuilder
    for row in rows:
        if type(row) is tuple:
            index, epoch, secret_name, frames, prot, rec, seq = row
            row = builder()
            row.record = index
            row.epoch = epoch
            row.secret_name = secret_name
            row.frames = frames
            row._reopen = (prot, rec, seq)
            row.__class__ = DecryptedRecord
        out.append(row)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationData:
    """The application data of one direction, decrypted.

    Attributes:
        records: how many records had (inner) type application_data.
        length: their decrypted bytes, in total.
        sha256: SHA-256 of all those bytes joined in order (hex).
        data: the bytes themselves, joined.
    """

    records: int
    length: int
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectionDecryption:
    """What decrypting one direction gave.

    Attributes:
        direction: which way the records travel.
        records: every record that was opened, in order.
        handshake: the decrypted handshake messages, decoded, in order
            (spans point at the ciphertext bytes that carry them: AEAD and
            CBC encrypt byte for byte in place).
        alerts: decrypted alerts, with level and description.
        application_data: the application data, or None when this
            direction could not be decrypted completely (missing key,
            failed tag or MAC): never a partial or guessed result.
        undecrypted: indexes of the encrypted records left unopened.
        trace: derivations made while decrypting (TLS 1.3 KeyUpdate:
            the next application traffic secret and its keys).
        warnings: located, one-line problems.
    """

    direction: Direction
    records: tuple[DecryptedRecord, ...] = ()
    handshake: tuple[HandshakeEntry, ...] = ()
    alerts: tuple[AlertEntry, ...] = ()
    application_data: ApplicationData | None = None
    undecrypted: tuple[int, ...] = ()
    trace: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = ()
    # Set instead of ``records`` by the decryption stage (_Direction.result): the
    # rows its loops kept, to make the records from on first read.
    _rows: list | None = field(default=None, init=False, repr=False, compare=False)

    def __getattr__(self, name: str):
        # Python calls this only when the normal lookup fails, that is for an
        # unset slot: ``records`` of a direction the decryption stage opened,
        # left to be made on first use (the chapters, == and repr read it; JSON,
        # text and HTTP never do).  The DecryptedRecords are the ones the stage
        # made at once before (_records_of), built once.
        if name == "records":
            rows = self._rows
            if rows is not None:
                records = _records_of(rows)
                _SET_RECORDS(self, records)
                _SET_ROWS(self, None)
                return records
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def complete(self) -> bool:
        """Every encrypted record of this direction was opened."""
        return not self.undecrypted

    def record(self, index: int) -> DecryptedRecord | None:
        """The opened record with stream index *index*, or None."""
        for rec in self.records:
            if rec.record == index:
                return rec
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decryption:
    """Both directions of one connection, decrypted as far as the keys allow.

    Attributes:
        keys: the keys and their working.
        directions: each direction's :class:`DirectionDecryption`.
        tls: the handshake view with the decrypted messages in place of the
            ``Encrypted`` entries (and ALPN from EncryptedExtensions).
        renegotiations: TLS 1.2: the keys of each renegotiated handshake.
        warnings: the keys' and both directions' warnings.
    """

    keys: ConnectionKeys
    directions: Mapping[Direction, DirectionDecryption]
    tls: TlsHandshake
    renegotiations: tuple[ConnectionKeys, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Keys were found and every encrypted record in both directions opened."""
        return self.keys.usable and all(d.complete for d in self.directions.values())


# Fast construction of the values made once per direction or connection
# (ApplicationData, DirectionDecryption, Decryption, TLS 1.3 ConnectionKeys),
# for the same reason as _new_decrypted_record: a slot builder filled field
# by field, then given the class; every field is set (but the trace of TLS 1.3
# keys, see ConnectionKeys.__getattr__).  The field lists are checked here at
# import, so a field added to a class cannot be left unset.
def _checked_builder(cls: type, names: tuple[str, ...]) -> type:
    if tuple(f.name for f in dataclasses.fields(cls)) != names:
        raise TypeError(f"{cls.__name__} changed: update its builder in session.py")
    return slot_builder(cls)


_ApplicationDataBuilder = _checked_builder(ApplicationData, ("records", "length", "sha256", "data"))
_DirectionDecryptionBuilder = _checked_builder(DirectionDecryption, (
    "direction", "records", "handshake", "alerts", "application_data", "undecrypted", "trace",
    "warnings", "_rows"))
_SET_RECORDS, _SET_ROWS = (DirectionDecryption.__dict__[name].__set__
                           for name in ("records", "_rows"))  # (for DirectionDecryption.__getattr__)
_DecryptionBuilder = _checked_builder(Decryption, ("keys", "directions", "tls", "renegotiations",
                                                   "warnings"))
_ConnectionKeysBuilder = _checked_builder(ConnectionKeys, (
    "version", "params", "source", "pre_master", "master_secret", "key_block", "secrets",
    "client_write", "server_write", "client_early", "client_handshake", "server_handshake",
    "client_application", "server_application", "missing", "trace", "warnings"))
_SET_TRACE = ConnectionKeys.__dict__["trace"].__set__  # (for ConnectionKeys.__getattr__)


def _new_application_data(records: int, length: int, sha256: str, data: bytes) -> ApplicationData:
    obj = _ApplicationDataBuilder()
    obj.records = records
    obj.length = length
    obj.sha256 = sha256
    obj.data = data
    obj.__class__ = ApplicationData
    return obj


def _new_direction_decryption(direction, records, handshake, alerts, application_data,
                              undecrypted, trace, warnings, rows=None) -> DirectionDecryption:
    """DirectionDecryption(direction=..., ..., warnings=...); with *rows* (and *records*
    None) its ``records`` slot is left for DirectionDecryption.__getattr__ to make."""
    obj = _DirectionDecryptionBuilder()
    obj.direction = direction
    if rows is None:
        obj.records = records
    obj._rows = rows
    obj.handshake = handshake
    obj.alerts = alerts
    obj.application_data = application_data
    obj.undecrypted = undecrypted
    obj.trace = trace
    obj.warnings = warnings
    obj.__class__ = DirectionDecryption
    return obj


def _new_decryption(keys, directions, tls, renegotiations, warnings) -> Decryption:
    obj = _DecryptionBuilder()
    obj.keys = keys
    obj.directions = directions
    obj.tls = tls
    obj.renegotiations = renegotiations
    obj.warnings = warnings
    obj.__class__ = Decryption
    return obj


def _new_tls13_keys(version, params, source, secrets, client_early, client_handshake,
                    server_handshake, client_application, server_application, missing,
                    warnings) -> ConnectionKeys:
    """ConnectionKeys(version=..., ..., warnings=...) of TLS 1.3 keys from the key log,
    with its ``trace`` slot left for ConnectionKeys.__getattr__ to fill."""
    obj = _ConnectionKeysBuilder()
    obj.version = version
    obj.params = params
    obj.source = source
    obj.pre_master = None
    obj.master_secret = None
    obj.key_block = None
    obj.secrets = secrets
    obj.client_write = None
    obj.server_write = None
    obj.client_early = client_early
    obj.client_handshake = client_handshake
    obj.server_handshake = server_handshake
    obj.client_application = client_application
    obj.server_application = server_application
    obj.missing = missing
    obj.warnings = warnings
    obj.__class__ = ConnectionKeys
    return obj


# ===========================================================================
# Helpers
# ===========================================================================


def _warning(message: str, *, direction: Direction | None = None, record: Record | None = None,
             field: str | None = None, cls: type[TlsdocError] = KeyMaterialError) -> str:
    frames = record.span.frames if record is not None else ()
    err = cls(message, frame=frames[0] if frames else None,
              direction=str(direction) if direction else None,
              record=record.index if record is not None else None, field=field)
    return str(err)


def _version_int(tls: TlsHandshake) -> int | None:
    return None if tls.version is None else int(tls.version)


def _renamed(steps: Iterable[Step], prefix: str) -> tuple[Step, ...]:
    # (What dataclasses.replace(s, name=...) gives, without its field-by-field
    # walk: eight steps per TLS 1.3 connection.)
    return tuple(_new_step(f"{prefix} {s.name}", s.op, s.inputs, s.output) for s in steps)


def _keylog_step(name: str, entry: keylog_mod.KeyLogEntry, key_name: str) -> Step:
    return _new_step(name, f"key log {entry.label} (line {entry.line})",
                     ((key_name, entry.key),), entry.secret)


def message_hash(client_hello: bytes, hash: str) -> bytes:
    """The synthetic ``message_hash`` message that replaces ClientHello1 (RFC 8446 §4.4.1).

    ::

        Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
            Hash(message_hash ||        /* Handshake type */
                 00 00 Hash.length  ||  /* Handshake message length (bytes) */
                 Hash(ClientHello1) ||  /* Hash of ClientHello1 */
                 HelloRetryRequest  || ... || Mn)

    Args:
        client_hello: ClientHello1 with its 4-byte header.
        hash: the suite's hash name.
    """
    digest = transcript_hash(client_hello, hash)
    return bytes([HandshakeType.message_hash, 0, 0, len(digest)]) + digest


def _first_frame(entry: HandshakeEntry) -> float:
    return entry.frames[0] if entry.frames else float("inf")


def handshake_transcript(tls: TlsHandshake, *, tls13: bool | None = None) -> tuple[HandshakeEntry, ...]:
    """Both directions' handshake messages in the order they were sent.

    The order is the capture's: the two directions' lists (each already in
    order) are merged by the first frame that carried each message, which
    follows the protocol because each side sends a flight only after it
    received the peer's.  HelloRequest (RFC 5246 §7.4.9) and, in TLS 1.3,
    the post-handshake NewSessionTicket and KeyUpdate (RFC 8446 §4.6) are
    left out: they are not part of any transcript.  Entries still
    ``Encrypted`` are kept (a caller that needs their bytes finds
    ``raw`` is None).

    Args:
        tls: the (decrypted) handshake view.
        tls13: override the version test (default: from ``tls.version``).
    """
    if tls13 is None:
        tls13 = tls.version is not None and int(tls.version) >= ProtocolVersion.TLS_1_3
    client, server = list(tls.client_messages), list(tls.server_messages)
    out: list[HandshakeEntry] = []
    i = j = 0
    while i < len(client) or j < len(server):
        if j >= len(server) or (i < len(client) and _first_frame(client[i]) <= _first_frame(server[j])):
            entry, i = client[i], i + 1
        else:
            entry, j = server[j], j + 1
        if entry.name == "HelloRequest":
            continue
        if tls13 and entry.name in POST_HANDSHAKE_TLS13:
            continue
        out.append(entry)
    return tuple(out)


def transcript_bytes(entries: Sequence[HandshakeEntry], hash: str, *, tls13: bool) -> bytes | None:
    """The bytes the transcript hash covers, or None if a message is not readable.

    TLS 1.3 with a HelloRetryRequest: ClientHello1 becomes ``message_hash``
    (:func:`message_hash`).
    """
    parts: list[bytes] = []
    for n, entry in enumerate(entries):
        if entry.raw is None:
            return None
        if (tls13 and n == 0 and entry.name == "ClientHello" and len(entries) > 1
                and entries[1].name == "HelloRetryRequest"):
            parts.append(message_hash(entry.raw, hash))
        else:
            parts.append(entry.raw)
    return b"".join(parts)


# ===========================================================================
# 1. Keys
# ===========================================================================


def connection_keys(tls: TlsHandshake, keylog: KeyLog | None = None,
                    rsa_keys: Sequence[ServerKey] = ()) -> ConnectionKeys:
    """Find the secrets of one connection and derive its record keys.

    Args:
        tls: the connection's handshake view (plaintext parse is enough:
            the hellos and, for TLS 1.2, ClientKeyExchange).
        keylog: a parsed NSS key log, if any.
        rsa_keys: server RSA private keys to try on an RSA ClientKeyExchange,
            in order.

    Returns:
        The keys; when something is missing, ``missing`` and ``warnings``
        say what and why (this function never raises for missing keys).
    """
    version = _version_int(tls)
    if version is None or tls.cipher_suite is None or tls.client_random is None:
        # No ServerHello (or ClientHello): nothing was encrypted either.
        return ConnectionKeys(version=version, params=None)
    params = suite_params(tls.cipher_suite)
    if params is None:
        suite = getattr(tls.cipher_suite, "name", None) or f"0x{int(tls.cipher_suite):04x}"
        return ConnectionKeys(version=version, params=None, warnings=(
            _warning(f"cipher suite {suite} is not supported for decryption",
                     field="ServerHello.cipher_suite"),))
    if params.tls13:
        return _tls13_keys(tls, params, keylog, rsa_keys)
    if version != ProtocolVersion.TLS_1_2:
        return ConnectionKeys(version=version, params=params, warnings=(
            _warning(f"{getattr(tls.version, 'label', hex(version))} is not supported for "
                     "decryption (its PRF is MD5/SHA-1; tlsdoc implements the TLS 1.2 PRF)",
                     field="ServerHello.version"),))
    return _tls12_keys(tls, params, keylog, rsa_keys)


def _tls12_keys(tls: TlsHandshake, params: SuiteParams, keylog: KeyLog | None,
                rsa_keys: Sequence[ServerKey]) -> ConnectionKeys:
    cr, sr = tls.client_random, tls.server_random
    steps: list[Step] = []
    warnings: list[str] = []
    source = None
    pre: RsaPremaster | None = None
    ms: bytes | None = None
    missing: list[str] = []

    entry = keylog.entry(keylog_mod.CLIENT_RANDOM, cr) if keylog else None
    if entry is not None:
        ms = entry.secret
        source = f"key log line {entry.line} ({entry.label})"
        steps.append(_keylog_step("master_secret", entry, "ClientHello.random"))

    cke_entry = tls.find("ClientKeyExchange", CLIENT)
    cke = cke_entry.message if cke_entry is not None else None
    epms = cke.encrypted_pre_master_secret if isinstance(cke, ClientKeyExchange) else None
    if ms is None:
        premaster: bytes | None = None
        rsa_entry = keylog.entry(keylog_mod.RSA, epms[:8]) if (keylog and epms) else None
        if rsa_entry is not None:
            premaster = rsa_entry.secret
            source = f"key log line {rsa_entry.line} ({rsa_entry.label})"
            steps.append(_keylog_step("pre_master_secret", rsa_entry, "EncryptedPreMasterSecret[0:8]"))
        elif epms is not None and rsa_keys:
            pre, used, reasons = _try_rsa_keys(tls, epms, rsa_keys)
            if pre is not None:
                premaster = pre.pre_master_secret
                source = f"RSA key {used}"
                steps.extend(pre.trace)
                if pre.version_matches is False:
                    offered = int(tls.client_hello.legacy_version) if tls.client_hello else 0
                    warnings.append(_warning(
                        f"premaster version 0x{pre.client_version:04x} differs from "
                        f"ClientHello.client_version 0x{offered:04x} (RFC 5246 §7.4.7.1; "
                        "a version-rollback sign, or an old client); decrypting anyway",
                        direction=CLIENT, field="PreMasterSecret.client_version"))
            else:
                warnings.append(_warning(
                    "no --key decrypts the premaster: " + "; ".join(reasons),
                    direction=CLIENT, field="ClientKeyExchange.exchange_keys"))
        if premaster is not None:
            ms = _derive_master(tls, params, premaster, steps)
            if ms is None:
                warnings.append(_warning(
                    "extended master secret negotiated but the handshake up to "
                    "ClientKeyExchange is not readable for the session hash (RFC 7627 §3)",
                    field="session_hash"))

    if ms is None:
        missing.append(keylog_mod.CLIENT_RANDOM)
        if not warnings:  # a more specific reason (wrong --key, EMS) was given already
            warnings.append(_tls12_missing_reason(tls, params, keylog, rsa_keys, epms, cke_entry))
        return ConnectionKeys(version=int(tls.version), params=params, pre_master=pre,
                              missing=tuple(missing), trace=tuple(steps), warnings=tuple(warnings))
    try:
        block = tls12_keys(ms, cr, sr, params)
        client = RecordProtection.tls12(block, params, sender=CLIENT, version=int(tls.version),
                                        encrypt_then_mac=tls.encrypt_then_mac)
        server = RecordProtection.tls12(block, params, sender=SERVER, version=int(tls.version),
                                        encrypt_then_mac=tls.encrypt_then_mac)
    except TlsdocError as exc:
        warnings.append(str(exc))
        return ConnectionKeys(version=int(tls.version), params=params, source=source,
                              pre_master=pre, master_secret=ms, trace=tuple(steps),
                              warnings=tuple(warnings))
    steps.extend(block.trace)
    return ConnectionKeys(
        version=int(tls.version), params=params, source=source, pre_master=pre,
        master_secret=ms, key_block=block, client_write=client, server_write=server,
        trace=tuple(steps), warnings=tuple(warnings),
    )


def _try_rsa_keys(tls: TlsHandshake, epms: bytes, rsa_keys: Sequence[ServerKey]
                  ) -> tuple[RsaPremaster | None, str | None, list[str]]:
    offered = int(tls.client_hello.legacy_version) if tls.client_hello is not None else None
    reasons: list[str] = []
    for server_key in rsa_keys:
        try:
            return rsa_premaster(epms, server_key.key, client_version=offered), server_key.name, reasons
        except KeyMaterialError as exc:
            reasons.append(f"{server_key.name}: {exc.message}")
    return None, None, reasons


def _derive_master(tls: TlsHandshake, params: SuiteParams, premaster: bytes,
                   steps: list[Step]) -> bytes | None:
    """master_secret from the premaster: RFC 7627 §4 when EMS was negotiated, else RFC 5246 §8.1."""
    if tls.extended_master_secret:
        order = handshake_transcript(tls, tls13=False)
        upto: list[HandshakeEntry] = []
        for entry in order:
            upto.append(entry)
            if entry.name == "ClientKeyExchange":
                break
        else:
            return None
        data = transcript_bytes(upto, params.prf_hash, tls13=False)
        if data is None:
            return None
        session_hash = transcript_hash(data, params.prf_hash)
        steps.append(Step(name="session_hash", op=f"{params.prf_hash.upper()}",
                          inputs=(("handshake_messages (ClientHello..ClientKeyExchange)", data),),
                          output=session_hash))
        d = extended_master_secret(premaster, session_hash, params.prf_hash)
    else:
        d = master_secret(premaster, tls.client_random, tls.server_random, params.prf_hash)
    steps.extend(d.trace)
    return d.output


def _tls12_missing_reason(tls, params, keylog, rsa_keys, epms, cke_entry) -> str:
    cr = tls.client_random.hex()
    if params.key_exchange is not KeyExchange.RSA and rsa_keys and not (
            keylog and keylog.entry(keylog_mod.CLIENT_RANDOM, tls.client_random)):
        kx = params.key_exchange.value
        return _warning(
            f"the server's RSA key cannot decrypt {kx} key exchange (forward secrecy: "
            f"the premaster is an ephemeral Diffie-Hellman secret, never sent); "
            f"a key log with CLIENT_RANDOM {cr} is needed")
    if tls.resumed:
        what = "the key log has no" if keylog else "give a key log (--keylog) with a"
        return _warning(f"resumed session: {what} CLIENT_RANDOM line for {cr} (a resumed "
                        "session has no ClientKeyExchange for --key to open; OpenSSL logs "
                        "its master secret per connection)")
    if params.key_exchange is KeyExchange.RSA and epms is None and rsa_keys:
        return _warning("no RSA ClientKeyExchange was seen, so --key cannot help, "
                        f"and the key log has no CLIENT_RANDOM line for {cr}")
    what = "the key log has" if keylog else "no key log, and"
    return _warning(f"no key: {what} no CLIENT_RANDOM line for {cr}"
                    + ("" if keylog else " (give --keylog, or --key for RSA key exchange)"))


_TLS13_SECRETS = (
    # attribute, key-log label, direction, epoch
    ("client_early", keylog_mod.CLIENT_EARLY_TRAFFIC_SECRET, CLIENT),
    ("client_handshake", keylog_mod.CLIENT_HANDSHAKE_TRAFFIC_SECRET, CLIENT),
    ("server_handshake", keylog_mod.SERVER_HANDSHAKE_TRAFFIC_SECRET, SERVER),
    ("client_application", keylog_mod.CLIENT_TRAFFIC_SECRET_0, CLIENT),
    ("server_application", keylog_mod.SERVER_TRAFFIC_SECRET_0, SERVER),
)


# ... and the key-log step's name, label.lower(), worked out once; the
# direction as the text RecordProtection.tls13 makes of it (str(direction):
# given as text, it skips the enum's hash, a Python call, four times a connection).
_TLS13_SECRET_STEPS = tuple((attr, label, str(direction), label.lower())
                            for attr, label, direction in _TLS13_SECRETS)


def _offers_early_data(tls: TlsHandshake) -> bool:
    """The ClientHello has an early_data extension (RFC 8446 §4.2.10), decoded.

    ``isinstance(ch.extension(ExtensionType.early_data), EarlyDataIndication)``:
    the first extension of that type found by C-level loops (the types read by
    map, found by list.index, which compares with ``==`` as ClientHello.extension
    does) instead of extension()'s Python loop: once per TLS 1.3 connection, over
    the fifteen-odd extensions of a browser's hello.
    """
    ch = tls.client_hello
    if not isinstance(ch, ClientHello):
        return False
    extensions = ch.extensions
    try:
        at = list(map(_EXTENSION_TYPE, extensions)).index(_EARLY_DATA)
    except ValueError:
        return False
    return isinstance(extensions[at], EarlyDataIndication)


_EXTENSION_TYPE = attrgetter("type")
_EARLY_DATA = ExtensionType.early_data


class _KeyLogSecrets(dict):
    """ConnectionKeys.secrets of TLS 1.3 keys from the key log: label -> secret (a dict),
    plus what the trace's key-log steps need: the client random and each secret's line."""

    __slots__ = ("key", "lines")


def _tls13_trace(keys: ConnectionKeys, secrets: _KeyLogSecrets) -> tuple[Step, ...]:
    """The trace of TLS 1.3 keys: for each secret found, in _TLS13_SECRET_STEPS order,
    its key-log step, then its protection's steps under the attribute's name."""
    steps: list[Step] = []
    key, lines = secrets.key, secrets.lines
    for attr, label, _, step_name in _TLS13_SECRET_STEPS:
        if label not in secrets:
            continue
        secret = secrets[label]
        # (_keylog_step(step_name, keylog.entry(label, cr), "ClientHello.random"))
        steps.append(_new_step(step_name, f"key log {label} (line {lines[label]})",
                               (("ClientHello.random", key),), secret))
        for s in getattr(keys, attr).trace:  # (_renamed(prot.trace, attr), inline)
            steps.append(_new_step(f"{attr} {s.name}", s.op, s.inputs, s.output))
    return tuple(steps)


def _tls13_keys(tls: TlsHandshake, params: SuiteParams, keylog: KeyLog | None,
                rsa_keys: Sequence[ServerKey]) -> ConnectionKeys:
    cr = tls.client_random
    found: dict[str, RecordProtection] = {}
    secrets = _KeyLogSecrets()
    missing: list[str] = []
    lines: dict[str, int] = {}
    # Every label of this client random in one key-log lookup: label -> (line,
    # secret) of its first line, what keylog.entry(label, cr) gives as an entry
    # (five lookups cost a twentieth of the keys of a connection).
    secrets.key = key = bytes(cr)
    secrets.lines = lines
    firsts = keylog.first_lines(key) if keylog else {}  # (KeyLog's truth is its length)
    hash_length = params.hash_length  # (a property)
    for attr, label, direction, step_name in _TLS13_SECRET_STEPS:
        first = firsts.get(label)
        if first is None:
            if attr != "client_early" or _offers_early_data(tls):
                missing.append(label)
            continue
        line, secret = first
        if len(secret) != hash_length:
            missing.append(label)
            continue
        secrets[label] = secret
        lines[label] = line
        # (RecordProtection.tls13(secret, params, secret_name=label, direction=direction):
        # params is a TLS 1.3 suite's and direction its text, so its fast path directly)
        found[attr] = _tls13_protection(secret, params, label, direction)
    warnings: list[str] = []
    if not found:
        if keylog is None and rsa_keys:
            reason = ("TLS 1.3 cannot be decrypted with the server's RSA key (the key exchange "
                      "is ephemeral (EC)DHE or PSK); a key log is needed")
        elif keylog is None:
            reason = "no key: TLS 1.3 needs a key log (--keylog)"
        else:
            reason = f"no key: the key log has no TLS 1.3 secrets for client_random {cr.hex()}"
        warnings.append(_warning(reason))
    source = None
    if lines:
        source = "key log line" + ("s " if len(lines) > 1 else " ") + ", ".join(
            map(str, sorted(lines.values())))
    # (ConnectionKeys(version=..., params=..., source=..., secrets=..., missing=...,
    # trace=_tls13_trace(...), warnings=..., **found), its slots set directly: once per
    # connection.  The trace slot is left unset: ConnectionKeys.__getattr__ makes it
    # from the secrets and protections when it is first read.)
    get = found.get
    return _new_tls13_keys(int(tls.version), params, source, secrets, get("client_early"),
                           get("client_handshake"), get("server_handshake"),
                           get("client_application"), get("server_application"),
                           tuple(missing), tuple(warnings))


# ===========================================================================
# 2. Records
# ===========================================================================


_ALERT_LEVELS, _ALERT_DESCRIPTIONS = members(AlertLevel).get, members(AlertDescription).get
_AlertEntryBuilder = _checked_builder(AlertEntry, (
    "direction", "record", "span", "level", "description", "encrypted"))


class _Direction:
    """Mutable scratch while one direction's records are opened (private)."""

    def __init__(self, tls: TlsHandshake, stream: RecordStream, direction: Direction,
                 context: HandshakeContext | None = None) -> None:
        self.tls = tls
        self.stream = stream
        self.direction = direction
        # (tls.context makes a new value each time: both directions can share one)
        self.context: HandshakeContext = context if context is not None else tls.context
        self.frames_for = stream.frames_for  # (a bound method: made once)
        self.reassembler = HandshakeReassembler(direction, self.frames_for)
        # the opened records: DecryptedRecords, or _open_tls13's rows (_records_of)
        self.records: list[DecryptedRecord | tuple] = []
        self.handshake: list[HandshakeEntry] = []
        self.alerts: list[AlertEntry] = []
        self.app: list[bytes] = []  # the application_data records' contents
        self.warnings: list[str] = []
        self.trace: list[Step] = []
        self.failed_at: int | None = None  # position in the encrypted-records list

    def warn(self, message: str, record: Record | None = None, field: str | None = None,
             cls: type[TlsdocError] = KeyMaterialError) -> None:
        self.warnings.append(_warning(message, direction=self.direction, record=record,
                                      field=field, cls=cls))

    def handshake_bytes(self, rec: Record, content: bytes, explicit_nonce: int = 0) -> list[HandshakeEntry]:
        """Feed decrypted handshake content; return the messages it completes, decoded.

        *explicit_nonce*: the length of the record's explicit nonce / IV
        (TLS 1.2), which the content follows in the stream.
        """
        # (rec.header_span.end is rec.fragment_offset, without the property's call;
        # a loop rather than a comprehension and a method per message: about seven
        # messages per connection)
        out: list[HandshakeEntry] = []
        raws = self.reassembler.feed(content, stream_offset=rec.header_span.end + explicit_nonce,
                                     record=rec.index)
        if not raws:
            return out
        context, frames_for, direction = self.context, self.frames_for, self.direction
        for raw in raws:
            try:
                message = decode_message(raw, context, frames_for)
            except TlsdocError as exc:
                out.append(self._failed_entry(raw, exc))
                continue
            name = type(message).__name__
            if name == "OpaqueMessage":
                name = raw.name
            out.append(new_entry(name, raw.msg_type, direction, raw.records, raw.span,
                                 message, True, raw.data, None))
        self.handshake.extend(out)
        return out

    def _failed_entry(self, raw: RawHandshake, exc: TlsdocError) -> HandshakeEntry:
        self.warnings.append(str(exc))
        return HandshakeEntry(name=raw.name, msg_type=raw.msg_type, direction=self.direction,
                              records=raw.records, span=raw.span, raw=raw.data,
                              encrypted=True, error=str(exc))

    def alert(self, rec: Record, content: bytes) -> None:
        level = description = None
        if len(content) == 2:
            # (lookup(AlertLevel, ...), lookup(AlertDescription, ...) for the ints they are)
            level = _ALERT_LEVELS(content[0], content[0])
            description = _ALERT_DESCRIPTIONS(content[1], content[1])
        else:
            self.warn(f"decrypted alert of {len(content)} bytes (expected 2)", rec, "Alert",
                      cls=DecryptionError)
        # (AlertEntry(direction=..., record=..., span=..., level=..., description=...,
        # encrypted=True) through a slot builder: two per connection)
        alert = _AlertEntryBuilder()
        alert.direction = self.direction
        alert.record = rec.index
        alert.span = rec.span
        alert.level = level
        alert.description = description
        alert.encrypted = True
        alert.__class__ = AlertEntry
        self.alerts.append(alert)

    def result(self, encrypted: Sequence[int]) -> DirectionDecryption:
        if self.reassembler.pending and self.failed_at is None:
            self.warn("decrypted handshake data ends inside a message",
                      field=self.reassembler.pending[:1].hex(), cls=DecryptionError)
        undecrypted = tuple(encrypted[self.failed_at:]) if self.failed_at is not None else ()
        app = None
        if not undecrypted:
            data = b"".join(self.app)
            app = _new_application_data(len(self.app), len(data),
                                        hashlib.sha256(data).hexdigest(), data)
        # (the records made from the rows when first read: the JSON, text and HTTP
        # never read them, and this is about fifteen records per connection)
        rows = self.records
        return _new_direction_decryption(self.direction, None if rows else (), tuple(self.handshake),
                                         tuple(self.alerts), app, undecrypted, tuple(self.trace),
                                         tuple(self.warnings), rows or None)


def decrypt_direction(tls: TlsHandshake, stream: RecordStream, keys: ConnectionKeys,
                      direction: Direction | None = None) -> DirectionDecryption:
    """Open every encrypted record of one direction, in order.

    Args:
        tls: the connection's handshake view (from
            :func:`~tlsdoc.handshake.parse_handshake`): which records are
            encrypted, the negotiated version and suite.
        stream: that direction's records.
        keys: from :func:`connection_keys`.
        direction: defaults to ``stream.direction``.

    Returns:
        The opened records, decrypted handshake messages, alerts and
        application data.  Decryption stops at the first record that cannot
        be opened (no key for it, or a failed tag/MAC); the rest are listed
        in ``undecrypted`` and ``application_data`` is None.  A TLS 1.2
        renegotiation needs both directions (:func:`decrypt_connection`);
        here, decryption stops at its ChangeCipherSpec.
    """
    direction = direction or stream.direction
    encrypted = tls.encrypted_records(direction)
    state = _Direction(tls, stream, direction)
    if not encrypted:
        return state.result(encrypted)
    if not keys.usable:
        # No key at all: ConnectionKeys.warnings already says why, once.
        state.failed_at = 0
        return state.result(encrypted)
    if keys.tls13:
        _open_tls13(state, encrypted, keys)
    else:
        _drive_alone(_open_tls12(state, encrypted, keys))
    return state.result(encrypted)


def _open(prot: RecordProtection, rec: Record, seq: int) -> Plaintext:
    return prot.decrypt(int(rec.content_type), int(rec.legacy_version), rec.fragment, seq,
                        record=rec.index)


def _open_tls12(state: _Direction, encrypted: Sequence[int], keys: ConnectionKeys):
    """TLS 1.2: one key from ChangeCipherSpec on, seq from 0 (RFC 5246 §6.1, §7.1).

    A generator: a ChangeCipherSpec *inside* the encrypted records is a
    renegotiation (RFC 5246 §7.4.1.1): the new handshake's keys take over
    after it, with seq 0.  The generator yields the position of that record
    and expects the new handshake's :class:`ConnectionKeys` (or None) to be
    sent back, because they need messages of both directions
    (:func:`decrypt_connection` does that).
    """
    client = state.direction is CLIENT
    sender = state.direction.sender
    prot = keys.client_write if client else keys.server_write
    generation = 0
    seq = 0
    for position, index in enumerate(encrypted):
        rec = state.stream.records[index]
        if prot is None:
            state.warn(f"no {sender} write key: {', '.join(keys.missing) or 'no master secret'} "
                       "not found", rec, field=(keys.missing or ("master_secret",))[0])
            state.failed_at = position
            return
        try:
            plaintext = _open(prot, rec, seq)
        except DecryptionError as exc:
            state.warnings.append(str(exc.with_context(frame=rec.span.frames[0] if rec.span.frames else None)))
            state.failed_at = position
            return
        epoch = "TLS 1.2" if generation == 0 else f"TLS 1.2 renegotiation {generation}"
        state.records.append(_new_decrypted_record(index, epoch, prot.secret_name, plaintext,
                                                   rec.span.frames))
        seq += 1
        ctype = plaintext.content_type
        if ctype == _APPLICATION_DATA:
            state.app.append(plaintext.content)
        elif ctype == _HANDSHAKE:
            state.handshake_bytes(rec, plaintext.content, len(plaintext.explicit_nonce))
        elif ctype == _ALERT:
            state.alert(rec, plaintext.content)
        elif ctype == _CHANGE_CIPHER_SPEC:
            if position + 1 >= len(encrypted):
                return
            new_keys = yield position
            new = None
            if new_keys is not None:
                new = new_keys.client_write if client else new_keys.server_write
            if new is None:
                state.warn("renegotiation: no keys for the new handshake after this "
                           "ChangeCipherSpec", rec, "ChangeCipherSpec", cls=DecryptionError)
                state.failed_at = position + 1
                return
            prot, seq, generation = new, 0, generation + 1


def _drive_alone(steps) -> None:
    """Run a TLS 1.2 direction on its own: a renegotiation gets no new keys."""
    try:
        next(steps)
        while True:
            steps.send(None)
    except StopIteration:
        pass


# ContentType values as plain ints, compared once per record.
_APPLICATION_DATA, _ALERT, _HANDSHAKE, _CHANGE_CIPHER_SPEC = (
    int(ContentType.application_data), int(ContentType.alert), int(ContentType.handshake),
    int(ContentType.change_cipher_spec))

# epoch -> the key-log label of its secret, one table per direction (picked by
# the direction's identity: a Direction as a dict key is hashed by
# Enum.__hash__, a Python-level call).
_CLIENT_LABELS = {
    "early": keylog_mod.CLIENT_EARLY_TRAFFIC_SECRET,
    "handshake": keylog_mod.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
    "application": keylog_mod.CLIENT_TRAFFIC_SECRET_0,
}
_SERVER_LABELS = {
    "handshake": keylog_mod.SERVER_HANDSHAKE_TRAFFIC_SECRET,
    "application": keylog_mod.SERVER_TRAFFIC_SECRET_0,
}


def _opening(prot: RecordProtection | None) -> tuple | None:
    """*prot*'s parts for _open_tls13's inline open (RecordProtection._tls13_opening),
    None when there is no key or it is not TLS 1.3's (then every record goes
    through RecordProtection.open_tls13 and the general route)."""
    return prot._tls13_opening() if prot is not None else None


_NO_OPENING = (None, 0, 0, 0)


def _open_tls13(state: _Direction, encrypted: Sequence[int], keys: ConnectionKeys) -> None:
    """TLS 1.3 key changes, RFC 8446 §5.3 (seq per key), §4.4.4 (Finished), §4.6.3 (KeyUpdate)."""
    direction = state.direction
    client = direction is CLIENT
    labels = _CLIENT_LABELS if client else _SERVER_LABELS
    params = keys.params
    protections = {
        "early": keys.client_early if client else None,
        "handshake": keys.client_handshake if client else keys.server_handshake,
        "application": keys.client_application if client else keys.server_application,
    }
    epoch = "early" if client and protections["early"] is not None and _offers_early_data(state.tls) \
        else "handshake"
    prot = protections[epoch]
    app_secret = keys.secrets.get(labels["application"])
    generation = 0
    seq = 0
    records = state.stream.records
    add_record = state.records.append
    add_app = state.app.append
    pack = _TLS13_AAD.pack
    # What the records of the current key share, read once per key (not per record):
    # the inline open's parts (RecordProtection._tls13_opening) and the record's names.
    opening = _opening(prot)
    aead_decrypt, iv_int, iv_length, tag_length = opening or _NO_OPENING
    epoch_name, secret_name = epoch, prot.secret_name if prot is not None else None
    for position, index in enumerate(encrypted):
        rec = records[index]
        if prot is None:
            label = labels[epoch]
            state.warn(f"no key for the {epoch} traffic: the key log has no {label} for "
                       f"client_random {state.tls.client_random.hex()}", rec, field=label)
            state.failed_at = position
            return
        # Fast path (about fifteen records per connection): the inner type and
        # content alone, equal to what _open's Plaintext holds; the record's
        # Plaintext is worked out from the same key, record and seq only if
        # something reads it.  The usual record (it opens, and is not padded)
        # is opened here: RecordProtection.open_tls13 inline, with the parts
        # of the key read once (_opening).  A padded record goes through
        # open_tls13; whatever does not open cleanly takes the general route
        # below, with its located errors.
        fragment = rec.fragment
        inner = None
        if opening is not None and len(fragment) > tag_length:
            try:
                inner = aead_decrypt((iv_int ^ seq).to_bytes(iv_length, "big"), fragment,
                                     pack(rec.content_type, rec.legacy_version, len(fragment)))
            except Exception:  # (as in open_tls13: the general route says which error)
                pass
        if inner is not None and inner[-1]:
            ctype = inner[-1]
            content = inner[:-1]
            opened = True
        else:
            opened = prot.open_tls13(rec.content_type, rec.legacy_version, fragment, seq)
            if opened is not None:
                ctype, content = opened
        if opened is not None:
            # (the DecryptedRecord's row: _records_of makes it, its ``plaintext``
            # left for DecryptedRecord.__getattr__, if the records are read)
            add_record((index, epoch_name, secret_name, rec.span.frames, prot, rec, seq))
        else:
            try:
                plaintext = _open(prot, rec, seq)
            except DecryptionError as exc:
                handshake_prot = protections["handshake"]
                if epoch == "early" and handshake_prot is not None:
                    # Early data ended (or was rejected, RFC 8446 §4.2.10): try the
                    # handshake keys from seq 0.
                    try:
                        plaintext = _open(handshake_prot, rec, 0)
                    except DecryptionError:
                        pass
                    else:
                        epoch, prot, seq = "handshake", handshake_prot, 0
                        exc = None  # type: ignore[assignment]
                        opening = _opening(prot)
                        aead_decrypt, iv_int, iv_length, tag_length = opening or _NO_OPENING
                        epoch_name = epoch if generation == 0 else f"{epoch} {generation}"
                        secret_name = prot.secret_name
                if exc is not None:
                    if (client and epoch == "handshake" and not state.records
                            and protections["early"] is None and _offers_early_data(state.tls)):
                        # Most likely 0-RTT data, which needs a secret we do not have.
                        label = keylog_mod.CLIENT_EARLY_TRAFFIC_SECRET
                        state.warn(f"no key for 0-RTT early data: the key log has no {label} for "
                                   f"client_random {state.tls.client_random.hex()}", rec, field=label)
                    else:
                        state.warnings.append(str(exc.with_context(
                            frame=rec.span.frames[0] if rec.span.frames else None)))
                    state.failed_at = position
                    return
            ctype, content = plaintext.content_type, plaintext.content
            add_record(_new_decrypted_record(index, epoch_name, secret_name, plaintext,
                                             rec.span.frames))
        seq += 1
        if ctype == _APPLICATION_DATA:  # (most records: no key change can follow)
            add_app(content)
            continue
        switch: str | None = None
        if ctype == _ALERT:
            state.alert(rec, content)
        elif ctype == _HANDSHAKE:
            for entry in state.handshake_bytes(rec, content):
                if epoch == "early" and entry.name == "EndOfEarlyData":
                    switch = "handshake"
                elif epoch == "handshake" and entry.name == "Finished":
                    switch = "application"
                elif epoch == "application" and entry.name == "KeyUpdate":
                    switch = "update"
        else:
            state.warn(f"unexpected inner content type {ctype} in a TLS 1.3 record", rec,
                       "TLSInnerPlaintext.type", cls=DecryptionError)
        if switch is None:
            continue
        if state.reassembler.pending:
            # RFC 8446 §5.1: handshake messages MUST NOT span key changes.
            state.warn("handshake message spans a key change (RFC 8446 §5.1)", rec,
                       "Handshake", cls=DecryptionError)
        seq = 0
        if switch == "update":
            if app_secret is None:
                prot = None
                continue
            generation += 1
            d = next_traffic_secret(app_secret, params.prf_hash)
            app_secret = d.output
            label = f"{labels['application']} +{generation}"
            state.trace.extend(_renamed(d.trace, label))
            prot = RecordProtection.tls13(app_secret, params, secret_name=label,
                                          direction=direction)
            state.trace.extend(_renamed(prot.trace, label))
        else:
            epoch = switch
            prot = protections[epoch]
        opening = _opening(prot)
        aead_decrypt, iv_int, iv_length, tag_length = opening or _NO_OPENING
        epoch_name = epoch if generation == 0 else f"{epoch} {generation}"
        secret_name = prot.secret_name if prot is not None else None


# ===========================================================================
# 3. The connection
# ===========================================================================


def decrypt_connection(tls: TlsHandshake, streams: Mapping[Direction, RecordStream],
                       keys: ConnectionKeys, *, keylog: KeyLog | None = None,
                       rsa_keys: Sequence[ServerKey] = ()) -> Decryption:
    """Decrypt both directions and merge the decrypted handshake into the view.

    TLS 1.2 renegotiation (RFC 5246 §7.4.1.1): each direction is decrypted up
    to its ChangeCipherSpec of the new handshake; the keys of that handshake
    are then found from its (decrypted) ClientHello, ServerHello and
    ClientKeyExchange exactly as for a first handshake (:func:`connection_keys`
    with *keylog* and *rsa_keys*), and both directions go on with them.

    Args:
        tls: the plaintext handshake view.
        streams: each direction's records.
        keys: from :func:`connection_keys`.
        keylog, rsa_keys: the key material, for renegotiated handshakes.
    """
    context = tls.context
    # Both directions' scratch and encrypted records side by side, in
    # _DIRECTIONS order (lists, not dicts keyed by Direction: hashing an Enum
    # member is a Python-level call, and this ran about twenty per connection).
    all_states = [_Direction(tls, streams[d], d, context) for d in _DIRECTIONS]
    all_encrypted = [tls.encrypted_records(d) for d in _DIRECTIONS]
    renegotiations: list[ConnectionKeys] = []
    live = [(state, enc) for state, enc in zip(all_states, all_encrypted) if enc]
    if not keys.usable:
        for state, _ in live:
            state.failed_at = 0
    elif keys.tls13:
        for state, enc in live:
            _open_tls13(state, enc, keys)
    else:
        states = dict(zip(_DIRECTIONS, all_states))
        steps = [_open_tls12(state, enc, keys) for state, enc in live]
        paused = []
        for step in steps:
            try:
                next(step)
                paused.append(step)
            except StopIteration:
                pass
        while paused:
            new_keys = _renegotiated_keys(tls, states, keylog, rsa_keys)
            renegotiations.append(new_keys)
            still = []
            for step in paused:
                try:
                    step.send(new_keys)
                    still.append(step)
                except StopIteration:
                    pass
            paused = still

    view = tls
    # A connection with nothing encrypted (an aborted handshake) needs no key.
    warnings = list(keys.warnings) if live else []
    for extra in renegotiations:
        warnings.extend(f"renegotiation: {w}" for w in extra.warnings)
    results = []
    for state, enc in zip(all_states, all_encrypted):
        direction = state.direction
        result = state.result(enc)
        results.append(result)
        warnings.extend(result.warnings)
        if not state.records:  # (result.records, without making them)
            continue
        kept: tuple[HandshakeEntry, ...] = ()
        if result.undecrypted:
            # Keep the entries of records that stayed encrypted (after a failure).
            left = set(result.undecrypted)
            kept = tuple(e for e in tls.messages(direction)
                         if e.encrypted and e.message is None and e.records
                         and e.records[0] in left)
        view = view.with_decrypted(direction, result.handshake + kept)
    directions: dict[Direction, DirectionDecryption] = dict(zip(_DIRECTIONS, results))
    return _new_decryption(keys, directions, view, tuple(renegotiations), tuple(warnings))


def _renegotiated_keys(tls: TlsHandshake, states: Mapping[Direction, _Direction],
                       keylog: KeyLog | None, rsa_keys: Sequence[ServerKey]) -> ConnectionKeys:
    """Keys of the newest renegotiated handshake, from its decrypted messages."""
    client = list(states[CLIENT].handshake)
    server = list(states[SERVER].handshake)
    ch_at = max((i for i, e in enumerate(client) if isinstance(e.message, ClientHello)), default=None)
    sh_at = max((i for i, e in enumerate(server) if isinstance(e.message, ServerHello)), default=None)
    if ch_at is None or sh_at is None:
        return ConnectionKeys(version=_version_int(tls), params=None, warnings=(
            "the new handshake's ClientHello or ServerHello was not decrypted",))
    ch, sh = client[ch_at].message, server[sh_at].message
    view = dataclasses.replace(
        tls, client_messages=tuple(client[ch_at:]), server_messages=tuple(server[sh_at:]),
        version=sh.selected_version, cipher_suite=sh.cipher_suite,
        client_random=ch.random, server_random=sh.random, client_hello=ch, server_hello=sh,
        extended_master_secret=sh.extension(ExtensionType.extended_master_secret) is not None,
        encrypt_then_mac=sh.extension(ExtensionType.encrypt_then_mac) is not None,
        hello_retry=False, hello_retry_request=None,
        resumed=not any(e.name == "Certificate" for e in server[sh_at:]),
    )
    return connection_keys(view, keylog, rsa_keys)

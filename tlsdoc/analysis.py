"""The pipeline: a capture file in, one analysis per TCP connection out.

This is the only module that wires the stages together (DESIGN.md, "Data
flows one way")::

    capture.read_frames → capture.decode_segment → tcp.Reassembler
      → records.parse_records (per direction) → handshake.parse_handshake
      → session.connection_keys → session.decrypt_connection   (with key material)
      → checks.run_checks, http.parse_http

Each connection is analysed as soon as TCP reports it complete, and
connections are handed out in the order of their first frame (as
Wireshark numbers ``tcp.stream``), so memory follows the number of
connections open at once, not the size of the file.

Two entry points:

* :func:`iter_analyze` streams (the CLI uses it on captures of any size);
* :func:`analyze` collects everything into a frozen :class:`Analysis` and
  caches it per process (the Sphinx extension and the tests use it).

Key material (a key log, server RSA keys, a CA bundle) is read once, before
the first connection, through :func:`tlsdoc.capture.read_bytes` (a key
log block by block, :func:`tlsdoc.capture.read_blocks`); it only
adds decrypted views: parsing never needs keys.

Problems that still allow a partial result become located warnings; a
file that cannot be read at all raises :class:`~tlsdoc.errors.CaptureError`,
and unusable key material :class:`~tlsdoc.errors.KeyMaterialError`.

Never imports render, sphinxext or cli.
"""

from __future__ import annotations

import datetime
import heapq
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from tlsdoc import capture, handshake, http, manifest, records, session, tcp
from tlsdoc.errors import KeyMaterialError, TlsdocError
from tlsdoc.keylog import KeyLog, parse_keylog
from tlsdoc.keyschedule import load_private_key
from tlsdoc.wire import Direction

if TYPE_CHECKING:
    # Imported where it is used: the checks (and the cryptography.x509 they
    # need) cost about a fifth of the start-up, and only ``verify`` and a CA
    # bundle use them.
    from tlsdoc import checks

__all__ = [
    "Analysis",
    "ConnectionAnalysis",
    "KeyMaterial",
    "Run",
    "analyze",
    "iter_analyze",
    "check_manifest",
    "load_key_material",
]

# Iterating the Direction enum itself goes through EnumType.__iter__ each time.
_DIRECTIONS = tuple(Direction)

#: How often (in frames) the progress callback is told the file position.
PROGRESS_EVERY = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionAnalysis:
    """Everything known about one TCP connection.

    Attributes:
        index: 0-based, in the order of the connection's first frame
            (like Wireshark's ``tcp.stream``).
        tcp: the reassembled connection (3-way handshake, both streams).
        records: each direction's TLS records, or ``None`` when the
            connection does not carry TLS.
        tls: the TLS handshake view, or ``None`` when not TLS.  With keys,
            the decrypted messages take the place of the ``Encrypted``
            entries (and ALPN comes from EncryptedExtensions in TLS 1.3).
        warnings: located, one-line problems found in this connection.
        keys: the connection's keys and their working
            (:func:`tlsdoc.session.connection_keys`); None when no key
            material was given or the connection is not TLS.
        decryption: each direction's opened records, decrypted handshake
            messages and application data
            (:func:`tlsdoc.session.decrypt_direction`); None without keys.
        application_data: per direction, the decrypted application data
            (records, length, SHA-256, bytes), or None when that direction
            was not (completely) decrypted.
        decrypted: keys were found and every encrypted record opened.
        http: the HTTP/1.1 exchanges found in the decrypted application
            data (or, for a plain TCP connection, in its payload), or None
            when there was nothing readable to look at.
        checks: the verification results (:func:`tlsdoc.checks.run_checks`)
            when they were asked for (``tlsdoc verify``, :func:`analyze`);
            empty for a non-TLS connection.

    The RSA route of TLS 1.2, step by step:

    >>> key = "captures/pki/www.example.com.DEMO-ONLY.key.pem"
    >>> c = analyze("captures/tls12-rsa.pcapng", keys=(key,)).connections[0]
    >>> c.keys.source
    'RSA key captures/pki/www.example.com.DEMO-ONLY.key.pem'
    >>> [step.name for step in c.keys.trace][:4]
    ['encoded message', 'pre_master_secret', 'session_hash', 'master_secret']
    >>> first = c.decryption[Direction.CLIENT_TO_SERVER].records[0]
    >>> first.epoch, first.seq, first.plaintext.nonce_rule
    ('TLS 1.2', 0, 'salt ‖ nonce_explicit (RFC 5288 §3)')
    >>> c.application_data[Direction.SERVER_TO_CLIENT].length
    380
    """

    index: int
    tcp: tcp.Connection
    records: dict[Direction, records.RecordStream] | None
    tls: handshake.TlsHandshake | None
    warnings: tuple[str, ...] = ()
    keys: session.ConnectionKeys | None = None
    decryption: dict[Direction, session.DirectionDecryption] | None = None
    application_data: dict[Direction, session.ApplicationData | None] = field(
        default_factory=lambda: dict.fromkeys(_DIRECTIONS))
    decrypted: bool = False
    http: http.HttpConversation | None = None
    checks: tuple[checks.CheckResult, ...] = ()

    @property
    def is_tls(self) -> bool:
        return self.tls is not None


# A frozen dataclass's __init__ sets each field through object.__setattr__;
# _new_connection sets the slots directly (every field, in order; there is
# no __post_init__).  tests/test_analysis_fuzz.py holds it equal to __init__.
(_c0, _c1, _c2, _c3, _c4, _c5, _c6, _c7, _c8, _c9, _c10) = (
    getattr(ConnectionAnalysis, f.name).__set__ for f in fields(ConnectionAnalysis))
_new_object = object.__new__


def _new_connection(index, tcp, records, tls, warnings, keys, decryption, application_data,
                    decrypted, http, checks) -> ConnectionAnalysis:
    obj = _new_object(ConnectionAnalysis)
    _c0(obj, index); _c1(obj, tcp); _c2(obj, records); _c3(obj, tls); _c4(obj, warnings)  # noqa: E702
    _c5(obj, keys); _c6(obj, decryption); _c7(obj, application_data); _c8(obj, decrypted)  # noqa: E702
    _c9(obj, http); _c10(obj, checks)  # noqa: E702
    return obj


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyMaterial:
    """Key material read once for a whole capture.

    Attributes:
        keylog: the parsed key log, or None.
        rsa_keys: server private keys to try on RSA ClientKeyExchanges.
        ca: trusted CA certificates for the chain check, or None.
        checks: whether to run the checks on each TLS connection.
        warnings: problems with the material that still allow its use
            (skipped key-log lines).
    """

    keylog: KeyLog | None = None
    rsa_keys: tuple[session.ServerKey, ...] = ()
    ca: tuple | None = None
    checks: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        """True when any key material was supplied (then missing keys are warned about)."""
        return self.keylog is not None or bool(self.rsa_keys)


#: At most this many skipped key-log lines are reported one by one.
MAX_KEYLOG_WARNINGS = 5


def load_key_material(
    keylog: str | os.PathLike[str] | None = None,
    keys: tuple[str | os.PathLike[str], ...] = (),
    ca: str | os.PathLike[str] | None = None,
    *,
    run_checks: bool = False,
) -> KeyMaterial:
    """Read and parse a key log, server keys and a CA bundle.

    Malformed key-log lines are skipped with a warning (at most
    :data:`MAX_KEYLOG_WARNINGS` listed); a file with no usable line at all
    is an error.

    Raises:
        CaptureError: a file is missing or unreadable.
        KeyMaterialError: the key log has no valid line, a key file is not
            a private key, or the CA file holds no PEM certificate.
    """
    parsed = None
    warnings: list[str] = []
    if keylog is not None:
        name = os.fspath(keylog)
        # block by block: a key log grows with its capture, and held whole
        # (with its parse) it was what made memory grow with the file
        parsed = parse_keylog(capture.read_blocks(name), source=name, strict=False)
        if not parsed.entries and parsed.warnings:
            raise KeyMaterialError(f"{name}: not an NSS key log ({parsed.warnings[0]})")
        warnings.extend(parsed.warnings[:MAX_KEYLOG_WARNINGS])
        if len(parsed.warnings) > MAX_KEYLOG_WARNINGS:
            warnings.append(f"{name}: {len(parsed.warnings) - MAX_KEYLOG_WARNINGS} more "
                            "malformed key log lines skipped")
    loaded = []
    for path in keys:
        name = os.fspath(path)
        try:
            key = load_private_key(capture.read_bytes(name))
        except KeyMaterialError as exc:
            raise KeyMaterialError(f"{name}: {exc.message}") from None
        loaded.append(session.ServerKey(name=name, key=key))
    if run_checks or ca is not None:
        # (before any worker process is forked, so that they all have it)
        from tlsdoc import checks
    trusted = None
    if ca is not None:
        name = os.fspath(ca)
        trusted = checks.load_ca_bundle(capture.read_bytes(name), source=name)
    return KeyMaterial(keylog=parsed, rsa_keys=tuple(loaded), ca=trusted, checks=run_checks,
                       warnings=tuple(warnings))


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """A whole capture, analysed."""

    capture: str
    connections: tuple[ConnectionAnalysis, ...]
    warnings: tuple[str, ...]

    def connection(self, index: int = 0) -> ConnectionAnalysis:
        """The *index*-th connection, with a clear error when there is none."""
        try:
            return self.connections[index]
        except IndexError:
            raise capture_error(
                f"no connection #{index} (the capture has {len(self.connections)})",
                self.capture,
            ) from None


def capture_error(message: str, name: str) -> TlsdocError:
    from tlsdoc.errors import CaptureError

    return CaptureError(message, capture=name)


@dataclass(slots=True)
class Run:
    """An analysis in progress: iterate it for connections; ``warnings`` fills as it goes."""

    capture: str
    _connections: Iterator[ConnectionAnalysis]
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[ConnectionAnalysis]:
        return self._connections


def iter_analyze(
    path: str | os.PathLike[str],
    *,
    keylog: str | os.PathLike[str] | None = None,
    keys: tuple[str | os.PathLike[str], ...] = (),
    ca: str | os.PathLike[str] | None = None,
    run_checks: bool = False,
    on_progress: Callable[[int], None] | None = None,
    material: KeyMaterial | None = None,
) -> Run:
    """Analyse *path* connection by connection (streaming).

    The file is opened (and checked against ``captures/MANIFEST`` when it is
    a bundled capture), and the key material read, before this returns, so
    unusable input raises here.

    Args:
        path: a pcap or pcapng file.
        keylog: an NSS key log (SSLKEYLOGFILE).
        keys: server RSA private keys (PEM or DER), tried in order on RSA
            key exchanges.
        ca: trusted CA certificates (PEM) for the chain check.
        run_checks: run :func:`tlsdoc.checks.run_checks` on each TLS
            connection (``tlsdoc verify``).
        on_progress: called now and then with the file position.
        material: the key material, read already by :func:`load_key_material`
            after :func:`check_manifest` (then *keylog*, *keys*, *ca* and
            *run_checks* are not used, and the manifest is not checked again).

    Raises:
        CaptureError: the capture or a key file is missing, unreadable, not
            pcap/pcapng, or a bundled capture whose hash does not match the
            manifest.
        KeyMaterialError: the key log or a key file cannot be used.
    """
    name = os.fspath(path)
    if material is None:
        _check_manifest(Path(name))
        material = load_key_material(keylog, keys, ca, run_checks=run_checks)
    cap = capture.open_capture(name)
    warnings: list[str] = list(material.warnings)
    return Run(name, _connections(cap, name, warnings, on_progress, material), warnings)


def check_manifest(path: str | os.PathLike[str]) -> None:
    """Refuse a bundled capture that differs from its MANIFEST entry (see :func:`iter_analyze`).

    Raises:
        CaptureError: the capture's hash does not match the manifest.
    """
    _check_manifest(Path(os.fspath(path)))


def _check_manifest(path: Path) -> None:
    """Refuse a bundled capture that differs from its MANIFEST entry.

    A capture is "bundled" when a MANIFEST in its own directory lists it;
    a reader's own captures elsewhere are not affected.
    """
    listing = path.resolve().parent / manifest.MANIFEST_NAME
    if not listing.is_file() or not path.is_file():
        return
    bundle = manifest.load_manifest(listing)
    if bundle.get(path.name) is not None:
        manifest.verify_file(path, bundle)


#: Completed connections wait (to be handed out in first-frame order) until
#: every connection that started before them has completed.  A connection
#: that stays open for the whole capture would make everyone wait, so past
#: this many waiting connections the earliest is handed out anyway (its
#: ``index`` still says where it started).
MAX_WAITING = 4096


def _connections(
    cap: capture.Capture,
    name: str,
    warnings: list,
    on_progress: Callable[[int], None] | None,
    material: KeyMaterial = KeyMaterial(),
) -> Iterator[ConnectionAnalysis]:
    """Segments → connections → analyses, in the order of their first frame.

    (:mod:`tlsdoc.shares` replays this order for worker processes: keep the
    two in step.)
    """
    reassembler = tcp.Reassembler(warn=warnings.append, name=name)
    ready: list[tuple[int, tcp.Connection]] = []  # heap keyed by Connection.index
    next_index = 0

    def release(force: bool) -> Iterator[ConnectionAnalysis]:
        nonlocal next_index
        while ready and (force or ready[0][0] == next_index or len(ready) > MAX_WAITING):
            _, conn = heapq.heappop(ready)
            next_index = max(next_index, conn.index + 1)
            result = _analyse_connection(conn, name, material)
            warnings.extend(result.warnings)
            yield result

    with cap:
        for count, segment in enumerate(cap.segments(warn=warnings.append), 1):
            if on_progress is not None and count % PROGRESS_EVERY == 0:
                on_progress(cap.position())
            done = reassembler.feed(segment)
            if done:
                for conn in done:
                    heapq.heappush(ready, (conn.index, conn))
                yield from release(False)
        for conn in reassembler.finish():
            heapq.heappush(ready, (conn.index, conn))
        yield from release(True)


def _analyse_connection(conn: tcp.Connection, name: str,
                        material: KeyMaterial = KeyMaterial()) -> ConnectionAnalysis:
    """One TCP connection → records and handshake if it carries TLS, then decryption."""
    local: list[str] = []
    client_data = conn.stream(Direction.CLIENT_TO_SERVER).data
    server_data = conn.stream(Direction.SERVER_TO_CLIENT).data
    first = client_data or server_data
    if not records.looks_like_tls(first):
        conversation = None
        if http.looks_like_http(client_data):
            conversation = _http(conn, client_data, server_data, None)
            local.extend(f"{name}: connection #{conn.index}: {w}" for w in conversation.warnings)
        return _new_connection(conn.index, conn, None, None, tuple(local), None, None,
                               dict.fromkeys(_DIRECTIONS), False, conversation, ())
    streams: dict[Direction, records.RecordStream] = {}
    for direction in _DIRECTIONS:
        stream = conn.stream(direction)
        result = records.parse_records(stream.data, direction, stream.frames_for, stream.chunk_table())
        if result.warnings:
            local.extend(f"{name}: {w}" for w in result.warnings)
        streams[direction] = result
    try:
        view = handshake.parse_handshake(
            streams[Direction.CLIENT_TO_SERVER], streams[Direction.SERVER_TO_CLIENT]
        )
    except TlsdocError as exc:
        local.append(str(exc.with_context(capture=name)))
        view = None
    else:
        if view.warnings:
            local.extend(f"{name}: {w}" for w in view.warnings)
    keys = decryption = None
    app: dict[Direction, session.ApplicationData | None] = dict.fromkeys(_DIRECTIONS)
    decrypted = False
    if view is not None and material.given:
        keys = session.connection_keys(view, material.keylog, material.rsa_keys)
        opened = session.decrypt_connection(view, streams, keys, keylog=material.keylog,
                                            rsa_keys=material.rsa_keys)
        if opened.warnings:
            local.extend(f"{name}: connection #{conn.index}: {w}" for w in opened.warnings)
        view = opened.tls
        decryption = dict(opened.directions)
        app = {d: r.application_data for d, r in opened.directions.items()}
        decrypted = opened.complete
    conversation = None
    client_app, server_app = app[Direction.CLIENT_TO_SERVER], app[Direction.SERVER_TO_CLIENT]
    if (client_app is not None and client_app.data) or (server_app is not None and server_app.data):
        # One side alone still shows its half: requests, or responses.
        conversation = _http(conn, client_app.data if client_app is not None else None,
                             server_app.data if server_app is not None else None,
                             view.alpn if view is not None else None)
        if conversation.protocol is None and not conversation.warnings:
            conversation = None
        elif conversation.warnings:
            local.extend(f"{name}: connection #{conn.index}: {w}" for w in conversation.warnings)
    results: tuple[checks.CheckResult, ...] = ()
    if view is not None and material.checks:
        from tlsdoc import checks  # (imported by load_key_material already)

        when = None  # the chain is checked as of the capture's time; now if it has none
        if conn.first_time_ns is not None:
            try:
                when = datetime.datetime.fromtimestamp(conn.first_time_ns / 1e9, datetime.timezone.utc)
            except (ValueError, OverflowError, OSError):
                when = None  # a timestamp no calendar holds
        results = checks.run_checks(view, keys, ca=material.ca, when=when,
                                    server_address=conn.server[0])
    return _new_connection(conn.index, conn, streams, view, tuple(local), keys, decryption, app,
                           decrypted, conversation, results)


def _closed(conn: tcp.Connection, direction: Direction) -> bool:
    """Whether *direction*'s stream was seen to end, with nothing missing before it."""
    stream = conn.stream(direction)
    return stream.complete and (stream.fin_frame is not None or conn.closed_by == "RST")


def _http(conn: tcp.Connection, client: bytes | None, server: bytes | None,
          alpn: str | None) -> http.HttpConversation:
    return http.parse_http(
        client, server, alpn=alpn,
        client_closed=_closed(conn, Direction.CLIENT_TO_SERVER),
        server_closed=_closed(conn, Direction.SERVER_TO_CLIENT),
    )


_CACHE: dict[tuple, Analysis] = {}


def analyze(
    path: str | os.PathLike[str],
    *,
    keylog: str | os.PathLike[str] | None = None,
    keys: tuple[str | os.PathLike[str], ...] = (),
    ca: str | os.PathLike[str] | None = None,
) -> Analysis:
    """Analyse a whole capture, checks included; cached per process.

    The cache is keyed by every input file's name as given, resolved path,
    size and mtime (capture, key log, keys, CA), so an edited file is
    analysed again.

    >>> a = analyze("captures/tls13.pcapng", keylog="captures/tls13.keys")
    >>> c = a.connections[0]
    >>> [m.name for m in c.tls.server_messages][1:4]
    ['EncryptedExtensions', 'Certificate', 'CertificateVerify']
    >>> c.http.exchanges[0].response.start_line
    'HTTP/1.0 200 ok'
    >>> [(k.name, str(k.status)) for k in c.checks][:2]
    [('client Finished', 'passed'), ('server Finished', 'passed')]

    Raises:
        CaptureError: see :func:`iter_analyze`.
        KeyMaterialError: see :func:`iter_analyze`.
    """

    def stamp(p) -> tuple | None:
        # The name as given is part of the key: results quote it (warnings,
        # the key source), so another spelling of the same file is another entry.
        if p is None:
            return None
        resolved = Path(p).resolve()
        return (os.fspath(p), str(resolved), *_stat(resolved))

    key = (stamp(path), stamp(keylog), tuple(stamp(k) for k in keys), stamp(ca))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    run = iter_analyze(path, keylog=keylog, keys=tuple(keys), ca=ca, run_checks=True)
    connections = tuple(run)
    result = Analysis(
        capture=run.capture,
        connections=connections,
        warnings=tuple(run.warnings),
    )
    _CACHE[key] = result
    return result


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)

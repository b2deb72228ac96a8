"""The pipeline: a capture file in, one analysis per TCP connection out.

This is the only module that wires the stages together (DESIGN.md, "Data
flows one way")::

    capture.read_frames → capture.decode_segment → tcp.Reassembler
      → records.parse_records (per direction) → handshake.parse_handshake

Each connection is analysed as soon as TCP reports it complete, and
connections are handed out in the order of their first frame (as
Wireshark numbers ``tcp.stream``), so memory follows the number of
connections open at once, not the size of the file.

Two entry points:

* :func:`iter_analyze` streams (the CLI uses it on captures of any size);
* :func:`analyze` collects everything into a frozen :class:`Analysis` and
  caches it per process (the Sphinx extension and the tests use it).

Problems that still allow a partial result become located warnings; a
file that cannot be read at all raises :class:`~tlsdoc.errors.CaptureError`.

Never imports render, sphinxext or cli.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from tlsdoc import capture, handshake, manifest, records, tcp
from tlsdoc.errors import DecodeError, TlsdocError
from tlsdoc.wire import Direction

__all__ = ["Analysis", "ConnectionAnalysis", "Run", "analyze", "iter_analyze"]

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
        tls: the TLS handshake view, or ``None`` when not TLS.
        warnings: located, one-line problems found in this connection.
    """

    index: int
    tcp: tcp.Connection
    records: dict[Direction, records.RecordStream] | None
    tls: handshake.TlsHandshake | None
    warnings: tuple[str, ...] = ()

    @property
    def is_tls(self) -> bool:
        return self.tls is not None


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
    on_progress: Callable[[int], None] | None = None,
) -> Run:
    """Analyse *path* connection by connection (streaming).

    The file is opened (and checked against ``captures/MANIFEST`` when it is
    a bundled capture) before this returns, so an unusable file raises here.

    Raises:
        CaptureError: the file is missing, unreadable, not pcap/pcapng, or a
            bundled capture whose hash does not match the manifest.
    """
    name = os.fspath(path)
    _check_manifest(Path(name))
    cap = capture.open_capture(name)
    warnings: list[str] = []
    return Run(name, _connections(cap, name, warnings, on_progress), warnings)


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
    warnings: list[str],
    on_progress: Callable[[int], None] | None,
) -> Iterator[ConnectionAnalysis]:
    """Segments → connections → analyses, in the order of their first frame."""
    warn = warnings.append
    reassembler = tcp.Reassembler(warn=warn, name=name)
    ready: list[tuple[int, tcp.Connection]] = []  # heap keyed by Connection.index
    next_index = 0

    def release(force: bool) -> Iterator[ConnectionAnalysis]:
        nonlocal next_index
        while ready and (force or ready[0][0] == next_index or len(ready) > MAX_WAITING):
            _, conn = heapq.heappop(ready)
            next_index = max(next_index, conn.index + 1)
            result = _analyse_connection(conn, name)
            warnings.extend(result.warnings)
            yield result

    with cap:
        for count, segment in enumerate(cap.segments(warn=warn), 1):
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


def _analyse_connection(conn: tcp.Connection, name: str) -> ConnectionAnalysis:
    """One TCP connection → records and handshake, if it carries TLS."""
    local: list[str] = []
    client_data = conn.stream(Direction.CLIENT_TO_SERVER).data
    server_data = conn.stream(Direction.SERVER_TO_CLIENT).data
    first = client_data or server_data
    if not records.looks_like_tls(first):
        return ConnectionAnalysis(index=conn.index, tcp=conn, records=None, tls=None)
    streams: dict[Direction, records.RecordStream] = {}
    for direction in Direction:
        stream = conn.stream(direction)
        result = records.parse_records(stream.data, direction, stream.frames_for)
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
        local.extend(f"{name}: {w}" for w in view.warnings)
    return ConnectionAnalysis(
        index=conn.index, tcp=conn, records=streams, tls=view, warnings=tuple(local)
    )


_CACHE: dict[tuple, Analysis] = {}


def analyze(
    path: str | os.PathLike[str],
    *,
    keylog: str | os.PathLike[str] | None = None,
    keys: tuple[str | os.PathLike[str], ...] = (),
) -> Analysis:
    """Analyse a whole capture; cached per process (keyed by path, size and mtime).

    >>> a = analyze("captures/tls13.pcapng")
    >>> a.connections[0].tls.version.label
    'TLS 1.3'

    Raises:
        CaptureError: see :func:`iter_analyze`.
    """
    resolved = Path(path).resolve()
    inputs = [resolved, *(Path(k).resolve() for k in keys)]
    if keylog is not None:
        inputs.append(Path(keylog).resolve())
    stamp = tuple((str(p), *_stat(p)) for p in inputs)
    key = (stamp, keylog is not None)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    run = iter_analyze(path, keylog=keylog, keys=keys)
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

"""One capture analysed by several processes, with exactly one process's result.

A big capture is shared out by connection: share *k* of *n* is every TCP
connection whose endpoints :func:`tlsdoc.capture.share_of` puts in share
*k* (both directions of a connection fall in the same share).  Each worker
process reads the whole file, but builds, reassembles and analyses only its
own share's segments (:func:`iter_share_events`); a frame of another share
costs one header unpack.

What one process (:func:`tlsdoc.analysis.iter_analyze`) does in one pass,
in the order of the frames, is then rebuilt by the parent
(:class:`ShareMerge`) from the workers' events, merged by frame:

* connections are numbered in the order of their first frame (Wireshark's
  ``tcp.stream``).  A worker numbers only its own, so the index it prints
  is a *mark* (:func:`marked_index`) that the merge replaces with the real
  number once every share has read past the connection's first frame;
* connections are handed out in that order as they complete (with
  ``MAX_WAITING``'s escape hatch), and each connection's warnings follow
  the capture's and TCP's warnings met before it was handed out: the merge
  replays :func:`tlsdoc.analysis._connections`'s hand-out rule on the
  events' frame numbers.

The only difference from one process: TCP keeps at most 65,536 tombstones
(closed 4-tuples whose late packets it ignores) per process, so *n* shares
remember up to *n* times as many.  A difference would need more than
65,536 connections to close within two minutes of capture time and a
packet for one of the first of them to arrive after that.

Never imports render, sphinxext or cli.
"""

from __future__ import annotations

import heapq
import os
import re
from collections import deque
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterator

from tlsdoc import analysis, capture, tcp
from tlsdoc.analysis import ConnectionAnalysis, KeyMaterial
from tlsdoc.wire import slot_builder

__all__ = ["Payload", "Released", "ShareMerge", "iter_share_events", "marked_index", "new_token"]

#: Brackets around an index mark: characters no renderer escapes or adds.
_OPEN, _CLOSE = "\u2045", "\u2046"

def new_token() -> str:
    """A random token for one run's index marks: a capture cannot contain it by chance or design."""
    return os.urandom(8).hex()


def marked_index(token: str, share: int) -> type:
    """The int type a share's connection indexes have: formatted, a mark for the merge.

    ``f"#{index}"`` gives ``"#⁅<token>.<share>:<local index>:⁆"`` (the format
    spec is kept, so ``f"{index:>3}"`` comes out as one process writes it);
    arithmetic and comparisons are those of the local index.
    """
    prefix = f"{_OPEN}{token}.{share}:"

    class MarkedIndex(int):
        __slots__ = ()

        def __format__(self, spec: str) -> str:
            return f"{prefix}{int(self)}:{spec}{_CLOSE}"

        def __str__(self) -> str:
            return self.__format__("")

        __repr__ = __str__

    return MarkedIndex


# -- the worker side ------------------------------------------------------------------
#
# Events, in the order met (each key (frame, phase) at least the previous):
#   ("w", (frame, 2), text)          a capture warning met while reading up to frame
#   ("g", (frame, 1), warnings, started, done)
#                                    what feeding one segment did: TCP warnings,
#                                    the local index of the connection it started
#                                    (or None), and the connections it completed as
#                                    (local index, rendered)
#   ("m", (frame, 2))                nothing before this key is still to come (every
#                                    capture.SHARE_MARK_EVERY frames read)
#   ("f", local, warnings, rendered) a connection still open at the end, with the
#                                    TCP warnings its completion gave
# where rendered is what the caller's render() made of the analysis.


def iter_share_events(path: str | os.PathLike[str], share: int, shares: int, token: str,
                      render: "Payload", material: KeyMaterial = KeyMaterial(), *,
                      on_progress: Callable[[int], None] | None = None) -> Iterator[tuple]:
    """Share *share* of *shares* of :func:`tlsdoc.analysis.iter_analyze`'s work, as events.

    Args:
        path: the capture, already checked by the caller (its manifest).
        share, shares: which share this is, of how many.
        token: from :func:`new_token`, the same for every share of a run.
        render: what to send of each analysis: ``(text, extra, warnings)``,
            computed in the worker (text and warnings may carry index marks).
        material: key material, loaded once by the caller.
        on_progress: called with the file position at each mark.

    Raises:
        CaptureError: the capture cannot be opened.
    """
    if not 0 <= share < shares:
        raise ValueError(f"share {share} of {shares}")
    name = os.fspath(path)
    cap = capture.open_capture(name)
    return _events(cap, name, share, shares, marked_index(token, share), render, material, on_progress)


def _events(cap: capture.Capture, name: str, share: int, shares: int, marked: type, render: "Payload",
            material: KeyMaterial, on_progress: Callable[[int], None] | None) -> Iterator[tuple]:
    at = [0]  # the frame being read (capture.read_segments sets it)
    met: list[tuple[tuple[int, int], str]] = []  # capture warnings, keyed where they were met
    pending: list[str] = []  # TCP warnings of the segment being fed (or connection finished)
    feeding = False

    def warn(text: str) -> None:
        if feeding:
            pending.append(text)
        elif share == 0:  # every share meets the capture's warnings; share 0 reports them
            # Met while reading frame at[0] (decoding it, or reading on after
            # it): after everything feeding that frame did, in one process.
            met.append(((at[0], 2), text))

    def analysed(conn: tcp.Connection) -> tuple[int, tuple]:
        local = conn.index
        return local, render(analysis._analyse_connection(_with_index(conn, marked(local)), name, material))

    reassembler = tcp.Reassembler(warn=warn, name=name)
    with cap:
        for seg in cap.segments(warn=warn, share=(share, shares), at=at):
            if met:
                for key, text in met:
                    yield ("w", key, text)
                met.clear()
            if type(seg) is int:  # every frame up to seg has been handled
                if on_progress is not None:
                    on_progress(cap.position())
                yield ("m", (seg, 2))
                continue
            feeding = True
            started = reassembler.started
            done = reassembler.feed(seg)
            feeding = False
            new = started if reassembler.started != started else None
            if done or pending or new is not None:
                yield ("g", (seg.frame, 1), tuple(pending), new, [analysed(c) for c in done])
                pending.clear()
        for key, text in met:  # met after the last segment
            yield ("w", key, text)
        met.clear()
        feeding = True
        for conn in reassembler.iter_finish():
            local, result = analysed(conn)
            yield ("f", local, tuple(pending), result)
            pending.clear()


_ConnectionBuilder = slot_builder(tcp.Connection)
_CONNECTION_FIELDS = tuple(f.name for f in fields(tcp.Connection))


def _with_index(conn: tcp.Connection, index: int) -> tcp.Connection:
    """``dataclasses.replace(conn, index=index)``, once per connection: the same
    value (Connection has no __post_init__) filled as a slot builder, in 0.9 µs
    instead of replace()'s 3 µs through the keyword __init__."""
    new = _ConnectionBuilder()
    for name in _CONNECTION_FIELDS:
        setattr(new, name, getattr(conn, name))
    new.index = index
    new.__class__ = tcp.Connection
    return new


# -- the parent side -------------------------------------------------------------------


@dataclass(slots=True)
class Released:
    """A connection handed out by :class:`ShareMerge`, in one process's order.

    ``text`` is the worker's rendering with the real index in place of each
    mark; ``extra`` is passed through as the worker gave it.
    """

    text: str
    extra: Any


#: What a worker makes of an analysis: its rendering (which may carry
#: index marks), anything else to pass through, and its warnings.
Payload = Callable[[ConnectionAnalysis], tuple[str, Any, tuple[str, ...]]]

#: The key of the events a share sends after all its others ("f").
_LAST = (float("inf"), 0)


def _key(event: tuple) -> tuple:
    """Where in the capture an event was met (see the list of events above)."""
    return _LAST if event[0] == "f" else event[1]


class ShareMerge:
    """Rebuilds one process's order from the shares' events (the parent's side).

    Give it each share's events as they come (:meth:`add`, :meth:`end`) and
    take what they let go (:meth:`merged`); :meth:`waiting_for` says which
    share must send more first.  Events are applied in the order of their
    keys across shares (each share's own are in order; a key is never
    repeated by two shares), an event only once no share can still send an
    earlier one.  ``warnings`` holds every warning, in one process's order,
    with real indexes.  Memory: the events received and not yet applied,
    and one entry per connection started and not yet handed out.
    """

    def __init__(self, token: str, shares: int, max_waiting: int | None = None) -> None:
        self.warnings: list[str] = []
        self._max_waiting = analysis.MAX_WAITING if max_waiting is None else max_waiting
        self._queues: list[deque] = [deque() for _ in range(shares)]
        self._known = [(-1, 0)] * shares  # each share has sent every event keyed below this
        self._ended = [False] * shares
        self._finished_all = False
        self._started = 0  # connections started so far, every share
        self._index: dict[tuple[int, int], int] = {}  # (share, local index) -> index
        self._ready: list[tuple] = []  # heap of (index, share, local, text, extra, warnings)
        self._next = 0
        self._finished: list[tuple] = []
        self._mark = re.compile(re.escape(_OPEN + token) + r"\.(\d+):(\d+):([^" + _CLOSE + "]*)" + _CLOSE)

    # -- what comes in -------------------------------------------------------
    def add(self, share: int, events: list[tuple]) -> None:
        """A batch of *share*'s events, in the order it sent them."""
        if events:
            self._queues[share].extend(events)
            self._known[share] = _key(events[-1])

    def end(self, share: int) -> None:
        """*share* has sent everything."""
        self._ended[share] = True

    def waiting_for(self) -> int | None:
        """The share that must send more before anything else can be merged (None: none)."""
        best = self._best()
        head = None if best is None else _key(self._queues[best][0])
        return next((k for k, queue in enumerate(self._queues)
                     if not queue and not self._ended[k] and (head is None or self._known[k] < head)), None)

    def _best(self) -> int | None:
        best, best_key = None, None
        for k, queue in enumerate(self._queues):
            if queue:
                key = _key(queue[0])
                if best_key is None or key < best_key:
                    best, best_key = k, key
        return best

    # -- what goes out -------------------------------------------------------
    def merged(self) -> Iterator[Released]:
        """The connections that can be handed out now, in order; at the very
        end (every share ended and applied), the rest."""
        while self.waiting_for() is None:
            best = self._best()
            if best is None:
                if not self._finished_all:
                    self._finished_all = True
                    yield from self._finish()
                return
            yield from self._event(best, self._queues[best].popleft())

    def resolve(self, text: str) -> str:
        """*text* with every index mark replaced by the connection's number."""
        if _OPEN not in text:
            return text
        return self._mark.sub(self._number, text)

    def _number(self, m: re.Match) -> str:
        return format(self._index[(int(m[1]), int(m[2]))], m[3])

    def _event(self, share: int, event: tuple) -> list[Released]:
        """Apply one event of *share*; return the connections it lets go."""
        kind = event[0]
        if kind == "w":
            self.warnings.append(self.resolve(event[2]))
            return []
        if kind == "g":
            _, _, warnings, new, done = event
            self.warnings.extend(self.resolve(w) for w in warnings)
            if new is not None:
                self._index[(share, new)] = self._started
                self._started += 1
            if not done:
                return []
            for local, rendered in done:
                heapq.heappush(self._ready, (self._index[(share, local)], share, local, *rendered))
            return self._release(False)
        if kind == "f":
            _, local, warnings, rendered = event
            self._finished.append((self._index[(share, local)], share, local, warnings, *rendered))
            return []
        return []  # "m": only says how far the share has read

    def _finish(self) -> list[Released]:
        """After every share's last event: complete the connections still open, hand out the rest."""
        self._finished.sort(key=lambda f: f[0])
        for index, share, local, warnings, text, extra, conn_warnings in self._finished:
            self.warnings.extend(self.resolve(w) for w in warnings)
            heapq.heappush(self._ready, (index, share, local, text, extra, conn_warnings))
        self._finished = []
        return self._release(True)

    def _release(self, force: bool) -> list[Released]:
        # analysis._connections' release(), on indexes instead of connections.
        out = []
        ready = self._ready
        while ready and (force or ready[0][0] == self._next or len(ready) > self._max_waiting):
            index, share, local, text, extra, conn_warnings = heapq.heappop(ready)
            self._next = max(self._next, index + 1)
            self.warnings.extend(self.resolve(w) for w in conn_warnings)
            out.append(Released(self.resolve(text), extra))
            del self._index[(share, local)]
        return out

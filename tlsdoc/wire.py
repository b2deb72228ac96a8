"""Byte-level primitives shared by every parser: Direction, Span and Cursor
(and slot_builder, how the parsers' loops build their frozen values fast).

Consumes bytes, produces integers, byte strings and nested cursors, each
failure raised as a located :class:`~tlsdoc.errors.DecodeError` (offset and
field filled in).  The cursor mirrors TLS's ``<..>`` length-prefixed vectors
(RFC 8446 §3.4): :meth:`Cursor.vector` returns a sub-cursor limited to the
vector, and :meth:`Cursor.done` checks that a (sub-)cursor was consumed
exactly.  Written by hand because no library offers TLS vectors with
offsets; ``struct`` does the integer decoding.

Must never import anything but :mod:`tlsdoc.errors`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tlsdoc.errors import DecodeError, TruncatedError

__all__ = ["Direction", "Span", "Cursor", "slot_builder"]


class Direction(enum.Enum):
    """Which way bytes travel on a connection.  The client sent the SYN."""

    CLIENT_TO_SERVER = "client"
    SERVER_TO_CLIENT = "server"

    @property
    def sender(self) -> str:
        """``"client"`` or ``"server"``: who sends in this direction."""
        return self.value

    @property
    def reverse(self) -> "Direction":
        return (
            Direction.SERVER_TO_CLIENT
            if self is Direction.CLIENT_TO_SERVER
            else Direction.CLIENT_TO_SERVER
        )

    def __str__(self) -> str:
        return "client→server" if self is Direction.CLIENT_TO_SERVER else "server→client"

    # A member is equal only to itself (Enum's __eq__ is identity), so the
    # identity hash is a valid one; Enum's own hashes the member's name in
    # Python, and directions key dicts in every stage, many times per
    # connection.  (Neither hash is the same from run to run, so no output
    # can depend on it.)
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value lies: ``[start, end)`` in one direction's byte stream.

    ``frames`` are the 1-based numbers of the frames that carried those bytes
    (empty when not known, e.g. for hand-made input).
    """

    direction: Direction | None
    start: int
    end: int
    frames: tuple[int, ...] = ()

    @property
    def length(self) -> int:
        return self.end - self.start


class Cursor:
    """Reads big-endian integers and length-prefixed vectors from bytes.

    ``base`` is the stream offset of ``data[0]`` so errors (and spans) carry
    stream offsets, not offsets into a slice.
    """

    __slots__ = ("data", "pos", "end", "base", "direction", "field")

    def __init__(
        self,
        data: bytes,
        *,
        base: int = 0,
        direction: Direction | None = None,
        field: str | None = None,
        start: int = 0,
        end: int | None = None,
    ) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end
        self.base = base
        self.direction = direction
        self.field = field

    # -- position -------------------------------------------------------
    @property
    def offset(self) -> int:
        """Stream offset of the next byte to read."""
        return self.base + self.pos

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def span(self, start_pos: int) -> Span:
        """Span from an earlier position (as returned by ``pos``) to here."""
        return Span(self.direction, self.base + start_pos, self.base + self.pos)

    def _name(self, field: str | None) -> str | None:
        if self.field and field:
            return f"{self.field}.{field}"
        return field or self.field

    def _need(self, n: int, field: str | None) -> None:
        if n > self.end - self.pos:
            raise TruncatedError(
                f"{n} byte(s) needed, {self.end - self.pos} left",
                direction=str(self.direction) if self.direction else None,
                offset=self.offset,
                field=self._name(field),
            )

    def error(self, message: str, field: str | None = None, **kw) -> DecodeError:
        """A DecodeError located at the cursor's position."""
        return DecodeError(
            message,
            direction=str(self.direction) if self.direction else None,
            offset=kw.pop("offset", self.offset),
            field=self._name(field),
            **kw,
        )

    # -- integers -------------------------------------------------------
    def uint(self, size: int, field: str | None = None) -> int:
        self._need(size, field)
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value

    def u8(self, field: str | None = None) -> int:
        return self.uint(1, field)

    def u16(self, field: str | None = None) -> int:
        return self.uint(2, field)

    def u24(self, field: str | None = None) -> int:
        return self.uint(3, field)

    def u32(self, field: str | None = None) -> int:
        return self.uint(4, field)

    # -- bytes and vectors ----------------------------------------------
    def take(self, n: int, field: str | None = None) -> bytes:
        """The next *n* bytes."""
        self._need(n, field)
        value = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return value

    def rest(self) -> bytes:
        value = bytes(self.data[self.pos : self.end])
        self.pos = self.end
        return value

    def opaque(self, length_size: int, field: str | None = None) -> bytes:
        """``opaque x<..2^(8*length_size)-1>``: a length prefix, then that many bytes."""
        n = self.uint(length_size, field)
        return self.take(n, field)

    def vector(self, length_size: int, field: str | None = None) -> "Cursor":
        """A sub-cursor over a length-prefixed vector; consumes it from this cursor."""
        return self.sub(self.uint(length_size, field), field)

    def sub(self, n: int, field: str | None = None) -> "Cursor":
        """A sub-cursor over the next *n* bytes (no length prefix)."""
        self._need(n, field)
        sub = Cursor(
            self.data,
            base=self.base,
            direction=self.direction,
            field=self._name(field),
            start=self.pos,
            end=self.pos + n,
        )
        self.pos += n
        return sub

    def done(self, field: str | None = None) -> None:
        """Raise unless every byte of this cursor was consumed."""
        if self.pos != self.end:
            raise self.error(
                f"{self.end - self.pos} unexpected trailing byte(s)", field
            )


# Every stage builds frozen slots dataclasses by the thousand per connection
# (spans, records, segments' connections, handshake values).  A frozen
# dataclass's __init__ sets each field through object.__setattr__, or
# through a descriptor call whose argument parsing costs as much again;
# filling a plain object with the same slots and then giving it the frozen
# class costs a fraction of that.  Python has no public way to do this, so
# it is written here, once, for tcp, records, handshake and the rest.
def slot_builder(cls: type) -> type:
    """A mutable class with *cls*'s slots: fill an instance, then set its ``__class__`` to *cls*.

    *cls* is a slots class over object, or over one stateless mixin
    (``__slots__ = ()``), which the builder then has as its base too.

    Only for values whose fields are all set, and checked, by the caller
    (no __init__ or __post_init__ runs).  Raises TypeError at import time if
    *cls*'s layout does not allow the ``__class__`` change (e.g. a base
    class with slots of its own, a ``__dict__``).
    """
    # over object, or over one mixin without state (``__slots__ = ()``, over object)
    bases = cls.__bases__
    plain = bases == (object,) or (
        len(bases) == 1 and bases[0].__dict__.get("__slots__") == () and bases[0].__bases__ == (object,))
    if not plain or "__dict__" in cls.__dict__ or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: not a slots class directly over object")
    builder = type(f"_{cls.__name__}Builder", bases, {"__slots__": cls.__dict__["__slots__"]})
    trial = builder()
    trial.__class__ = cls  # TypeError here if the layouts differ
    return builder

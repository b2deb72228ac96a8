"""HTTP/1.1 requests and responses inside one connection's two byte streams.

Consumes the bytes each side sent — decrypted application data
(:class:`tlsdoc.session.ApplicationData`) or, on a plain TCP connection,
the reassembled payload — and whether each side closed its half.  Produces
a frozen :class:`HttpConversation`: the request/response pairs in order
(:class:`HttpExchange`), each message with its start line exactly as sent,
its headers (names in the sender's case), its body as delivered
(de-chunked), its trailers, how its length was decided, and where it lies
in its stream; plus located warnings.

Theory of operation.  ``h11`` (sans-IO, RFC 9112) does the hard part:
header parsing, and message framing — ``Content-Length``, ``chunked``
(chunk extensions ignored, trailers kept, RFC 9112 §7.1), a body delimited
by the close of the connection, the no-body rules for HEAD, 1xx, 204 and
304 responses (RFC 9112 §6.3).  Two things it does not give a passive
observer, and how they are handled here:

* **The start line as sent.**  h11 normalises what it reports (the version
  as ``b"1.0"``, header names lower-cased), and a handbook must show
  ``HTTP/1.0 200 ok`` as the server wrote it.  We do not parse the start
  line a second time; we *locate* it with h11's parse: h11 consumes exactly
  one message head when it emits a Request or Response event, so the bytes
  consumed by that event (fed minus :attr:`h11.Connection.trailing_data`)
  are the head as sent, and its first line is the start line.  One parser
  decides where every message starts and ends, so the two can never
  disagree.
* **Both halves of the conversation.**  An h11 connection plays one role
  and expects to send the other half itself.  An observer sends nothing,
  so each message is read by a fresh :class:`h11.Connection` started at
  the message's offset; the one reading a response is first told (through
  ``send``, its output discarded) which method the request used, because
  HEAD and CONNECT change how a response is framed.  Telling costs about
  as much as reading a small response, so a response to any other method
  is first read by an untold connection (h11 frames it the same way) and
  read again the general way only when that does not give a final
  response (:func:`_read_response`).

Driving h11 without a Connection.  A :class:`h11.Connection` around the
reading of a head costs a third of it: the connection's state machine,
header scans for keep-alive, Expect and switch proposals, and the body
reader it sets up.  For an observer that reads one message with a fresh
connection, none of that can reject a head h11's reader accepted (a fresh
client may send any Request; a server in IDLE any final Response), so the
usual message, a head followed by no body or a Content-Length body that is
all there, is read by h11's own head readers over h11's receive buffer
(:func:`_fast_head`), fed as :class:`_Reader` feeds a connection.  The same
h11 code decides where the head ends and whether it is well-formed.  A
head without NUL, VT, FF, stray CRs or folded lines (nearly every head) is
read more cheaply still, with h11's expressions and event constructors but
without its per-byte field-value expression (:func:`_direct_head`).
Anything else (an incomplete or malformed head, a 1xx, a chunked body or
one delimited by the close, a body cut short) is read again by the general
path, which decides with a connection as before.  Those readers live in
h11's private modules, so the fast path is on only for the h11 releases
it was checked with (:data:`FAST_H11_VERSIONS`), and tests/test_http_perf.py
holds it equal to the general path.

HTTP/2 (ALPN ``h2`` or the client connection preface) is not decoded: the
result is empty with a warning saying so, never garbage.  A stream that is
not HTTP/1.x at all gives no exchanges (and a warning only when ALPN said
``http/1.1``).

This is the only module that imports ``h11``.  Must never import dpkt,
cryptography, sphinx, nor :mod:`tlsdoc.checks`, :mod:`tlsdoc.analysis`,
:mod:`tlsdoc.render` or :mod:`tlsdoc.cli`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from operator import itemgetter

import h11

#: The h11 releases whose private head readers the fast path has been held
#: equal to the general path with (tests/test_http_perf.py, on the version
#: constraints.txt pins).  Private code may change its meaning without
#: changing its names: any other release takes the general path only.
FAST_H11_VERSIONS = ("0.16.0",)

try:  # h11's head readers and receive buffer, for the fast path (see the module docstring)
    if h11.__version__ not in FAST_H11_VERSIONS:
        raise ImportError(f"h11 {h11.__version__}: not checked for the fast path")
    from h11._readers import maybe_read_from_IDLE_client as _request_head
    from h11._readers import maybe_read_from_SEND_RESPONSE_server as _response_head
    from h11._receivebuffer import ReceiveBuffer as _ReceiveBuffer
    from h11._headers import Headers as _H11Headers
    from h11._abnf import field_name as _field_name
    from h11._readers import request_line_re as _h11_request_line
    from h11._readers import status_line_re as _h11_status_line
    from h11._receivebuffer import blank_line_regex as _h11_blank_line

    _H11Headers._full_items  # (raw name, lower-cased name, value) of each field, in order
except (ImportError, AttributeError):  # an h11 laid out otherwise: every message takes the general path
    _request_head = _response_head = _ReceiveBuffer = None

from tlsdoc.errors import DecodeError
from tlsdoc.wire import Direction

__all__ = [
    "HttpMessage",
    "HttpRequest",
    "HttpResponse",
    "HttpExchange",
    "HttpConversation",
    "parse_http",
    "looks_like_http",
    "looks_like_http_response",
    "HTTP2_PREFACE",
]

_C2S, _S2C = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT

#: The HTTP/2 client connection preface, RFC 9113 §3.4.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# request-line = method SP request-target SP HTTP-version (RFC 9112 §3), with
# method = token (RFC 9110 §9.1 / §5.6.2); checked on the first line only, to
# decide whether a stream is HTTP/1.x before handing it to h11.
_REQUEST_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ \r\n]+ HTTP/\d\.\d\r?\n")
# status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
_STATUS_LINE = re.compile(rb"HTTP/\d\.\d [0-9]{3} ")

#: Framing values, RFC 9112 §6.3.
FRAMINGS = ("content-length", "chunked", "close", "none")

Headers = tuple[tuple[str, str], ...]


def _text(data: bytes) -> str:
    # RFC 9110 §5.5: field values are historically ISO-8859-1; latin-1 keeps
    # every byte as one character, so nothing is lost or invented.
    return bytes(data).decode("latin-1")


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpMessage:
    """One HTTP/1.x message.

    Attributes:
        start_line: the request line or status line exactly as sent, without
            its line ending (``"HTTP/1.0 200 ok"``).
        headers: (name, value) pairs in order, names in the sender's case,
            values without surrounding whitespace.
        body: the body as delivered: de-chunked, not decoded further
            (a ``Content-Encoding`` such as gzip is left as it is).
        trailers: trailer fields of a chunked body.
        framing: how the body length was decided: ``"content-length"``,
            ``"chunked"``, ``"close"`` (read until the connection closed) or
            ``"none"`` (no body by the rules, e.g. a GET or a 304).
        complete: the message ended where its framing says it must; False
            when the stream ended first.
        offset: where the message (its start line) begins in its stream.
        end: where it ends.
        direction: who sent it.
    """

    start_line: str
    headers: Headers
    body: bytes
    trailers: Headers
    framing: str
    complete: bool
    offset: int
    end: int
    direction: Direction

    @property
    def body_sha256(self) -> str:
        """SHA-256 of :attr:`body` (hex)."""
        return hashlib.sha256(self.body).hexdigest()

    def header(self, name: str) -> str | None:
        """The first value of header *name* (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest(HttpMessage):
    """A request; ``method``, ``target`` and ``version`` as h11 parsed them."""

    method: str
    target: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse(HttpMessage):
    """A final (non-1xx) response; ``status``, ``reason`` and ``version`` as parsed.

    Attributes:
        informational: start lines of the 1xx responses that came before it.
    """

    status: int
    reason: str
    version: str
    informational: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpExchange:
    """A request and its response.

    ``response`` is None when the server's stream ended before it (or the
    server's side could not be decrypted); ``request`` is None when only the
    server's side was readable.
    """

    request: HttpRequest | None
    response: HttpResponse | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConversation:
    """The HTTP of one connection.

    Attributes:
        protocol: ``"HTTP/1.1"`` (also for HTTP/1.0 messages), ``"HTTP/2"``
            (not decoded), or None when the streams are not HTTP.
        exchanges: request/response pairs, in order.
        warnings: located, one-line problems (a malformed message, HTTP/2).
    """

    protocol: str | None
    exchanges: tuple[HttpExchange, ...] = ()
    warnings: tuple[str, ...] = ()


# Fast constructors.  A frozen dataclass's __init__ sets each field through
# object.__setattr__, which cost more than the rest of building a message;
# these set the slots directly (the same values: every field, in order, and
# no __post_init__).  tests/test_http_perf.py holds them equal to __init__.
def _slot_setters(cls: type) -> tuple:
    return tuple(getattr(cls, f.name).__set__ for f in fields(cls))


_new_object = object.__new__
# (a subclass's fields come after its base's: the first nine are HttpMessage's)
(_m0, _m1, _m2, _m3, _m4, _m5, _m6, _m7, _m8, _q0, _q1, _q2) = _slot_setters(HttpRequest)
(_a0, _a1, _a2, _a3) = _slot_setters(HttpResponse)[9:]
(_x0, _x1) = _slot_setters(HttpExchange)
(_v0, _v1, _v2) = _slot_setters(HttpConversation)


def _new_message(cls, start_line, headers, body, trailers, framing, complete, offset, end, direction):
    """A cls (HttpRequest or HttpResponse) with the HttpMessage fields set; the caller sets the rest."""
    obj = _new_object(cls)
    _m0(obj, start_line); _m1(obj, headers); _m2(obj, body); _m3(obj, trailers)  # noqa: E702
    _m4(obj, framing); _m5(obj, complete); _m6(obj, offset); _m7(obj, end); _m8(obj, direction)  # noqa: E702
    return obj


def _new_exchange(request: HttpRequest | None, response: HttpResponse | None) -> HttpExchange:
    obj = _new_object(HttpExchange)
    _x0(obj, request); _x1(obj, response)  # noqa: E702
    return obj


def _new_conversation(protocol: str | None, exchanges: tuple = (), warnings: tuple = ()) -> HttpConversation:
    obj = _new_object(HttpConversation)
    _v0(obj, protocol); _v1(obj, exchanges); _v2(obj, warnings)  # noqa: E702
    return obj


def looks_like_http(data: bytes) -> bool:
    """Whether *data* starts with an HTTP/1.x request line (after optional empty lines)."""
    return _REQUEST_LINE.match(bytes(data[:8192]).lstrip(b"\r\n")) is not None


def _warning(message: str, direction: Direction, offset: int, field: str) -> str:
    return str(DecodeError(message, direction=str(direction), offset=offset, field=field))


def _skip_empty_lines(data: bytes, pos: int) -> int:
    # RFC 9112 §2.2: a recipient SHOULD ignore at least one empty line (CRLF)
    # received prior to the request-line; h11 does not, so we do.
    while data.startswith(b"\r\n", pos) or data.startswith(b"\n", pos):
        pos += 2 if data.startswith(b"\r\n", pos) else 1
    return pos


def _framing(headers: Headers, body_allowed: bool, *, request: bool) -> str:
    """How the body length is decided, RFC 9112 §6.3 (what h11 applied)."""
    if not body_allowed:
        return "none"
    # h11 accepts only token (ASCII) names, at most one Transfer-Encoding
    # and only "chunked", and merges equal Content-Lengths into one.
    names = {name.lower() for name, _ in headers}
    if "transfer-encoding" in names:
        return "chunked"
    if "content-length" in names:
        return "content-length"
    return "none" if request else "close"


def _response_has_body(method: bytes, status: int) -> bool:
    # RFC 9112 §6.3 rules 1 and 2: no body in a response to HEAD, in 1xx, 204
    # and 304 responses, nor in a 2xx response to CONNECT.
    if method == b"HEAD" or status < 200 or status in (204, 304):
        return False
    return not (method == b"CONNECT" and 200 <= status < 300)


def _pairs(headers) -> Headers:
    # h11 hands out names and values as bytes: decode them directly.
    return tuple([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw_items()])


#: The stream is given to h11 a piece at a time, from this size up (doubling),
#: as it asks for more.  Giving it the whole rest of the stream for every
#: message copied a long keep-alive stream once per message: time grew with
#: the square of the number of exchanges.
_PIECE = 1 << 12
#: h11's limit on an incomplete message head (its default).  Our readers are
#: made without a limit, since a piece may end inside a head that the rest
#: of the stream completes; _Reader applies it where h11 would have, had it
#: been given the whole stream at once.
_HEAD_LIMIT = 16 * 1024
_NO_LIMIT = 1 << 62


def _connection(role) -> h11.Connection:
    return h11.Connection(role, max_incomplete_event_size=_NO_LIMIT)


class _Reader:
    """An h11 connection reading *data* from *pos*, fed more as it needs it.

    Gives the same events as feeding it ``data[pos:]`` (and the end, when
    *closed*) at once: h11 parses incrementally, and the one check that
    depends on how much it was given (the head size limit) is made here,
    once it has everything, before it is told the stream ended (where h11
    makes it).
    """

    __slots__ = ("conn", "data", "fed", "closed", "ended", "piece")

    def __init__(self, conn: h11.Connection, data: bytes, pos: int, closed: bool) -> None:
        self.conn, self.data, self.fed, self.closed = conn, data, pos, closed
        self.ended = False  # whether h11 was told the stream ended
        self.piece = _PIECE
        self._feed_piece()

    def _feed_piece(self) -> None:
        end = min(len(self.data), self.fed + self.piece)
        self.conn.receive_data(self.data[self.fed:end])
        self.fed = end
        self.piece *= 2

    def next_event(self):
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            if self.fed < len(self.data):
                self._feed_piece()
                continue
            # Everything is given: h11's own check, where h11 would make it.
            if len(self.conn.trailing_data[0]) > _HEAD_LIMIT:
                raise h11.RemoteProtocolError("Receive buffer too long", error_status_hint=431)
            if self.closed and not self.ended:
                self.conn.receive_data(b"")
                self.ended = True
                continue
            return event

    def position(self) -> int:
        """Stream offset of the first byte h11 has not consumed yet.

        ``trailing_data`` copies what is left of what h11 was given (at most
        a piece or two), so this is asked only where an offset is needed.
        """
        return self.fed - len(self.conn.trailing_data[0])


def _line_at(data: bytes, start: int) -> str:
    """The start line of the message head that h11 read at *start*, without its line ending.

    h11 emits a message head only once it has a line feed ending an empty
    line (RFC 9112 §2.2), so the first line feed after *start* is inside
    the head and ends its first line: where the head ends need not be known.
    """
    cut = data.find(b"\n", start)
    if cut < 0:
        cut = len(data)
    if cut > start and data[cut - 1] == 13:  # a CR before the LF is the line ending's
        cut -= 1
    return _text(data[start:cut])


def _read_body(reader: _Reader) -> tuple[bytes, Headers, bool]:
    """Data events up to EndOfMessage: (body, trailers, complete)."""
    pieces = []  # joined once, not grown and then copied
    while True:
        event = reader.next_event()
        if isinstance(event, h11.Data):
            pieces.append(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(pieces), _pairs(event.headers), True
        else:  # NEED_DATA (stream ended), ConnectionClosed, PAUSED
            return b"".join(pieces), (), False


def _content_length(headers: Headers, framing: str) -> int | None:
    """The Content-Length a body is framed by (h11 keeps one, normalised), else None."""
    if framing == "content-length":
        for name, value in headers:
            if name.lower() == "content-length":
                return int(value)
    return None


def _body(reader: _Reader, headers: Headers, framing: str) -> tuple[bytes, Headers, bool, int]:
    """(body, trailers, complete, end) of the message whose head *reader* has just read.

    *headers* and *framing* (:func:`_framing`) are the head's.
    """
    if framing == "none":
        # No body (RFC 9112 §6.3: a request without Content-Length or
        # Transfer-Encoding; a response to HEAD, a 1xx, 204 or 304, a 2xx to
        # CONNECT).  h11 would answer only EndOfMessage, consuming nothing
        # (or, after a tunnel or a protocol switch, PAUSED): it is not asked.
        return b"", (), True, reader.position()
    length = _content_length(headers, framing)
    if length:
        data = reader.data
        head_end = reader.position()
        if len(data) - head_end >= length:
            # Fast path: the whole body is there.  It is the *length* bytes
            # after the head (RFC 9112 §6.3 rule 6), which h11 would copy
            # out twice into a Data event (that we copy again), then end
            # with an EndOfMessage without trailers: one slice instead.
            return data[head_end:head_end + length], (), True, head_end + length
    body, trailers, complete = _read_body(reader)
    return body, trailers, complete, reader.position()


def _fast_head(read_head, data: bytes, pos: int):
    """(event, end of the head) from h11's head reader *read_head* at *pos*, or None.

    The buffer is fed as :class:`_Reader` feeds a connection (pieces from
    _PIECE, doubling) until the reader returns the head.  None when the
    stream ends first or h11 rejects the head: the general path then reads
    it with a connection and says why (head limit, close, error message).
    """
    buf = _ReceiveBuffer()
    fed, piece, size = pos, _PIECE, len(data)
    try:
        while True:
            buf += data[fed:fed + piece]
            fed = min(size, fed + piece)
            event = read_head(buf)
            if event is not None:
                return event, fed - len(buf)
            if fed >= size:
                return None
            piece *= 2
    except h11.LocalProtocolError:
        return None


if _request_head is not None:
    # The start of a header line of the usual head (see _direct_head): h11's
    # field-name (a token), a colon, and the optional whitespace after it.
    _FIELD_START = re.compile(rb"(" + _field_name.encode("ascii") + rb"):[ \t]*")


def _direct_head(data: bytes, pos: int, request: bool):
    """(event, end of the head) of the head at *pos*: :func:`_fast_head`'s answer, read directly.

    Why: h11's head readers check each header line with one regular
    expression whose field-value part tests every byte against a class with
    ``\\s`` in it, some forty instructions a byte, and the bench's requests
    carry a 1-3 KB Cookie; they also copy the head into a receive buffer and
    split it into bytearrays.  This reads the usual head with h11's own
    pieces (its blank-line search, request- and status-line expressions, its
    field-name token, and the event constructors, which normalise and
    validate the fields as the readers' events do) and gives the same
    event; a head that is not usual goes to :func:`_fast_head` whole.

    The usual head: it does not start with an empty line, holds no NUL, VT
    or FF, and every header line is ``token ":" value [CR] LF`` with no
    other CR.  h11 splits the head at LF and drops one CR before each LF;
    then its field expression, ``token ":" OWS field-value OWS``
    (field-value: bytes other than NUL and whitespace, with SP / HTAB runs
    between them), matches each line, with the value the line after the
    colon without its surrounding SP / HTAB and line ending.  The value's
    end is found with a substring search, not by an expression walking the
    value a byte at a time.  A line that starts with SP / HTAB (an obs-fold
    continuation) is not a token line, so folded heads go to h11 too.  A CR
    left in the start line fails h11's start-line expression here as there.
    tests/test_http_perf.py holds this equal to :func:`_fast_head`.
    """
    if data.startswith(b"\n", pos) or data.startswith(b"\r\n", pos):
        return _fast_head(_request_head if request else _response_head, data, pos)
    blank = _h11_blank_line.search(data, pos)  # where h11's receive buffer ends the head
    if blank is None:
        return None  # (_fast_head: the stream ends in the head, or h11 rejects its first byte)
    end = blank.end()
    last = blank.start()  # the LF that ends the last header line (or the start line)
    if data.find(b"\x00", pos, end) >= 0 or data.find(b"\x0b", pos, end) >= 0 \
            or data.find(b"\x0c", pos, end) >= 0:
        return _fast_head(_request_head if request else _response_head, data, pos)
    first = data.find(b"\n", pos)  # ends the start line
    fields = []
    line = first + 1
    match = _FIELD_START.match
    find = data.find
    while line <= last:
        field = match(data, line, end)
        lf = find(b"\n", line)  # ends the line (at most at last)
        if field is None:  # not token ":"
            return _fast_head(_request_head if request else _response_head, data, pos)
        value = data[field.end():lf - 1 if data[lf - 1] == 13 else lf].rstrip(b" \t")
        if value.find(b"\r") >= 0:  # a CR other than the line ending's
            return _fast_head(_request_head if request else _response_head, data, pos)
        fields.append((field.group(1), value))
        line = lf + 1
    if data[first - 1] == 13:  # (first > pos: the head does not start with an empty line)
        first -= 1
    try:
        if request:
            start = _h11_request_line.fullmatch(data, pos, first)
            if start is None:
                return None  # (h11: "illegal request line")
            method, target, version = start.group("method", "target", "http_version")
            return h11.Request(headers=fields, _parsed=True, method=method, target=target,
                               http_version=version), end
        # maybe_read_from_SEND_RESPONSE_server's event, from the same values
        start = _h11_status_line.fullmatch(data, pos, first)
        if start is None:
            return None  # (h11: "illegal status line")
        version, reason, status = start.group("http_version", "reason", "status_code")
        status = int(status)
        return (h11.Response if status >= 200 else h11.InformationalResponse)(
            headers=fields, _parsed=True, status_code=status, reason=b"" if reason is None else reason,
            http_version=b"1.1" if version is None else version), end
    except h11.LocalProtocolError:
        return None


_lower_name = itemgetter(1)


def _fast_message(cls, event, data: bytes, pos: int, head_end: int, body_allowed: bool,
                  direction: Direction):
    """The message whose head h11 read at *pos* (event, head_end), when its body needs no h11.

    Equal to what :func:`_body` and the general readers give, for a message
    without a body (framing ``"none"``) or with a Content-Length body that is
    all in *data*; None for any other body.  The caller sets the fields of
    *cls* after the HttpMessage ones.
    """
    items = event.headers._full_items
    headers = tuple([(raw.decode("latin-1"), value.decode("latin-1")) for raw, _, value in items])
    # _framing and _content_length, on the names h11 lower-cased (a token's
    # lower case is the same in bytes and in str)
    names = list(map(_lower_name, items))
    if not body_allowed:
        body, framing, end = b"", "none", head_end
    elif b"transfer-encoding" in names:
        return None
    elif b"content-length" in names:
        end = head_end + int(items[names.index(b"content-length")][2])
        if end > len(data):
            return None
        body, framing = data[head_end:end], "content-length"
    elif cls is HttpRequest:
        body, framing, end = b"", "none", head_end
    else:
        return None  # delimited by the close
    return _new_message(cls, _line_at(data, pos), headers, body, (), framing, True, pos, end,
                        direction)


def _read_request(data: bytes, pos: int, closed: bool) -> HttpRequest | None:
    if _request_head is not None:
        head = _direct_head(data, pos, True)
        if head is not None:
            event = head[0]
            request = _fast_message(HttpRequest, event, data, pos, head[1], True, _C2S)
            if request is not None:
                _q0(request, event.method.decode("latin-1"))
                _q1(request, event.target.decode("latin-1"))
                _q2(request, event.http_version.decode("latin-1"))
                return request
    reader = _Reader(_connection(h11.SERVER), data, pos, closed)
    event = reader.next_event()
    if not isinstance(event, h11.Request):
        return None
    headers = _pairs(event.headers)
    framing = _framing(headers, True, request=True)
    body, trailers, complete, end = _body(reader, headers, framing)
    # HttpRequest(start_line=..., ..., version=...), its slots set directly
    request = _new_message(HttpRequest, _line_at(data, pos), headers, body, trailers, framing,
                           complete, pos, end, _C2S)
    _q0(request, event.method.decode("latin-1"))
    _q1(request, event.target.decode("latin-1"))
    _q2(request, event.http_version.decode("latin-1"))
    return request


def _read_response(data: bytes, pos: int, closed: bool, method: bytes,
                   upgrade: bool = False, request: HttpRequest | None = None) -> HttpResponse | None:
    """The response at *pos* to a request with *method* (*upgrade*: which asked to switch protocols).

    Given the *request*, whether it asked to switch is read from it, and only
    where it matters: telling h11 the request (the fast paths do not).

    None when the stream ends inside the head; raises
    :class:`h11.RemoteProtocolError` when the response is malformed.
    """
    if method not in (b"HEAD", b"CONNECT"):
        # Fast paths.  Telling h11 the method (_told_connection) costs about
        # as much as reading a small response, and only HEAD and CONNECT
        # change how a response is framed (RFC 9112 §6.3).  h11 also reads
        # a final response the client has not sent a request for (a server
        # may answer early), framed as for any other method; a 1xx response
        # needs the request, so anything but a well-formed final response
        # is read again by the general path, which decides what it is.
        untold = _response_head is None
        if not untold:
            head = _direct_head(data, pos, False)
            if head is not None and type(head[0]) is h11.Response:
                event = head[0]
                response = _fast_message(HttpResponse, event, data, pos, head[1],
                                         _response_has_body(method, event.status_code), _S2C)
                if response is not None:
                    _a0(response, event.status_code)
                    _a1(response, event.reason.decode("latin-1"))
                    _a2(response, event.http_version.decode("latin-1"))
                    _a3(response, ())
                    return response
                # A body h11 must read (chunked, delimited by the close, cut
                # short): an untold connection reads the response.
                untold = True
            # (else an untold connection would not give a final response either)
        if untold:
            try:
                response = _read_response_with(_connection(h11.CLIENT), data, pos, closed, method)
            except h11.RemoteProtocolError:
                response = None
            if response is not None:
                return response
    if request is not None:
        upgrade = _proposes_upgrade(request)
    return _read_response_with(_told_connection(method, upgrade), data, pos, closed, method,
                               informational=True)


def _proposes_upgrade(request: HttpRequest) -> bool:
    """Whether *request* asked to switch protocols (h11 takes any non-empty Upgrade header as that)."""
    return bool((request.header("upgrade") or "").strip(" \t,"))


def _told_connection(method: bytes, upgrade: bool = False) -> h11.Connection:
    """An h11 client connection that has sent a request with *method* (asking to upgrade)."""
    conn = _connection(h11.CLIENT)
    # Tell h11 which method the request used (HEAD / CONNECT change the
    # framing) and whether it asked to switch protocols (so that a 101 is
    # an answer, not an error); the bytes it would send are discarded.
    headers = [(b"Host", b"observer")] + ([(b"Upgrade", b"observer")] if upgrade else [])
    conn.send(h11.Request(method=method, target=b"/", headers=headers))
    conn.send(h11.EndOfMessage())
    return conn


def _read_response_with(conn: h11.Connection, data: bytes, pos: int, closed: bool, method: bytes,
                        *, informational: bool = False) -> HttpResponse | None:
    """The response at *pos* read with *conn*; 1xx responses before it only if *informational*."""
    reader = _Reader(conn, data, pos, closed)
    lines: list[str] = []
    start = pos
    event = reader.next_event()
    while informational and isinstance(event, h11.InformationalResponse) and event.status_code != 101:
        lines.append(_line_at(data, start))
        start = reader.position()
        event = reader.next_event()
    # A 101 that answers the request's Upgrade is the last response: what
    # follows is the new protocol (RFC 9110 §15.2.2).
    if not isinstance(event, h11.Response) and not (informational and isinstance(event, h11.InformationalResponse)):
        return None
    body_allowed = _response_has_body(method, event.status_code)
    headers = _pairs(event.headers)
    framing = _framing(headers, body_allowed, request=False)
    body, trailers, complete, end = _body(reader, headers, framing)
    # HttpResponse(start_line=..., ..., informational=...), its slots set directly
    response = _new_message(HttpResponse, _line_at(data, start), headers, body, trailers, framing,
                            complete, start, end, _S2C)
    _a0(response, event.status_code)
    _a1(response, event.reason.decode("latin-1"))
    _a2(response, event.http_version.decode("latin-1"))
    _a3(response, tuple(lines))
    return response


def parse_http(client: bytes | None, server: bytes | None, *, client_closed: bool = True,
               server_closed: bool = True, alpn: str | None = None) -> HttpConversation:
    r"""The HTTP/1.1 exchanges of one connection.

    >>> conv = parse_http(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"HTTP/1.0 200 ok\r\n\r\nhi")
    >>> response = conv.exchanges[0].response
    >>> response.start_line, response.framing, response.body
    ('HTTP/1.0 200 ok', 'close', b'hi')

    Args:
        client: everything the client sent (decrypted application data, or
            the TCP payload of a plain connection); None when that side
            could not be decrypted.
        server: everything the server sent, or None likewise.  With only
            the server's side, its responses are listed with ``request``
            None, framed as answers to GET (a response to HEAD cannot be
            told from the server's bytes alone).
        client_closed / server_closed: whether that side's stream was seen
            to end (TCP FIN or RST, TLS close_notify).  A body delimited by
            the close is complete only when the server's end was seen.
        alpn: the negotiated ALPN protocol, if any (``"h2"`` → not decoded).

    Returns:
        The conversation; requests are paired with responses in order
        (RFC 9112 §9.3: responses come in the order of the requests).
    """
    if client is None:
        return _responses_only(server, server_closed, alpn)
    client, server = bytes(client), bytes(server or b"")
    if alpn == "h2" or client.startswith(HTTP2_PREFACE):
        return HttpConversation(protocol="HTTP/2", warnings=(
            _warning("HTTP/2 is not decoded", Direction.CLIENT_TO_SERVER, 0, "HTTP/2"),))
    if not looks_like_http(client):
        warnings = ()
        if alpn == "http/1.1" and client:
            warnings = (_warning("ALPN says http/1.1 but the client's data is not an HTTP/1.x "
                                 "request", Direction.CLIENT_TO_SERVER, 0, "HTTP request"),)
        return HttpConversation(protocol=None, warnings=warnings)

    warnings: list[str] = []
    exchanges: list[HttpExchange] = []
    cpos = spos = 0
    server_ok = True
    while True:
        cpos = _skip_empty_lines(client, cpos)
        if cpos >= len(client):
            break
        try:
            request = _read_request(client, cpos, client_closed)
        except h11.RemoteProtocolError as exc:
            warnings.append(_warning(f"malformed HTTP request: {exc}", Direction.CLIENT_TO_SERVER,
                                     cpos, "HTTP request"))
            break
        if request is None:
            warnings.append(_warning("the client's data ends inside a request head",
                                     Direction.CLIENT_TO_SERVER, cpos, "HTTP request"))
            break
        cpos = request.end
        response = None
        if server_ok and spos < len(server):
            try:
                response = _read_response(server, spos, server_closed, request.method.encode("latin-1"),
                                          request=request)
            except h11.RemoteProtocolError as exc:
                warnings.append(_warning(f"malformed HTTP response: {exc}",
                                         Direction.SERVER_TO_CLIENT, spos, "HTTP response"))
                server_ok = False
            else:
                if response is None:
                    warnings.append(_warning("the server's data ends inside a response head",
                                             Direction.SERVER_TO_CLIENT, spos, "HTTP response"))
                    server_ok = False
                else:
                    spos = response.end
        if response is not None and not response.complete:
            why = ("the connection's close was not seen" if response.framing == "close"
                   else "the stream ended first")
            warnings.append(_warning(f"response body incomplete ({why}): {len(response.body)} "
                                     "bytes seen", Direction.SERVER_TO_CLIENT, response.offset,
                                     "HTTP response body"))
        if not request.complete:
            warnings.append(_warning("request body incomplete (the stream ended first)",
                                     Direction.CLIENT_TO_SERVER, request.offset, "HTTP request body"))
        exchanges.append(_new_exchange(request, response))
        if response is not None and response.status == 101:
            warnings.append(_warning("protocol switched (101 Switching Protocols); "
                                     "the rest is not HTTP/1.1", Direction.SERVER_TO_CLIENT,
                                     response.offset, "HTTP response"))
            break
        if request.method == "CONNECT" and response is not None and 200 <= response.status < 300:
            break
        if not request.complete or (response is not None and not response.complete):
            break
    return _new_conversation("HTTP/1.1", tuple(exchanges), tuple(warnings))


def looks_like_http_response(data: bytes) -> bool:
    """Whether *data* starts with an HTTP/1.x status line."""
    return _STATUS_LINE.match(bytes(data[:64])) is not None


def _responses_only(server: bytes | None, closed: bool, alpn: str | None) -> HttpConversation:
    """The server's responses when the client's side is unreadable (request None)."""
    if alpn == "h2":
        return HttpConversation(protocol="HTTP/2", warnings=(
            _warning("HTTP/2 is not decoded", Direction.SERVER_TO_CLIENT, 0, "HTTP/2"),))
    server = bytes(server or b"")
    if not looks_like_http_response(server):
        return HttpConversation(protocol=None)
    warnings: list[str] = []
    exchanges: list[HttpExchange] = []
    pos = 0
    while pos < len(server):
        try:
            response = _read_response(server, pos, closed, b"GET")
        except h11.RemoteProtocolError as exc:
            warnings.append(_warning(f"malformed HTTP response: {exc}", Direction.SERVER_TO_CLIENT,
                                     pos, "HTTP response"))
            break
        if response is None:
            warnings.append(_warning("the server's data ends inside a response head",
                                     Direction.SERVER_TO_CLIENT, pos, "HTTP response"))
            break
        exchanges.append(HttpExchange(request=None, response=response))
        if not response.complete or response.status == 101:
            break
        pos = response.end
    return HttpConversation(protocol="HTTP/1.1", exchanges=tuple(exchanges), warnings=tuple(warnings))

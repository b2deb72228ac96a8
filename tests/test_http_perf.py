"""The fast paths of tlsdoc.http give what the general code gives.

* A response to a method other than HEAD or CONNECT is first read by an h11
  connection that was not told the request (telling it costs about as much
  as reading the response); the general path tells it.  Wherever the fast
  path gives a response, it must be the general path's, and wherever it
  gives none (a 1xx, a stream ending in the head, a malformed message) the
  general path decides.
* A request with neither Content-Length nor Transfer-Encoding has no body
  (RFC 9112 §6.3 rule 7), so h11 is not asked for the EndOfMessage: asking
  must give an empty body, no trailers, and consume nothing.
* A Content-Length body that is all in the stream is sliced out of it
  (RFC 9112 §6.3 rule 6) instead of read through h11: reading it must give
  the same body, no trailers, and the same end.
"""

from __future__ import annotations

import dataclasses

import h11
import pytest

from tlsdoc import http

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2;x=1\r\nab\r\n1\r\nc\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.0 200 ok\r\nContent-Type: text/plain\r\n\r\nuntil the close",
    b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nz",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\n\r\n",
    b"HTTP/1.1 200 caf\xe9\r\nX-Obs: \xff\r\nContent-Length: 1\r\n\r\n!",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nbroken\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX0\r\n\r\n",
    b"\r\nHTTP/1.1 200 OK\r\n\r\n",
]
METHODS = [b"GET", b"POST", b"PUT", b"OPTIONS"]


def _outcome(read):
    try:
        return read()
    except h11.RemoteProtocolError as exc:
        return ("malformed", str(exc))


def _general(data: bytes, closed: bool, method: bytes):
    return _outcome(lambda: http._read_response_with(http._told_connection(method), data, 0,
                                                     closed, method, informational=True))


def _cuts(message: bytes):
    return sorted({len(message), *range(0, len(message), 5), len(message) - 1})


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("message", RESPONSES)
def test_untold_read_of_a_response_is_the_told_one(message, method):
    for cut in _cuts(message):
        for closed in (True, False):
            data = message[:cut]
            fast = _outcome(lambda: http._read_response_with(h11.Connection(h11.CLIENT), data,
                                                             0, closed, method))
            general = _general(data, closed, method)
            if isinstance(fast, http.HttpResponse):
                assert fast == general, (data, closed)
            assert _outcome(lambda: http._read_response(data, 0, closed, method)) == general


@pytest.mark.parametrize("message", [m for m in RESPONSES if m.startswith(b"HTTP/1.1 10")])
def test_informational_responses_go_to_the_general_path(message):
    fast = _outcome(lambda: http._read_response_with(h11.Connection(h11.CLIENT), message, 0,
                                                     True, b"GET"))
    assert not isinstance(fast, http.HttpResponse)


@pytest.mark.parametrize("method", [b"HEAD", b"CONNECT"])
def test_methods_that_change_the_framing_are_told(method):
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    response = http._read_response(data, 0, True, method)
    assert response == _general(data, True, method)
    assert response.body == b"" and response.end == data.index(b"abc")


REQUESTS_WITHOUT_BODY = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nstray bytes",
    b"GET /x HTTP/1.0\r\n\r\n",
    b"OPTIONS * HTTP/1.1\nHost: a\n\n",
    b"POST /form HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
]


def _whole(role, data: bytes, pos: int, closed: bool) -> h11.Connection:
    """h11 given the whole rest of the stream at once: what http._Reader must match."""
    conn = h11.Connection(role)
    conn.receive_data(data[pos:])
    if closed:
        conn.receive_data(b"")
    return conn


def _h11_position(conn: h11.Connection, data: bytes) -> int:
    return len(data) - len(conn.trailing_data[0])


def _h11_body(conn: h11.Connection):
    pieces = []
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Data):
            pieces.append(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(pieces), http._pairs(event.headers), True
        else:
            return b"".join(pieces), (), False


@pytest.mark.parametrize("closed", [True, False])
@pytest.mark.parametrize("data", REQUESTS_WITHOUT_BODY)
def test_request_without_body_is_what_h11_would_say(data, closed):
    request = http._read_request(data, 0, closed)
    assert request.framing == "none"
    conn = _whole(h11.SERVER, data, 0, closed)
    assert isinstance(conn.next_event(), h11.Request)
    head_end = _h11_position(conn, data)
    assert _h11_body(conn) == (request.body, request.trailers, request.complete)
    assert _h11_position(conn, data) == head_end == request.end


def test_request_with_a_body_is_still_read_by_h11():
    data = b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\ndataGET"
    request = http._read_request(data, 0, True)
    assert (request.framing, request.body) == ("content-length", b"data")
    assert request.end == len(data) - 3


@pytest.mark.parametrize("message", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n1234567",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nConnection: close\r\n\r\nok",
    b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
])
@pytest.mark.parametrize("closed", [True, False])
def test_content_length_body_is_what_h11_reads(message, closed):
    # Slicing the body out of the stream gives h11's body, trailers and end.
    results = []
    for slice_it in (True, False):
        if slice_it:
            reader = http._Reader(http._connection(h11.CLIENT), message, 0, closed)
            headers = http._pairs(reader.next_event().headers)
            framing = http._framing(headers, True, request=False)
            results.append(_outcome(lambda: http._body(reader, headers, framing)))
        else:
            conn = _whole(h11.CLIENT, message, 0, closed)
            conn.next_event()
            results.append(_outcome(lambda: (*_h11_body(conn), _h11_position(conn, message))))
    assert results[0] == results[1]
    fast = _outcome(lambda: http._read_response(message, 0, closed, b"GET"))
    assert fast == _general(message, closed, b"GET")


POST_HEAD = b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"


@pytest.mark.parametrize("end", range(len(POST_HEAD) - 2, len(POST_HEAD) + 8))
def test_request_body_cut_anywhere_is_what_h11_reads(end):
    data = (POST_HEAD + b"dataGET")[:end]
    for closed in (True, False):
        request = _outcome(lambda: http._read_request(data, 0, closed))
        conn = _whole(h11.SERVER, data, 0, closed)
        expected = _outcome(lambda: (conn.next_event(), *_h11_body(conn),
                                     _h11_position(conn, data))[1:])
        if isinstance(request, http.HttpRequest):
            assert (request.body, request.trailers, request.complete, request.end) == expected
        else:
            assert request is None or request == expected


# -- h11 fed a piece at a time (http._Reader) ------------------------------------------


def test_the_head_limit_is_h11s():
    from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE

    assert http._HEAD_LIMIT == DEFAULT_MAX_INCOMPLETE_EVENT_SIZE


BIG_HEAD = b"GET / HTTP/1.1\r\nHost: a\r\nCookie: " + b"c" * 40_000 + b"\r\n\r\n"
STREAMS = [
    (h11.SERVER, BIG_HEAD),  # a complete head longer than h11's limit and than a piece
    (h11.SERVER, BIG_HEAD[:30_000]),  # ... cut short
    (h11.SERVER, BIG_HEAD[:10_000]),  # a cut head under the limit
    (h11.SERVER, b"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + b"".join(b"%x\r\n%s\r\n" % (n, b"z" * n) for n in (1, 300, 7, 5000)) + b"0\r\n\r\n"),
    (h11.SERVER, b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n" + b"b" * 69_000),
    (h11.CLIENT, b"HTTP/1.0 200 OK\r\n\r\n" + b"d" * 100_000),  # delimited by the close
    (h11.CLIENT, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 20_000),  # bad chunk line
]


def _told(conn: h11.Connection) -> h11.Connection:
    """A client connection that has sent a GET (so that it reads a response)."""
    conn.send(h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"a")]))
    conn.send(h11.EndOfMessage())
    return conn


def _seen(next_event) -> tuple[bytes, list[str]]:
    """The events up to the end of a message (or an error): the Data events'
    bytes joined (a piece-by-piece reader cuts them elsewhere), the rest."""
    body, others = b"", []
    for _ in range(100_000):
        try:
            event = next_event()
        except h11.RemoteProtocolError as exc:
            others.append(f"error: {exc}")
            break
        if isinstance(event, h11.Data):
            body += event.data
            continue
        others.append(repr(event))
        if event is h11.NEED_DATA or event is h11.PAUSED or isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    return body, others


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 16])
@pytest.mark.parametrize("closed", [True, False])
@pytest.mark.parametrize("role,data", STREAMS, ids=range(len(STREAMS)))
def test_h11_fed_piece_by_piece_says_what_it_says_given_everything(monkeypatch, role, data, closed, piece):
    monkeypatch.setattr(http, "_PIECE", piece)
    whole = h11.Connection(role) if role is h11.SERVER else _told(h11.Connection(role))
    whole.receive_data(data)
    if closed:
        whole.receive_data(b"")
    conn = http._connection(role)
    reader = http._Reader(conn if role is h11.SERVER else _told(conn), data, 0, closed)
    expected = _seen(whole.next_event)
    assert _seen(reader.next_event) == expected
    if not expected[1][-1].startswith("error"):
        assert reader.position() == _h11_position(whole, data)


def test_a_long_keep_alive_connection_is_read_in_one_pass():
    # Each message used to get (and copy) the whole rest of the stream: the
    # bytes given to h11 grew with the square of the number of exchanges.
    n = 3000
    client = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n" * n
    server = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" * n
    given = []
    receive = h11.Connection.receive_data

    def counting(self, data):
        given.append(len(data))
        return receive(self, data)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(h11.Connection, "receive_data", counting)
        conversation = http.parse_http(client, server)
    assert len(conversation.exchanges) == n and not conversation.warnings
    quadratic = n * (len(client) + len(server)) // 2
    assert sum(given) <= len(client) + len(server) + 2 * n * http._PIECE < quadratic // 5


def _sentinels(cls):
    from dataclasses import fields
    return {f.name: object() for f in fields(cls)}


def test_fast_constructors_equal_init():
    """The slot-setting constructors give what the dataclass __init__ gives, field for field."""
    from tlsdoc.wire import Direction
    for cls, rest in ((http.HttpRequest, (http._q0, http._q1, http._q2)),
                      (http.HttpResponse, (http._a0, http._a1, http._a2, http._a3))):
        values = _sentinels(cls)
        names = list(values)
        fast = http._new_message(cls, *[values[n] for n in names[:9]])
        for set_slot, name in zip(rest, names[9:], strict=True):
            set_slot(fast, values[name])
        assert fast == cls(**values)
        assert all(getattr(fast, n) is values[n] for n in names)
    values = _sentinels(http.HttpExchange)
    assert http._new_exchange(*values.values()) == http.HttpExchange(**values)
    values = _sentinels(http.HttpConversation)
    assert http._new_conversation(*values.values()) == http.HttpConversation(**values)
    assert http._new_conversation("HTTP/1.1") == http.HttpConversation(protocol="HTTP/1.1")
    # and what the readers build carries the fields the general path would
    request = http._read_request(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 0, True)
    assert request == http.HttpRequest(
        start_line="GET /a HTTP/1.1", headers=(("Host", "x"),), body=b"", trailers=(),
        framing="none", complete=True, offset=0, end=28, direction=Direction.CLIENT_TO_SERVER,
        method="GET", target="/a", version="1.1")
    response = http._read_response(b"xxHTTP/1.0 200 ok\r\nContent-Length: 2\r\n\r\nhi", 2, True, b"GET")
    assert response == http.HttpResponse(
        start_line="HTTP/1.0 200 ok", headers=(("Content-Length", "2"),), body=b"hi", trailers=(),
        framing="content-length", complete=True, offset=2, end=42,
        direction=Direction.SERVER_TO_CLIENT, status=200, reason="ok", version="1.0", informational=())


# -- h11's head readers without a Connection (http._fast_head) -----------------------
#
# The usual message (a head, then no body or a Content-Length body that is all
# there) is read by h11's head readers alone, without an h11.Connection; every
# other one by the general path.  Whatever comes in, the result must be the
# general path's: the same message, None, or the same error.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_REQUEST_LINES = [
    b"GET / HTTP/1.1", b"POST /upload?x=1 HTTP/1.1", b"HEAD /h HTTP/1.1", b"GET /old HTTP/1.0",
    b"CONNECT example.com:443 HTTP/1.1", b"OPTIONS * HTTP/1.1",
]
_STATUS_LINES = [
    b"HTTP/1.1 200 OK", b"HTTP/1.0 200 ok", b"HTTP/1.1 204 No Content", b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 100 Continue", b"HTTP/1.1 101 Switching Protocols", b"HTTP/1.1 404 ",
    b"HTTP/1.1 200", b"HTTP/1.1 500 caf\xe9",
]
_BAD_START_LINES = [
    b"GET  / HTTP/1.1", b"GET / HTTP/2.0", b"G\xe9T / HTTP/1.1", b"GET /\x00 HTTP/1.1",
    b" GET / HTTP/1.1", b"HTTP/1.1 20 OK", b"HTTP/1.1 200 \x00", b"", b"\x16\x03\x01",
]
_FIELDS = [
    b"Host: a", b"Host: a", b"Content-Length: 0", b"Content-Length: 3", b"Content-Length: 5",
    b"Content-Length: 007", b"Content-Length: 2, 2", b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: CHUNKED", b"Connection: close", b"Connection: keep-alive, Upgrade",
    b"Upgrade: websocket", b"Expect: 100-continue", b"Cookie: " + b"c" * 300 + b"; d=" + b"e" * 40,
    b"X-Obs: caf\xe9 \xff", b"X-Fold: a", b"  folded", b"X-Empty:", b"X-Space:   padded   ",
]
_BAD_FIELDS = [
    b"Host: b", b"Host:", b"Content-Length: 1, 2", b"Content-Length: x", b"Content-Length: -1",
    b"Content-Length: 99999999999999999999999", b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: gzip, chunked", b"\tfolded at the start", b"Bad Name: x", b"NoColon",
    b"X-Nul: a\x00b", b": no name",
]
_BODIES = [b"", b"abc", b"abcdefgh", b"3\r\nabc\r\n0\r\n\r\n", b"1\r\na\r\n0\r\nT: 1\r\n\r\n",
           b"zz\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"]


@st.composite
def _streams(draw, start_lines):
    """One to three messages (mostly well-formed), maybe after a few bytes, maybe cut anywhere."""
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    messages = []
    for _ in range(draw(st.integers(1, 3))):
        lines = [draw(st.sampled_from(start_lines))]
        lines += draw(st.lists(st.sampled_from(_FIELDS), max_size=6))
        if draw(st.integers(0, 9)) == 0:
            lines[0] = draw(st.sampled_from(_BAD_START_LINES))
        if draw(st.integers(0, 9)) == 0:
            lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(_BAD_FIELDS)))
        messages.append(eol.join(lines) + eol + eol + draw(st.sampled_from(_BODIES)))
    data = draw(st.sampled_from([b"", b"\r\n", b"xx"])) + b"".join(messages)
    return data[:draw(st.integers(0, len(data)))] if draw(st.integers(0, 3)) == 0 else data


def _cut_near_the_end(data: bytes):
    """*data*, then cut short by 1 to 12 bytes: bodies and heads one byte short and so on."""
    return [data[:end] for end in range(len(data), max(0, len(data) - 13), -1)]


def _both_paths(monkeypatch, read):
    """read() with the fast head readers, then with them switched off."""
    fast = _outcome(read)
    with monkeypatch.context() as m:
        m.setattr(http, "_request_head", None)
        m.setattr(http, "_response_head", None)
        general = _outcome(read)
    return fast, general


_SETTINGS = dict(max_examples=400, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(**_SETTINGS)
@given(data=_streams(_REQUEST_LINES), closed=st.booleans(), piece=st.sampled_from([1, 7, 64, 4096]))
def test_fast_request_reading_is_the_general_one(monkeypatch, data, closed, piece):
    monkeypatch.setattr(http, "_PIECE", piece)
    for data in _cut_near_the_end(data):
        for pos in {0, 2, data.find(b"\n") + 1}:
            if pos < len(data):
                fast, general = _both_paths(monkeypatch, lambda: http._read_request(data, pos, closed))
                assert fast == general, (data, pos, closed)


@settings(**_SETTINGS)
@given(data=_streams(_STATUS_LINES), closed=st.booleans(), piece=st.sampled_from([1, 7, 64, 4096]),
       method=st.sampled_from([b"GET", b"POST", b"HEAD", b"CONNECT"]), upgrade=st.booleans())
def test_fast_response_reading_is_the_general_one(monkeypatch, data, closed, piece, method, upgrade):
    monkeypatch.setattr(http, "_PIECE", piece)
    for data in _cut_near_the_end(data):
        for pos in {0, 2, data.find(b"\n") + 1}:
            if pos < len(data):
                fast, general = _both_paths(
                    monkeypatch, lambda: http._read_response(data, pos, closed, method, upgrade))
                assert fast == general, (data, pos, closed, method, upgrade)


@settings(**_SETTINGS)
@given(client=_streams(_REQUEST_LINES), server=_streams(_STATUS_LINES), client_closed=st.booleans(),
       server_closed=st.booleans())
def test_fast_conversation_is_the_general_one(monkeypatch, client, server, client_closed,
                                              server_closed):
    for cut_server in _cut_near_the_end(server)[::3]:
        def read():
            return (http.parse_http(client, cut_server, client_closed=client_closed,
                                    server_closed=server_closed),
                    http.parse_http(None, cut_server, server_closed=server_closed))
        fast, general = _both_paths(monkeypatch, read)
        assert fast == general


def test_the_fast_head_readers_are_there():
    # The h11 this is tested with has the readers the fast path drives (an
    # h11 without them would silently take the general path everywhere).
    # Failing after h11 was upgraded in constraints.txt: run this file's
    # differential tests on the new release, then add it to FAST_H11_VERSIONS.
    assert h11.__version__ in http.FAST_H11_VERSIONS
    assert http._request_head is not None and http._response_head is not None
    head = http._fast_head(http._request_head, b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest", 0)
    assert isinstance(head[0], h11.Request) and head[1] == 27



@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b" ", b"GET", b"\xe9"]), max_size=10)
       .map(b"".join), st.integers(0, 12))
def test_line_at_is_the_first_line_without_its_line_ending(data, start):
    # _line_at slices once; this is what it stands for.
    start = min(start, len(data))
    cut = data.find(b"\n", start)
    line = data[start:] if cut < 0 else data[start:cut]
    assert http._line_at(data, start) == (line[:-1] if line.endswith(b"\r") else line).decode("latin-1")


# -- the usual head read directly (http._direct_head) ----------------------------------
#
# _direct_head reads the usual head with h11's expressions and constructors
# but its own line splitting; it must answer what h11's head readers answer
# (http._fast_head): the same event, raw names and all, the same end, or None.

_HEAD_START_LINES = [
    b"GET / HTTP/1.1", b"POST /p?q=1 HTTP/1.0", b"HTTP/1.1 200 OK", b"HTTP/1.0 101 x", b"HTTP/1.1 100 ",
    b"HTTP/1.1 204", b"HTTP/1.1 500 caf\xe9", b"HTTP/1.1 404 a \t b",
]
_BAD_HEAD_START_LINES = [b"GET / HTTP/1.1\r", b"HTTP/1.1 200 O\rK", b"GET /\x0b HTTP/1.1", b"HTTP/1.1 200 \x00",
                         b"", b" GET / HTTP/1.1", b"GET / HTTP/1.1 "]
_HEAD_FIELDS = [
    b"Host: a", b"Host:b", b"host:  c  ", b"Content-Length: 3", b"Content-Length: 1, 1", b"X: a b",
    b"X:\t a \t", b"X: ", b"X:", b"X:\t", b"X: caf\xe9 \xff", b"X: a\x1fb\x7f\x85\xa0",
    b"Cookie: " + b"k=v; " * 40 + b"end", b"X: a  \t  b", b"Transfer-Encoding: chunked",
]
_BAD_HEAD_FIELDS = [
    b"Content-Length: 1, 2", b"Content-Length: x", b"Transfer-Encoding: gzip", b" folded", b"\tfolded",
    b"Bad Name: x", b"NoColon", b":", b": v", b"X-\xe9: v", b"X: a\rb", b"X: a\x00", b"X: \x0bv",
    b"X: v\x0c", b"X: v\r", b"X: \r", b"X: v \r", b"X: \rv", b"X: a\r\r", b"Host: a",
]
_LINE_ENDS = [b"\r\n", b"\n"]
_BAD_LINE_ENDS = [b"\r\r\n", b"\r", b"\n\r"]


def _sometimes(draw, usual, unusual, one_in=8):
    return draw(st.sampled_from(unusual if draw(st.integers(1, one_in)) == 1 else usual))


@st.composite
def _heads(draw):
    """A start line and header lines with assorted endings, then maybe more, maybe cut."""
    lines = [_sometimes(draw, _HEAD_START_LINES, _BAD_HEAD_START_LINES)]
    lines += [_sometimes(draw, _HEAD_FIELDS, _BAD_HEAD_FIELDS, 4) for _ in range(draw(st.integers(0, 6)))]
    if lines[0].startswith((b"GET", b"POST")) and draw(st.integers(0, 5)):
        lines.insert(1, b"Host: h")  # (else h11 rejects most HTTP/1.1 requests)
    data = b"".join(line + _sometimes(draw, _LINE_ENDS, _BAD_LINE_ENDS, 12) for line in lines)
    data += draw(st.sampled_from([b"\r\n", b"\n", b"", b"\r\n\r\n"]))
    data = draw(st.sampled_from([b"", b"", b"", b"\r\n", b"\n", b"xx", b" "])) + data
    data += draw(st.sampled_from([b"", b"body", b"\r\nX: after\r\n\r\n"]))
    return data[:draw(st.integers(0, len(data)))] if draw(st.integers(0, 5)) == 0 else data


_HEAD_BYTES = st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b" ", b"\t", b":", b"X", b"Host: a",
                                        b"GET / HTTP/1.1", b"HTTP/1.1 200 OK", b"\x00", b"\x0b",
                                        b"\x0c", b"\xe9", b"\x7f"]), max_size=24).map(b"".join)


def _event_key(event):
    if event is None:
        return None
    return (type(event), event.headers._full_items,
            [(f.name, getattr(event, f.name)) for f in dataclasses.fields(event) if f.name != "headers"])


def _head_key(head):
    return None if head is None else (_event_key(head[0]), head[1])


@settings(max_examples=1500, deadline=None)
@given(data=st.one_of(_heads(), _HEAD_BYTES), pos=st.integers(0, 2))
def test_direct_head_is_h11s_head_reader(data, pos):
    for request, read_head in ((True, http._request_head), (False, http._response_head)):
        direct = http._direct_head(data, pos, request)
        assert _head_key(direct) == _head_key(http._fast_head(read_head, data, pos)), (data, pos, request)


def test_direct_head_reads_the_usual_heads_itself(monkeypatch):
    # The usual heads must not all go to _fast_head (else the test above proves little)
    calls = []
    monkeypatch.setattr(http, "_fast_head", lambda *args: calls.append(args))
    head = http._direct_head(b"GET /a HTTP/1.1\r\nHost: x\r\nCookie: " + b"k=v; " * 300
                             + b"\r\nX:\t \r\n\r\nbody", 0, True)
    assert head[0].target == b"/a" and head[0].headers._full_items[2] == (b"X", b"x", b"")
    head = http._direct_head(b"HTTP/1.0 200 ok\nContent-Length: 1, 1\n\n!", 0, False)
    assert head[0].headers._full_items == [(b"Content-Length", b"content-length", b"1")]
    assert head[1] == 38 and not calls


def _same_head(data, pos=0):
    for request, read_head in ((True, http._request_head), (False, http._response_head)):
        direct = http._direct_head(data, pos, request)
        assert _head_key(direct) == _head_key(http._fast_head(read_head, data, pos)), (data, pos, request)


@pytest.mark.parametrize("start", [b"GET / HTTP/1.1", b"HTTP/1.1 200 OK", b"HTTP/1.0 100 c"])
def test_direct_head_with_every_byte_in_a_field(start):
    # every byte value, in a name, at either end of a value and inside it
    for byte in [bytes([value]) for value in range(256)]:
        for field in (b"X" + byte + b": v", b"X:" + byte + b"v", b"X: v" + byte, b"X: a" + byte + b"b",
                      byte + b"X: v", b"X: a" + byte + byte + b"b"):
            for eol in (b"\r\n", b"\n"):
                _same_head(eol.join([start, b"Host: h", field, b"Y: z", b"", b"rest"]))
                _same_head(eol.join([start, field, b"", b""]))


@pytest.mark.parametrize("start", _HEAD_START_LINES + _BAD_HEAD_START_LINES)
def test_direct_head_with_one_unusual_line(start):
    for field in _HEAD_FIELDS + _BAD_HEAD_FIELDS:
        for where in (1, 2, 3):
            for eol in _LINE_ENDS + _BAD_LINE_ENDS:
                lines = [start + b"\r\n", b"Host: h\r\n", b"X: y\n"]
                lines.insert(where, field + eol)
                data = b"".join(lines) + b"\r\n"
                for pos in (0, 1):
                    _same_head(data, pos)
                    _same_head(data[:-1], pos)

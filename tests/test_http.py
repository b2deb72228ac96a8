"""HTTP/1.1 from byte streams: framing, keep-alive, start lines exactly as sent.

Each case gives the two streams of one connection and what must come out.
The expected values are written from RFC 9112 by hand, not taken from the
code under test.
"""

from __future__ import annotations

import hashlib

import pytest

from tlsdoc.http import HTTP2_PREFACE, looks_like_http, parse_http

GET = b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def one(client: bytes, server: bytes, **kw):
    conv = parse_http(client, server, **kw)
    assert len(conv.exchanges) == 1, conv
    return conv, conv.exchanges[0].request, conv.exchanges[0].response


def test_content_length():
    body = b"<p>hello</p>\n"
    server = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n" + body
    conv, req, resp = one(GET, server)
    assert conv.protocol == "HTTP/1.1" and conv.warnings == ()
    assert req.start_line == "GET /index.html HTTP/1.1"
    assert (req.method, req.target, req.version) == ("GET", "/index.html", "1.1")
    assert req.framing == "none" and req.body == b""
    assert resp.start_line == "HTTP/1.1 200 OK"
    assert resp.framing == "content-length" and resp.complete
    assert resp.body == body and resp.body_sha256 == sha(body)
    assert (resp.offset, resp.end) == (0, len(server))


def test_chunked_with_extensions_and_trailers_is_dechunked():
    server = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
              b"5;name=value\r\nhello\r\n"
              b"7;a=1;b=\"two\"\r\n, world\r\n"
              b"0\r\nX-Checksum: abc\r\n\r\n")
    conv, _, resp = one(GET, server)
    assert conv.warnings == ()
    assert resp.framing == "chunked" and resp.complete
    assert resp.body == b"hello, world"
    assert resp.body_sha256 == sha(b"hello, world")
    assert resp.trailers == (("X-Checksum", "abc"),)
    assert resp.end == len(server)


def test_body_delimited_by_close():
    body = b"<!DOCTYPE html>\n<p>no length</p>\n"
    server = b"HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n" + body
    conv, _, resp = one(GET, server, server_closed=True)
    assert conv.warnings == ()
    assert resp.start_line == "HTTP/1.0 200 ok"  # verbatim: not "HTTP/1.0 200 OK"
    assert (resp.version, resp.status, resp.reason) == ("1.0", 200, "ok")
    assert resp.framing == "close" and resp.complete and resp.body == body


def test_body_delimited_by_close_without_the_close_is_incomplete():
    server = b"HTTP/1.0 200 ok\r\n\r\npartial"
    conv, _, resp = one(GET, server, server_closed=False)
    assert not resp.complete and resp.body == b"partial"
    (warning,) = conv.warnings
    assert "incomplete" in warning and "close was not seen" in warning
    assert "server→client" in warning


def test_keep_alive_two_requests():
    req2 = b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
    resp1 = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
    resp2 = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
    conv = parse_http(GET + req2, resp1 + resp2)
    assert conv.warnings == ()
    assert [e.request.start_line for e in conv.exchanges] == ["GET /index.html HTTP/1.1",
                                                              "GET /two HTTP/1.1"]
    assert [e.response.start_line for e in conv.exchanges] == ["HTTP/1.1 200 OK",
                                                               "HTTP/1.1 404 Not Found"]
    assert [e.response.body for e in conv.exchanges] == [b"one", b"two"]
    second = conv.exchanges[1]
    assert second.request.offset == len(GET) and second.response.offset == len(resp1)


@pytest.mark.parametrize("line", [
    b"HTTP/1.0 200 ok",
    b"HTTP/1.1 200 Everything  Fine",  # two spaces inside the reason
    b"HTTP/1.1 599 ",                    # empty reason, trailing space kept
    b"HTTP/1.1 200 caf\xe9",             # obs-text in the reason (latin-1)
])
def test_status_line_kept_verbatim(line):
    server = line + b"\r\nContent-Length: 0\r\n\r\n"
    _, _, resp = one(GET, server)
    assert resp.start_line == line.decode("latin-1")


def test_head_response_has_no_body_even_with_content_length():
    head = b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
    server = (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conv = parse_http(head + GET, server)
    first, second = conv.exchanges
    assert first.response.body == b"" and first.response.framing == "none"
    assert second.response.body == b"ok"


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status):
    server = f"HTTP/1.1 {status} X\r\nContent-Length: 5\r\n\r\n".encode()
    conv, _, resp = one(GET, server)
    assert resp.body == b"" and resp.framing == "none" and resp.complete


def test_informational_response_before_the_final_one():
    post = b"POST /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata"
    server = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    conv, req, resp = one(post, server)
    assert req.body == b"data" and req.framing == "content-length"
    assert resp.start_line == "HTTP/1.1 201 Created"
    assert resp.informational == ("HTTP/1.1 100 Continue",)
    assert resp.offset == len(b"HTTP/1.1 100 Continue\r\n\r\n")


def test_header_names_keep_their_case_and_order():
    client = b"GET / HTTP/1.1\r\nHost: a\r\nX-Mixed-Case:  v  \r\nx-lower: w\r\n\r\n"
    _, req, _ = one(client, b"")
    assert req.headers == (("Host", "a"), ("X-Mixed-Case", "v"), ("x-lower", "w"))
    assert req.header("x-mixed-case") == "v"


def test_leading_empty_lines_and_bare_lf():
    client = b"\r\n\r\nGET /lf HTTP/1.1\nHost: a\n\n"
    server = b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"
    conv, req, resp = one(client, server)
    assert req.start_line == "GET /lf HTTP/1.1" and req.offset == 4
    assert resp.start_line == "HTTP/1.1 200 OK" and resp.body == b"ok"


def test_missing_response():
    conv, req, resp = one(GET, b"")
    assert resp is None and req.start_line.startswith("GET")


@pytest.mark.parametrize("kw", [{"alpn": "h2"}, {}])
def test_http2_is_not_decoded(kw):
    client = HTTP2_PREFACE + b"\x00\x00\x12\x04\x00\x00\x00\x00\x00"
    conv = parse_http(client, b"\x00\x00\x00\x04\x01\x00\x00\x00\x00", **kw)
    assert conv.protocol == "HTTP/2" and conv.exchanges == ()
    assert any("HTTP/2 is not decoded" in w for w in conv.warnings)


def test_not_http():
    conv = parse_http(b"EHLO mail.example.com\r\n", b"250 ok\r\n")
    assert conv.protocol is None and conv.exchanges == () and conv.warnings == ()
    conv = parse_http(b"\x16\x03\x01garbage", b"", alpn="http/1.1")
    assert conv.protocol is None and len(conv.warnings) == 1
    assert not looks_like_http(b"GET / HTTP/2\r\n")  # no minor version: not HTTP/1.x syntax


def test_malformed_response_is_a_located_warning_not_garbage():
    server = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nbroken header line\r\n\r\nok"
    conv, req, resp = one(GET, server)
    assert resp is None
    (warning,) = conv.warnings
    assert "malformed HTTP response" in warning and "server→client +0x0000" in warning


def test_request_body_and_truncated_request():
    client = b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345"
    conv, req, _ = one(client, b"", client_closed=False)
    assert not req.complete and req.body == b"12345"
    assert any("request body incomplete" in w for w in conv.warnings)


@pytest.mark.parametrize("cut", [1, 7, 30, 41])
def test_every_cut_of_a_keep_alive_stream_gives_the_complete_prefix(cut):
    # Parsing a stream cut short yields the whole messages before the cut and
    # flags the last one incomplete -- never a made-up message.
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none" * 2
    conv = parse_http(GET * 2, resp[:len(resp) - cut], server_closed=False)
    last = conv.exchanges[-1].response
    assert conv.exchanges[0].response.body == b"one"
    assert last is None or not last.complete or last.body == b"one"


def test_server_side_alone_lists_responses_without_requests():
    server = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
              b"HTTP/1.0 404 nope\r\n\r\nmissing")
    conv = parse_http(None, server, server_closed=True)
    assert [e.request for e in conv.exchanges] == [None, None]
    assert [e.response.start_line for e in conv.exchanges] == ["HTTP/1.1 200 OK", "HTTP/1.0 404 nope"]
    assert conv.exchanges[1].response.body == b"missing"
    assert parse_http(None, b"\x00binary").protocol is None
    assert parse_http(None, None).exchanges == ()


def test_client_side_alone_lists_requests_without_responses():
    conv = parse_http(GET + GET, None)
    assert [e.response for e in conv.exchanges] == [None, None]
    assert len(conv.exchanges) == 2


def test_a_websocket_upgrade_ends_http_with_the_101():
    # RFC 9110 §15.2.2: after the 101 the connection speaks the protocol
    # named in Upgrade; its frames are not HTTP requests or responses.
    client = b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85mask!"
    server = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi"
    conv = parse_http(client, server)
    (exchange,) = conv.exchanges
    response = exchange.response
    assert (response.status, response.start_line, response.complete) == (101, "HTTP/1.1 101 Switching Protocols", True)
    assert response.end == server.index(b"\x81")
    assert len(conv.warnings) == 1 and "protocol switched" in conv.warnings[0]
    # without an Upgrade in the request, a 101 answers nothing asked
    plain = parse_http(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", server)
    assert any("malformed HTTP response" in w for w in plain.warnings)


def test_a_connect_tunnel_is_a_complete_exchange():
    # RFC 9110 §9.3.6: a 2xx to CONNECT has no body; the tunnel follows.
    client = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x00\x05hello"
    server = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02ok"
    conv = parse_http(client, server)
    (exchange,) = conv.exchanges
    assert conv.warnings == ()
    assert (exchange.response.status, exchange.response.complete, exchange.response.body) == (200, True, b"")
    assert exchange.response.end == server.index(b"\x16")

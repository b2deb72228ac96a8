"""Decrypted HTTP line by line: the fields add up to the content and quote each line."""

from __future__ import annotations

import pytest

from tlsdoc.render.hexdump import annotate
from tlsdoc.render.protection import http_fields

REQUEST = b"GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
RESPONSE = b"HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n" + b"<p>" * 20


def test_request_lines_headers_and_the_empty_line():
    fields = http_fields(REQUEST)
    assert [f.label for f in fields] == ["request line", "header Host", "header Accept", "empty line"]
    assert [REQUEST[f.start:f.end] for f in fields] == [
        b"GET /a HTTP/1.1\r\n", b"Host: x\r\n", b"Accept: */*\r\n", b"\r\n"]
    assert fields[0].meaning == "“GET /a HTTP/1.1”, then CR LF: method GET, target /a, version HTTP/1.1"
    assert fields[2].meaning == "“Accept: */*”, then CR LF"
    pieces = annotate(REQUEST, fields)
    assert all(p.label is not None for p in pieces)  # nothing left unlabelled


def test_status_line_and_a_shortened_body():
    fields = http_fields(RESPONSE)
    assert [f.label for f in fields] == ["status line", "header Content-type", "empty line", "body"]
    assert fields[0].meaning.endswith(": version HTTP/1.0, status 200, reason “ok”")
    body = fields[-1]
    assert (body.end - body.start, body.meaning, body.elide) == (60, "60 bytes", 16)


@pytest.mark.parametrize("content", [b"\x17\x03\x03\x00\x10", b"GET / HTTP/1.1\r\nHost: x\r\n"])
def test_not_http_is_refused(content):
    with pytest.raises(ValueError, match="not an HTTP/1.x message"):
        http_fields(content)

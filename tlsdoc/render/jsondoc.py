"""The JSON document of ``tlsdoc … --json`` (the contract in DESIGN.md).

Consumes :class:`~tlsdoc.analysis.ConnectionAnalysis` values, produces JSON
text.  The document is written connection by connection so a capture of
any size streams through in bounded memory; :func:`connection_dict` is the
one place that decides what each key means.

Each entry is written by :func:`connection_json`, a fast path equal to
``json.dumps(connection_dict(c), ensure_ascii=False)`` (the tests compare
the two on every capture they have and on generated values).

Never imports sphinx, docutils or cli.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _encode_str
from typing import IO, Any, Iterable

from tlsdoc.wire import Direction

__all__ = ["connection_dict", "connection_json", "endpoint", "write"]

_C2S, _S2C = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT


def endpoint(address: tuple[str, int]) -> str:
    """``"192.0.2.10:50514"``, or ``"[2001:db8::10]:50514"`` for IPv6."""
    ip, port = address
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _tcp_dict(conn) -> dict[str, Any]:
    hs = conn.handshake
    seen = [
        name
        for name, segment in (("SYN", hs.syn), ("SYN-ACK", hs.syn_ack), ("ACK", hs.ack))
        if segment is not None
    ]
    rtt = None if hs.rtt_ns is None else round(hs.rtt_ns / 1e6, 3)
    return {"handshake": seen, "rtt_ms": rtt}


def _suite_dict(suite) -> dict[str, Any] | None:
    if suite is None:
        return None
    name = getattr(suite, "name", None)
    return {"id": int(suite), "name": name}


def _version(version) -> str | None:
    if version is None:
        return None
    try:
        return version.label
    except AttributeError:
        return str(version)


def _tls_dict(tls, decrypted: bool) -> dict[str, Any]:
    return {
        "version": _version(tls.version),
        "cipher_suite": _suite_dict(tls.cipher_suite),
        "sni": tls.sni,
        "alpn": tls.alpn,
        "client_random": None if tls.client_random is None else tls.client_random.hex(),
        "handshake": {
            "client": [m.name for m in tls.messages(_C2S)],
            "server": [m.name for m in tls.messages(_S2C)],
        },
        "decrypted": decrypted,
    }


def _app_dict(app) -> dict[str, Any] | None:
    if app is None:
        return None
    return {"records": app.records, "bytes": app.length, "sha256": app.sha256}


def _http_list(c) -> list[dict[str, Any]]:
    conversation = getattr(c, "http", None)
    if conversation is None:
        return []
    out = []
    for exchange in conversation.exchanges:
        response = exchange.response
        request = exchange.request
        out.append({
            "request": None if request is None else request.start_line,
            "response": None if response is None else response.start_line,
            "body_sha256": None if response is None or not response.complete else response.body_sha256,
        })
    return out


def _check_dict(check) -> dict[str, Any]:
    return {"name": check.name, "status": str(check.status), "detail": check.detail}


def connection_dict(c, *, checks: bool = False) -> dict[str, Any]:
    """One entry of ``connections`` for a ConnectionAnalysis.

    Args:
        c: the connection.
        checks: add ``"checks"`` (``tlsdoc verify --json``).
    """
    app = {
        "client": _app_dict(c.application_data.get(_C2S)),
        "server": _app_dict(c.application_data.get(_S2C)),
    }
    out = {
        "client": endpoint(c.tcp.client),
        "server": endpoint(c.tcp.server),
        "tcp": _tcp_dict(c.tcp),
        "tls": None if c.tls is None else _tls_dict(c.tls, c.decrypted),
        "application_data": app,
        "http": _http_list(c),
    }
    if checks:
        out["checks"] = [_check_dict(k) for k in getattr(c, "checks", ())]
    return out


# -- the same text, written directly ---------------------------------------------------
#
# json.dumps spends more time walking connection_dict's nested dicts than
# the dicts take to build; the entry's shape is fixed, so its text is
# joined here from the same values.  Every value goes through _value,
# which gives json.dumps's text (separators ", " and ": ", ensure_ascii
# off): its own encoder for a str, int or float spelling for those exact
# types, and json.dumps itself for anything else.


def _value(v) -> str:
    """``json.dumps(v, ensure_ascii=False)`` for a value that is not a list or dict."""
    cls = v.__class__
    if cls is str:
        return _encode_str(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if cls is int:
        return f"{v}"
    if cls is float and v - v == 0.0:  # finite (json spells the others NaN, Infinity)
        return f"{v!r}"
    return json.dumps(v, ensure_ascii=False)


def _names(entries) -> str:
    """A JSON list of the entries' names."""
    return "[" + ", ".join([_value(m.name) for m in entries]) + "]"


def _tls_json(tls, decrypted: bool) -> str:
    suite = tls.cipher_suite
    random = tls.client_random
    return "".join([
        '{"version": ', _value(_version(tls.version)),
        ', "cipher_suite": ',
        "null" if suite is None else
        f'{{"id": {_value(int(suite))}, "name": {_value(getattr(suite, "name", None))}}}',
        ', "sni": ', _value(tls.sni), ', "alpn": ', _value(tls.alpn),
        ', "client_random": ', "null" if random is None else _value(random.hex()),
        ', "handshake": {"client": ', _names(tls.messages(_C2S)),
        ', "server": ', _names(tls.messages(_S2C)),
        '}, "decrypted": ', _value(decrypted), "}",
    ])


def _app_json(app) -> str:
    if app is None:
        return "null"
    return (f'{{"records": {_value(app.records)}, "bytes": {_value(app.length)}, '
            f'"sha256": {_value(app.sha256)}}}')


def _http_json(c) -> str:
    conversation = getattr(c, "http", None)
    if conversation is None:
        return "[]"
    out = []
    for exchange in conversation.exchanges:
        response = exchange.response
        request = exchange.request
        out.append(''.join([
            '{"request": ', "null" if request is None else _value(request.start_line),
            ', "response": ', "null" if response is None else _value(response.start_line),
            ', "body_sha256": ',
            "null" if response is None or not response.complete else _value(response.body_sha256),
            "}",
        ]))
    return "[" + ", ".join(out) + "]"


def _checks_json(c) -> str:
    return "[" + ", ".join([
        f'{{"name": {_value(k.name)}, "status": {_value(str(k.status))}, "detail": {_value(k.detail)}}}'
        for k in getattr(c, "checks", ())
    ]) + "]"


def connection_json(c, *, checks: bool = False) -> str:
    """``json.dumps(connection_dict(c, checks=checks), ensure_ascii=False)``, about twice as fast.

    :func:`connection_dict` says what each key means; this writes the same
    text without building the dicts first (the tests hold the two equal).
    """
    conn = c.tcp
    hs = conn.handshake
    seen = [
        name
        for name, segment in (("SYN", hs.syn), ("SYN-ACK", hs.syn_ack), ("ACK", hs.ack))
        if segment is not None
    ]
    rtt_ns = hs.rtt_ns
    tls = c.tls
    app = c.application_data
    return "".join([
        '{"client": ', _value(endpoint(conn.client)),
        ', "server": ', _value(endpoint(conn.server)),
        ', "tcp": {"handshake": [', ", ".join([f'"{name}"' for name in seen]),
        '], "rtt_ms": ', "null" if rtt_ns is None else _value(round(rtt_ns / 1e6, 3)),
        '}, "tls": ', "null" if tls is None else _tls_json(tls, c.decrypted),
        ', "application_data": {"client": ', _app_json(app.get(_C2S)),
        ', "server": ', _app_json(app.get(_S2C)),
        '}, "http": ', _http_json(c),
        ', "checks": ' + _checks_json(c) + "}" if checks else "}",
    ])


def write(run, out: IO[str], *, checks: bool = False) -> None:
    """Write the whole document for *run* (an iterable with ``capture`` and ``warnings``).

    Args:
        run: the connections (iterated once) and the warnings (read after).
        out: where to write.
        checks: add each connection's ``"checks"`` (``tlsdoc verify``).
    """
    out.write('{"capture": ')
    out.write(json.dumps(run.capture))
    out.write(', "connections": [')
    first = True
    for c in run:
        out.write("\n  " if first else ",\n  ")
        out.write(connection_json(c, checks=checks))
        first = False
    out.write("\n ]," if not first else "],")
    out.write(' "warnings": ')
    out.write(json.dumps(list(run.warnings), ensure_ascii=False))
    out.write("}\n")

"""The JSON document of ``tlsdoc … --json`` (the contract in DESIGN.md).

Consumes :class:`~tlsdoc.analysis.ConnectionAnalysis` values, produces JSON
text.  The document is written connection by connection so a capture of
any size streams through in bounded memory; :func:`connection_dict` is the
one place that decides what each key means.

Never imports sphinx, docutils or cli.
"""

from __future__ import annotations

import json
from typing import IO, Any, Iterable

from tlsdoc.wire import Direction

__all__ = ["connection_dict", "endpoint", "write"]


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


def _tls_dict(tls, decrypted: bool) -> dict[str, Any]:
    version = tls.version
    return {
        "version": None if version is None else getattr(version, "label", str(version)),
        "cipher_suite": _suite_dict(tls.cipher_suite),
        "sni": tls.sni,
        "alpn": tls.alpn,
        "client_random": None if tls.client_random is None else tls.client_random.hex(),
        "handshake": {
            "client": [m.name for m in tls.messages(Direction.CLIENT_TO_SERVER)],
            "server": [m.name for m in tls.messages(Direction.SERVER_TO_CLIENT)],
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
        "client": _app_dict(c.application_data.get(Direction.CLIENT_TO_SERVER)),
        "server": _app_dict(c.application_data.get(Direction.SERVER_TO_CLIENT)),
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
        out.write(json.dumps(connection_dict(c, checks=checks), ensure_ascii=False))
        first = False
    out.write("\n ]," if not first else "],")
    out.write(' "warnings": ')
    out.write(json.dumps(list(run.warnings), ensure_ascii=False))
    out.write("}\n")

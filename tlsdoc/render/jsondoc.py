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


def connection_dict(c) -> dict[str, Any]:
    """One entry of ``connections`` for a ConnectionAnalysis."""
    decrypted = False
    app = {"client": None, "server": None}
    return {
        "client": endpoint(c.tcp.client),
        "server": endpoint(c.tcp.server),
        "tcp": _tcp_dict(c.tcp),
        "tls": None if c.tls is None else _tls_dict(c.tls, decrypted),
        "application_data": app,
        "http": [],
    }


def write(run, out: IO[str]) -> None:
    """Write the whole document for *run* (an iterable with ``capture`` and ``warnings``)."""
    out.write('{"capture": ')
    out.write(json.dumps(run.capture))
    out.write(', "connections": [')
    first = True
    for c in run:
        out.write("\n  " if first else ",\n  ")
        out.write(json.dumps(connection_dict(c), ensure_ascii=False))
        first = False
    out.write("\n ]," if not first else "],")
    out.write(' "warnings": ')
    out.write(json.dumps(list(run.warnings), ensure_ascii=False))
    out.write("}\n")

"""`tlsdoc show --json` agrees with tshark, field by field, on every bundled capture.

tshark is the reference: for each TCP connection we compare the endpoints,
the negotiated version and cipher suite, SNI, ALPN (where visible without
keys), the client random, and the handshake messages each side sent as far
as they are visible without keys (tlsdoc lists encrypted ones as
``Encrypted`` or, for the TLS 1.2 Finished after ChangeCipherSpec, as
``Finished``; tshark does not name them, so only plaintext ones are compared).
"""

from __future__ import annotations

import json

import pytest

from conftest import CAPTURES
from oracle import VERSION_LABELS, tls_view
from tlsdoc.cli import main
from tlsdoc.manifest import load_manifest

BUNDLED = [e.path for e in load_manifest(CAPTURES / "MANIFEST").captures()]


def show_json(capsys, path) -> dict:
    code = main(["show", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def plaintext_names(tls: dict, conn_analysis, side: str) -> list[str]:
    """The handshake names of a side that tshark can see without keys."""
    from tlsdoc.wire import Direction

    direction = Direction.CLIENT_TO_SERVER if side == "client" else Direction.SERVER_TO_CLIENT
    return [m.name for m in conn_analysis.tls.messages(direction) if not m.encrypted]


def compare(capsys, path) -> None:
    from tlsdoc.analysis import analyze

    ours = show_json(capsys, path)
    theirs = tls_view(path)
    assert len(ours["connections"]) == len(theirs), "connection count"
    analysis = analyze(path)
    for index, conn in enumerate(ours["connections"]):
        ref = theirs[index]
        assert conn["client"] == ref["client"]
        assert conn["server"] == ref["server"]
        tls = conn["tls"]
        if not ref["messages"]["client"] and not ref["messages"]["server"]:
            assert tls is None
            continue
        assert tls is not None
        assert tls["version"] == VERSION_LABELS.get(ref["version"])
        assert tls["cipher_suite"]["id"] == ref["cipher_suite"]
        assert tls["sni"] == ref["sni"]
        if ref["alpn"] is not None:
            assert tls["alpn"] == ref["alpn"]
        assert tls["client_random"] == ref["client_random"]
        for side in ("client", "server"):
            assert plaintext_names(tls, analysis.connections[index], side) == ref["messages"][side], side


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_capture_matches_tshark(capsys, name):
    compare(capsys, CAPTURES / name)

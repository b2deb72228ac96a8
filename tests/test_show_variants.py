"""`tlsdoc show` agrees with tshark when the same TLS conversation arrives differently.

The TLS byte streams of bundled captures are taken out with tshark (not
with tlsdoc), then re-wrapped by ``tests/synth.py`` into new captures:
tiny segments, one byte per segment, reordered, duplicated and
overlapping segments, IPv6, Linux cooked SLL2, VLAN-tagged Ethernet, a
pcapng with two interfaces of different link types, several interleaved
connections, and trailing garbage.  For each, tlsdoc's view must equal
tshark's on the same file.
"""

from __future__ import annotations

import json
import random
import subprocess

import pytest

import synth
from conftest import CAPTURES, require_tool
from oracle import VERSION_LABELS, tls_view
from tlsdoc.analysis import analyze
from tlsdoc.cli import main
from tlsdoc.wire import Direction

SLL2 = 276
ETHERNET = 1


def flights(capture) -> tuple[list[bytes], list[bytes]]:
    """The client's and the server's flights, as tshark reassembles nothing: raw payloads."""
    tshark = require_tool("tshark")
    out = subprocess.run(
        [tshark, "-n", "-r", str(capture), "-Y", "tcp.len > 0", "-T", "fields",
         "-e", "tcp.srcport", "-e", "tcp.payload"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    runs: list[tuple[bool, bytearray]] = []
    for line in out.splitlines():
        port, payload = line.split("\t")
        from_server = port == "443"
        if runs and runs[-1][0] == from_server:
            runs[-1][1].extend(bytes.fromhex(payload))
        else:
            runs.append((from_server, bytearray(bytes.fromhex(payload))))
    client: list[bytes] = []
    server: list[bytes] = []
    for from_server, data in runs:
        if from_server:
            while len(server) < len(client) - 1:
                server.append(b"")
            server.append(bytes(data))
        else:
            while len(client) < len(server):
                client.append(b"")
            client.append(bytes(data))
    return client, server


def variants(client, server):
    """(name, packets, capture_bytes keyword arguments)."""
    base = synth.synth_connection(client, server)
    rng = random.Random(20261127)
    data = synth.data_indices(base)
    overlapping = synth.resend(base, synth.SERVER, 100, 2000)  # spans several segments
    second = synth.synth_connection(client, server, client=("192.0.2.10", 50600),
                                    start_ns=synth.T0_NS + 5_000_000)
    interleaved = sorted(base + second, key=lambda p: p.time_ns)
    return [
        ("plain", base, {}),
        ("tiny-mss", synth.synth_connection(client, server, mss=7), {}),
        ("one-byte-segments", synth.synth_connection(client, server, mss=1), {}),
        ("reordered", synth.shuffled(base, rng), {}),
        ("duplicated", synth.duplicate(synth.duplicate(base, data[1]), data[-1]), {}),
        ("overlapping", overlapping, {}),
        ("ipv6", synth.synth_connection(client, server, ipv6=True), {}),
        ("sll2", base, {"linktype": SLL2}),
        ("vlan", base, {"vlans": (100, 200)}),
        ("pcapng-two-interfaces", base, {"fmt": "pcapng", "second_linktype": SLL2}),
        ("pcap-ns-big-endian", base, {"fmt": "pcap-ns", "byte_order": ">"}),
        ("two-connections", interleaved, {}),
    ]


def compare(path) -> None:
    main(["show", str(path), "--json"])  # must not raise; output checked through analyze
    ours = analyze(path)
    theirs = tls_view(path)
    assert len(ours.connections) == len(theirs)
    for c in ours.connections:
        ref = theirs[c.index]
        from tlsdoc.render.jsondoc import endpoint

        assert endpoint(c.tcp.client) == ref["client"]
        assert c.tls is not None
        assert c.tls.version.label == VERSION_LABELS[ref["version"]]
        assert int(c.tls.cipher_suite) == ref["cipher_suite"]
        assert c.tls.sni == ref["sni"]
        assert c.tls.client_random.hex() == ref["client_random"]
        for direction, side in ((Direction.CLIENT_TO_SERVER, "client"),
                                (Direction.SERVER_TO_CLIENT, "server")):
            names = [m.name for m in c.tls.messages(direction) if not m.encrypted]
            assert names == ref["messages"][side], (side, names, ref["messages"][side])


CASES = [(cap, name) for cap in ("tls12-rsa", "tls13-hrr") for name, _, _ in variants([b"x"], [b"y"])]


@pytest.mark.parametrize("capture, variant", CASES, ids=[f"{c}-{v}" for c, v in CASES])
def test_variant_matches_tshark(tmp_path, capsys, capture, variant):
    client, server = flights(CAPTURES / f"{capture}.pcapng")
    (name, packets, kw), = [v for v in variants(client, server) if v[0] == variant]
    path = synth.write_capture(tmp_path / f"{capture}-{variant}.cap", packets, **kw)
    compare(path)
    capsys.readouterr()


def test_trailing_garbage_is_a_located_warning(tmp_path, capsys):
    client, server = flights(CAPTURES / "tls12-rsa.pcapng")
    server[-1] = server[-1] + b"\x99garbage after the last record"
    path = synth.write_capture(tmp_path / "trailing.pcap", synth.synth_connection(client, server))
    assert main(["show", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (warning,) = [w for w in doc["warnings"] if "not a TLS record" in w]
    assert "server→client" in warning and "trailing.pcap" in warning
    # Everything before the garbage is still reported.
    assert doc["connections"][0]["tls"]["handshake"]["server"][:3] == [
        "ServerHello", "Certificate", "ServerHelloDone"]

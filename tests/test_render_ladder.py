"""Ladder diagrams: deterministic, well-formed SVG; arrows from segments; TLS labels."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace as NS

import pytest

from tlsdoc.render.ladder import Arrow, Bracket, Ladder, svg, tcp_ladder, text, tls_labels
from tlsdoc.wire import Direction

C2S, S2C = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT
SVG = "{http://www.w3.org/2000/svg}"

LADDER = Ladder(
    "client 192.0.2.1:40000",
    "server 198.51.100.7:443",
    (
        Arrow(1, 0.0, C2S, "SYN", "seq=0"),
        Arrow(2, 0.031, S2C, "SYN, ACK", "seq=0 ack=1"),
        Arrow(3, 0.0311, C2S, "ACK & <more>"),
    ),
    (Bracket(0, 1, "1 round trip\n31.0 ms"),),
    title="A handshake",
)


def test_svg_is_well_formed_and_says_everything():
    root = ET.fromstring(svg(LADDER))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "A handshake"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for expected in ("SYN", "SYN, ACK", "ACK & <more>", "seq=0 ack=1", "#2 31.000 ms",
                     "1 round trip", "31.0 ms", "client 192.0.2.1:40000"):
        assert expected in texts, expected
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "arrow"]
    assert [g.get("data-frame") for g in groups] == ["1", "2", "3"]


def test_arrows_point_the_right_way():
    root = ET.fromstring(svg(LADDER))
    lines = [g.find(f"{SVG}line") for g in root.iter(f"{SVG}g") if g.get("class") == "arrow"]
    x = [(float(l.get("x1")), float(l.get("x2"))) for l in lines]
    assert x[0][0] < x[0][1]  # client → server: left to right
    assert x[1][0] > x[1][1]  # server → client: right to left
    y = [float(l.get("y1")) for l in lines]
    assert y == sorted(y)  # later frames lower down


def test_svg_is_deterministic():
    assert svg(LADDER) == svg(LADDER)
    rebuilt = Ladder(LADDER.client, LADDER.server, tuple(LADDER.arrows), LADDER.brackets, LADDER.title)
    assert svg(rebuilt) == svg(LADDER)


def test_bracket_out_of_range_is_refused():
    with pytest.raises(ValueError, match="bracket"):
        Ladder("c", "s", (Arrow(1, 0.0, C2S, "SYN"),), (Bracket(0, 1, "rtt"),))


def test_text_version():
    lines = text(LADDER, width=30).splitlines()
    assert lines[0].startswith("#1  0.000 ms")
    assert "SYN ─" in lines[0] and lines[0].rstrip().endswith("▶ server 198.51.100.7:443")
    assert "◀" in lines[1]


def _segment(frame, t_ms, src, sport, dst, dport, seq, ack, flags, length=0):
    return NS(frame=frame, time_ns=int(t_ms * 1e6), src=src, sport=sport, dst=dst, dport=dport,
              seq=seq, ack=ack, flags=flags, payload_length=length)


def test_tcp_ladder_from_segments():
    client, server = ("192.0.2.1", 40000), ("198.51.100.7", 443)
    segments = [
        _segment(1, 0, *client, *server, 1000, 0, 0x02),
        _segment(2, 40, *server, *client, 5000, 1001, 0x12),
        _segment(3, 40.1, *client, *server, 1001, 5001, 0x10),
        _segment(4, 41, *client, *server, 1001, 5001, 0x18, 200),
        _segment(9, 50, "203.0.113.9", 1, "203.0.113.8", 2, 0, 0, 0x02),  # another connection
    ]
    syn = NS(frame=1, time_ns=0)
    syn_ack = NS(frame=2, time_ns=40_000_000)
    connection = NS(
        client=client, server=server, frames=(1, 2, 3, 4), first_time_ns=0,
        client_stream=NS(isn=1000), server_stream=NS(isn=5000),
        handshake=NS(syn=syn, syn_ack=syn_ack, syn_to_syn_ack_ns=40_000_000),
    )
    drawing = tcp_ladder(connection, segments, labels={4: "ClientHello"})
    assert [a.frame for a in drawing.arrows] == [1, 2, 3, 4]
    assert [a.direction for a in drawing.arrows] == [C2S, S2C, C2S, C2S]
    assert [a.label for a in drawing.arrows] == ["SYN", "SYN, ACK", "ACK", "ClientHello"]
    assert drawing.arrows[1].detail == "seq=0 ack=1 len=0"
    assert drawing.arrows[3].detail == "PSH, ACK · seq=1 ack=1 len=200"
    assert drawing.arrows[1].time == pytest.approx(0.040)
    assert drawing.brackets == (Bracket(0, 1, "1 round trip\n40.0 ms"),)
    only = tcp_ladder(connection, segments, frames={3, 4, 9})
    assert [a.frame for a in only.arrows] == [3, 4]
    assert only.brackets == ()


def test_tls_labels_count_and_cut():
    tls = NS(
        client_messages=(NS(name="ClientHello", frames=(4,)),),
        server_messages=tuple(NS(name="Encrypted", frames=(6,)) for _ in range(3))
        + (NS(name="ServerHelloDoneWithAVeryLongName", frames=(7,)),),
    )
    labels = tls_labels(tls, limit=12)
    assert labels[4] == "ClientHello"
    assert labels[6] == "Encrypted ×3"
    assert labels[7] == "ServerHello…" and len(labels[7]) == 12


def test_record_labels_name_every_record():
    from types import SimpleNamespace as NS

    from tlsdoc.render.ladder import record_labels
    from tlsdoc.wire import Direction as D

    def rec(index, kind, *frames):
        return NS(index=index, content_type=kind, span=NS(frames=frames))

    records = {D.CLIENT_TO_SERVER: NS(records=(rec(0, 22, 4), rec(1, 22, 10), rec(2, 20, 10), rec(3, 22, 10),
                                               rec(4, 23, 12))),
               D.SERVER_TO_CLIENT: NS(records=(rec(0, 22, 6), rec(1, 22, 6, 8)))}
    entries = {D.CLIENT_TO_SERVER: (NS(name="ClientHello", records=(0,)), NS(name="ClientKeyExchange", records=(1,)),
                                    NS(name="Finished", records=(3,))),
               D.SERVER_TO_CLIENT: (NS(name="ServerHello", records=(0,)), NS(name="Certificate", records=(1,)))}
    tls = NS(messages=lambda d: entries[d])
    assert record_labels(records, tls) == {
        4: "ClientHello", 6: "ServerHello, Certificate", 8: "Certificate",
        10: "ClientKeyExchange, ChangeCipherSpec, Finished", 12: "Application data"}


def test_compact_ladder_is_narrower_and_splits_long_labels():
    long = Ladder("client", "server", (
        Arrow(1, 0.0, C2S, "SYN, ACK", "seq=0"),
        Arrow(2, 0.05, S2C, "ServerHello, Certificate, ServerKeyExchange, ServerHelloDone", "len=900"),
    ), (Bracket(0, 1, "1 round trip\n50.0 ms"),))
    wide, narrow = ET.fromstring(svg(long)), ET.fromstring(svg(long, compact=True))
    assert float(narrow.get("width")) < float(wide.get("width"))
    texts = ["".join(t.itertext()) for t in narrow.iter(f"{SVG}text")]
    assert "SYN, ACK" in texts  # short labels stay on one line
    assert ["ServerHello,", "Certificate,", "ServerKeyExchange,", "ServerHelloDone"] == [
        t for t in texts if t.startswith(("Server", "Cert"))]
    assert "len=900" not in texts and "len=900" in ["".join(t.itertext()) for t in wide.iter(f"{SVG}text")]
    # The extra lines make room for themselves: the second arrow is lower than in the wide drawing.
    def arrow_y(root):
        return [float(g.find(f"{SVG}line").get("y1")) for g in root.iter(f"{SVG}g")]
    assert arrow_y(narrow)[1] > arrow_y(wide)[1]
    assert svg(long, compact=True) == svg(long, compact=True)

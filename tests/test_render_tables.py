"""Tables: rows from hand-made values; text layout; the wording carries the numbers."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from tlsdoc.capture import TcpOption, TcpOptionKind
from tlsdoc.keyschedule import Step
from tlsdoc.render.hexdump import Field, annotate
from tlsdoc.render.tables import (
    Table,
    captures_table,
    handshake_table,
    options_table,
    pieces_table,
    records_table,
    steps_table,
)


def test_table_checks_its_shape():
    with pytest.raises(ValueError):
        Table(("a", "b"), (("1",),))
    with pytest.raises(ValueError):
        Table(("a",), (("1",),), widths=(1, 2))


def test_text_layout():
    table = Table(("name", "n"), (("x", "10"), ("longer", "2")))
    assert table.text().splitlines() == ["name    n", "──────  ──", "x       10", "longer  2"]


def _packet(frame, t_ns, seq, ack, rseq, rack, flags, window, **opts):
    base = dict(mss=None, window_scale=None, sack_permitted=False, timestamps=None, options=())
    base.update(opts)
    return NS(frame=frame, time_ns=t_ns, seq=seq, ack=ack, relative_seq=rseq,
              relative_ack=rack, flags=flags, window=window, **base)


def test_handshake_table():
    handshake = NS(
        syn=_packet(1, 1_000_000_000, 1000, 0, 0, None, 0x02, 64240, mss=1460,
                    sack_permitted=True, window_scale=7),
        syn_ack=_packet(2, 1_031_250_000, 5000, 1001, 0, 1, 0x12, 65160, mss=1400),
        ack=None,
    )
    rows = handshake_table(handshake).rows
    assert rows[0] == ("SYN", "1", "0.000", "SYN", "0 (1000)", "— (no ACK flag)", "64240",
                       "MSS 1460, SACK permitted, window scale 7")
    assert rows[1][:6] == ("SYN-ACK", "2", "31.250", "SYN, ACK", "0 (5000)", "1 (1001)")
    assert rows[2][0] == "ACK" and rows[2][1] == "not captured"


def test_options_table():
    table = options_table([
        TcpOption(TcpOptionKind.MSS, 1460),
        TcpOption(TcpOptionKind.TIMESTAMPS, (17, 0)),
        TcpOption(99, b"\xab"),
    ])
    assert [r[:3] for r in table.rows] == [("MSS", "2", "4"), ("TIMESTAMPS", "8", "10"),
                                           ("kind 99", "99", "3")]
    assert "1460 bytes" in table.rows[0][3]
    assert "TSval 17" in table.rows[1][3] and "TSecr 0" in table.rows[1][3]
    assert "ab" in table.rows[2][3]


def test_steps_table_shows_labels_as_text_and_bytes_shortened():
    steps = (
        Step(name="early_secret", op="HKDF-Extract-SHA256",
             inputs=(("salt", b""), ("ikm", bytes(32))), output=bytes(range(32))),
        Step(name="derived", op="HKDF-Expand-Label-SHA256",
             inputs=(("label", b"derived"), ("context", bytes(32))), output=b"\x01\x02"),
    )
    rows = steps_table(steps).rows
    assert rows[0][0] == "early_secret" and rows[0][1] == "HKDF-Extract-SHA256"
    assert rows[0][2].splitlines() == ["salt = (empty)", "ikm = 00 00 00 00 … 00 00 00 00 (32 bytes)"]
    assert rows[0][3] == "00 01 02 03 … 1c 1d 1e 1f (32 bytes)"
    assert rows[1][2].splitlines()[0] == 'label = "derived"'


def test_pieces_table_lists_labelled_pieces_only():
    pieces = annotate(b"\x16\x03\x01\x00\x05", [Field(0, 1, "type", "handshake"), Field(3, 5, "length")])
    assert pieces_table(pieces).rows == (("0", "16", "type", "handshake"), ("3–4", "00 05", "length", ""))


def test_captures_table():
    entry = NS(path="a.pcapng", description="what it shows",
               claims=NS(frames=7, keylog="a.keys", rsa_key=None))
    manifest = NS(captures=lambda: (entry,))
    assert captures_table(manifest).rows == (("a.pcapng", "what it shows", "7", "a.keys"),)


def test_records_table():
    from tlsdoc.registry import ContentType, ProtocolVersion

    records = (
        NS(index=0, content_type=ContentType.handshake, legacy_version=ProtocolVersion.TLS_1_2,
           length=122, span=NS(frames=(6,))),
        NS(index=1, content_type=23, legacy_version=ProtocolVersion.TLS_1_2, length=2000,
           span=NS(frames=(6, 8))),
    )
    assert records_table(records).rows == (
        ("0", "6", "handshake", "TLS 1.2", "122"),
        ("1", "6, 8", "23", "TLS 1.2", "2000"),
    )


# -- TLS tables ----------------------------------------------------------------------

from tlsdoc.registry import CipherSuite  # noqa: E402
from tlsdoc.render.tables import checks_table, cipher_suites_table, suite_parts  # noqa: E402


@pytest.mark.parametrize("suite, parts", [
    # Read off the IANA names as RFC 5246 App. A.5 and RFC 8446 §B.4 spell them.
    (CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
     ("RSA: premaster encrypted to the server's key", "RSA (decrypting)", "AES-128-GCM", "SHA256 (PRF)")),
    (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
     ("ECDHE: ephemeral elliptic curve", "ECDSA signature", "AES-256-CBC", "HMAC-SHA1 (MAC), SHA256 (PRF)")),
    (CipherSuite.TLS_AES_128_GCM_SHA256,
     ("TLS 1.3: key_share", "TLS 1.3: CertificateVerify", "AES-128-GCM", "SHA256 (HKDF)")),
    (CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV, ("signalling value, not a suite", "", "", "")),
    (0x1A1A, ("GREASE: a random value servers must ignore", "", "", "")),
])
def test_suite_parts(suite, parts):
    assert suite_parts(suite) == parts


def test_cipher_suites_table_marks_the_chosen_one():
    table = cipher_suites_table((CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_AES_128_GCM_SHA256),
                                CipherSuite.TLS_AES_128_GCM_SHA256)
    assert [row[0] for row in table.rows] == ["1", "2 ✓"]
    assert table.rows[1][2] == "0x1301"


def test_checks_table():
    from types import SimpleNamespace as NS

    table = checks_table([NS(name="chain", status="failed", detail="expired")])
    assert table.rows == (("chain", "✗ failed", "expired"),)


def test_keylog_lines_and_table_shorten_hex_and_say_where_keys_are():
    from tlsdoc.render.tables import keylog_lines, keylog_table

    entries = (NS(label="RSA", key=bytes(range(8)), secret=bytes(48), line=1),
               NS(label="CLIENT_RANDOM", key=bytes(range(32)), secret=bytes([0xab] * 48), line=2),
               NS(label="NEW_LABEL", key=bytes([7] * 32), secret=b"\x01", line=4))
    assert keylog_lines(entries).splitlines() == [
        "RSA           00010203… 00000000…",
        "CLIENT_RANDOM 00010203… abababab…",
        "NEW_LABEL     07070707… 01",
    ]
    table = keylog_table(entries, {bytes(range(32)): "the ClientHello, frame 4"})
    assert table.columns == ("line", "label", "looked up by", "secret", "what it is")
    assert [row[0] for row in table.rows] == ["1", "2", "4"]
    assert table.rows[0][2] == "00010203… (8 bytes), the encrypted premaster: not in this capture"
    assert table.rows[1][2] == "00010203… (32 bytes), the client random: the ClientHello, frame 4"
    assert table.rows[1][3] == "abababab… (48 bytes)"
    assert table.rows[1][4].startswith("TLS 1.2 master_secret")
    assert table.rows[2][4] == "a label tlsdoc does not use"

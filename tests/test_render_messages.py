"""Handshake messages field by field: positions from the RFC layout, values checked.

The ClientHello below is written out field by field from RFC 5246 §7.4.1.2
(and RFC 6066 §3 for server_name), not produced by tlsdoc; the expected
positions are counted by hand from that layout.
"""

from __future__ import annotations

import dataclasses

import pytest

from tlsdoc.handshake import parse_messages
from tlsdoc.render.hexdump import annotate
from tlsdoc.render.messages import extension_meaning, message_fields, select_fields
from tlsdoc.render.protection import content_meaning
from tlsdoc.wire import Direction

RANDOM = bytes(range(32))
SNI = b"\x00\x0c\x00\x00\x09localhost"  # server_name_list<2>: host_name(0), length 9
BODY = (
    b"\x03\x03" + RANDOM          # client_version, random            bytes 4–37
    + b"\x00"                     # session_id<0..32>: empty          byte 38
    + b"\x00\x04\x13\x01\xc0\x2f" # cipher_suites<2..>: two suites    bytes 39–44
    + b"\x01\x00"                 # compression_methods: null         bytes 45–46
    + b"\x00\x16"                 # extensions length: 22             bytes 47–48
    + b"\x00\x00\x00\x0e" + SNI   # server_name                      bytes 49–66
    + b"\x00\x17\x00\x00"         # extended_master_secret (empty)    bytes 67–70
)
CLIENT_HELLO = b"\x01" + len(BODY).to_bytes(3, "big") + BODY


def decoded(data: bytes):
    (entry,) = parse_messages(data, direction=Direction.CLIENT_TO_SERVER)
    return entry.message


def test_client_hello_fields_follow_the_rfc_layout():
    fields = message_fields(CLIENT_HELLO, decoded(CLIENT_HELLO))
    spans = {f.label: (f.start, f.end) for f in fields}
    assert spans["handshake type"] == (0, 1)
    assert spans["message length"] == (1, 4)
    assert spans["legacy_version"] == (4, 6)
    assert spans["random"] == (6, 38)
    assert spans["session id length"] == (38, 39)
    assert "session id" not in spans  # empty: only its length byte
    assert spans["cipher suites length"] == (39, 41)
    assert spans["cipher suites"] == (41, 45)
    assert spans["compression methods"] == (46, 47)
    assert spans["extensions length"] == (47, 49)
    assert spans["server_name: type"] == (49, 51)
    assert spans["server_name: content"] == (53, 67)
    assert spans["extended_master_secret: length"] == (69, 71)
    assert "extended_master_secret: content" not in spans
    # Every byte is claimed exactly once.
    pieces = annotate(CLIENT_HELLO, fields)
    assert all(p.label is not None for p in pieces)
    assert sum(p.length for p in pieces) == len(CLIENT_HELLO)


def test_meanings_quote_the_decoded_values():
    fields = {f.label: f for f in message_fields(CLIENT_HELLO, decoded(CLIENT_HELLO))}
    assert fields["server_name: content"].meaning == "host_name localhost"
    assert fields["cipher suites"].meaning.startswith("2 suites in order of preference, first TLS_AES_128")
    assert fields["compression methods"].meaning == "null (0)"
    assert fields["random"].elide == 16 and fields["random"].group == "random"
    assert fields["server_name: type"].group == "extensions.server_name"


def test_a_decoded_value_that_disagrees_with_the_bytes_is_refused():
    message = decoded(CLIENT_HELLO)
    wrong = dataclasses.replace(message, random=bytes(32))
    with pytest.raises(ValueError, match="random: the bytes at 6 are not the decoded value"):
        message_fields(CLIENT_HELLO, wrong)
    with pytest.raises(ValueError, match="message length: the captured 67 is not the decoded 68"):
        message_fields(CLIENT_HELLO + b"\x00", message)


def test_selecting_groups():
    fields = message_fields(CLIENT_HELLO, decoded(CLIENT_HELLO))
    chosen = select_fields(fields, ["random", "extensions.server_name"])
    assert {f.group for f in chosen} == {"random", "extensions.server_name"}
    assert len(select_fields(fields, ["extensions"])) == 1 + 3 + 2  # length, server_name ×3, EMS ×2
    with pytest.raises(ValueError, match="no field group 'nosuch'"):
        select_fields(fields, ["nosuch"])
    # Left-out groups become shortened, unlabelled pieces.
    pieces = annotate(CLIENT_HELLO, chosen, gap_elide=4)
    assert pieces[0].label is None and pieces[0].hex == "01 00 … 03 03 (6 bytes)"


def test_extension_and_content_meanings():
    from types import SimpleNamespace as NS

    from tlsdoc.registry import ExtensionType

    assert extension_meaning(NS(type=ExtensionType.encrypt_then_mac)) == (
        "empty: the sender supports encrypt-then-MAC")
    assert content_meaning(21, bytes([2, 40])) == "alert: fatal handshake_failure"
    assert content_meaning(22, bytes([20, 0, 0, 12]) + bytes(12)) == "handshake: finished"
    assert content_meaning(23, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith("starting “GET / HTTP/1.1”")

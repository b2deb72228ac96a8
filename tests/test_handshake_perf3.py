"""More fast paths of tlsdoc.handshake against the general code they stand in for.

* server_name is remembered like the other extensions when the message
  came in one frame (``_server_name_copier`` moves the names' spans):
  compared with a fresh decode that cannot use the shortcut, for random
  name lists at random offsets.
* ``_certificate`` skips ``_extensions`` for an empty CertificateEntry
  extensions block: compared with the decoder that always calls it, on
  random chains, whole and cut short (the same value or the same error).
"""

from __future__ import annotations

import random

import pytest

from tlsdoc import handshake
from tlsdoc.errors import TlsdocError
from tlsdoc.handshake import Certificate, CertificateEntry, HandshakeContext, decode_message
from tlsdoc.registry import ProtocolVersion
from tlsdoc.wire import Direction, Span

TLS13 = HandshakeContext(version=ProtocolVersion.TLS_1_3)
TLS12 = HandshakeContext(version=ProtocolVersion.TLS_1_2)


def _vector(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _message(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def _client_hello(server_names: list[tuple[int, bytes]]) -> bytes:
    names = b"".join(bytes([t]) + _vector(2, n) for t, n in server_names)
    sni = b"\x00\x00" + _vector(2, _vector(2, names))
    exts = bytes.fromhex("000a00040002001d" "002b0003020304") + sni + bytes.fromhex("000d000400020403")
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + _vector(2, exts)
    return _message(1, body)


def _raw(message: bytes, offset: int, frames_for) -> handshake.RawHandshake:
    (raw,) = handshake.HandshakeReassembler(Direction.CLIENT_TO_SERVER, frames_for).feed(
        message, stream_offset=offset, record=0)
    return raw


def _same(a, b) -> None:
    assert a == b and repr(a) == repr(b)


@pytest.mark.parametrize("seed", range(20))
def test_remembered_server_name_is_the_decoded_one(seed):
    rng = random.Random(seed)
    names = [(rng.choice([0, 0, 1, 255]), bytes(rng.randrange(97, 123) for _ in range(rng.randrange(1, 40))))
             for _ in range(rng.randrange(1, 4))]
    message = _client_hello(names)
    frame = rng.randrange(1, 100)

    def one_frame(start, end):
        return (frame,) if end > start else ()

    handshake._decoded_before.clear()
    for _ in range(3):  # the first decode remembers the value, the next ones copy it
        offset = rng.randrange(0, 5000)
        raw = _raw(message, offset, one_frame)
        fast = decode_message(raw, None, one_frame)
        saved = dict(handshake._decoded_before)
        handshake._decoded_before.clear()
        general = decode_message(raw, None, lambda s, e: one_frame(s, e))  # no one-frame shortcut, no cache
        handshake._decoded_before.update(saved)
        _same(fast, general)
        (sni,) = [e for e in fast.extensions if e.type == 0]
        assert [n.name for n in sni.server_name_list] == [n for _, n in names]
        for name in sni.server_name_list:
            assert type(name.span) is Span and name.span.frames == (frame,)


def test_server_name_over_several_frames_is_not_remembered():
    message = _client_hello([(0, b"example.com")])

    def per_byte(start, end):
        return tuple(range(start, end))

    handshake._decoded_before.clear()
    for offset in (10, 700):
        raw = _raw(message, offset, per_byte)
        fast = decode_message(raw, None, per_byte)
        (sni,) = [e for e in fast.extensions if e.type == 0]
        name = sni.server_name_list[0]
        assert name.span.frames == tuple(range(name.span.start, name.span.end))
    assert not any(key[:2] == b"\x00\x00" for key in handshake._decoded_before.get("client_hello", {}))


def _general_certificate(cur, span, ctx):
    # the decoder before the empty-block shortcut: _extensions for every entry
    context = cur.opaque(1, "certificate_request_context") if ctx.tls13 else None
    vec = cur.vector(3, "certificate_list")
    entries = []
    while not vec.at_end():
        start = vec.pos
        cert = vec.opaque(3, "cert_data")
        exts = handshake._extensions(vec, handshake.CT) if ctx.tls13 else ()
        entries.append(CertificateEntry(cert_data=cert, extensions=exts, span=vec.span(start)))
    return Certificate(span=span, certificate_request_context=context, certificate_list=tuple(entries))


def _certificate_message(rng: random.Random, tls13: bool) -> bytes:
    entries = b""
    for _ in range(rng.randrange(0, 4)):
        entry = _vector(3, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 50))))
        if tls13:
            kind = rng.randrange(4)
            if kind == 0:  # an OCSP response
                exts = b"\x00\x05" + _vector(2, b"\x01" + _vector(3, b"ocsp"))
            elif kind == 1:  # an unknown extension
                exts = b"\x12\x34" + _vector(2, b"sct")
            else:
                exts = b""
            entry += _vector(2, exts)
        entries += entry
    body = (_vector(1, bytes(rng.randrange(3))) if tls13 else b"") + _vector(3, entries)
    return _message(11, body)


def _outcome(raw, ctx, frames_for):
    try:
        return decode_message(raw, ctx, frames_for)
    except TlsdocError as exc:
        return (type(exc), str(exc))


@pytest.mark.parametrize("seed", range(10))
def test_certificate_shortcut_is_the_general_decoder(seed, monkeypatch):
    rng = random.Random(seed)

    def per_byte(start, end):
        return tuple(range(start, end))

    for _ in range(20):
        tls13 = rng.random() < 0.8
        ctx = TLS13 if tls13 else TLS12
        message = _certificate_message(rng, tls13)
        bodies = [message]
        for _ in range(3):  # cut or damaged: the same error from both
            cut = rng.randrange(5, len(message) + 1)
            damaged = bytearray(message[:cut])
            if rng.random() < 0.5 and len(damaged) > 5:
                damaged[rng.randrange(4, len(damaged))] = rng.randrange(256)
            damaged[1:4] = (len(damaged) - 4).to_bytes(3, "big")
            bodies.append(bytes(damaged))
        for data in bodies:
            for frames_for in (per_byte, lambda s, e: (7,) if e > s else ()):
                raw = _raw(data, rng.randrange(0, 3000), frames_for)
                fast = _outcome(raw, ctx, frames_for)
                with monkeypatch.context() as m:
                    m.setitem(handshake.MESSAGE_DECODERS, handshake.HandshakeType.certificate, _general_certificate)
                    general = _outcome(raw, ctx, frames_for)
                _same(fast, general)

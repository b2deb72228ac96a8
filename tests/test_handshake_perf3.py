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


def _server_hello(exts: bytes) -> bytes:
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + b"\x13\x01" + b"\x00" + _vector(2, exts)
    return _message(2, body)


def _key_share_body(rng: random.Random, server: bool) -> bytes:
    entries = [rng.choice([b"\x00\x1d", b"\x00\x17", b"\x0a\x0a", b"\x63\x99"])
               + _vector(2, bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 32, 65]))))
               for _ in range(rng.choice([1, 1, 2, 3] if server else [0, 1, 1, 2, 3]))]
    body = b"".join(entries) if server else _vector(2, b"".join(entries))
    if rng.random() < 0.3:  # damaged: a length off, bytes cut or added
        body = bytearray(body)
        if body and rng.random() < 0.5:
            body[rng.randrange(len(body))] = rng.choice([0, 1, 0x41, 0xFF])
        else:
            body = body[: rng.randrange(len(body) + 1)] if rng.random() < 0.5 else body + b"\x00"
        body = bytes(body)
    return body


@pytest.mark.parametrize("seed", range(20))
def test_key_share_shortcut_is_the_general_decoder(seed):
    # _key_share_in_one_frame (a hello in one frame) against _ext_key_share
    # through the sub-cursors (another frames_for object: no one-frame
    # shortcut), for random and damaged key shares: the same value or error
    rng = random.Random(seed)

    def one_frame(start, end):
        return (3,) if end > start else ()

    handshake._decoded_before.clear()
    for _ in range(30):
        server = rng.random() < 0.5
        ks = b"\x00\x33" + _vector(2, _key_share_body(rng, server))
        other = bytes.fromhex("002b0003020304" if not server else "002b00020304")
        exts = other + ks if rng.random() < 0.5 else ks + other
        if rng.random() < 0.1:
            exts += ks  # a duplicate
        message = _server_hello(exts) if server else _message(1, b"\x03\x03" + bytes(32) + b"\x00"
                                                                 + b"\x00\x02\x13\x01" + b"\x01\x00" + _vector(2, exts))
        for _ in range(2):  # the second time, supported_versions comes from the cache
            raw = _raw(message, rng.randrange(0, 2000), one_frame)
            fast = _outcome(raw, None, one_frame)
            general = _outcome(raw, None, lambda s, e: one_frame(s, e))
            _same(fast, general)


def _damaged(rng: random.Random, message: bytes) -> bytes:
    body = bytearray(message[4:])
    choice = rng.randrange(4)
    if choice == 0 and body:
        body[rng.randrange(len(body))] = rng.choice([0, 1, 2, 0x20, 0xFF])
    elif choice == 1:
        body = body[: rng.randrange(len(body) + 1)]
    elif choice == 2:
        body += bytes(rng.randrange(1, 4))
    return message[:1] + len(body).to_bytes(3, "big") + bytes(body)


def _whole_message_cases(rng: random.Random):
    # Finished, CertificateVerify (with and without algorithm), NewSessionTicket (both forms, with extensions)
    yield _message(20, bytes(rng.randrange(256) for _ in range(rng.choice([0, 12, 32, 48]))))
    signature = _vector(2, bytes(rng.randrange(256) for _ in range(rng.choice([0, 64, 71]))))
    yield _message(15, rng.choice([b"\x08\x04", b"\x04\x03", b"\xfe\xfe"]) + signature)
    yield _message(15, signature)
    exts = rng.choice([b"", b"", b"\x00\x2a\x00\x04\x00\x00\x40\x00", b"\x0a\x0a\x00\x00"])
    yield _message(4, bytes(rng.randrange(256) for _ in range(8)) + _vector(1, bytes(rng.randrange(9)))
                   + _vector(2, bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 100]))))
                   + _vector(2, exts))
    yield _message(4, bytes(4) + _vector(2, bytes(rng.randrange(40))))


@pytest.mark.parametrize("seed", range(20))
def test_whole_message_decoders_are_the_cursor_path(seed, monkeypatch):
    rng = random.Random(seed)
    contexts = [None, TLS13, TLS12, HandshakeContext(version=ProtocolVersion.TLS_1_0), HandshakeContext(version=0x0304),
                HandshakeContext(version=0x7F1C)]

    def one_frame(start, end):
        return (5,) if end > start else ()

    for message in _whole_message_cases(rng):
        for data in [message] + [_damaged(rng, message) for _ in range(4)]:
            raw = _raw(data, rng.randrange(0, 900), one_frame)
            for ctx in contexts:
                fast = _outcome(raw, ctx, one_frame)
                with monkeypatch.context() as m:
                    m.setattr(handshake, "_WHOLE_MESSAGE_DECODERS", {})
                    general = _outcome(raw, ctx, one_frame)
                _same(fast, general)
                if not isinstance(fast, tuple):
                    assert all(type(getattr(fast, name)) is type(getattr(general, name))
                               for name in ("span",))

"""The fast paths of tlsdoc.handshake give exactly what the general code gives.

Each fast path in handshake.py (the faster dataclass constructors, ...) is
compared here with the general code it stands in for.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from tlsdoc import handshake
from tlsdoc.registry import ExtensionType
from tlsdoc.wire import Direction, Span

SPAN = Span(Direction.CLIENT_TO_SERVER, 5, 9, (3,))

VALUE_CLASSES = sorted(
    (c for c in vars(handshake).values()
     if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == handshake.__name__),
    key=lambda c: c.__name__,
)


def test_every_value_class_has_the_fast_init():
    assert len(VALUE_CLASSES) > 40
    assert set(handshake._DATACLASS_INIT) == set(VALUE_CLASSES)


def _arguments(cls) -> dict:
    # a distinct value per field (the fast __init__ must not mix them up)
    return {f.name: (f"value of {f.name}", i) for i, f in enumerate(dataclasses.fields(cls))}


@pytest.mark.parametrize("cls", VALUE_CLASSES, ids=lambda c: c.__name__)
def test_fast_init_builds_what_the_dataclass_init_builds(cls):
    original = handshake._DATACLASS_INIT[cls]
    assert inspect.signature(cls.__init__) == inspect.signature(original)
    assert cls.__init__.__annotations__ == original.__annotations__
    assert cls.__init__.__qualname__ == original.__qualname__
    kwargs = _arguments(cls)
    fast = cls(**kwargs)
    slow = object.__new__(cls)
    original(slow, **kwargs)
    assert fast == slow and repr(fast) == repr(slow)
    assert [getattr(fast, f.name) for f in dataclasses.fields(cls)] == list(kwargs.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(cls)[0].name, None)


@pytest.mark.parametrize("cls", VALUE_CLASSES, ids=lambda c: c.__name__)
def test_fast_init_refuses_what_the_dataclass_init_refuses(cls):
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    if required:
        kwargs = _arguments(cls)
        del kwargs[required[0]]
        with pytest.raises(TypeError):
            cls(**kwargs)
        with pytest.raises(TypeError):
            cls(*_arguments(cls).values())  # keyword-only
    with pytest.raises(TypeError):
        cls(**_arguments(cls), no_such_field=1)


def test_fast_init_defaults():
    entry = handshake.HandshakeEntry(name="Finished", msg_type=None, direction=Direction.CLIENT_TO_SERVER,
                                     records=(1,), span=SPAN)
    assert (entry.message, entry.encrypted, entry.raw, entry.error) == (None, False, None, None)
    view = handshake.TlsHandshake(client_messages=(), server_messages=())
    assert view.warnings == () and view.version is None
    assert dataclasses.replace(view, sni="a").sni == "a"
    ext = handshake.EmptyExtension(type=ExtensionType.extended_master_secret, span=SPAN)
    assert ext == handshake.EmptyExtension(type=ExtensionType.extended_master_secret, span=SPAN)


# -- the caches of values decoded before (extensions, cipher suite lists) ---

CAPTURES = ("tls13", "tls13-hrr", "tls13-resumption", "tls12-ecdhe", "tls12-rsa")


def _messages() -> list[tuple[bytes, Direction, handshake.HandshakeContext]]:
    """Every handshake message of the chapters' captures (decrypted ones too), as sent."""
    from conftest import CAPTURES as folder

    from tlsdoc import analysis

    out = []
    for name in CAPTURES:
        result = analysis.analyze(folder / f"{name}.pcapng", keylog=folder / f"{name}.keys")
        for conn in result.connections:
            for direction in Direction:
                for entry in conn.tls.messages(direction):
                    if entry.raw is not None:
                        out.append((entry.raw, direction, conn.tls.context))
    return out


def _mutations(messages, count: int, seed: int = 8446):
    """Messages with a few bytes changed, cut or repeated, most with their length fixed up."""
    import random

    rng = random.Random(seed)
    for _ in range(count):
        data, direction, context = rng.choice(messages)
        b = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            if not b:
                break
            i = rng.randrange(len(b))
            op = rng.randrange(4)
            if op == 0:
                b[i] = rng.randrange(256)
            elif op == 1:
                del b[i:i + rng.randrange(1, 8)]
            elif op == 2:
                j = rng.randrange(len(b))
                b[i:i] = b[j:j + rng.randrange(1, 40)]
            else:
                b[i] ^= 1 << rng.randrange(8)
        if len(b) >= 4 and rng.random() < 0.8:
            b[1:4] = (len(b) - 4).to_bytes(3, "big")
        yield bytes(b), direction, context


def _outcome(data: bytes, direction: Direction, context) -> str:
    try:
        entries = handshake.parse_messages(data, direction=direction, context=context, base=77, record=2,
                                           frames_for=lambda start, end: (start // 100 + 1, end // 100 + 1))
    except Exception as exc:  # the same error, worded and located the same way
        return f"{type(exc).__name__}: {exc} ({exc.offset}, {exc.field})"
    return repr(entries)


class _Forgetful(dict):
    """A cache that never keeps anything: every extension goes through its decoder."""

    def __setitem__(self, key, value) -> None:
        pass


def test_values_decoded_before_are_what_their_decoder_gives(monkeypatch):
    messages = _messages()
    cases = messages + list(_mutations(messages, 1500))
    handshake._decoded_before.clear()
    handshake._u16_lists_before.clear()
    warm = [_outcome(*case) for case in cases for _ in range(2)][1::2]  # the second decode is from the caches
    monkeypatch.setattr(handshake, "_decoded_before", _Forgetful())
    monkeypatch.setattr(handshake, "_u16_lists_before", _Forgetful())
    general = [_outcome(*case) for case in cases]
    assert warm == general
    assert sum(not text.startswith(("DecodeError", "TruncatedError")) for text in general) > len(messages)


# --- TlsHandshake.with_decrypted: a slot copy standing in for dataclasses.replace

def _with_decrypted_by_replace(view, direction, entries):
    """The general code: with_decrypted as dataclasses.replace builds it."""
    old = view.messages(direction)
    first = next((i for i, e in enumerate(old) if e.encrypted), len(old))
    merged = old[:first] + tuple(entries) + tuple(e for e in old[first:] if not e.encrypted)
    changes = {"client_messages" if direction is Direction.CLIENT_TO_SERVER else "server_messages": merged}
    if view.alpn is None:
        for entry in entries:
            if isinstance(entry.message, handshake.EncryptedExtensions):
                changes["alpn"] = handshake._alpn_of(entry.message.extensions)
    return dataclasses.replace(view, **changes)


def _corpus_views():
    from pathlib import Path

    from tlsdoc import capture, records, tcp

    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "tests" / "corpus").glob("*.pcap*"))[:12]:
        with open(path, "rb") as f:
            conns = tcp.reassemble(capture.read_segments(f, name=str(path), warn=lambda _t: None))
        for conn in conns:
            streams = [records.parse_records(conn.stream(d).data, d, conn.stream(d).frames_for) for d in Direction]
            yield handshake.parse_handshake(*streams)


def test_with_decrypted_is_what_dataclasses_replace_builds():
    alpn = handshake.ProtocolNameList(type=ExtensionType.application_layer_protocol_negotiation,
                                      protocol_name_list=(b"h2",), span=SPAN)
    ee = handshake.HandshakeEntry(
        name="EncryptedExtensions", msg_type=handshake.HandshakeType.encrypted_extensions,
        direction=Direction.SERVER_TO_CLIENT, records=(3,), span=SPAN,
        message=handshake.EncryptedExtensions(span=SPAN, extensions=(alpn,)), encrypted=True)
    finished = handshake.HandshakeEntry(name="Finished", msg_type=None, direction=Direction.CLIENT_TO_SERVER,
                                        records=(4,), span=SPAN, encrypted=True)
    seen = 0
    for view in _corpus_views():
        for direction, entries in ((Direction.SERVER_TO_CLIENT, (ee, finished)), (Direction.CLIENT_TO_SERVER, ()),
                                   (Direction.CLIENT_TO_SERVER, (finished,)), (Direction.SERVER_TO_CLIENT, [ee])):
            got = view.with_decrypted(direction, entries)
            expected = _with_decrypted_by_replace(view, direction, entries)
            assert type(got) is handshake.TlsHandshake
            assert got == expected and repr(got) == repr(expected)
            assert [getattr(got, f.name) for f in dataclasses.fields(got)] == [
                getattr(expected, f.name) for f in dataclasses.fields(expected)]
            with pytest.raises(dataclasses.FrozenInstanceError):
                got.alpn = None
            seen += 1
    assert seen > 20


def _general_feed(reassembler, fragment, stream_offset, record):
    # HandshakeReassembler.feed without the _feed_fresh shortcut: every
    # fragment goes through the buffer and _take (the general code).
    reassembler._pieces.append(handshake._Piece(len(reassembler._buffer), stream_offset, len(fragment), record))
    reassembler._buffer += fragment
    out = []
    while len(reassembler._buffer) >= handshake.HANDSHAKE_HEADER_LENGTH:
        total = handshake.HANDSHAKE_HEADER_LENGTH + int.from_bytes(reassembler._buffer[1:4], "big")
        if len(reassembler._buffer) < total:
            break
        out.append(reassembler._take(total))
    return tuple(out)


def _same_raw(fast, slow):
    assert type(fast) is type(slow) is handshake.RawHandshake
    for f in dataclasses.fields(handshake.RawHandshake):
        a, b = getattr(fast, f.name), getattr(slow, f.name)
        assert a == b and type(a) is type(b), f.name
    assert type(fast.span) is Span and type(fast.span.frames) is type(slow.span.frames)
    assert [type(p) for p in fast.pieces] == [type(p) for p in slow.pieces]
    assert fast.pieces == slow.pieces and fast.span == slow.span
    assert repr(fast) == repr(slow) and hash(fast.span) == hash(slow.span)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.length = 0


def test_feed_fresh_builds_what_take_builds():
    # random runs of whole messages (and a trailing partial one), with and
    # without frames_for / record: the fresh path and _take agree exactly
    import random

    rng = random.Random(1234)

    def frames_for(start, end):
        return tuple(range(start // 7, (end + 6) // 7)) if end > start else ()

    for trial in range(400):
        messages = []
        for _ in range(rng.randint(1, 5)):
            body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 3, 40, 300])))
            msg_type = rng.choice([1, 2, 8, 11, 15, 20, 4, 99, 254])
            messages.append(bytes([msg_type]) + len(body).to_bytes(3, "big") + body)
        fragment = b"".join(messages)
        if rng.random() < 0.3:
            fragment += bytes([11, 0, 1])  # a partial header / message left over
        ff = rng.choice([None, frames_for, lambda s, e: [s, e]])  # (a list: tuple() of it)
        record = rng.choice([None, 0, 7])
        offset = rng.randrange(0, 5000)
        direction = rng.choice([None, Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT])
        fresh = handshake.HandshakeReassembler(direction, ff)
        general = handshake.HandshakeReassembler(direction, ff)
        got = fresh.feed(fragment, stream_offset=offset, record=record)
        want = _general_feed(general, fragment, offset, record)
        assert len(got) == len(want) == len(messages)
        for a, b in zip(got, want):
            _same_raw(a, b)
        assert fresh.pending == general.pending
        assert fresh._pieces == general._pieces
        assert fresh.pending_offset == general.pending_offset


def test_message_cursor_spans_are_what_span_maker_gives():
    # _MessageCursor.span's inlined one-frame case (and the lazily built
    # maker behind it) against _span_maker, for every range of messages
    # reassembled whole, in pieces, in one frame or several
    def one_frame(start, end):
        return (4,) if end > start else ()

    def per_byte(start, end):
        return tuple(range(start, end))

    body = bytes(range(20))
    message = bytes([20]) + len(body).to_bytes(3, "big") + body
    for frames_for in (one_frame, per_byte, None):
        for cut in (None, 3, 11):
            r = handshake.HandshakeReassembler(Direction.SERVER_TO_CLIENT, frames_for)
            if cut is None:
                (raw,) = r.feed(message, stream_offset=100, record=2)
            else:
                assert r.feed(message[:cut], stream_offset=100, record=2) == ()
                (raw,) = r.feed(message[cut:], stream_offset=300, record=3)
            for asked in (frames_for, one_frame, None):
                maker = handshake._span_maker(raw, asked)
                for start in range(len(message) + 1):
                    for end in range(start, len(message) + 1):
                        cur = handshake._message_cursor(raw, asked)
                        sub = cur.sub(2, "x")  # sub-cursors share the source
                        sub.pos = end
                        got = sub.span(start)
                        want = maker(start, end)
                        assert got == want and type(got) is Span and type(got.frames) is type(want.frames)
                        assert cur._spans(start, end) == want


def test_extensions_spans_inlined_are_what_span_maker_gives():
    # the cached-extension path of _extensions builds the spans itself when
    # the message came in one frame: the same values as through _span_maker
    from tlsdoc.handshake import decode_message

    exts = bytes.fromhex("000a00040002001d" "002b0003020304" "000d000400020403")
    body = (b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
            + len(exts).to_bytes(2, "big") + exts)
    message = bytes([1]) + len(body).to_bytes(3, "big") + body

    def one_frame(start, end):
        return (9,) if end > start else ()

    for _ in range(2):  # the second time, the extensions come from the cache
        (raw,) = handshake.HandshakeReassembler(Direction.CLIENT_TO_SERVER, one_frame).feed(
            message, stream_offset=50, record=1)
        fast = decode_message(raw, None, one_frame)
        maker = handshake._span_maker(raw, one_frame)
        for ext in fast.extensions:
            start = ext.span.start - 50
            assert ext.span == maker(start, ext.span.end - 50) and type(ext.span) is Span
        general = decode_message(raw, None, lambda s, e: one_frame(s, e))  # another frames_for: no shortcut
        assert fast == general and repr(fast) == repr(general)


def test_new_entry_builds_what_the_constructor_builds():
    # new_entry takes HandshakeEntry's fields in order, the same defaults
    fields = dataclasses.fields(handshake.HandshakeEntry)
    parameters = list(inspect.signature(handshake.new_entry).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert [p.default for p in parameters] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields]
    values = [(f"value of {f.name}", i) for i, f in enumerate(fields)]
    for given in range(5, len(values) + 1):  # the required five, then each default given
        fast = handshake.new_entry(*values[:given])
        slow = handshake.HandshakeEntry(**{f.name: v for f, v in zip(fields, values[:given])})
        assert type(fast) is handshake.HandshakeEntry
        assert fast == slow and hash(fast) == hash(slow)
        assert [getattr(fast, f.name) for f in fields] == [getattr(slow, f.name) for f in fields]
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.name = "changed"

"""parse_handshake's driver fast paths give what the general code gives.

* ``_walk`` reads TLS 1.3 application data records (``content_type is
  ContentType.application_data``) in a branch of their own; a record whose
  type is the plain int 23 takes the general branches.  Both are compared on
  real captures, also with the records' frames shuffled (which moves the
  end of the handshake flight) and with plaintext handshake records moved
  among the encrypted ones.
* ``_decode_all`` puts the encrypted entries after the messages when every
  message comes first, instead of sorting by (position, order): compared
  with that sort on random positions.
* the ``TlsHandshake`` built through its slot builder is the constructor's.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from tlsdoc import capture, handshake, records, tcp
from tlsdoc.registry import ContentType
from tlsdoc.wire import Direction, Span

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = sorted((ROOT / "tests" / "corpus").glob("*.pcap*")) + sorted((ROOT / "captures").glob("*.pcap*"))


def _connections(path: Path):
    with open(path, "rb") as f:
        conns = tcp.reassemble(capture.read_segments(f, name=str(path), warn=lambda _t: None),
                               warn=lambda _t: None)
    for conn in conns:
        yield [records.parse_records(conn.stream(d).data, d, conn.stream(d).frames_for) for d in Direction]


def _replace_records(stream: records.RecordStream, recs) -> records.RecordStream:
    return dataclasses.replace(stream, records=tuple(recs))


def _plain_ints(stream: records.RecordStream) -> records.RecordStream:
    """The same records, application data typed as the int 23 (not the member)."""
    return _replace_records(stream, (
        dataclasses.replace(r, content_type=23) if r.content_type is ContentType.application_data else r
        for r in stream.records))


def _shuffled_frames(stream: records.RecordStream, rng: random.Random) -> records.RecordStream:
    frames = [r.span.frames for r in stream.records]
    rng.shuffle(frames)
    return _replace_records(stream, (
        dataclasses.replace(r, span=dataclasses.replace(r.span, frames=f)) for r, f in zip(stream.records, frames)))


def _pooled_frames(stream: records.RecordStream, rng: random.Random) -> records.RecordStream:
    """Frames from a small pool shared by both directions: a record's frame may equal the peer's first."""
    return _replace_records(stream, (
        dataclasses.replace(r, span=dataclasses.replace(r.span, frames=(rng.randrange(1, 5),)))
        for r in stream.records))


def _moved_handshake(stream: records.RecordStream, rng: random.Random) -> records.RecordStream:
    recs = list(stream.records)
    if len(recs) > 2:
        moved = recs.pop(rng.randrange(len(recs)))
        recs.insert(rng.randrange(len(recs) + 1), moved)
    return _replace_records(stream, recs)


def _view_text(view: handshake.TlsHandshake) -> str:
    # the interleaving warning names the record's type: "content type 23" for the plain int
    return repr(view).replace("content type 23 record", "application_data record")


def _variants(pair, rng):
    yield pair
    yield [_shuffled_frames(s, rng) for s in pair]
    yield [_moved_handshake(s, rng) for s in pair]
    yield [_shuffled_frames(_moved_handshake(s, rng), rng) for s in pair]
    for _ in range(3):
        yield [_pooled_frames(s, rng) for s in pair]


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_application_data_branch_is_the_general_one(path):
    rng = random.Random(path.name)
    for pair in _connections(path):
        for client, server in _variants(pair, rng):
            fast = handshake.parse_handshake(client, server)
            general = handshake.parse_handshake(_plain_ints(client), _plain_ints(server))
            assert _view_text(fast) == _view_text(general)


def test_application_data_branch_is_taken():
    seen = 0
    for path in CAPTURES:
        for client, server in _connections(path):
            view = handshake.parse_handshake(client, server)
            if view.version == 0x0304 and view.server_encrypted_records:
                seen += 1
    assert seen > 10


def test_tls_handshake_builder_sets_every_field():
    pairs = [pair for path in CAPTURES[:10] for pair in _connections(path)]
    assert len(pairs) > 10
    for pair in pairs:
        view = handshake.parse_handshake(*pair)
        made = handshake.TlsHandshake(**{f.name: getattr(view, f.name) for f in dataclasses.fields(view)})
        assert type(view) is handshake.TlsHandshake and view == made and repr(view) == repr(made)
        # and each field holds what it stands for
        tls13 = view.version is not None and int(view.version) >= 0x0304
        sh = view.server_hello
        assert view.extended_master_secret == (sh is not None and not tls13 and sh.extension(23) is not None)
        assert view.encrypt_then_mac == (sh is not None and not tls13 and sh.extension(22) is not None)
        assert view.client_random == (view.client_hello.random if view.client_hello else None)
        assert view.server_random == (sh.random if sh else None)
        assert view.hello_retry == (view.hello_retry_request is not None)
        assert (view.version, view.cipher_suite) == ((sh.selected_version, sh.cipher_suite) if sh else
                                                     (view.version, view.cipher_suite))
        for stream, ccs, alerts in zip(pair, (view.client_ccs, view.server_ccs), (view.client_alerts,
                                                                                view.server_alerts)):
            assert ccs == tuple(r.index for r in stream.records if r.content_type == ContentType.change_cipher_spec)
            assert tuple(a.record for a in alerts) == tuple(
                r.index for r in stream.records if r.content_type == ContentType.alert)
        for d, messages, alerts, ccs, enc in (
                (Direction.CLIENT_TO_SERVER, view.client_messages, view.client_alerts, view.client_ccs,
                 view.client_encrypted_records),
                (Direction.SERVER_TO_CLIENT, view.server_messages, view.server_alerts, view.server_ccs,
                 view.server_encrypted_records)):
            assert (view.messages(d), view.alerts(d), view.ccs(d), view.encrypted_records(d)) == (
                messages, alerts, ccs, enc)
            assert all(e.direction is d for e in messages) and all(a.direction is d for a in alerts)


def _opaque_raw(offset: int) -> handshake.RawHandshake:
    (raw,) = handshake.HandshakeReassembler(Direction.CLIENT_TO_SERVER).feed(b"\xfe\x00\x00\x01\x00",
                                                                             stream_offset=offset)
    return raw


@pytest.mark.parametrize("seed", range(300))
def test_decode_all_orders_entries_as_the_sort_does(seed):
    rng = random.Random(seed)
    n_raws, n_enc = rng.randrange(4), rng.randrange(4)
    raw_positions = sorted(rng.randrange(8) for _ in range(n_raws))  # positions only grow
    enc_positions = sorted(rng.sample(range(8), n_enc))
    state = handshake._DirectionState(Direction.CLIENT_TO_SERVER, (), lambda s, e: ())
    state.raws = [(p, _opaque_raw(100 * i)) for i, p in enumerate(raw_positions)]
    span = Span(Direction.CLIENT_TO_SERVER, 0, 1, ())
    state.entries = [(p, handshake.new_entry(f"Encrypted{i}", None, Direction.CLIENT_TO_SERVER, (p,), span,
                                             None, True)) for i, p in enumerate(enc_positions)]
    got = handshake._decode_all(state, handshake.HandshakeContext(), None)
    decoded = [handshake._entry(raw, handshake.HandshakeContext(), state.frames_for) for _, raw in state.raws]
    keyed = [(p, i, e) for i, ((p, _), e) in enumerate(zip(state.raws, decoded))]
    keyed += [(p, n_raws + i, e) for i, (p, e) in enumerate(state.entries)]
    expected = tuple(e for _, _, e in sorted(keyed, key=lambda k: k[:2]))
    assert got == expected


MAKERS = {name: value for name, value in vars(handshake).items()
          if name.startswith("_new_") and callable(value) and value.__name__.startswith("make_")}


def test_makers_exist():
    assert {"_new_client_hello", "_new_server_hello", "_new_key_share_entry", "_new_context"} <= set(MAKERS)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_maker_builds_what_the_constructor_builds(name):
    make = MAKERS[name]
    cls = next(c for c in vars(handshake).values()
               if isinstance(c, type) and make.__name__ == f"make_{c.__name__}")
    kwargs = {f.name: (f"value of {f.name}", i) for i, f in enumerate(dataclasses.fields(cls))}
    made, constructed = make(**kwargs), cls(**kwargs)
    assert type(made) is cls and made == constructed and repr(made) == repr(constructed)
    assert hash(made) == hash(constructed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, dataclasses.fields(cls)[0].name, None)
    with pytest.raises(TypeError):  # every field must be given, by name
        make(*kwargs.values())

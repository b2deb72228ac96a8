"""The cursor: integers, vectors, and located errors."""

import pytest
from hypothesis import given, strategies as st

from tlsdoc.errors import DecodeError, TlsdocError, TruncatedError
from tlsdoc.wire import Cursor, Direction, Span


def test_integers_are_big_endian():
    c = Cursor(bytes.fromhex("01 0203 040506 0708090a"))
    assert (c.u8(), c.u16(), c.u24(), c.u32()) == (1, 0x0203, 0x040506, 0x0708090A)
    assert c.at_end()


def test_vector_limits_the_sub_cursor_and_checks_the_rest():
    c = Cursor(bytes.fromhex("0003 aabbcc dd"), base=100)
    v = c.vector(2, "list")
    assert v.take(3) == b"\xaa\xbb\xcc"
    v.done()
    assert c.offset == 105
    with pytest.raises(DecodeError) as excinfo:
        c.done("tail")
    assert excinfo.value.offset == 105
    assert excinfo.value.field == "tail"


def test_truncation_is_located_in_stream_offsets():
    c = Cursor(b"\x00\x05ab", base=0x1F0, direction=Direction.SERVER_TO_CLIENT, field="Certificate")
    with pytest.raises(TruncatedError) as excinfo:
        c.opaque(2, "certificate_list")
    err = excinfo.value
    assert err.offset == 0x1F2
    assert err.field == "Certificate.certificate_list"
    assert "server→client +0x01f2" in str(err)
    assert "5 byte(s) needed, 2 left" in str(err)


def test_base_error_is_abstract():
    with pytest.raises(TypeError):
        TlsdocError("x")


def test_span_length():
    assert Span(Direction.CLIENT_TO_SERVER, 10, 15).length == 5
    assert Direction.CLIENT_TO_SERVER.reverse is Direction.SERVER_TO_CLIENT


@given(st.binary(max_size=64), st.lists(st.sampled_from([1, 2, 3]), max_size=10))
def test_arbitrary_bytes_raise_only_decode_errors(data, sizes):
    c = Cursor(data)
    try:
        for size in sizes:
            inner = c.vector(size)
            inner.rest()
    except DecodeError:
        pass
    assert 0 <= c.pos <= len(data)


def test_a_direction_keys_a_dict_after_a_trip_through_pickle_and_by_value():
    # Direction hashes by identity (wire.Direction.__hash__): valid because a
    # member is equal only to itself, and every way of getting one gives the member.
    import pickle

    table = {d: d.sender for d in Direction}
    for d in Direction:
        assert table[pickle.loads(pickle.dumps(d))] == d.sender
        assert table[Direction(d.value)] == d.sender
        assert table[Direction[d.name]] == d.sender
        assert hash(d) == hash(pickle.loads(pickle.dumps(d)))
    assert Direction.CLIENT_TO_SERVER != "client" and len({*Direction, *Direction}) == 2

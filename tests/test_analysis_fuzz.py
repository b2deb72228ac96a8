"""Hostile input through the whole pipeline: only TlsdocError or a result, never a crash or hang."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings, strategies as st

import synth
from conftest import CAPTURES
from tlsdoc.analysis import iter_analyze
from tlsdoc.errors import TlsdocError

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(path) -> None:
    try:
        run = iter_analyze(path)
        for conn in run:
            conn.tls and conn.tls.messages  # touch the result
    except TlsdocError:
        pass


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_after_a_pcap_header(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "x.pcap"
    path.write_bytes(PCAP_HEADER + data)
    run(path)


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "x.pcapng"
    path.write_bytes(data)
    run(path)


TLS_PREFIX = st.sampled_from([b"", b"\x16\x03\x01", b"\x16\x03\x03\x00\x05", b"\x17\x03\x03", b"\x15\x03\x03\x00\x02"])


@FUZZ
@given(TLS_PREFIX, st.binary(max_size=600), TLS_PREFIX, st.binary(max_size=600))
def test_arbitrary_tcp_payloads(tmp_path_factory, p1, c, p2, s):
    path = tmp_path_factory.mktemp("fuzz") / "x.pcap"
    synth.write_capture(path, synth.synth_connection([p1 + c], [p2 + s], mss=97))
    run(path)


@FUZZ
@given(st.data())
def test_mutated_real_capture(tmp_path_factory, data):
    original = bytearray((CAPTURES / "tls13-hrr.pcapng").read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(original) - 1))
        original[i] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("fuzz") / "mutated.pcapng"  # not next to the MANIFEST
    path.write_bytes(bytes(original))
    run(path)


def test_cut_off_file_gives_what_was_read_and_a_located_warning(tmp_path):
    data = (CAPTURES / "tls12-rsa.pcapng").read_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[: len(data) * 2 // 3])
    result = iter_analyze(path)
    connections = list(result)
    assert len(connections) == 1
    assert connections[0].tls is not None
    assert connections[0].tls.client_hello is not None
    assert any("cut.pcapng" in w and "ends inside" in w for w in result.warnings), result.warnings


def test_new_connection_equals_init():
    """analysis._new_connection (slots set directly) gives what ConnectionAnalysis.__init__ gives."""
    from dataclasses import fields

    from tlsdoc import analysis as _analysis

    values = {f.name: object() for f in fields(_analysis.ConnectionAnalysis)}
    fast = _analysis._new_connection(*values.values())
    assert fast == _analysis.ConnectionAnalysis(**values)
    assert all(getattr(fast, name) is value for name, value in values.items())

"""The fast path of tlsdoc.render.jsondoc gives what the general code gives.

``connection_json`` writes an entry's JSON text directly; the general path
is ``json.dumps(connection_dict(c), ensure_ascii=False)``.  They must agree
byte for byte: on every connection of every bundled and corpus capture
(without keys, with keys, with checks), and on generated connections whose
values take every shape the dict allows (None, non-ASCII and control
characters, int and str subclasses, odd floats).
"""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tlsdoc import analysis
from tlsdoc.render import jsondoc
from tlsdoc.wire import Direction

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = sorted((ROOT / "captures").glob("*.pcap*")) + sorted((ROOT / "tests" / "corpus").glob("*.pcap*"))


def general(c, checks=False) -> str:
    return json.dumps(jsondoc.connection_dict(c, checks=checks), ensure_ascii=False)


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_every_capture_same_text(path):
    keylog = path.with_suffix(".keys")
    runs = [analysis.analyze(path)]
    if keylog.exists():
        runs.append(analysis.analyze(path, keylog=keylog))
    for run in runs:
        for c in run.connections:
            for checks in (False, True):
                assert jsondoc.connection_json(c, checks=checks) == general(c, checks)


class _Suite(enum.IntEnum):
    TLS_AES_128_GCM_SHA256 = 0x1301


class _Version(enum.Enum):
    TLS13 = "TLS 1.3"

    @property
    def label(self) -> str:
        return self.value


class _Status(str, enum.Enum):
    PASSED = "passed"

    def __str__(self) -> str:
        return self.value


class _Text(str):
    pass


texts = st.one_of(st.text(), st.text(alphabet="\x00\x1f\"\\/\u2028é€😀 a").map(str),
                  st.text(max_size=5).map(_Text))
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.booleans(), st.sampled_from([_Suite.TLS_AES_128_GCM_SHA256]))
scalars = st.one_of(st.none(), texts, numbers)


@settings(max_examples=300)
@given(scalars)
@example(math.nan)
@example(math.inf)
@example(-math.inf)
@example(-0.0)
@example(1e16)
@example(0.1 + 0.2)
@example(10**30)
@example(True)
@example(_Suite.TLS_AES_128_GCM_SHA256)
@example(_Text("é\n"))
def test_value_is_json_dumps(v):
    assert jsondoc._value(v) == json.dumps(v, ensure_ascii=False)


def _segment(present):
    return object() if present else None


def _entries(names):
    return tuple(SimpleNamespace(name=n) for n in names)


@st.composite
def connections(draw):
    hs = SimpleNamespace(syn=_segment(draw(st.booleans())), syn_ack=_segment(draw(st.booleans())),
                         ack=_segment(draw(st.booleans())),
                         rtt_ns=draw(maybe(st.integers(min_value=-10**12, max_value=10**15))))
    host = draw(st.sampled_from(["192.0.2.1", "2001:db8::1", "é"]))
    tcp = SimpleNamespace(client=(host, draw(st.integers(0, 65535))),
                          server=(draw(texts), draw(st.integers(0, 65535))), handshake=hs)
    tls = None
    if draw(st.booleans()):
        client, server = _entries(draw(st.lists(texts, max_size=4))), _entries(draw(st.lists(texts, max_size=4)))
        tls = SimpleNamespace(
            version=draw(st.one_of(st.none(), st.just(_Version.TLS13), texts)),
            cipher_suite=draw(st.one_of(st.none(), st.just(_Suite.TLS_AES_128_GCM_SHA256),
                                        st.integers(0, 65535))),
            sni=draw(maybe(texts)), alpn=draw(maybe(texts)),
            client_random=draw(maybe(st.binary(max_size=32))),
            messages=lambda d, client=client, server=server: client if d is Direction.CLIENT_TO_SERVER else server,
        )
    app_data = st.builds(SimpleNamespace, records=st.integers(0, 10**6), length=st.integers(0, 10**12),
                         sha256=texts)
    application_data = {Direction.CLIENT_TO_SERVER: draw(maybe(app_data)),
                        Direction.SERVER_TO_CLIENT: draw(maybe(app_data))}
    message = st.builds(SimpleNamespace, start_line=texts, complete=st.booleans(), body_sha256=texts)
    exchanges = draw(st.lists(st.builds(SimpleNamespace, request=maybe(message), response=maybe(message)),
                              max_size=3))
    conversation = draw(st.one_of(st.none(), st.just(SimpleNamespace(exchanges=tuple(exchanges)))))
    checks = draw(st.lists(st.builds(SimpleNamespace, name=texts,
                                     status=st.sampled_from(["passed", "failed", _Status.PASSED]),
                                     detail=texts), max_size=3))
    return SimpleNamespace(tcp=tcp, tls=tls, decrypted=draw(st.booleans()),
                           application_data=application_data, http=conversation, checks=tuple(checks))


@settings(max_examples=300)
@given(connections(), st.booleans())
def test_generated_connections_same_text(c, checks):
    assert jsondoc.connection_json(c, checks=checks) == general(c, checks)


def test_rtt_is_rounded_like_the_dict():
    hs = SimpleNamespace(syn=1, syn_ack=1, ack=1, rtt_ns=14742499)
    c = SimpleNamespace(tcp=SimpleNamespace(client=("a", 1), server=("b", 2), handshake=hs), tls=None,
                        decrypted=False, application_data={}, http=None, checks=())
    text = jsondoc.connection_json(c)
    assert text == general(c)
    assert math.isclose(json.loads(text)["tcp"]["rtt_ms"], 14.742)

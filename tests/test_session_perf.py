"""session's TLS 1.3 keys (one KeyLog.first_lines per connection, the trace made on first use) as before.

``session._tls13_keys`` asks the key log once for every label of a client
random and leaves ``ConnectionKeys.trace`` to ``_tls13_trace`` on first
read; the reference below is the general route it stands for
(``keylog.entry`` per label, ``_keylog_step`` and ``_renamed`` at once),
run over every bundled capture with a key log, whole and with lines
dropped, duplicated, in conflict or of the wrong length.
"""

from __future__ import annotations

import dataclasses
import random
import zlib

import pytest

from conftest import ROOT
from tlsdoc import analysis, session
from tlsdoc.decrypt import RecordProtection
from tlsdoc.keylog import parse_keylog

LOGS = sorted((ROOT / "captures").glob("*.keys")) + sorted((ROOT / "tests" / "corpus").glob("*.keys"))


def reference(tls, keylog):
    """(secrets, missing, source, trace) by the general route: keylog.entry per label, the
    trace made at once: each secret's key-log step, then its protection's steps renamed."""
    params = session.suite_params(tls.cipher_suite)
    secrets, missing, lines, steps = {}, [], [], []
    for attr, label, direction in session._TLS13_SECRETS:
        step_name = label.lower()
        entry = keylog.entry(label, tls.client_random) if keylog else None
        if entry is None:
            if attr != "client_early" or session._offers_early_data(tls):
                missing.append(label)
            continue
        if len(entry.secret) != params.hash_length:
            missing.append(label)
            continue
        secrets[label] = entry.secret
        lines.append(entry.line)
        steps.append(session._keylog_step(step_name, entry, "ClientHello.random"))
        prot = RecordProtection.tls13(entry.secret, params, secret_name=label, direction=direction)
        steps.extend(session._renamed(prot.trace, attr))
    source = None
    if lines:
        source = "key log line" + ("s " if len(lines) > 1 else " ") + ", ".join(map(str, sorted(lines)))
    return secrets, tuple(missing), source, tuple(steps)


def variants(data: bytes, seed: int):
    """The key log as it is, and damaged ways: lines dropped, repeated, changed, cut short."""
    yield data
    rng = random.Random(seed)
    lines = data.splitlines()
    for _ in range(6):
        out = []
        for raw in lines:
            roll = rng.random()
            if roll < 0.2:
                continue  # dropped
            out.append(raw)
            fields = raw.split()
            if len(fields) == 3 and roll < 0.35:  # again, or in conflict, or the wrong length
                secret = rng.choice((fields[2], rng.randbytes(32).hex().encode(),
                                     rng.randbytes(48).hex().encode(), rng.randbytes(16).hex().encode()))
                out.append(b" ".join((fields[0], fields[1], secret)))
        if rng.random() < 0.3:
            rng.shuffle(out)
        yield b"\n".join(out) + b"\n"


def _tls13_views(log_path):
    captures = [p for p in log_path.parent.glob(log_path.stem + ".pcap*")]
    if not captures:
        return []
    result = analysis.analyze(captures[0], keylog=log_path)
    views = [c.tls for c in result.connections if c.tls is not None]
    return [v for v in views if v.cipher_suite is not None and v.client_random is not None
            and (p := session.suite_params(v.cipher_suite)) is not None and p.tls13]


# (only the key logs of captures with TLS 1.3 connections: the others take no other route)
TLS13_LOGS = [p for p in LOGS if _tls13_views(p)]


def test_the_bundled_captures_give_tls13_key_logs_to_check():
    assert len(TLS13_LOGS) >= 5


@pytest.mark.parametrize("log_path", TLS13_LOGS, ids=lambda p: p.stem)
def test_tls13_keys_lookup_matches_entry_lookups(log_path):
    tls13 = _tls13_views(log_path)
    for n, data in enumerate(variants(log_path.read_bytes(), zlib.crc32(log_path.stem.encode()))):
        keylog = parse_keylog(data, strict=False)
        for view in tls13:
            keys = session.connection_keys(view, keylog)
            secrets, missing, source, steps = reference(view, keylog)
            assert dict(keys.secrets) == secrets
            assert keys.missing == missing
            assert keys.source == source
            for attr, label, direction in session._TLS13_SECRETS:
                expected = None
                if label in secrets:
                    expected = RecordProtection.tls13(secrets[label], keys.params, secret_name=label,
                                                      direction=direction)
                assert getattr(keys, attr) == expected
            assert keys.trace == steps and type(keys.trace) is tuple
            assert keys.trace is keys.trace  # (made once, on first use)
            again = session.ConnectionKeys(**{f.name: getattr(keys, f.name)
                                              for f in dataclasses.fields(session.ConnectionKeys)})
            assert keys == again and repr(keys) == repr(again)
    # and with no key log at all
    for view in tls13:
        keys = session.connection_keys(view, None)
        assert (dict(keys.secrets), keys.missing, keys.source, keys.trace) == reference(view, None)


def test_secrets_pickle_and_copy_with_their_lines():
    import copy
    import pickle

    capture = ROOT / "captures" / "tls13.pcapng"
    keylog = parse_keylog(capture.with_suffix(".keys").read_bytes())
    (c,) = analysis.analyze(capture, keylog=capture.with_suffix(".keys")).connections
    secrets = session.connection_keys(c.tls, keylog).secrets
    for again in (pickle.loads(pickle.dumps(secrets)), copy.deepcopy(secrets), copy.copy(secrets)):
        assert again == secrets and (again.key, again.lines) == (secrets.key, secrets.lines)


# -- _offers_early_data: C-level search against ClientHello.extension -------------------------


def _offers_early_data_reference(tls) -> bool:
    from tlsdoc.handshake import ClientHello, EarlyDataIndication
    from tlsdoc.registry import ExtensionType

    ch = tls.client_hello
    return isinstance(ch, ClientHello) and isinstance(
        ch.extension(ExtensionType.early_data), EarlyDataIndication)


def test_offers_early_data_is_the_extension_lookup_on_every_capture():
    from tlsdoc.registry import ExtensionType

    seen = set()
    for path in sorted((ROOT / "captures").glob("*.pcap*")) + sorted(
            (ROOT / "tests" / "corpus").glob("*.pcap*")):
        for c in analysis.iter_analyze(path):
            if c.tls is not None:
                assert session._offers_early_data(c.tls) == _offers_early_data_reference(c.tls)
                ch = c.tls.client_hello
                seen.add(ch is not None and ch.extension(ExtensionType.early_data) is not None)
    assert seen == {True, False}  # (both answers were asked)


def test_offers_early_data_takes_the_first_extension_of_the_type():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tlsdoc.handshake import ClientHello, EarlyDataIndication, EmptyExtension, UnknownExtension
    from tlsdoc.registry import ExtensionType
    from tlsdoc.wire import Span

    span = Span(None, 0, 0)
    pool = [EarlyDataIndication(type=ExtensionType.early_data, max_early_data_size=None, span=span),
            EarlyDataIndication(type=42, max_early_data_size=7, span=span),
            EarlyDataIndication(type=43, max_early_data_size=None, span=span),  # (not its type)
            UnknownExtension(type=42, data=b"x", span=span),
            UnknownExtension(type=ExtensionType.early_data, data=b"", span=span),
            UnknownExtension(type=0x0a0a, data=b"", span=span),
            EmptyExtension(type=ExtensionType.extended_master_secret, span=span),
            EmptyExtension(type=23, span=span)]

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from(pool), max_size=6))
    def check(extensions):
        ch = ClientHello(span=span, legacy_version=0x0303, random=bytes(32), legacy_session_id=b"",
                         cipher_suites=(0x1301,), legacy_compression_methods=b"\x00",
                         extensions=tuple(extensions))
        tls = type("View", (), {"client_hello": ch})()
        assert session._offers_early_data(tls) == _offers_early_data_reference(tls)

    check()
    assert not session._offers_early_data(type("View", (), {"client_hello": None})())

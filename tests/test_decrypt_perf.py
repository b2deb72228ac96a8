"""The fast paths of keys and decryption give what the general code gives.

Each fast path (made for the benchmark's TLS 1.3 connections) is checked
against the general route it stands in for:

* record protection: the int-XOR nonce against a byte-by-byte XOR, the
  packed TLS 1.3 additional data against the field-by-field one (and the
  same errors outside a record header's range), the inline TLS 1.3 nonce
  against :meth:`RecordProtection._nonce`, the slot-set Plaintext against
  the dataclass constructor;
* HKDF-Expand-Label: results with the kept static labels equal freshly
  worked-out ones, and the checks still raise;
* TLS 1.3 record opening without the working
  (:meth:`RecordProtection.open_tls13`) against :meth:`~RecordProtection.decrypt`
  (the same content, and None exactly where decrypt raises), and the whole
  decryption stage with that fast path against the same stage with every
  record taken the general way, over every bundled and corpus capture,
  damaged copies of the TLS 1.3 ones, KeyUpdate and 0-RTT: the records'
  worked-out Plaintext, warnings and application data are the same.
"""

from __future__ import annotations

import dataclasses
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdoc import decrypt as dec
from tlsdoc import keyschedule as ks
from tlsdoc.decrypt import TLS13, Plaintext, RecordProtection
from tlsdoc.errors import KeyMaterialError
from tlsdoc.suites import SUITES

TLS13_SUITES = sorted(s for s, p in SUITES.items() if p.tls13)


def _protection(suite: int, material: bytes) -> RecordProtection:
    params = SUITES[suite]
    return RecordProtection(params=params, version=TLS13, key=material[:params.key_length],
                            iv=material[32:44], secret_name="test keys")


def _reference_tls13_header(content_type: int, version: int, length: int):
    parts = (("opaque_type", bytes([content_type])),
             ("legacy_record_version", version.to_bytes(2, "big")),
             ("length", struct.pack("!H", length)))
    return b"".join(v for _, v in parts), parts


# -- record protection ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(iv=st.binary(min_size=12, max_size=12), seq=st.integers(0, 2**64 - 1))
def test_xor_nonce_is_the_bytewise_xor(iv, seq):
    rp = RecordProtection(params=SUITES[0x1301], version=TLS13, key=bytes(16), iv=iv)
    nonce, parts = rp._xor_nonce(seq)
    padded = seq.to_bytes(12, "big")
    assert nonce == bytes(a ^ b for a, b in zip(iv, padded))
    assert parts == (("write_iv", iv), ("padded seq_num", padded))


@settings(max_examples=60, deadline=None)
@given(ctype=st.integers(0, 255), version=st.integers(0, 0xFFFF), length=st.integers(0, 0xFFFF))
def test_tls13_header_packed_equals_field_by_field(ctype, version, length):
    assert RecordProtection._tls13_header(ctype, version, length) == \
        _reference_tls13_header(ctype, version, length)


@pytest.mark.parametrize("args", [(256, 0x0303, 10), (-1, 0x0303, 10), (23, 0x10000, 10),
                                  (23, 0x0303, 0x10000), (23, -2, 10)])
def test_tls13_header_out_of_range_raises_as_before(args):
    with pytest.raises(Exception) as expected:
        _reference_tls13_header(*args)
    with pytest.raises(expected.type):
        RecordProtection._tls13_header(*args)


@pytest.mark.parametrize("suite", TLS13_SUITES)
@settings(max_examples=8, deadline=None)
@given(material=st.binary(min_size=48, max_size=48), content=st.binary(max_size=64),
       ctype=st.sampled_from([21, 22, 23]), padding=st.integers(0, 5),
       seq=st.integers(0, 2**64 - 1))
def test_tls13_record_working_equals_the_general_route(suite, material, content, ctype, padding, seq):
    rp = _protection(suite, material)
    fragment = rp.encrypt(ctype, 0x0303, content, seq, padding=padding)
    pt = rp.decrypt(23, 0x0303, fragment, seq)
    nonce, rule, nonce_parts = rp._nonce(seq, b"")
    aad, aad_parts = _reference_tls13_header(23, 0x0303, len(fragment))
    tag = fragment[-SUITES[suite].tag_length:]
    expected = Plaintext(
        content_type=ctype, content=content, seq=seq, nonce=nonce, nonce_rule=rule,
        nonce_parts=nonce_parts, aad=aad, aad_parts=aad_parts, explicit_nonce=b"",
        ciphertext=fragment[:-len(tag)], tag=tag, padding=bytes(padding),
        fragment_parts=(("encrypted_record", fragment[:-len(tag)]), ("tag", tag)),
        plaintext_parts=(("content", content), ("type", bytes([ctype])),
                         ("zeros", bytes(padding))))
    assert pt == expected and repr(pt) == repr(expected) and hash(pt) == hash(expected)


def test_fast_plaintext_is_a_frozen_plaintext():
    values = {f.name: f"value {n}" for n, f in enumerate(dataclasses.fields(Plaintext))}
    fast = dec._new_plaintext(*values.values())
    assert type(fast) is Plaintext
    assert fast == Plaintext(**values) and repr(fast) == repr(Plaintext(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.content = b""  # type: ignore[misc]


# -- HKDF-Expand-Label ------------------------------------------------------------------


@pytest.mark.parametrize("label", ["key", "iv", b"key", "traffic upd", "finished"])
@pytest.mark.parametrize("hash_", ["sha256", "sha384"])
def test_expand_label_kept_labels_give_the_same_derivation(label, hash_):
    secret = bytes(range(48))
    ks._STATIC_LABELS.clear()
    fresh = ks.hkdf_expand_label(secret, label, b"", 16, hash_, name="n")
    assert ks._STATIC_LABELS  # kept now
    kept = ks.hkdf_expand_label(secret, label, b"", 16, hash_, name="n")
    assert kept == fresh and repr(kept) == repr(fresh)
    # ... and both equal the uncached route (a non-empty context is never kept)
    label_bytes = label.encode() if isinstance(label, str) else label
    info = ks._hkdf_label(label_bytes, b"", 16)
    assert fresh.trace[0].inputs == (("secret", secret), ("label", b"tls13 " + label_bytes),
                                     ("context", b""), ("HkdfLabel", info))
    assert fresh.trace[0].op == f"HKDF-Expand-Label-{hash_.upper()}"
    assert ks.hkdf_expand_label(secret, label, b"", 16, hash_).trace[0].name == label_bytes.decode()


def test_expand_label_checks_still_raise_with_kept_labels():
    ks.hkdf_expand_label(bytes(32), "key", b"", 16)
    with pytest.raises(KeyMaterialError):
        ks.hkdf_expand_label(bytes(32), "key", b"", 255 * 32 + 1)
    with pytest.raises(KeyMaterialError):
        ks.hkdf_expand_label(bytes(32), "x" * 250, b"", 32)
    with pytest.raises(KeyMaterialError):
        ks.hkdf_expand_label(bytes(32), "key", b"", 16, "sha3")
    assert len(ks._STATIC_LABELS) <= ks._STATIC_LABELS_MAX


# -- keys ---------------------------------------------------------------------------------


def test_fast_step_and_derivation_are_the_dataclass_values():
    step = ks._new_step("write_key", "HKDF-Expand-Label-SHA256", (("secret", b"s"),), b"out")
    expected = ks.Step(name="write_key", op="HKDF-Expand-Label-SHA256", inputs=(("secret", b"s"),),
                       output=b"out")
    assert type(step) is ks.Step and step == expected and repr(step) == repr(expected)
    assert hash(step) == hash(expected)
    d = ks._new_derivation(b"out", (step,))
    assert type(d) is ks.Derivation and d == ks.Derivation(output=b"out", trace=(expected,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("suite", TLS13_SUITES)
@pytest.mark.parametrize("direction", [None, "client→server", dec.Direction.SERVER_TO_CLIENT])
def test_tls13_protection_fast_path_equals_the_checked_constructor(suite, direction):
    params = SUITES[suite]
    secret = bytes(range(params.hash_length))
    fast = RecordProtection.tls13(secret, params, secret_name="S", direction=direction)
    keys = ks.traffic_keys(secret, params.prf_hash, params.key_length, params.fixed_iv_length)
    checked = RecordProtection(params=params, version=TLS13, key=keys.key, iv=keys.iv,
                               secret_name="S", direction=dec._direction(direction),
                               trace=keys.trace)
    assert fast == checked and repr(fast) == repr(checked) and hash(fast) == hash(checked)
    assert type(fast._aead) is type(checked._aead) and fast._iv_int == checked._iv_int
    fragment = checked.encrypt(22, 0x0303, b"hello", 3)
    assert fast.decrypt(23, 0x0303, fragment, 3) == checked.decrypt(23, 0x0303, fragment, 3)


def test_tls13_protection_slow_path_still_checks():
    class Sub(RecordProtection):
        __slots__ = ()
    sub = Sub.tls13(bytes(32), SUITES[0x1301])
    base = RecordProtection.tls13(bytes(32), SUITES[0x1301])
    assert type(sub) is Sub
    public = [f.name for f in dataclasses.fields(RecordProtection) if not f.name.startswith("_")]
    assert [getattr(sub, name) for name in public] == [getattr(base, name) for name in public]
    with pytest.raises(KeyMaterialError):   # a TLS 1.2 suite does not go with TLS 1.3
        RecordProtection.tls13(bytes(32), SUITES[0xC02F])


def test_renamed_steps_equal_dataclasses_replace():
    from tlsdoc import session
    steps = ks.traffic_keys(bytes(32), "sha256", 16, 12).trace
    assert session._renamed(steps, "client_handshake") == tuple(
        dataclasses.replace(s, name=f"client_handshake {s.name}") for s in steps)


# -- records -------------------------------------------------------------------------------


def test_fast_decrypted_record_and_handshake_entry_are_the_dataclass_values():
    from tlsdoc import session
    from tlsdoc.handshake import HandshakeEntry, new_entry
    from tlsdoc.wire import Direction, Span

    pt = dec._new_plaintext(*range(14))
    rec = session._new_decrypted_record(3, "handshake", "S", pt, (4, 5))
    expected = session.DecryptedRecord(record=3, epoch="handshake", secret_name="S",
                                       plaintext=pt, frames=(4, 5))
    assert type(rec) is session.DecryptedRecord and rec == expected and repr(rec) == repr(expected)
    span = Span(Direction.SERVER_TO_CLIENT, 10, 20, (4,))
    entry = new_entry("Finished", 20, Direction.SERVER_TO_CLIENT, (3,), span,
                      None, True, b"raw", None)
    expected_entry = HandshakeEntry(name="Finished", msg_type=20, direction=Direction.SERVER_TO_CLIENT,
                                    records=(3,), span=span, encrypted=True, raw=b"raw")
    assert entry == expected_entry and repr(entry) == repr(expected_entry)
    assert hash(entry) == hash(expected_entry)


# -- TLS 1.3 records opened without their working ------------------------------------------


def _flip(data: bytes, at: int | None) -> bytes:
    if at is None or not data:
        return data
    damaged = bytearray(data)
    damaged[at % len(data)] ^= 0x40
    return bytes(damaged)


@pytest.mark.parametrize("suite", TLS13_SUITES)
@settings(max_examples=40, deadline=None)
@given(material=st.binary(min_size=48, max_size=48), content=st.binary(max_size=40),
       ctype=st.sampled_from([0, 21, 22, 23, 255]), padding=st.integers(0, 4),
       seq=st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([-1, 2**96, 2**100])),
       header=st.sampled_from([(23, 0x0303), (22, 0x0303), (23, 0x0301), (256, 0x0303),
                               (23, 0x10000), (-1, 0x0303)]),
       damage=st.one_of(st.none(), st.integers(0, 200)), cut=st.one_of(st.none(), st.integers(0, 20)))
def test_open_tls13_is_what_decrypt_gives_or_none_where_it_raises(
        suite, material, content, ctype, padding, seq, header, damage, cut):
    rp = _protection(suite, material)
    fragment = rp.encrypt(ctype, 0x0303, content, min(max(seq, 0), 2**64 - 1), padding=padding)
    fragment = _flip(fragment, damage)[:cut]
    try:
        pt = rp.decrypt(*header, fragment, seq)
    except Exception:
        assert rp.open_tls13(*header, fragment, seq) is None
    else:
        assert rp.open_tls13(*header, fragment, seq) == (pt.content_type, pt.content)


def test_open_tls13_leaves_tls12_protections_to_decrypt():
    params = SUITES[0xC02F]
    rp = RecordProtection(params=params, version=0x0303, key=bytes(16), iv=bytes(4))
    fragment = rp.encrypt(23, 0x0303, b"data", 0)
    assert rp.decrypt(23, 0x0303, fragment, 0).content == b"data"
    assert rp.open_tls13(23, 0x0303, fragment, 0) is None


# -- the decryption stage: fast path against the general route -------------------------------


def _general_route(monkeypatch):
    """Every record goes the general way (RecordProtection.decrypt, Plaintext made at once)."""
    monkeypatch.setattr(RecordProtection, "open_tls13", lambda self, *args: None)
    # (and the session's inline open_tls13, which takes its parts from _tls13_opening)
    monkeypatch.setattr(RecordProtection, "_tls13_opening", lambda self: None)


def _same_analysis(fast, general):
    assert len(fast) == len(general)
    for f, g in zip(fast, general):
        assert f.warnings == g.warnings
        assert f.decrypted == g.decrypted
        assert f.application_data == g.application_data
        assert f.tls == g.tls
        if g.decryption is None:
            assert f.decryption is None
            continue
        for direction, opened in g.decryption.items():
            mine = f.decryption[direction]
            # (reading a fast-path record's plaintext works it out: compare after)
            assert [r.plaintext for r in mine.records] == [r.plaintext for r in opened.records]
            assert mine == opened and repr(mine) == repr(opened)


def _corpus_runs():
    from conftest import ROOT
    corpus = sorted((ROOT / "tests" / "corpus").glob("*.pcap*")) + sorted(
        (ROOT / "captures").glob("*.pcap*"))
    for capture in corpus:
        keylog = capture.with_suffix(".keys")
        if keylog.exists():  # (nothing is decrypted without one)
            yield pytest.param(capture, keylog, id=capture.name)


@pytest.mark.parametrize("capture,keylog", list(_corpus_runs()))
def test_fast_decryption_equals_the_general_route_on_the_corpus(monkeypatch, capture, keylog):
    from conftest import CAPTURES
    from tlsdoc import analysis

    rsa = (CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem",)
    # (iter_analyze: analyze keeps its results per file)
    fast = list(analysis.iter_analyze(capture, keylog=keylog, keys=rsa))
    with monkeypatch.context() as m:
        _general_route(m)
        general = list(analysis.iter_analyze(capture, keylog=keylog, keys=rsa))
    _same_analysis(fast, general)


@pytest.mark.parametrize("name", ["tls13", "tls13-hrr", "tls13-resumption"])
def test_fast_decryption_equals_the_general_route_on_damaged_captures(monkeypatch, tmp_path, name):
    import random

    from conftest import CAPTURES
    from tlsdoc import analysis
    from tlsdoc.errors import TlsdocError

    def run(path):
        try:
            return list(analysis.iter_analyze(path, keylog=CAPTURES / f"{name}.keys"))
        except TlsdocError as exc:
            return str(exc)

    rng = random.Random(name)
    original = (CAPTURES / f"{name}.pcapng").read_bytes()
    for i in range(30):
        data = bytearray(original)
        for _ in range(rng.choice((1, 2, 4))):
            data[rng.randrange(200, len(data))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"{i}.pcapng"
        path.write_bytes(bytes(data))
        fast = run(path)
        with monkeypatch.context() as m:
            _general_route(m)
            general = run(path)
        if isinstance(general, str):
            assert fast == general
        else:
            _same_analysis(fast, general)


def _padded(secret: bytes, inner_type: int, content: bytes, seq: int, padding: int) -> bytes:
    import test_session as ts

    prot = RecordProtection.tls13(secret, ts.PARAMS)
    return ts.record(23, prot.encrypt(inner_type, 0x0303, content, seq, padding=padding))


def test_fast_decryption_equals_the_general_route_with_key_update_and_early_data(monkeypatch, tmp_path):
    import test_session as ts
    from tlsdoc import analysis

    after = next_secret = ks.next_traffic_secret(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0,
                                                 "sha256").output
    fast = {
        "plain": ts.rfc8448_capture(tmp_path, name="plain"),
        "update": ts.rfc8448_capture(tmp_path, name="update", server_extra=[
            ts.protected(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 22, ts.KEY_UPDATE, 2),
            ts.protected(next_secret, 23, b"after", 0),
            ts.protected(after, 21, b"\x01\x00", 1)]),
        "early": ts.rfc8448_capture(tmp_path, name="early", early=[
            ts.protected(ts.EARLY_SECRET, 23, b"0-RTT GET", 0),
            ts.protected(ts.EARLY_SECRET, 22, ts.END_OF_EARLY_DATA, 1)]),
        "rejected": ts.rfc8448_capture(tmp_path, name="rejected",
                                       early=[ts.protected(ts.EARLY_SECRET, 23, b"0-RTT", 0)]),
        # padded records (open_tls13 strips the zeros; the session's inline open
        # takes only unpadded ones), an empty one, content ending in zeros
        "padded": ts.rfc8448_capture(tmp_path, name="padded", server_extra=[
            _padded(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 23, b"GET\x00\x00", 2, 0),
            _padded(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 23, b"", 3, 0),
            _padded(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 23, b"pad\x00", 4, 7),
            _padded(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 23, b"", 5, 1),
            _padded(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 21, b"\x01\x00", 6, 3)]),
        "odd": ts.rfc8448_capture(tmp_path, name="odd", server_extra=[
            ts.protected(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 99, b"?", 2),
            ts.protected(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 21, b"\x01", 3),
            ts.protected(ts.r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 23, b"bad tag", 5)]),
    }
    assert fast["update"].decryption[dec.Direction.SERVER_TO_CLIENT].records[-1].epoch == "application 1"
    assert fast["early"].decryption[dec.Direction.CLIENT_TO_SERVER].records[0].epoch == "early"
    assert fast["rejected"].decryption[dec.Direction.CLIENT_TO_SERVER].records[1].epoch == "handshake"
    assert fast["odd"].warnings and not fast["odd"].decrypted
    padded = fast["padded"].decryption[dec.Direction.SERVER_TO_CLIENT]
    assert fast["padded"].decrypted and padded.records[-1].plaintext.padding == bytes(3)
    assert [r.content for r in padded.records[-5:-1]] == [b"GET\x00\x00", b"", b"pad\x00", b""]
    for name, c in fast.items():
        with monkeypatch.context() as m:
            _general_route(m)
            (general,) = analysis.iter_analyze(tmp_path / f"{name}.pcap",  # (analyze would
                                               keylog=tmp_path / f"{name}.keys")  # give c again)
        _same_analysis([c], [general])


def test_a_fast_path_record_works_its_plaintext_out_once_and_pickles(tmp_path):
    import pickle

    from tlsdoc import analysis, session
    from conftest import CAPTURES

    (c,) = analysis.iter_analyze(CAPTURES / "tls13.pcapng", keylog=CAPTURES / "tls13.keys")
    rec = c.decryption[dec.Direction.SERVER_TO_CLIENT].records[-1]
    assert rec._reopen is not None  # opened by the fast path, Plaintext not made yet
    first = rec.plaintext
    assert rec._reopen is None and rec.plaintext is first and type(first) is Plaintext
    assert rec.content == first.content and rec.seq == first.seq
    other = c.decryption[dec.Direction.SERVER_TO_CLIENT].records[0]
    again = pickle.loads(pickle.dumps(other))
    assert again == other and again._reopen is None
    assert dataclasses.replace(other, epoch="x").plaintext == other.plaintext
    with pytest.raises(AttributeError):
        rec.no_such_attribute
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.plaintext = first  # type: ignore[misc]
    assert type(rec) is session.DecryptedRecord


def test_a_direction_makes_its_records_on_first_read_as_the_dataclass_holds_them(tmp_path):
    import pickle

    from tlsdoc import analysis, session
    from conftest import CAPTURES

    def lazy():
        (c,) = analysis.iter_analyze(CAPTURES / "tls13.pcapng", keylog=CAPTURES / "tls13.keys")
        return c.decryption[dec.Direction.SERVER_TO_CLIENT]

    opened = lazy()
    rows = opened._rows
    assert rows and any(type(r) is tuple for r in rows)  # records not made yet
    records = opened.records
    assert opened._rows is None and opened.records is records and len(records) == len(rows)
    assert all(type(r) is session.DecryptedRecord for r in records)
    # the same value as the dataclass constructor makes with those records
    eager = session.DirectionDecryption(**{f.name: getattr(opened, f.name)
                                           for f in dataclasses.fields(opened) if f.init})
    assert opened == eager and repr(opened) == repr(eager) and hash(opened) == hash(eager)
    assert opened.record(records[-1].record) is records[-1] and opened.record(-1) is None
    # a direction whose records were never read: ==, repr, pickle, replace make them
    for use in (lambda d: d == eager, repr, lambda d: pickle.loads(pickle.dumps(d)),
                lambda d: dataclasses.replace(d, warnings=("w",))):
        d = lazy()
        assert d._rows is not None
        out = use(d)
        assert d._rows is None and d == eager
        if isinstance(out, session.DirectionDecryption):
            assert out.records == eager.records and out._rows is None
    with pytest.raises(AttributeError):
        opened.no_such_attribute
    with pytest.raises(dataclasses.FrozenInstanceError):
        opened.records = ()  # type: ignore[misc]


# -- keys: the values made without their constructors -----------------------------------------


@pytest.mark.parametrize("hash_,key_len", [("sha256", 16), ("sha256", 32), ("sha384", 32)])
def test_traffic_keys_equal_two_expand_labels(hash_, key_len):
    secret = bytes(range(48 if hash_ == "sha384" else 32))
    keys = ks.traffic_keys(secret, hash_, key_len, 12)
    key = ks.hkdf_expand_label(secret, "key", b"", key_len, hash_, name="write_key")
    iv = ks.hkdf_expand_label(secret, "iv", b"", 12, hash_, name="write_iv")
    expected = ks.TrafficKeys(key=key.output, iv=iv.output, trace=key.trace + iv.trace)
    assert type(keys) is ks.TrafficKeys and keys == expected and repr(keys) == repr(expected)
    with pytest.raises(KeyMaterialError):
        ks.traffic_keys(secret, hash_, 0, 12)


@pytest.mark.parametrize("direction", list(dec.Direction) + ["client→server", None])
def test_direction_names_are_str_of_the_direction(direction):
    assert dec._direction(direction) == (str(direction) if direction is not None else None)


def _tls13_captures():
    from conftest import ROOT
    for capture in sorted((ROOT / "tests" / "corpus").glob("tls13*.pcap*")) + sorted(
            (ROOT / "captures").glob("tls13*.pcap*")):
        yield pytest.param(capture, id=capture.name)


@pytest.mark.parametrize("capture", list(_tls13_captures()))
def test_tls13_connection_keys_hold_each_secret_in_its_place(capture):
    from tlsdoc import analysis, session

    keylog = capture.with_suffix(".keys")
    for c in analysis.iter_analyze(capture, keylog=keylog):
        keys = c.keys
        # every slot set, and the same value as the dataclass constructor makes
        again = session.ConnectionKeys(**{f.name: getattr(keys, f.name)
                                          for f in dataclasses.fields(session.ConnectionKeys)})
        assert keys == again and repr(keys) == repr(again)
        assert keys.version == TLS13 and keys.tls13 and keys.params.tls13
        assert keys.pre_master is keys.master_secret is keys.key_block is None
        assert keys.client_write is keys.server_write is None
        for attr, label, direction in session._TLS13_SECRETS:
            prot = getattr(keys, attr)
            if label in keys.secrets:
                assert prot.secret_name == label and prot.direction == str(direction)
                assert prot == RecordProtection.tls13(keys.secrets[label], keys.params,
                                                      secret_name=label, direction=direction)
                assert label not in keys.missing
            else:
                assert prot is None
        names = [s.name for s in keys.trace]
        assert names == [n for attr, label, _ in session._TLS13_SECRETS if label in keys.secrets
                         for n in (label.lower(), f"{attr} write_key", f"{attr} write_iv")]
        assert isinstance(keys.missing, tuple) and isinstance(keys.warnings, tuple)


# -- the slot builders of session's values, against their dataclass constructors ------------


def _same_value(fast, expected):
    assert type(fast) is type(expected)
    assert fast == expected and repr(fast) == repr(expected)
    for f in dataclasses.fields(expected):  # (also the fields left out of == and repr)
        assert getattr(fast, f.name) == getattr(expected, f.name), f.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(expected)[0].name, None)


def test_session_value_builders_are_the_dataclass_values():
    import pickle

    from tlsdoc import session
    from tlsdoc.handshake import AlertEntry
    from tlsdoc.registry import AlertDescription, AlertLevel, lookup
    from tlsdoc.wire import Direction, Span

    app = session._new_application_data(2, 5, "ab" * 32, b"hello")
    _same_value(app, session.ApplicationData(records=2, length=5, sha256="ab" * 32, data=b"hello"))
    args = dict(direction=Direction.SERVER_TO_CLIENT, records=(), handshake=(), alerts=(),
                application_data=app, undecrypted=(3, 4), trace=(), warnings=("w",))
    one = session._new_direction_decryption(*args.values())
    _same_value(one, session.DirectionDecryption(**args))
    params = SUITES[0x1301]
    prot = RecordProtection.tls13(bytes(32), params, secret_name="S", direction="client→server")
    keys = session.ConnectionKeys(version=TLS13, params=params, client_handshake=prot)
    whole = session._new_decryption(keys, {Direction.SERVER_TO_CLIENT: one}, None, (), ("w",))
    _same_value(whole, session.Decryption(keys=keys, directions={Direction.SERVER_TO_CLIENT: one},
                                          tls=None, renegotiations=(), warnings=("w",)))
    assert pickle.loads(pickle.dumps(one)) == one

    # TLS 1.3 keys: every field but the trace, which ConnectionKeys.__getattr__ makes
    secrets = session._KeyLogSecrets({"CLIENT_HANDSHAKE_TRAFFIC_SECRET": bytes(32)})
    secrets.key, secrets.lines = bytes(32), {"CLIENT_HANDSHAKE_TRAFFIC_SECRET": 7}
    fast = session._new_tls13_keys(TLS13, params, "key log line 7", secrets, None, prot, None,
                                   None, None, ("SERVER_TRAFFIC_SECRET_0",), ("w",))
    trace = fast.trace
    _same_value(fast, session.ConnectionKeys(
        version=TLS13, params=params, source="key log line 7", secrets=secrets,
        client_handshake=prot, missing=("SERVER_TRAFFIC_SECRET_0",), trace=trace, warnings=("w",)))
    assert trace and trace[0].name == "client_handshake_traffic_secret"

    # alerts: what the _Direction scratch records for a decrypted alert, 2 bytes or not
    span = Span(Direction.SERVER_TO_CLIENT, 10, 33, (4,))

    class Rec:
        index = 3
    Rec.span = span

    for content in (b"\x01\x00", b"\x02\xfe", b"\x07\x00", b"\x01\x28", b"\x01", b""):
        level = lookup(AlertLevel, content[0]) if len(content) == 2 else None
        description = lookup(AlertDescription, content[1]) if len(content) == 2 else None
        state = session._Direction.__new__(session._Direction)
        state.direction, state.alerts, state.warnings = Direction.SERVER_TO_CLIENT, [], []
        state.alert(Rec, content)
        (alert,) = state.alerts
        _same_value(alert, AlertEntry(direction=Direction.SERVER_TO_CLIENT, record=3, span=span,
                                      level=level, description=description, encrypted=True))
        assert type(alert.level) is type(level) and type(alert.description) is type(description)
        assert bool(state.warnings) == (len(content) != 2)


@pytest.mark.parametrize("suite", TLS13_SUITES)
def test_tls13_protection_trace_made_on_first_read_is_the_general_one(monkeypatch, suite):
    params = SUITES[suite]
    monkeypatch.setattr(ks, "_TRAFFIC_PARTS", {})  # the first protection for these lengths too
    made = []
    for n in range(3):
        secret = bytes(range(n, n + params.hash_length))
        fast = RecordProtection.tls13(secret, params, secret_name="S", direction="client→server")
        keys = ks.traffic_keys(secret, params.prf_hash, params.key_length, params.fixed_iv_length)
        made.append((fast, keys))
    for n, (fast, keys) in enumerate(made):
        # the first one goes the general route and has its trace; the others make it on read
        assert (fast._secret is None) == (n == 0)
        assert fast.key == keys.key and fast.iv == keys.iv
        assert fast.trace == keys.trace and fast._secret is None and fast.trace is fast.trace
        assert keys.trace == tuple(ks.hkdf_expand_label(
            keys.trace[0].inputs[0][1], label, b"", size, params.prf_hash, name=name).trace[0]
            for label, size, name in (("key", params.key_length, "write_key"),
                                      ("iv", params.fixed_iv_length, "write_iv")))
    with pytest.raises(AttributeError):
        made[1][0].no_such_attribute
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[1][0].trace = ()  # type: ignore[misc]


def test_usable_is_any_protection_set():
    import itertools

    from tlsdoc import session

    names = ("client_write", "server_write", "client_early", "client_handshake",
             "server_handshake", "client_application", "server_application")
    prot = RecordProtection.tls13(bytes(32), SUITES[0x1301])
    for present in itertools.product((False, True), repeat=len(names)):
        keys = session.ConnectionKeys(version=TLS13, params=None, **{
            name: prot for name, there in zip(names, present) if there})
        assert keys.usable is any(present)

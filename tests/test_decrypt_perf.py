"""The fast paths of keys and decryption give what the general code gives.

Each fast path (made for the benchmark's TLS 1.3 connections) is checked
against the general route it stands in for:

* record protection: the int-XOR nonce against a byte-by-byte XOR, the
  packed TLS 1.3 additional data against the field-by-field one (and the
  same errors outside a record header's range), the inline TLS 1.3 nonce
  against :meth:`RecordProtection._nonce`, the slot-set Plaintext against
  the dataclass constructor;
* HKDF-Expand-Label: results with the kept static labels equal freshly
  worked-out ones, and the checks still raise.
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
    assert [getattr(sub, f.name) for f in dataclasses.fields(RecordProtection)][:-2] == \
        [getattr(base, f.name) for f in dataclasses.fields(RecordProtection)][:-2]
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
    from tlsdoc.handshake import HandshakeEntry
    from tlsdoc.wire import Direction, Span

    pt = dec._new_plaintext(*range(14))
    rec = session._new_decrypted_record(3, "handshake", "S", pt, (4, 5))
    expected = session.DecryptedRecord(record=3, epoch="handshake", secret_name="S",
                                       plaintext=pt, frames=(4, 5))
    assert type(rec) is session.DecryptedRecord and rec == expected and repr(rec) == repr(expected)
    span = Span(Direction.SERVER_TO_CLIENT, 10, 20, (4,))
    entry = session._new_handshake_entry("Finished", 20, Direction.SERVER_TO_CLIENT, (3,), span,
                                         None, True, b"raw", None)
    expected_entry = HandshakeEntry(name="Finished", msg_type=20, direction=Direction.SERVER_TO_CLIENT,
                                    records=(3,), span=span, encrypted=True, raw=b"raw")
    assert entry == expected_entry and repr(entry) == repr(expected_entry)
    assert hash(entry) == hash(expected_entry)

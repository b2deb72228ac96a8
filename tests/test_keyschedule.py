"""Key schedule against known answers from outside tlsdoc.

* HKDF-Extract: RFC 5869 test cases 1-3 (tests/vectors/rfc5869.py).
* TLS 1.3: RFC 8448 §3 Simple 1-RTT Handshake (tests/vectors/rfc8448.py),
  from the x25519 keys to every secret, key, IV and Finished.
* TLS 1.2 PRF: the IETF TLS WG SHA-256 / SHA-384 vectors
  (tests/vectors/tls12_prf.py).
* Master secret, extended master secret, key block, Finished: against a
  second implementation written here with the standard library's ``hmac``
  (an independent route, not a known answer), and against
  ``openssl kdf TLS1-PRF`` when openssl is installed.
* RSA premaster: round trips through ``cryptography``'s RSA encryption and
  a wrong key that must raise.  The end-to-end check against a real capture
  lives in tests/test_decrypt.py.
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_tool
from vectors import rfc5869, rfc8448 as v, tls12_prf
from tlsdoc import keyschedule as ks
from tlsdoc.errors import KeyMaterialError
from tlsdoc.suites import SUITES

# -- an independent TLS 1.2 PRF, written with the standard library only ---------


def std_prf(secret: bytes, label: bytes, seed: bytes, length: int, name: str = "sha256") -> bytes:
    out, a = b"", label + seed
    while len(out) < length:
        a = std_hmac.new(secret, a, name).digest()
        out += std_hmac.new(secret, a + label + seed, name).digest()
    return out[:length]


def std_expand_label(secret: bytes, label: bytes, context: bytes, length: int,
                     name: str = "sha256") -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = std_hmac.new(secret, t + info + bytes([i]), name).digest()
        out, i = out + t, i + 1
    return out[:length]


# -- HKDF: RFC 5869 --------------------------------------------------------------


@pytest.mark.parametrize("case", rfc5869.CASES, ids=lambda c: c.name)
def test_hkdf_extract_rfc5869(case):
    prk = ks.hkdf_extract(case.salt, case.ikm, "sha256")
    assert prk.output == case.prk
    step = prk.trace[0]
    assert step.op == "HKDF-Extract-SHA256"
    # an empty salt is shown as the Hash.length zeros it stands for
    assert dict(step.inputs)["salt"] == (case.salt or bytes(32))
    # and the PRK feeds cryptography's HKDF-Expand to the RFC's OKM
    okm = HKDFExpand(algorithm=hashes.SHA256(), length=case.length, info=case.info).derive(prk.output)
    assert okm == case.okm
    full = HKDF(algorithm=hashes.SHA256(), length=case.length, salt=case.salt or None,
                info=case.info).derive(case.ikm)
    assert full == case.okm


# -- TLS 1.3: RFC 8448 §3 -----------------------------------------------------------


def test_rfc8448_x25519_shared_secret():
    client = x25519.X25519PrivateKey.from_private_bytes(v.CLIENT_X25519_PRIVATE)
    server = x25519.X25519PrivateKey.from_private_bytes(v.SERVER_X25519_PRIVATE)
    assert client.public_key().public_bytes_raw() == v.CLIENT_X25519_PUBLIC
    assert server.public_key().public_bytes_raw() == v.SERVER_X25519_PUBLIC
    shared = client.exchange(x25519.X25519PublicKey.from_public_bytes(v.SERVER_X25519_PUBLIC))
    assert shared == v.ECDHE_SHARED_SECRET


def test_rfc8448_transcript_hashes():
    ch_sh = v.CLIENT_HELLO + v.SERVER_HELLO
    ch_sf = ch_sh + v.ENCRYPTED_EXTENSIONS + v.CERTIFICATE + v.CERTIFICATE_VERIFY + v.SERVER_FINISHED
    assert ks.transcript_hash(ch_sh) == v.HASH_CH_SH
    assert ks.transcript_hash(ch_sf) == v.HASH_CH_SF
    assert ks.transcript_hash(ch_sf + v.CLIENT_FINISHED) == v.HASH_CH_CF


def test_rfc8448_derive_secret_shows_hkdf_label():
    d = ks.derive_secret(v.EARLY_SECRET, "derived", ks.transcript_hash(b""))
    assert d.output == v.DERIVED_EARLY
    inputs = dict(d.trace[0].inputs)
    assert inputs["HkdfLabel"] == v.DERIVED_INFO
    assert inputs["label"] == b"tls13 derived"
    assert d.trace[0].op == "Derive-Secret-SHA256"


def test_rfc8448_full_schedule():
    s = ks.tls13_key_schedule(
        shared_secret=v.ECDHE_SHARED_SECRET, server_hello_hash=v.HASH_CH_SH,
        server_finished_hash=v.HASH_CH_SF, client_finished_hash=v.HASH_CH_CF)
    assert s.early_secret == v.EARLY_SECRET
    assert s.handshake_secret == v.HANDSHAKE_SECRET
    assert s.client_handshake_traffic_secret == v.CLIENT_HANDSHAKE_TRAFFIC_SECRET
    assert s.server_handshake_traffic_secret == v.SERVER_HANDSHAKE_TRAFFIC_SECRET
    assert s.master_secret == v.MASTER_SECRET
    assert s.client_application_traffic_secret_0 == v.CLIENT_APPLICATION_TRAFFIC_SECRET_0
    assert s.server_application_traffic_secret_0 == v.SERVER_APPLICATION_TRAFFIC_SECRET_0
    assert s.exporter_master_secret == v.EXPORTER_MASTER_SECRET
    assert s.resumption_master_secret == v.RESUMPTION_MASTER_SECRET
    assert s.client_early_traffic_secret is None
    steps = {step.name: step for step in s.trace}
    assert steps["derived (early)"].output == v.DERIVED_EARLY
    assert steps["derived (handshake)"].output == v.DERIVED_HANDSHAKE
    assert dict(steps["handshake_secret"].inputs) == {
        "salt": v.DERIVED_EARLY, "IKM": v.ECDHE_SHARED_SECRET}
    # the trace is in derivation order and every output is used later or returned
    assert [step.name for step in s.trace][:3] == ["early_secret", "derived (early)", "handshake_secret"]


def test_schedule_without_optional_hashes():
    s = ks.tls13_key_schedule(shared_secret=v.ECDHE_SHARED_SECRET,
                              server_hello_hash=v.HASH_CH_SH,
                              client_hello_hash=ks.transcript_hash(v.CLIENT_HELLO))
    assert s.server_handshake_traffic_secret == v.SERVER_HANDSHAKE_TRAFFIC_SECRET
    assert s.client_application_traffic_secret_0 is None
    assert s.resumption_master_secret is None
    assert len(s.client_early_traffic_secret) == 32


@pytest.mark.parametrize(
    "secret,key,iv",
    [
        (v.SERVER_HANDSHAKE_TRAFFIC_SECRET, v.SERVER_HANDSHAKE_KEY, v.SERVER_HANDSHAKE_IV),
        (v.CLIENT_HANDSHAKE_TRAFFIC_SECRET, v.CLIENT_HANDSHAKE_KEY, v.CLIENT_HANDSHAKE_IV),
        (v.SERVER_APPLICATION_TRAFFIC_SECRET_0, v.SERVER_APPLICATION_KEY, v.SERVER_APPLICATION_IV),
        (v.CLIENT_APPLICATION_TRAFFIC_SECRET_0, v.CLIENT_APPLICATION_KEY, v.CLIENT_APPLICATION_IV),
    ],
    ids=["server hs", "client hs", "server ap", "client ap"],
)
def test_rfc8448_traffic_keys(secret, key, iv):
    params = SUITES[0x1301]
    keys = ks.traffic_keys(secret, params.prf_hash, params.key_length, params.fixed_iv_length)
    assert (keys.key, keys.iv) == (key, iv)
    assert [dict(s.inputs)["HkdfLabel"] for s in keys.trace] == [v.KEY_INFO, v.IV_INFO]


def test_rfc8448_server_finished():
    th = ks.transcript_hash(v.CLIENT_HELLO + v.SERVER_HELLO + v.ENCRYPTED_EXTENSIONS
                            + v.CERTIFICATE + v.CERTIFICATE_VERIFY)
    assert ks.tls13_finished_key(v.SERVER_HANDSHAKE_TRAFFIC_SECRET).output == v.SERVER_FINISHED_KEY
    d = ks.tls13_finished_verify_data(v.SERVER_HANDSHAKE_TRAFFIC_SECRET, th)
    assert d.output == v.SERVER_FINISHED_VERIFY_DATA
    assert v.SERVER_FINISHED == b"\x14\x00\x00\x20" + d.output
    assert [s.name for s in d.trace] == ["finished_key", "verify_data"]
    assert dict(d.trace[0].inputs)["HkdfLabel"] == v.FINISHED_INFO


def test_rfc8448_client_finished():
    th = ks.transcript_hash(v.CLIENT_HELLO + v.SERVER_HELLO + v.ENCRYPTED_EXTENSIONS
                            + v.CERTIFICATE + v.CERTIFICATE_VERIFY + v.SERVER_FINISHED)
    assert ks.tls13_finished_key(v.CLIENT_HANDSHAKE_TRAFFIC_SECRET).output == v.CLIENT_FINISHED_KEY
    d = ks.tls13_finished_verify_data(v.CLIENT_HANDSHAKE_TRAFFIC_SECRET, th)
    assert d.output == v.CLIENT_FINISHED_VERIFY_DATA


def test_next_traffic_secret_matches_stdlib_route():
    # RFC 8448 has no KeyUpdate; check "traffic upd" against the stdlib route.
    for name, secret in (("sha256", v.SERVER_APPLICATION_TRAFFIC_SECRET_0), ("sha384", bytes(range(48)))):
        d = ks.next_traffic_secret(secret, name)
        assert d.output == std_expand_label(secret, b"traffic upd", b"", len(secret), name)
        assert dict(d.trace[0].inputs)["label"] == b"tls13 traffic upd"


@settings(max_examples=40, deadline=None)
@given(secret=st.binary(min_size=32, max_size=64), label=st.binary(max_size=40),
       context=st.binary(max_size=64), length=st.integers(1, 300),
       name=st.sampled_from(["sha256", "sha384"]))
def test_hkdf_expand_label_matches_stdlib_route(secret, label, context, length, name):
    assert ks.hkdf_expand_label(secret, label, context, length, name).output == \
        std_expand_label(secret, label, context, length, name)


def test_hkdf_label_limits():
    with pytest.raises(KeyMaterialError):
        ks.hkdf_expand_label(bytes(32), b"x" * 250, b"", 32)
    with pytest.raises(KeyMaterialError):
        ks.hkdf_expand_label(bytes(32), b"key", bytes(256), 32)
    with pytest.raises(KeyMaterialError) as excinfo:
        ks.hkdf_expand_label(bytes(32), b"key", b"", 255 * 32 + 1)
    assert excinfo.value.found == 255 * 32 + 1
    with pytest.raises(KeyMaterialError) as excinfo:
        ks.hash_length("sha3_256")
    assert excinfo.value.found == "'sha3_256'"


# -- TLS 1.2 PRF ------------------------------------------------------------------


def test_prf_sha256_ietf_vector():
    d = ks.prf(tls12_prf.SHA256_SECRET, tls12_prf.LABEL, tls12_prf.SHA256_SEED, 100, "sha256")
    assert d.output == tls12_prf.SHA256_OUTPUT
    assert d.trace[0].op == "PRF-SHA256"


def test_prf_sha384_ietf_vector():
    d = ks.prf(tls12_prf.SHA384_SECRET, "test label", tls12_prf.SHA384_SEED, 148, "sha384")
    assert d.output == tls12_prf.SHA384_OUTPUT


def test_p_hash_trace_shows_every_hmac():
    secret, seed = tls12_prf.SHA256_SECRET, tls12_prf.LABEL + tls12_prf.SHA256_SEED
    d = ks.p_hash(secret, seed, 100)
    assert d.output == tls12_prf.SHA256_OUTPUT
    names = [s.name for s in d.trace]
    assert names[:4] == ["A(1)", "P_SHA256 block 1", "A(2)", "P_SHA256 block 2"]
    assert names[-1] == "P_SHA256" and len(d.trace) == 2 * 4 + 1  # ceil(100 / 32) = 4 blocks
    assert d.trace[0].output == std_hmac.new(secret, seed, "sha256").digest()
    assert d.trace[1].output == d.output[:32]


@settings(max_examples=30, deadline=None)
@given(secret=st.binary(max_size=64), label=st.binary(max_size=30), seed=st.binary(max_size=80),
       length=st.integers(0, 200), name=st.sampled_from(["sha256", "sha384"]))
def test_prf_matches_stdlib_route(secret, label, seed, length, name):
    assert ks.prf(secret, label, seed, length, name).output == std_prf(secret, label, seed, length, name)


CLIENT_RANDOM = bytes(range(32))
SERVER_RANDOM = bytes(range(32, 64))
PREMASTER = b"\x03\x03" + bytes(range(100, 146))


def test_master_secret_independent_route():
    d = ks.master_secret(PREMASTER, CLIENT_RANDOM, SERVER_RANDOM)
    assert d.output == std_prf(PREMASTER, b"master secret", CLIENT_RANDOM + SERVER_RANDOM, 48)
    step = d.trace[0]
    assert (step.name, step.op) == ("master_secret", "PRF-SHA256")
    assert [name for name, _ in step.inputs] == [
        "pre_master_secret", "label", "ClientHello.random", "ServerHello.random"]


def test_extended_master_secret_rfc7627_independent_route():
    # RFC 7627 §4: the seed is the session hash alone, the label differs.
    session_hash = hashlib.sha256(b"ClientHello..ClientKeyExchange").digest()
    d = ks.extended_master_secret(PREMASTER, session_hash)
    assert d.output == std_prf(PREMASTER, b"extended master secret", session_hash, 48)
    assert d.output != ks.master_secret(PREMASTER, CLIENT_RANDOM, SERVER_RANDOM).output
    assert dict(d.trace[0].inputs)["session_hash"] == session_hash
    h384 = hashlib.sha384(b"x").digest()
    assert ks.extended_master_secret(PREMASTER, h384, "sha384").output == \
        std_prf(PREMASTER, b"extended master secret", h384, 48, "sha384")


def _openssl_tls1_prf(secret: bytes, seed: bytes, length: int, digest: str) -> bytes:
    out = subprocess.run(
        [require_tool("openssl"), "kdf", "-keylen", str(length), "-kdfopt", f"digest:{digest}",
         "-kdfopt", f"hexsecret:{secret.hex()}", "-kdfopt", f"hexseed:{seed.hex()}", "TLS1-PRF"],
        capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        pytest.skip(f"openssl kdf TLS1-PRF unavailable: {out.stderr.strip()[:80]}")
    return bytes.fromhex(out.stdout.strip().replace(":", ""))


def test_master_secret_and_ems_against_openssl():
    d = ks.master_secret(PREMASTER, CLIENT_RANDOM, SERVER_RANDOM)
    assert d.output == _openssl_tls1_prf(
        PREMASTER, b"master secret" + CLIENT_RANDOM + SERVER_RANDOM, 48, "SHA256")
    session_hash = hashlib.sha384(b"transcript").digest()
    ems = ks.extended_master_secret(PREMASTER, session_hash, "sha384")
    assert ems.output == _openssl_tls1_prf(
        PREMASTER, b"extended master secret" + session_hash, 48, "SHA384")


def test_master_secret_rejects_short_random():
    with pytest.raises(KeyMaterialError) as excinfo:
        ks.master_secret(PREMASTER, CLIENT_RANDOM[:31], SERVER_RANDOM)
    assert excinfo.value.field == "ClientHello.random"
    assert excinfo.value.found == "31 bytes"


@pytest.mark.parametrize(
    "suite,lengths",
    [
        (0xC02F, (0, 16, 4)),    # ECDHE_RSA AES_128_GCM_SHA256
        (0x009D, (0, 32, 4)),    # RSA AES_256_GCM_SHA384
        (0xCCA8, (0, 32, 12)),   # ECDHE_RSA CHACHA20_POLY1305
        (0xC0AE, (0, 16, 4)),    # ECDHE_ECDSA AES_128_CCM_8
        (0x002F, (20, 16, 16)),  # RSA AES_128_CBC_SHA
        (0xC028, (48, 32, 16)),  # ECDHE_RSA AES_256_CBC_SHA384
    ],
)
def test_tls12_keys_split_the_key_block(suite, lengths):
    params = SUITES[suite]
    master = bytes(range(48))
    keys = ks.tls12_keys(master, CLIENT_RANDOM, SERVER_RANDOM, params)
    mac, key, iv = lengths
    parts = (keys.client_write_mac_key, keys.server_write_mac_key, keys.client_write_key,
             keys.server_write_key, keys.client_write_iv, keys.server_write_iv)
    assert [len(p) for p in parts] == [mac, mac, key, key, iv, iv]
    assert b"".join(parts) == keys.key_block
    # RFC 5246 §6.3: the seed is server_random + client_random
    assert keys.key_block == std_prf(master, b"key expansion", SERVER_RANDOM + CLIENT_RANDOM,
                                     len(keys.key_block), params.prf_hash)
    assert [s.name for s in keys.trace] == [
        "key_block", "client_write_MAC_key", "server_write_MAC_key", "client_write_key",
        "server_write_key", "client_write_IV", "server_write_IV"]


def test_tls12_keys_refuse_tls13_suite_and_bad_master():
    with pytest.raises(KeyMaterialError):
        ks.tls12_keys(bytes(48), CLIENT_RANDOM, SERVER_RANDOM, SUITES[0x1301])
    with pytest.raises(KeyMaterialError) as excinfo:
        ks.tls12_keys(bytes(47), CLIENT_RANDOM, SERVER_RANDOM, SUITES[0xC02F])
    assert excinfo.value.field == "master_secret"


def test_tls12_finished_verify_data_independent_route():
    master = bytes(range(48))
    handshake_hash = hashlib.sha256(b"handshake messages").digest()
    for label in ("client finished", b"server finished"):
        d = ks.tls12_finished_verify_data(master, label, handshake_hash)
        raw = label.encode() if isinstance(label, str) else label
        assert d.output == std_prf(master, raw, handshake_hash, 12)
        assert len(d.output) == 12


# -- RSA key exchange ---------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key, fmt, encryption=None):
    return key.private_bytes(serialization.Encoding.PEM, fmt,
                             encryption or serialization.NoEncryption())


def test_load_private_key_pkcs1_pkcs8_der_and_encrypted(rsa_key):
    n = rsa_key.private_numbers().public_numbers.n
    pkcs1 = _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)
    pkcs8 = _pem(rsa_key, serialization.PrivateFormat.PKCS8)
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    der = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    for data in (pkcs1, pkcs8, der):
        assert ks.load_private_key(data).private_numbers().public_numbers.n == n
    locked = _pem(rsa_key, serialization.PrivateFormat.PKCS8,
                  serialization.BestAvailableEncryption(b"demo"))
    assert ks.load_private_key(locked, password=b"demo").private_numbers().public_numbers.n == n
    for bad, password in ((locked, None), (locked, b"wrong"), (b"-----BEGIN PRIVATE KEY-----\nAAAA\n", None),
                          (b"not a key", None)):
        with pytest.raises(KeyMaterialError):
            ks.load_private_key(bad, password=password)


def test_rsa_premaster_round_trip(rsa_key):
    premaster = b"\x03\x03" + bytes(range(46))
    encrypted = rsa_key.public_key().encrypt(premaster, padding.PKCS1v15())
    pem = _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)
    result = ks.rsa_premaster(encrypted, pem, client_version=0x0303)
    assert result.pre_master_secret == premaster
    assert result.client_version == 0x0303 and result.version_matches is True
    encoded, unpadded = result.trace
    assert encoded.output[:2] == b"\x00\x02" and encoded.output.endswith(b"\x00" + premaster)
    assert unpadded.output == premaster
    assert ks.rsa_premaster(encrypted, rsa_key, client_version=0x0302).version_matches is False
    assert ks.rsa_premaster(encrypted, rsa_key).version_matches is None


def test_rsa_premaster_wrong_key_is_an_error_not_garbage(rsa_key, other_rsa_key):
    # cryptography's implicit rejection would return a synthetic message here
    encrypted = rsa_key.public_key().encrypt(b"\x03\x03" + bytes(46), padding.PKCS1v15())
    for _ in range(3):
        with pytest.raises(KeyMaterialError) as excinfo:
            ks.rsa_premaster(encrypted, other_rsa_key)
        assert excinfo.value.field == "EncryptedPreMasterSecret"


def test_rsa_premaster_other_failures(rsa_key):
    with pytest.raises(KeyMaterialError) as excinfo:  # modulus size mismatch
        ks.rsa_premaster(bytes(128), rsa_key)
    assert excinfo.value.expected == "256 bytes"
    with pytest.raises(KeyMaterialError) as excinfo:  # decrypts, but not 48 bytes
        ks.rsa_premaster(rsa_key.public_key().encrypt(b"short", padding.PKCS1v15()), rsa_key)
    assert excinfo.value.found == "5 bytes"
    with pytest.raises(KeyMaterialError):  # not an RSA key
        ks.rsa_premaster(bytes(256), ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(KeyMaterialError):  # ciphertext above the modulus
        ks.rsa_premaster(b"\xff" * 256, rsa_key)


# -- _traffic_keys' fast path (the parts that do not depend on the secret, kept) -------------


@pytest.mark.parametrize("hash,key_len,iv_len", [("sha256", 16, 12), ("sha384", 32, 12),
                                                 ("sha256", 32, 12), ("sha256", 16, 8)])
def test_traffic_keys_fast_path_is_the_general_one(monkeypatch, hash, key_len, iv_len):
    import random

    monkeypatch.setattr(ks, "_TRAFFIC_PARTS", {})
    rng = random.Random(f"{hash}{key_len}{iv_len}")
    for n in range(20):  # the first call fills the cache, the others use it
        secret = rng.randbytes(rng.choice((32, 48, 20)))
        key, key_step = ks._expand_label(secret, "key", b"", key_len, hash, "write_key")
        iv, iv_step = ks._expand_label(secret, "iv", b"", iv_len, hash, "write_iv")
        assert ks._traffic_keys(secret, hash, key_len, iv_len) == (key, iv, (key_step, iv_step))
        assert ks.traffic_keys(secret, hash, key_len, iv_len) == ks.TrafficKeys(
            key=key, iv=iv, trace=(key_step, iv_step))
        assert (hash, key_len, iv_len) in ks._TRAFFIC_PARTS


def test_traffic_keys_fast_path_errors_are_the_general_ones(monkeypatch):
    monkeypatch.setattr(ks, "_TRAFFIC_PARTS", {})
    for args in (("sha256", 0, 12), ("sha256", 16, 0), ("sha256", 16 * 255 * 32, 12), ("md4", 16, 12)):
        for _ in range(2):  # nothing is kept from a call that failed
            with pytest.raises(Exception) as general:
                ks._expand_label(b"s" * 32, "key", b"", args[1], args[0], "write_key")
                ks._expand_label(b"s" * 32, "iv", b"", args[2], args[0], "write_iv")
            with pytest.raises(type(general.value)) as fast:
                ks._traffic_keys(b"s" * 32, *args)
            assert str(fast.value) == str(general.value)
    assert ks._TRAFFIC_PARTS == {}
    ks._traffic_keys(b"s" * 32, "sha256", 16, 12)
    with pytest.raises(TypeError):  # a secret that is not bytes, cache or not
        ks._traffic_keys("not bytes", "sha256", 16, 12)

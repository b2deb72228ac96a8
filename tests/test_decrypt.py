"""Record protection and the suite table.

* RFC 8448 §3 records (tests/vectors/rfc8448.py) decrypt to the RFC's
  plaintext, and ``encrypt`` reproduces them byte for byte.
* Every suite in the table round-trips (hypothesis), and flipping any bit of
  the fragment, or using the wrong sequence number, raises DecryptionError.
* Records built here directly with ``cryptography`` (not with our
  ``encrypt``) decrypt: one per cipher family and CBC mode.
* CBC padding and MAC failures, short records, TLS 1.3 all-zero plaintext.
* The bundled captures: the TLS 1.2 RSA premaster (server key) and master
  secret equal the key log's lines, and every record of the TLS 1.2 and
  TLS 1.3 captures decrypts with the Finished messages verifying.  Fields
  are cross-checked against tshark's dissection.
"""

from __future__ import annotations

import hmac as std_hmac
import subprocess

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CAPTURES, require_tool
from vectors import rfc8448 as v
from tlsdoc import keyschedule as ks
from tlsdoc.decrypt import TLS12, TLS13, RecordProtection
from tlsdoc.errors import DecryptionError, KeyMaterialError
from tlsdoc.keylog import parse_keylog
from tlsdoc.suites import SUITES, Cipher as SuiteCipher, KeyExchange, suite_params

# -- the suite table ----------------------------------------------------------------


def test_table_covers_the_suites_it_promises():
    assert {0x1301, 0x1302, 0x1303, 0x1304, 0x1305} <= set(SUITES)
    assert suite_params(0xC02F) is SUITES[0xC02F]
    assert suite_params(0x0A0A) is None                    # GREASE: not decryptable
    ciphers = {p.cipher for p in SUITES.values()}
    assert ciphers == set(SuiteCipher)
    kx = {p.key_exchange for p in SUITES.values()}
    assert kx == set(KeyExchange)
    for p in SUITES.values():
        assert p.aead == (p.tag_length > 0) == (p.mac is None)
        if p.tls13:
            assert (p.fixed_iv_length, p.record_iv_length) == (12, 0)


def test_table_agrees_with_the_iana_names():
    registry = pytest.importorskip("tlsdoc.registry")
    for suite, p in SUITES.items():
        name = registry.CipherSuite(suite).name
        assert p.tls13 == ("_WITH_" not in name), name
        if not p.tls13:
            assert name.split("_WITH_")[0] == "TLS_" + p.key_exchange.value, name
        if "CHACHA20" in name:
            assert (p.cipher, p.key_length) == (SuiteCipher.CHACHA20_POLY1305, 32)
        else:
            assert p.key_length == (16 if "_128_" in name else 32), name
            family = ("CCM_8" in name and SuiteCipher.AES_CCM_8 or "CCM" in name and SuiteCipher.AES_CCM
                      or "GCM" in name and SuiteCipher.AES_GCM or SuiteCipher.AES_CBC)
            assert p.cipher is family, name
        assert p.prf_hash == ("sha384" if name.endswith("SHA384") else "sha256"), name
        if p.cipher is SuiteCipher.AES_CBC:
            assert p.mac == {"SHA": "sha1", "SHA256": "sha256", "SHA384": "sha384"}[name.rsplit("_", 1)[1]]


# -- RFC 8448 records ------------------------------------------------------------------


def split(record: bytes) -> tuple[int, int, bytes]:
    return record[0], int.from_bytes(record[1:3], "big"), record[5:]


def rfc_protection(key: bytes, iv: bytes, name: str) -> RecordProtection:
    return RecordProtection(params=SUITES[0x1301], version=TLS13, key=key, iv=iv, secret_name=name)


def test_rfc8448_server_handshake_record():
    rp = RecordProtection.tls13(v.SERVER_HANDSHAKE_TRAFFIC_SECRET, SUITES[0x1301],
                                secret_name="server handshake traffic secret")
    assert (rp.key, rp.iv) == (v.SERVER_HANDSHAKE_KEY, v.SERVER_HANDSHAKE_IV)
    ctype, version, fragment = split(v.SERVER_HANDSHAKE_RECORD)
    pt = rp.decrypt(ctype, version, fragment, 0)
    assert pt.content_type == 22
    assert pt.content == v.ENCRYPTED_EXTENSIONS + v.CERTIFICATE + v.CERTIFICATE_VERIFY + v.SERVER_FINISHED
    assert pt.padding == b""
    assert pt.nonce == v.SERVER_HANDSHAKE_IV                # seq 0: the nonce is the IV
    assert pt.aad == v.SERVER_HANDSHAKE_RECORD[:5]          # the record header
    assert [n for n, _ in pt.aad_parts] == ["opaque_type", "legacy_record_version", "length"]
    assert pt.tag == fragment[-16:] and pt.ciphertext == fragment[:-16]
    assert b"".join(b for _, b in pt.fragment_parts) == fragment
    assert rp.encrypt(22, version, pt.content, 0) == fragment


def test_rfc8448_client_finished_record():
    rp = rfc_protection(v.CLIENT_HANDSHAKE_KEY, v.CLIENT_HANDSHAKE_IV, "client handshake traffic secret")
    ctype, version, fragment = split(v.CLIENT_FINISHED_RECORD)
    pt = rp.decrypt(ctype, version, fragment, 0)
    assert (pt.content_type, pt.content) == (22, v.CLIENT_FINISHED)
    assert rp.encrypt(22, version, v.CLIENT_FINISHED, 0) == fragment


def test_rfc8448_application_data_records():
    client = RecordProtection.tls13(v.CLIENT_APPLICATION_TRAFFIC_SECRET_0, SUITES[0x1301])
    pt = client.decrypt(*split(v.CLIENT_APPLICATION_RECORD), 0)
    assert (pt.content_type, pt.content) == (23, v.APPLICATION_DATA)
    server = rfc_protection(v.SERVER_APPLICATION_KEY, v.SERVER_APPLICATION_IV, "s ap")
    seq = v.SERVER_APPLICATION_RECORD_SEQ
    pt = server.decrypt(*split(v.SERVER_APPLICATION_RECORD), seq)
    assert (pt.content_type, pt.content) == (23, v.APPLICATION_DATA)
    assert pt.nonce == v.SERVER_APPLICATION_IV[:-1] + bytes([v.SERVER_APPLICATION_IV[-1] ^ 1])
    assert dict(pt.nonce_parts)["padded seq_num"] == bytes(11) + b"\x01"


def test_rfc8448_wrong_sequence_or_key_fails():
    rp = rfc_protection(v.CLIENT_HANDSHAKE_KEY, v.CLIENT_HANDSHAKE_IV, "client handshake traffic secret")
    with pytest.raises(DecryptionError) as excinfo:
        rp.decrypt(*split(v.CLIENT_FINISHED_RECORD), 1, record=3)
    err = excinfo.value
    assert err.record == 3
    assert "seq 1, client handshake traffic secret" in str(err)
    server = rfc_protection(v.SERVER_HANDSHAKE_KEY, v.SERVER_HANDSHAKE_IV, "s hs")
    with pytest.raises(DecryptionError):
        server.decrypt(*split(v.CLIENT_FINISHED_RECORD), 0)
    ctype, _, fragment = split(v.CLIENT_FINISHED_RECORD)
    with pytest.raises(DecryptionError):   # the header is authenticated too
        rp.decrypt(ctype, 0x0301, fragment, 0)


# -- every suite: round trips and tampering ------------------------------------------------


def make_protection(params, material: bytes, etm: bool = False) -> RecordProtection:
    key = material[:params.key_length]
    iv = material[32:32 + params.fixed_iv_length] if params.aead else b""
    mac_key = material[48:48 + params.mac_length]
    return RecordProtection(params=params, version=TLS13 if params.tls13 else TLS12,
                            key=key, iv=iv, mac_key=mac_key, encrypt_then_mac=etm,
                            secret_name="test keys")


CASES = [(s, False) for s in sorted(SUITES)] + [
    (s, True) for s in sorted(SUITES) if SUITES[s].cipher is SuiteCipher.AES_CBC]


@pytest.mark.parametrize("suite,etm", CASES, ids=[f"0x{s:04x}{'-etm' if e else ''}" for s, e in CASES])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_round_trip_and_any_bit_flip_fails(suite, etm, data):
    params = SUITES[suite]
    rp = make_protection(params, data.draw(st.binary(min_size=96, max_size=96)), etm)
    content = data.draw(st.binary(max_size=200))
    seq = data.draw(st.integers(0, 2**64 - 1))
    ctype = data.draw(st.sampled_from([21, 22, 23]))
    if params.tls13:
        padding = data.draw(st.integers(0, 24))
    elif params.aead:
        padding = None
    else:
        used = len(content) + (0 if etm else params.mac_length)
        padding = 15 - used % 16 + 16 * data.draw(st.integers(0, 3))
    fragment = rp.encrypt(ctype, 0x0303, content, seq, padding=padding)
    outer = 23 if params.tls13 else ctype

    pt = rp.decrypt(outer, 0x0303, fragment, seq, record=5)
    assert (pt.content_type, pt.content, pt.seq) == (ctype, content, seq)
    assert b"".join(b for _, b in pt.fragment_parts) == fragment
    if params.tls13:
        assert pt.padding == bytes(padding)
    elif not params.aead:
        assert len(pt.padding) == padding + 1 and len(pt.tag) == params.mac_length

    bit = data.draw(st.integers(0, len(fragment) * 8 - 1))
    tampered = bytearray(fragment)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError) as excinfo:
        rp.decrypt(outer, 0x0303, bytes(tampered), seq, record=5)
    assert excinfo.value.record == 5 and f"seq {seq}" in str(excinfo.value)
    with pytest.raises(DecryptionError):
        rp.decrypt(outer, 0x0303, fragment, seq ^ 1)


# -- records built directly with cryptography ----------------------------------------------


def tls12_header(seq: int, ctype: int, length: int) -> bytes:
    return seq.to_bytes(8, "big") + bytes([ctype]) + b"\x03\x03" + length.to_bytes(2, "big")


KEY32, IV12, SALT, EXPLICIT = bytes(range(32)), bytes(range(40, 52)), bytes(range(60, 64)), bytes(range(70, 78))
MESSAGE = b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"


@pytest.mark.parametrize("suite", [0xC02F, 0xC030, 0xC09C, 0xC0A0, 0xC0AF])
def test_tls12_gcm_ccm_record_made_by_cryptography(suite):
    params, seq = SUITES[suite], 7
    key = KEY32[:params.key_length]
    aead = (AESGCM(key) if params.cipher is SuiteCipher.AES_GCM
            else AESCCM(key, tag_length=params.tag_length))
    fragment = EXPLICIT + aead.encrypt(SALT + EXPLICIT, MESSAGE, tls12_header(seq, 23, len(MESSAGE)))
    rp = RecordProtection(params=params, version=TLS12, key=key, iv=SALT)
    pt = rp.decrypt(23, 0x0303, fragment, seq)
    assert pt.content == MESSAGE
    assert pt.nonce == SALT + EXPLICIT and pt.explicit_nonce == EXPLICIT
    assert dict(pt.nonce_parts) == {"salt (write_IV)": SALT, "nonce_explicit": EXPLICIT}
    assert pt.aad == tls12_header(seq, 23, len(MESSAGE))
    assert len(pt.tag) == params.tag_length
    assert [n for n, _ in pt.fragment_parts] == ["nonce_explicit", "ciphertext", "tag"]


def xor_nonce(iv: bytes, seq: int) -> bytes:
    return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big")))


def test_tls12_chacha20_record_made_by_cryptography():
    seq = 0x0102030405
    fragment = ChaCha20Poly1305(KEY32).encrypt(xor_nonce(IV12, seq), MESSAGE,
                                               tls12_header(seq, 23, len(MESSAGE)))
    rp = RecordProtection(params=SUITES[0xCCA8], version=TLS12, key=KEY32, iv=IV12)
    pt = rp.decrypt(23, 0x0303, fragment, seq)
    assert pt.content == MESSAGE and pt.explicit_nonce == b""
    assert pt.nonce == xor_nonce(IV12, seq) and "RFC 7905" in pt.nonce_rule


@pytest.mark.parametrize("suite", [0x1302, 0x1303, 0x1304, 0x1305])
def test_tls13_records_made_by_cryptography(suite):
    params, seq = SUITES[suite], 3
    key = KEY32[:params.key_length]
    aead = {SuiteCipher.AES_GCM: lambda: AESGCM(key),
            SuiteCipher.CHACHA20_POLY1305: lambda: ChaCha20Poly1305(key),
            SuiteCipher.AES_CCM: lambda: AESCCM(key),
            SuiteCipher.AES_CCM_8: lambda: AESCCM(key, tag_length=8)}[params.cipher]()
    inner = MESSAGE + b"\x17" + bytes(5)
    header = b"\x17\x03\x03" + (len(inner) + params.tag_length).to_bytes(2, "big")
    fragment = aead.encrypt(xor_nonce(IV12, seq), inner, header)
    pt = RecordProtection(params=params, version=TLS13, key=key, iv=IV12).decrypt(23, 0x0303, fragment, seq)
    assert (pt.content_type, pt.content, pt.padding) == (23, MESSAGE, bytes(5))
    assert pt.aad == header


def cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


MAC_KEY = bytes(range(100, 148))
CBC_IV = bytes(range(200, 216))


def mte_fragment(suite: int, seq: int, content: bytes, padding: bytes | None = None,
                 mac: bytes | None = None) -> bytes:
    p = SUITES[suite]
    mac = mac if mac is not None else std_hmac.new(
        MAC_KEY[:p.mac_length], tls12_header(seq, 23, len(content)) + content, p.mac).digest()
    data = content + mac
    if padding is None:
        n = 15 - len(data) % 16
        padding = bytes([n]) * (n + 1)
    return CBC_IV + cbc(KEY32[:p.key_length], CBC_IV, data + padding)


def etm_fragment(suite: int, seq: int, content: bytes, padding: bytes | None = None) -> bytes:
    p = SUITES[suite]
    if padding is None:
        n = 15 - len(content) % 16
        padding = bytes([n]) * (n + 1)
    body = CBC_IV + cbc(KEY32[:p.key_length], CBC_IV, content + padding)
    mac = std_hmac.new(MAC_KEY[:p.mac_length], tls12_header(seq, 23, len(body)) + body, p.mac).digest()
    return body + mac


def cbc_protection(suite: int, etm: bool) -> RecordProtection:
    p = SUITES[suite]
    return RecordProtection(params=p, version=TLS12, key=KEY32[:p.key_length],
                            mac_key=MAC_KEY[:p.mac_length], encrypt_then_mac=etm,
                            secret_name="client write keys")


@pytest.mark.parametrize("suite", [0x002F, 0x003D, 0xC028])
def test_cbc_records_made_by_cryptography(suite):
    p = SUITES[suite]
    pt = cbc_protection(suite, False).decrypt(23, 0x0303, mte_fragment(suite, 9, MESSAGE), 9)
    assert pt.content == MESSAGE and pt.nonce == CBC_IV and len(pt.tag) == p.mac_length
    assert [n for n, _ in pt.plaintext_parts] == ["content", "MAC", "padding"]
    pt = cbc_protection(suite, True).decrypt(23, 0x0303, etm_fragment(suite, 9, MESSAGE), 9)
    assert pt.content == MESSAGE
    assert [n for n, _ in pt.fragment_parts] == ["IV", "ciphertext", "MAC"]


def test_cbc_mac_then_encrypt_padding_and_mac_errors():
    rp = cbc_protection(0x002F, False)
    content = b"x" * 10                     # 10 + 20-byte MAC = 30; 2 bytes of padding fill 32
    with pytest.raises(DecryptionError, match="bad CBC padding: not 2 bytes of 1") as excinfo:
        rp.decrypt(23, 0x0303, mte_fragment(0x002F, 4, content, padding=b"\x02\x01"), 4, record=2)
    assert excinfo.value.record == 2 and "seq 4, client write keys" in str(excinfo.value)
    with pytest.raises(DecryptionError, match="does not fit"):
        rp.decrypt(23, 0x0303, mte_fragment(0x002F, 4, content, padding=b"\x00\xff"), 4)
    with pytest.raises(DecryptionError, match="MAC does not verify"):
        rp.decrypt(23, 0x0303, mte_fragment(0x002F, 4, content, mac=bytes(20)), 4)
    with pytest.raises(DecryptionError, match="MAC does not verify"):   # wrong seq → wrong MAC
        rp.decrypt(23, 0x0303, mte_fragment(0x002F, 4, content), 5)
    with pytest.raises(DecryptionError, match="whole number"):
        rp.decrypt(23, 0x0303, mte_fragment(0x002F, 4, content) + b"\x00", 4)
    with pytest.raises(DecryptionError, match="too short"):
        rp.decrypt(23, 0x0303, CBC_IV + bytes(16), 4)


def test_cbc_encrypt_then_mac_padding_and_mac_errors():
    rp = cbc_protection(0x003C, True)
    with pytest.raises(DecryptionError, match="bad CBC padding"):
        rp.decrypt(23, 0x0303, etm_fragment(0x003C, 1, b"y" * 13, padding=b"\x02\x02\x01"), 1)
    with pytest.raises(DecryptionError, match="does not fit"):
        rp.decrypt(23, 0x0303, etm_fragment(0x003C, 1, b"y" * 15, padding=b"\x10"), 1)
    good = etm_fragment(0x003C, 1, b"y" * 13)
    with pytest.raises(DecryptionError, match="encrypt-then-MAC"):
        rp.decrypt(23, 0x0303, good[:-1] + bytes([good[-1] ^ 1]), 1)
    with pytest.raises(DecryptionError, match="encrypt-then-MAC"):  # MtE bytes under EtM
        rp.decrypt(23, 0x0303, mte_fragment(0x003C, 1, b"y" * 20), 1)
    assert rp.decrypt(23, 0x0303, good, 1).content == b"y" * 13


def test_tls13_all_zero_plaintext_and_short_records():
    params = SUITES[0x1301]
    rp = RecordProtection(params=params, version=TLS13, key=KEY32[:16], iv=IV12)
    inner = bytes(20)
    header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
    fragment = AESGCM(KEY32[:16]).encrypt(xor_nonce(IV12, 0), inner, header)
    with pytest.raises(DecryptionError, match="all zeros"):
        rp.decrypt(23, 0x0303, fragment, 0)
    with pytest.raises(DecryptionError, match="too short"):
        rp.decrypt(23, 0x0303, bytes(16), 0)
    gcm12 = RecordProtection(params=SUITES[0xC02F], version=TLS12, key=KEY32[:16], iv=SALT)
    with pytest.raises(DecryptionError, match="too short"):
        gcm12.decrypt(23, 0x0303, bytes(23), 0)


def test_construction_checks_keys_and_versions():
    with pytest.raises(KeyMaterialError) as excinfo:
        RecordProtection(params=SUITES[0x1301], version=TLS13, key=bytes(15), iv=IV12)
    assert excinfo.value.field == "key"
    with pytest.raises(KeyMaterialError):
        RecordProtection(params=SUITES[0x1301], version=TLS12, key=bytes(16), iv=IV12)
    with pytest.raises(KeyMaterialError):
        RecordProtection(params=SUITES[0xC02F], version=TLS13, key=bytes(16), iv=SALT)
    with pytest.raises(KeyMaterialError) as excinfo:
        RecordProtection(params=SUITES[0xC02F], version=TLS12, key=bytes(16), iv=IV12)
    assert excinfo.value.field == "iv"
    with pytest.raises(KeyMaterialError):
        RecordProtection(params=SUITES[0x002F], version=TLS12, key=bytes(16), mac_key=bytes(32))
    with pytest.raises(DecryptionError, match="not supported"):
        RecordProtection(params=SUITES[0x002F], version=0x0301, key=bytes(16), mac_key=bytes(20))


def test_tls12_constructor_picks_the_senders_keys():
    params = SUITES[0xC02F]
    keys = ks.tls12_keys(bytes(range(48)), bytes(32), bytes(range(32)), params)
    client = RecordProtection.tls12(keys, params, sender="client")
    server = RecordProtection.tls12(keys, params, sender="server")
    assert (client.key, client.iv) == (keys.client_write_key, keys.client_write_iv)
    assert (server.key, server.iv) == (keys.server_write_key, keys.server_write_iv)
    assert client.direction == "client→server" and server.direction == "server→client"
    assert {s.name for s in client.trace} == {"key_block", "client_write_MAC_key",
                                              "client_write_key", "client_write_IV"}
    fragment = client.encrypt(23, 0x0303, MESSAGE, 1)
    with pytest.raises(DecryptionError):
        server.decrypt(23, 0x0303, fragment, 1)
    with pytest.raises(KeyMaterialError):
        RecordProtection.tls12(keys, params, sender="both")


# -- the bundled captures ---------------------------------------------------------------------


def tshark_fields(path, display_filter: str, *fields: str, keylog=None) -> list[list[str]]:
    options = ["-o", f"tls.keylog_file:{keylog}"] if keylog else []
    out = subprocess.run(
        [require_tool("tshark"), *options, "-r", str(path), "-Y", display_filter, "-T", "fields",
         *(arg for f in fields for arg in ("-e", f))],
        capture_output=True, text=True, timeout=120, check=True)
    return [row.split("\t") for row in out.stdout.splitlines()]


def streams(path) -> tuple[bytes, bytes]:
    """Client→server and server→client TCP payloads (port 443 is the server)."""
    data = {True: b"", False: b""}
    expected: dict[bool, int] = {}
    for src, seq, payload in tshark_fields(path, "tcp.len > 0", "tcp.srcport", "tcp.seq", "tcp.payload"):
        to_server = src != "443"
        seq_n = int(seq)
        if expected.get(to_server, seq_n) != seq_n:     # a retransmission or a gap
            continue
        chunk = bytes.fromhex(payload.replace(":", ""))
        data[to_server] += chunk
        expected[to_server] = seq_n + len(chunk)
    return data[True], data[False]


def records(stream: bytes) -> list[tuple[int, int, bytes]]:
    out, at = [], 0
    while at + 5 <= len(stream):
        length = int.from_bytes(stream[at + 3:at + 5], "big")
        out.append((stream[at], int.from_bytes(stream[at + 1:at + 3], "big"), stream[at + 5:at + 5 + length]))
        at += 5 + length
    return out


def messages(data: bytes) -> list[bytes]:
    out, at = [], 0
    while at + 4 <= len(data):
        length = int.from_bytes(data[at + 1:at + 4], "big")
        out.append(data[at:at + 4 + length])
        at += 4 + length
    return out


def server_hello_info(sh: bytes) -> tuple[bytes, int, set[int]]:
    body = sh[4:]
    random = body[2:34]
    at = 34 + 1 + body[34]
    suite = int.from_bytes(body[at:at + 2], "big")
    at += 3
    ext_end = at + 2 + int.from_bytes(body[at:at + 2], "big")
    at += 2
    types = set()
    while at < ext_end:
        types.add(int.from_bytes(body[at:at + 2], "big"))
        at += 4 + int.from_bytes(body[at + 2:at + 4], "big")
    return random, suite, types


def require_capture(name: str):
    path = CAPTURES / f"{name}.pcapng"
    if not path.exists():
        pytest.skip(f"captures/{name}.pcapng is not bundled")
    return path


def decrypt_all(rp: RecordProtection, recs, first_seq: int = 0):
    return [rp.decrypt(t, ver, frag, first_seq + i, record=i) for i, (t, ver, frag) in enumerate(recs)]


@pytest.mark.parametrize("name", ["tls12-rsa", "tls12-ecdhe"])
def test_tls12_capture_keys_finished_and_records(name):
    path = require_capture(name)
    log = parse_keylog((CAPTURES / f"{name}.keys").read_bytes(), source=f"{name}.keys")
    client, server = streams(path)
    crecs, srecs = records(client), records(server)
    c_ccs = next(i for i, r in enumerate(crecs) if r[0] == 20)
    s_ccs = next(i for i, r in enumerate(srecs) if r[0] == 20)
    c_msgs = messages(b"".join(f for t, _, f in crecs[:c_ccs] if t == 22))
    s_msgs = messages(b"".join(f for t, _, f in srecs[:s_ccs] if t == 22))
    client_hello, client_key_exchange = c_msgs[0], c_msgs[-1]
    assert (client_hello[0], client_key_exchange[0]) == (1, 16)
    client_random = client_hello[6:38]
    server_random, suite, extensions = server_hello_info(s_msgs[0])
    params = SUITES[suite]
    transcript = client_hello + b"".join(s_msgs) + client_key_exchange

    # the fields we cut out are the ones tshark dissects
    (row,) = tshark_fields(path, "tls.handshake.type == 1", "tls.handshake.random")
    assert bytes.fromhex(row[0]) == client_random
    expected_master = log.secret("CLIENT_RANDOM", client_random)
    assert expected_master is not None

    if name == "tls12-rsa":
        assert params.key_exchange is KeyExchange.RSA
        encrypted = client_key_exchange[4 + 2:]           # opaque <0..2^16-1>
        (row,) = tshark_fields(path, "tls.handshake.type == 16", "tls.handshake.epms")
        assert bytes.fromhex(row[0]) == encrypted
        pem = (CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem").read_bytes()
        premaster = ks.rsa_premaster(encrypted, pem, client_version=int.from_bytes(client_hello[4:6], "big"))
        assert premaster.pre_master_secret == log.rsa_premaster(encrypted)
        assert premaster.version_matches is True
        if 23 in extensions:    # extended_master_secret (RFC 7627)
            session_hash = ks.transcript_hash(transcript, params.prf_hash)
            master = ks.extended_master_secret(premaster.pre_master_secret, session_hash, params.prf_hash)
        else:
            master = ks.master_secret(premaster.pre_master_secret, client_random, server_random,
                                      params.prf_hash)
        assert master.output == expected_master             # our derivation = what OpenSSL logged

    keys = ks.tls12_keys(expected_master, client_random, server_random, params)
    etm = 22 in extensions
    c_rp = RecordProtection.tls12(keys, params, sender="client", encrypt_then_mac=etm)
    s_rp = RecordProtection.tls12(keys, params, sender="server", encrypt_then_mac=etm)
    c_plain = decrypt_all(c_rp, crecs[c_ccs + 1:])
    s_plain = decrypt_all(s_rp, srecs[s_ccs + 1:])

    client_finished, server_finished = c_plain[0].content, s_plain[0].content
    assert client_finished[:4] == b"\x14\x00\x00\x0c" and server_finished[:4] == b"\x14\x00\x00\x0c"
    h = params.prf_hash
    assert client_finished[4:] == ks.tls12_finished_verify_data(
        expected_master, "client finished", ks.transcript_hash(transcript, h), h).output
    assert server_finished[4:] == ks.tls12_finished_verify_data(
        expected_master, "server finished", ks.transcript_hash(transcript + client_finished, h), h).output
    request = b"".join(p.content for p in c_plain if p.content_type == 23)
    response = b"".join(p.content for p in s_plain if p.content_type == 23)
    assert request.startswith(b"GET /") and b" HTTP/1.1\r\n" in request
    assert response.startswith(b"HTTP/1.")


def test_tls13_capture_key_log_secrets_finished_and_records():
    path = require_capture("tls13")
    log = parse_keylog((CAPTURES / "tls13.keys").read_bytes(), source="tls13.keys")
    client, server = streams(path)
    crecs, srecs = records(client), records(server)
    client_hello = messages(crecs[0][2])[0]
    server_hello = messages(srecs[0][2])[0]
    client_random = client_hello[6:38]
    _, suite, _ = server_hello_info(server_hello)
    params = SUITES[suite]
    h = params.prf_hash

    def secret(label):
        value = log.secret(label, client_random)
        assert value is not None, label
        return value

    s_hs = RecordProtection.tls13(secret("SERVER_HANDSHAKE_TRAFFIC_SECRET"), params,
                                  secret_name="server handshake traffic secret")
    s_protected = [r for r in srecs if r[0] == 23]
    flight, seq = b"", 0
    while not any(m[0] == 20 for m in messages(flight)):      # until the server Finished
        pt = s_hs.decrypt(*s_protected[seq], seq)
        assert pt.content_type == 22
        flight, seq = flight + pt.content, seq + 1
    server_msgs = messages(flight)
    assert [m[0] for m in server_msgs] == [8, 11, 15, 20]   # EE, Certificate, CertificateVerify, Finished
    before_finished = client_hello + server_hello + b"".join(server_msgs[:-1])
    assert server_msgs[-1][4:] == ks.tls13_finished_verify_data(
        secret("SERVER_HANDSHAKE_TRAFFIC_SECRET"), ks.transcript_hash(before_finished, h), h).output

    c_protected = [r for r in crecs if r[0] == 23]
    c_hs = RecordProtection.tls13(secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), params)
    client_finished = c_hs.decrypt(*c_protected[0], 0)
    assert client_finished.content_type == 22
    assert client_finished.content[4:] == ks.tls13_finished_verify_data(
        secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
        ks.transcript_hash(before_finished + server_msgs[-1], h), h).output

    c_app = decrypt_all(RecordProtection.tls13(secret("CLIENT_TRAFFIC_SECRET_0"), params), c_protected[1:])
    s_app = decrypt_all(RecordProtection.tls13(secret("SERVER_TRAFFIC_SECRET_0"), params), s_protected[seq:])
    request = b"".join(p.content for p in c_app if p.content_type == 23)
    response = b"".join(p.content for p in s_app if p.content_type == 23)
    assert response.startswith(b"HTTP/1.")
    assert any(p.content_type == 22 and p.content[0] == 4 for p in s_app)   # NewSessionTicket

    # tshark agrees on the HTTP it decrypted with the same key log
    rows = tshark_fields(path, "http.request", "http.request.method", "http.request.uri",
                         keylog=CAPTURES / "tls13.keys")
    assert len(rows) == 1
    method, uri = rows[0][:2]
    assert request.split(b"\r\n", 1)[0] == f"{method} {uri} HTTP/1.1".encode()

"""The per-connection decryption stage: keys, sequence numbers, key changes, failures.

Known answers come from outside tlsdoc:

* the TLS 1.2 RSA route (demo server key → premaster → extended master
  secret) must give the master secret OpenSSL wrote to the key log;
* RFC 8448 §3's records (ClientHello, ServerHello, the server's encrypted
  flight, the client's Finished and both application data records) are put
  in a synthetic capture with RFC 8448's traffic secrets as a key log: the
  decrypted messages and data are the RFC's, and both Finished and the
  CertificateVerify check out;
* KeyUpdate and 0-RTT are exercised by adding records that ``cryptography``
  encrypts under RFC 8448's secrets (the next secret per RFC 8446 §7.2).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import CAPTURES, ROOT
from tlsdoc import analysis, session
from tlsdoc.decrypt import RecordProtection
from tlsdoc.keylog import parse_keylog
from tlsdoc.keyschedule import load_private_key, next_traffic_secret
from tlsdoc.suites import suite_params
from tlsdoc.wire import Direction
from vectors import rfc8448 as r

CLIENT, SERVER = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT
RSA_KEY = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"
PARAMS = suite_params(0x1301)


def _load_synth():
    spec = importlib.util.spec_from_file_location("tests_synth", ROOT / "tests" / "synth.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


synth = sys.modules.get("tests_synth") or _load_synth()


def conn(name: str, keylog: str | None = "default", keys=(), **kw):
    if keylog == "default":
        keylog = CAPTURES / name.replace(".pcapng", ".keys")
    return analysis.analyze(CAPTURES / name, keylog=keylog, keys=tuple(keys), **kw).connections


# -- TLS 1.2 ------------------------------------------------------------------------------


def test_rsa_route_gives_the_master_secret_openssl_logged():
    keylog = parse_keylog((CAPTURES / "tls12-rsa.keys").read_bytes())
    (c,) = conn("tls12-rsa.pcapng", keylog=None, keys=[RSA_KEY])
    keys = c.keys
    assert keys.source == f"RSA key {RSA_KEY}"
    assert keys.master_secret == keylog.secret("CLIENT_RANDOM", c.tls.client_random)
    assert keys.pre_master.version_matches is True
    assert keys.pre_master.client_version == 0x0303
    # Extended master secret (RFC 7627): the session hash, then the PRF with its label.
    names = [s.name for s in keys.trace]
    assert names[:4] == ["encoded message", "pre_master_secret", "session_hash", "master_secret"]
    assert dict(keys.trace[3].inputs)["label"] == b"extended master secret"
    session_hash_input = keys.trace[2].inputs[0][1]
    transcript = session.handshake_transcript(c.tls)
    upto = [e for e in transcript][: [e.name for e in transcript].index("ClientKeyExchange") + 1]
    assert session_hash_input == b"".join(e.raw for e in upto)
    assert c.decrypted


def test_rsa_line_of_the_key_log_is_a_route_too(tmp_path):
    lines = (CAPTURES / "tls12-rsa.keys").read_text().splitlines()
    only_rsa = tmp_path / "rsa-only.keys"
    only_rsa.write_text("\n".join(l for l in lines if l.startswith("RSA ")) + "\n")
    (c,) = conn("tls12-rsa.pcapng", keylog=only_rsa)
    (ref,) = conn("tls12-rsa.pcapng")
    assert c.keys.source == "key log line 1 (RSA)"
    assert c.keys.master_secret == ref.keys.master_secret
    assert c.application_data == ref.application_data


def test_tls12_sequence_numbers_start_at_zero_after_change_cipher_spec():
    (c,) = conn("tls12-ecdhe.pcapng")
    for direction in Direction:
        opened = c.decryption[direction]
        assert [r.seq for r in opened.records] == list(range(len(opened.records)))
        assert opened.records[0].content_type == 22  # Finished comes first
        assert opened.handshake[0].name == "Finished"
        assert opened.records[0].plaintext.nonce_rule.startswith("salt ‖ nonce_explicit")
        first = c.records[direction].records[opened.records[0].record]
        assert c.tls.ccs(direction)[0] < first.index


def test_wrong_rsa_key_is_a_warning_naming_the_key(tmp_path):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "other.pem"
    pem.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    (c,) = conn("tls12-rsa.pcapng", keylog=None, keys=[pem, RSA_KEY])
    assert c.decrypted and c.keys.source == f"RSA key {RSA_KEY}"  # the second key is tried too
    (c,) = conn("tls12-rsa.pcapng", keylog=None, keys=[pem])
    assert not c.decrypted
    assert c.application_data == {CLIENT: None, SERVER: None}
    assert any("no --key decrypts the premaster" in w and str(pem) in w for w in c.warnings)


def test_rsa_key_cannot_decrypt_ecdhe():
    (c,) = conn("tls12-ecdhe.pcapng", keylog=None, keys=[RSA_KEY])
    assert not c.keys.usable and not c.decrypted
    assert c.application_data == {CLIENT: None, SERVER: None}
    (warning,) = c.warnings
    assert "cannot decrypt ECDHE_RSA key exchange" in warning and "forward secrecy" in warning
    assert "connection #0" in warning
    assert [e.name for e in c.tls.messages(CLIENT)][-1] == "Finished"  # still listed, encrypted
    assert c.tls.messages(CLIENT)[-1].message is None


# -- TLS 1.3 on the bundled captures ------------------------------------------------------------


def test_tls13_epochs_and_sequence_numbers():
    (c,) = conn("tls13.pcapng")
    server = c.decryption[SERVER]
    epochs = [(r.epoch, r.seq, r.content_type) for r in server.records]
    handshake = [e for e in epochs if e[0] == "handshake"]
    application = [e for e in epochs if e[0] == "application"]
    assert [s for _, s, _ in handshake] == list(range(len(handshake)))
    assert [s for _, s, _ in application] == list(range(len(application)))
    assert epochs.index(application[0]) == len(handshake)  # the switch comes after Finished
    assert [m.name for m in server.handshake] == [
        "EncryptedExtensions", "Certificate", "CertificateVerify", "Finished", "NewSessionTicket"]
    record = server.records[0]
    header = c.records[SERVER].records[record.record].fragment
    assert record.plaintext.aad == bytes([23, 3, 3]) + len(header).to_bytes(2, "big")
    assert record.secret_name == "SERVER_HANDSHAKE_TRAFFIC_SECRET"
    assert c.keys.server_handshake.key == c.keys.trace[[s.name for s in c.keys.trace].index(
        "server_handshake write_key")].output


def test_hello_retry_transcript_uses_message_hash():
    (c,) = conn("tls13-hrr.pcapng")
    names = [e.name for e in session.handshake_transcript(c.tls)]
    assert names[:4] == ["ClientHello", "HelloRetryRequest", "ClientHello", "ServerHello"]
    first = session.handshake_transcript(c.tls)[0]
    data = session.transcript_bytes(session.handshake_transcript(c.tls), "sha256", tls13=True)
    synthetic = session.message_hash(first.raw, "sha256")
    assert data.startswith(synthetic) and synthetic[:4] == bytes([254, 0, 0, 32])
    assert all(k.status == "passed" for k in c.checks if "Finished" in k.name)


def test_missing_secret_is_located_and_data_is_null(tmp_path):
    keylog = tmp_path / "partial.keys"
    keylog.write_text("".join(l for l in (CAPTURES / "tls13.keys").read_text().splitlines(True)
                              if not l.startswith("SERVER_TRAFFIC_SECRET_0")))
    (c,) = conn("tls13.pcapng", keylog=keylog)
    assert c.application_data[SERVER] is None and c.application_data[CLIENT] is not None
    assert not c.decrypted
    (warning,) = c.warnings
    opened = c.decryption[SERVER]
    first_missing = opened.undecrypted[0]
    assert f"record {first_missing}" in warning and "server→client" in warning
    assert "SERVER_TRAFFIC_SECRET_0" in warning and "connection #0" in warning
    frame = c.records[SERVER].records[first_missing].span.frames[0]
    assert f"frame {frame}" in warning
    # The handshake part still decrypted: the list is complete up to Finished.
    assert [e.name for e in c.tls.messages(SERVER)][-1] == "Finished"


def test_wrong_secret_fails_the_tag_never_returns_garbage(tmp_path):
    text = (CAPTURES / "tls13.keys").read_text().splitlines(True)
    bad = []
    for line in text:
        if line.startswith("CLIENT_TRAFFIC_SECRET_0"):
            label, cr, secret = line.split()
            line = f"{label} {cr} {'00' * (len(secret) // 2)}\n"
        bad.append(line)
    keylog = tmp_path / "bad.keys"
    keylog.write_text("".join(bad))
    (c,) = conn("tls13.pcapng", keylog=keylog)
    assert c.application_data[CLIENT] is None
    (warning,) = c.warnings
    assert "authentication tag does not verify" in warning and "CLIENT_TRAFFIC_SECRET_0" in warning
    assert c.http.exchanges[0].request is None  # the server's half is still readable


def test_resumption_uses_each_connections_own_secrets():
    first, second = conn("tls13-resumption.pcapng")
    assert first.decrypted and second.decrypted
    assert second.tls.resumed
    assert first.keys.secrets != second.keys.secrets
    assert [e.name for e in second.tls.messages(SERVER)] == [
        "ServerHello", "EncryptedExtensions", "Finished", "NewSessionTicket"]


# -- RFC 8448 §3 in a synthetic capture ---------------------------------------------------------


def record(ctype: int, payload: bytes, version: int = 0x0303) -> bytes:
    return bytes([ctype]) + version.to_bytes(2, "big") + len(payload).to_bytes(2, "big") + payload


def protected(secret: bytes, inner_type: int, content: bytes, seq: int) -> bytes:
    prot = RecordProtection.tls13(secret, PARAMS)
    return record(23, prot.encrypt(inner_type, 0x0303, content, seq))


# NewSessionTicket body (RFC 8446 §4.6.1): lifetime, age_add, nonce<0..255>,
# ticket<1..2^16-1>, extensions<0..2^16-2>.
NST_BODY = (7200).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x01\x00" + b"\x00\x04tick" + b"\x00\x00"
NST = bytes([4]) + len(NST_BODY).to_bytes(3, "big") + NST_BODY
KEY_UPDATE = bytes([24, 0, 0, 1, 0])
END_OF_EARLY_DATA = bytes([5, 0, 0, 0])
EARLY_SECRET = bytes(range(32))


def rfc8448_keylog(path, *, early: bool = False):
    lines = [
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", r.CLIENT_HANDSHAKE_TRAFFIC_SECRET),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", r.SERVER_HANDSHAKE_TRAFFIC_SECRET),
        ("CLIENT_TRAFFIC_SECRET_0", r.CLIENT_APPLICATION_TRAFFIC_SECRET_0),
        ("SERVER_TRAFFIC_SECRET_0", r.SERVER_APPLICATION_TRAFFIC_SECRET_0),
    ]
    if early:
        lines.append(("CLIENT_EARLY_TRAFFIC_SECRET", EARLY_SECRET))
    path.write_text("".join(f"{label} {r.CLIENT_RANDOM.hex()} {secret.hex()}\n" for label, secret in lines))
    return path


def with_early_data_extension(client_hello: bytes) -> bytes:
    # Append early_data (42), empty, and fix the two lengths (extensions at
    # offset 49 in this ClientHello: empty session id, 3 suites, 1 method).
    ext_len = int.from_bytes(client_hello[49:51], "big") + 4
    body = client_hello[4:49] + ext_len.to_bytes(2, "big") + client_hello[51:] + b"\x00\x2a\x00\x00"
    return bytes([1]) + len(body).to_bytes(3, "big") + body


def rfc8448_capture(tmp_path, *, client_extra=(), server_extra=(), early=None, name="rfc8448"):
    client_hello = r.CLIENT_HELLO if early is None else with_early_data_extension(r.CLIENT_HELLO)
    client = [record(22, client_hello, 0x0301) + b"".join(early or ()),
              r.CLIENT_FINISHED_RECORD + r.CLIENT_APPLICATION_RECORD + b"".join(client_extra)]
    server = [record(22, r.SERVER_HELLO) + r.SERVER_HANDSHAKE_RECORD,
              protected(r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 22, NST, 0)
              + r.SERVER_APPLICATION_RECORD + b"".join(server_extra)]
    packets = synth.synth_connection(client, server)
    path = synth.write_capture(tmp_path / f"{name}.pcap", packets)
    keylog = rfc8448_keylog(tmp_path / f"{name}.keys", early=early is not None)
    (c,) = analysis.analyze(path, keylog=keylog).connections
    return c


def test_rfc8448_records_decrypt_to_the_rfc_plaintext(tmp_path):
    c = rfc8448_capture(tmp_path)
    assert c.decrypted and c.warnings == ()
    assert [e.name for e in c.tls.messages(SERVER)] == [
        "ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify", "Finished",
        "NewSessionTicket"]
    assert [e.name for e in c.tls.messages(CLIENT)] == ["ClientHello", "Finished"]
    server_hs = {e.name: e.raw for e in c.decryption[SERVER].handshake}
    assert server_hs["EncryptedExtensions"] == r.ENCRYPTED_EXTENSIONS
    assert server_hs["Certificate"] == r.CERTIFICATE
    assert server_hs["CertificateVerify"] == r.CERTIFICATE_VERIFY
    assert server_hs["Finished"] == r.SERVER_FINISHED
    assert c.decryption[CLIENT].handshake[0].raw == r.CLIENT_FINISHED
    assert c.application_data[CLIENT].data == r.APPLICATION_DATA
    assert c.application_data[SERVER].data == r.APPLICATION_DATA
    assert c.decryption[SERVER].records[-1].seq == r.SERVER_APPLICATION_RECORD_SEQ
    assert c.keys.server_handshake.key == r.SERVER_HANDSHAKE_KEY
    assert c.keys.server_handshake.iv == r.SERVER_HANDSHAKE_IV
    assert c.keys.client_application.key == r.CLIENT_APPLICATION_KEY
    status = {k.name: str(k.status) for k in c.checks}
    assert status["client Finished"] == status["server Finished"] == "passed"
    assert status["CertificateVerify"] == "passed"
    finished = next(k for k in c.checks if k.name == "server Finished")
    assert finished.computed == r.SERVER_FINISHED_VERIFY_DATA
    assert finished.trace[0].name == "transcript_hash"


def test_key_update_switches_to_the_next_secret_with_seq_zero(tmp_path):
    after = b"after the key update"
    next_secret = next_traffic_secret(r.SERVER_APPLICATION_TRAFFIC_SECRET_0, "sha256").output
    c = rfc8448_capture(tmp_path, server_extra=[
        protected(r.SERVER_APPLICATION_TRAFFIC_SECRET_0, 22, KEY_UPDATE, 2),
        protected(next_secret, 23, after, 0),
        protected(next_secret, 23, b"!", 1),
    ])
    assert c.decrypted, c.warnings
    server = c.decryption[SERVER]
    assert [(x.epoch, x.seq) for x in server.records[-3:]] == [
        ("application", 2), ("application 1", 0), ("application 1", 1)]
    assert server.records[-1].secret_name == "SERVER_TRAFFIC_SECRET_0 +1"
    assert c.application_data[SERVER].data == r.APPLICATION_DATA + after + b"!"
    assert c.application_data[SERVER].records == 3
    assert [e.name for e in c.tls.messages(SERVER)][-1] == "KeyUpdate"
    assert server.trace[0].output == next_secret


def test_early_data_then_end_of_early_data(tmp_path):
    early = [protected(EARLY_SECRET, 23, b"0-RTT GET", 0),
             protected(EARLY_SECRET, 22, END_OF_EARLY_DATA, 1)]
    c = rfc8448_capture(tmp_path, early=early)
    client = c.decryption[CLIENT]
    assert c.decrypted, c.warnings
    assert [(x.epoch, x.seq) for x in client.records] == [
        ("early", 0), ("early", 1), ("handshake", 0), ("application", 0)]
    assert [e.name for e in c.tls.messages(CLIENT)] == ["ClientHello", "EndOfEarlyData", "Finished"]
    assert c.application_data[CLIENT].data == b"0-RTT GET" + r.APPLICATION_DATA


def test_rejected_early_data_falls_through_to_the_handshake_keys(tmp_path):
    c = rfc8448_capture(tmp_path, early=[protected(EARLY_SECRET, 23, b"0-RTT", 0)], name="rejected")
    client = c.decryption[CLIENT]
    assert c.decrypted, c.warnings
    assert [x.epoch for x in client.records] == ["early", "handshake", "application"]


def test_early_data_without_its_secret_says_which_secret(tmp_path):
    rfc8448_capture(tmp_path, early=[protected(EARLY_SECRET, 23, b"0-RTT", 0)], name="e2")
    keylog = tmp_path / "no-early.keys"
    keylog.write_text("".join(l for l in (tmp_path / "e2.keys").read_text().splitlines(True)
                              if "EARLY" not in l))
    (c,) = analysis.analyze(tmp_path / "e2.pcap", keylog=keylog).connections
    assert c.application_data[CLIENT] is None
    assert any("CLIENT_EARLY_TRAFFIC_SECRET" in w and "0-RTT" in w for w in c.warnings)


# -- steps on their own ------------------------------------------------------------------------


def test_each_step_can_be_called_on_its_own():
    (c,) = conn("tls13.pcapng", keylog=None)  # plaintext parse only
    keylog = parse_keylog((CAPTURES / "tls13.keys").read_bytes())
    keys = session.connection_keys(c.tls, keylog)
    assert keys.usable and keys.missing == ()
    server = session.decrypt_direction(c.tls, c.records[SERVER], keys)
    assert server.complete and server.application_data.records == 1
    whole = session.decrypt_connection(c.tls, c.records, keys)
    assert whole.complete
    assert [e.name for e in whole.tls.messages(SERVER)][1] == "EncryptedExtensions"
    assert whole.tls.alpn == "http/1.1"


def test_server_key_loaded_once_is_reusable():
    key = session.ServerKey(name="demo", key=load_private_key(RSA_KEY.read_bytes()))
    (c,) = conn("tls12-rsa.pcapng", keylog=None)
    keys = session.connection_keys(c.tls, None, [key])
    assert keys.source == "RSA key demo" and keys.usable


# -- TLS 1.2 renegotiation ------------------------------------------------------------------


def test_renegotiation_switches_to_the_new_handshakes_keys(tmp_path):
    """A second handshake inside the first one's encryption, then its keys (RFC 5246 §7.4.1.1).

    Built from tls12-ecdhe: its first handshake as captured, then a second
    ClientHello / ServerHello … (the first ones' bytes with new randoms)
    encrypted under the first keys, ChangeCipherSpec, and Finished and data
    under keys from a master secret given for the new client random.
    """
    from tlsdoc.keyschedule import tls12_keys

    (c,) = conn("tls12-ecdhe.pcapng")
    keys, params = c.keys, c.keys.params
    crecs, srecs = c.records[CLIENT].records, c.records[SERVER].records
    c_ccs, s_ccs = c.tls.ccs(CLIENT)[0], c.tls.ccs(SERVER)[0]
    raw = lambda rs: b"".join(c.tcp.stream(rs[0].span.direction).data[x.span.start:x.span.end] for x in rs)
    cr2, sr2, ms2 = bytes(range(32)), bytes(range(32, 64)), b"\x42" * 48
    new = tls12_keys(ms2, cr2, sr2, params)
    new_c = RecordProtection.tls12(new, params, sender=CLIENT)
    new_s = RecordProtection.tls12(new, params, sender=SERVER)

    def enc(prot, ctype, content, seq):
        return record(ctype, prot.encrypt(ctype, 0x0303, content, seq, explicit_nonce=seq.to_bytes(8, "big")))

    def msg(name, direction, random=None):
        data = c.tls.find(name, direction).raw
        return data if random is None else data[:6] + random + data[38:]

    finished2 = bytes([20, 0, 0, 12]) + b"\x07" * 12
    client = [
        raw(crecs[:1]),
        raw(crecs[1:c_ccs + 2]),  # ClientKeyExchange, ChangeCipherSpec, Finished
        enc(keys.client_write, 22, msg("ClientHello", CLIENT, cr2), 1),
        enc(keys.client_write, 22, msg("ClientKeyExchange", CLIENT), 2)
        + enc(keys.client_write, 20, b"\x01", 3)
        + enc(new_c, 22, finished2, 0) + enc(new_c, 23, b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n", 1),
    ]
    server_flight = b"".join(msg(n, SERVER) for n in ("Certificate", "ServerKeyExchange", "ServerHelloDone"))
    server = [
        raw(srecs[:s_ccs]),
        raw(srecs[s_ccs:s_ccs + 2]),  # ChangeCipherSpec, Finished
        enc(keys.server_write, 22, msg("ServerHello", SERVER, sr2) + server_flight, 1),
        enc(keys.server_write, 20, b"\x01", 2)
        + enc(new_s, 22, finished2, 0) + enc(new_s, 23, b"HTTP/1.1 204 No Content\r\n\r\n", 1),
    ]
    path = synth.write_capture(tmp_path / "reneg.pcap", synth.synth_connection(client, server))
    keylog = tmp_path / "reneg.keys"
    keylog.write_text((CAPTURES / "tls12-ecdhe.keys").read_text() + f"CLIENT_RANDOM {cr2.hex()} {ms2.hex()}\n")
    (got,) = analysis.analyze(path, keylog=keylog).connections
    assert got.warnings == () and got.decrypted
    assert [e.name for e in got.tls.messages(CLIENT)] == [
        "ClientHello", "ClientKeyExchange", "Finished"] * 2
    assert [e.name for e in got.tls.messages(SERVER)] == [
        "ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone", "Finished"] * 2
    tail = got.decryption[CLIENT].records[-2:]
    assert [(x.epoch, x.seq) for x in tail] == [("TLS 1.2 renegotiation 1", 0), ("TLS 1.2 renegotiation 1", 1)]
    assert got.http.exchanges[0].response.start_line == "HTTP/1.1 204 No Content"
    # Without the new handshake's key log line: located, and no data.
    short = tmp_path / "short.keys"
    short.write_text((CAPTURES / "tls12-ecdhe.keys").read_text())
    (cut,) = analysis.analyze(path, keylog=short).connections
    assert cut.application_data == {CLIENT: None, SERVER: None}
    assert any("renegotiation" in w and cr2.hex() in w for w in cut.warnings)
    located = [w for w in cut.warnings if "ChangeCipherSpec" in w]
    assert len(located) == 2 and "client→server (record 6" in located[0]
    assert "server→client (record 7" in located[1]


def test_an_encrypted_change_cipher_spec_is_not_checked_as_plaintext():
    from tlsdoc.handshake import parse_handshake
    from tlsdoc.records import Record

    (c,) = conn("tls12-ecdhe.pcapng", keylog=None)
    client = list(c.records[CLIENT].records)
    last = client[-1]
    fake = Record(index=len(client), content_type=20, legacy_version=0x0303, length=25,
                  fragment=bytes(25), span=last.span, header_span=last.header_span)
    view = parse_handshake(client + [fake], c.records[SERVER].records)
    assert not any("single byte" in w for w in view.warnings)
    assert view.ccs(CLIENT)[-1] == fake.index


@pytest.mark.parametrize("name", ["tls12-rsa", "tls12-ecdhe", "tls13", "tls13-hrr"])
def test_damaged_captures_give_warnings_never_a_crash(tmp_path, name):
    """Bit flips anywhere after the file header: a result with warnings or a TlsdocError."""
    import random

    from tlsdoc.errors import TlsdocError

    rng = random.Random(name)
    original = (CAPTURES / f"{name}.pcapng").read_bytes()
    for i in range(25):
        data = bytearray(original)
        for _ in range(rng.choice((1, 3))):
            data[rng.randrange(200, len(data))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"{i}.pcapng"
        path.write_bytes(bytes(data))
        try:
            run = analysis.iter_analyze(path, keylog=CAPTURES / f"{name}.keys", keys=(RSA_KEY,),
                                        ca=CAPTURES / "pki" / "root-ca.pem", run_checks=True)
            for c in run:
                for direction, app in c.application_data.items():
                    if app is not None:  # never garbage: what is reported was authenticated
                        opened = c.decryption[direction]
                        assert opened.complete and not any(
                            "tag" in w or "MAC" in w for w in opened.warnings)
        except TlsdocError:
            pass


@pytest.mark.parametrize("side", ["SERVER", "CLIENT"])
def test_one_sides_secrets_decrypt_that_side_only(tmp_path, capsys, side):
    from tlsdoc.cli import main
    import json

    keylog = tmp_path / "one.keys"
    keylog.write_text("".join(l for l in (CAPTURES / "tls13.keys").read_text().splitlines(True)
                              if l.startswith(side + "_")))
    (c,) = conn("tls13.pcapng", keylog=keylog)
    mine, other = (SERVER, CLIENT) if side == "SERVER" else (CLIENT, SERVER)
    assert c.application_data[mine] is not None and c.application_data[other] is None
    (exchange,) = c.http.exchanges
    if side == "SERVER":
        assert exchange.request is None and exchange.response.start_line == "HTTP/1.0 200 ok"
    else:
        assert exchange.response is None and exchange.request.start_line == "GET /index.html HTTP/1.1"
    assert main(["decrypt", str(CAPTURES / "tls13.pcapng"), "--keylog", str(keylog)]) == 0
    out = capsys.readouterr().out
    assert ("→ (request not decrypted)" in out) == (side == "SERVER")
    assert ("← (response not decrypted)" in out) == (side == "CLIENT")

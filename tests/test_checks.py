"""Checks: Finished, CertificateVerify, ServerKeyExchange signature, chain.

Passing is checked on every bundled capture with the demo root CA; failing
on captures changed in one place each: a Finished re-encrypted (with the
real keys, so it still decrypts) with one verify_data byte flipped, a
ServerKeyExchange signature byte flipped, a CA that did not issue the
chain, a time outside the certificates' validity.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import CAPTURES
from tlsdoc import analysis, checks
from tlsdoc.checks import Status, check_chain, load_ca_bundle
from tlsdoc.cli import main
from tlsdoc.errors import KeyMaterialError
from tlsdoc.manifest import load_manifest
from tlsdoc.wire import Direction

CLIENT, SERVER = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT
ROOT_CA = CAPTURES / "pki" / "root-ca.pem"
RSA_KEY = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"
TLS_CAPTURES = [e.path for e in load_manifest(CAPTURES / "MANIFEST").captures()
                if e.claims is not None and e.claims.keylog]

# What each check must say on the bundled captures (with key log and --ca).
EXPECTED = {
    "tls12-rsa.pcapng": [{"client Finished": "passed", "server Finished": "passed",
                          "CertificateVerify": "not possible", "chain": "passed"}],
    "tls12-ecdhe.pcapng": [{"client Finished": "passed", "server Finished": "passed",
                            "CertificateVerify": "not possible",
                            "ServerKeyExchange signature": "passed", "chain": "passed"}],
    "tls13.pcapng": [{"client Finished": "passed", "server Finished": "passed",
                      "CertificateVerify": "passed", "chain": "passed"}],
    "tls13-hrr.pcapng": [{"client Finished": "passed", "server Finished": "passed",
                          "CertificateVerify": "passed", "chain": "passed"}],
    "tls13-resumption.pcapng": [
        {"client Finished": "passed", "server Finished": "passed",
         "CertificateVerify": "passed", "chain": "passed"},
        {"client Finished": "passed", "server Finished": "passed",
         "CertificateVerify": "not possible", "chain": "not possible"}],
}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def keylog_of(name: str):
    return CAPTURES / name.replace(".pcapng", ".keys")


@pytest.mark.parametrize("name", TLS_CAPTURES)
def test_verify_passes_on_every_bundled_capture(capsys, name):
    code, out, err = run(capsys, "verify", CAPTURES / name, "--keylog", keylog_of(name),
                         "--ca", ROOT_CA, "--json")
    assert code == 0, err
    doc = json.loads(out)
    got = [{k["name"]: k["status"] for k in c["checks"]} for c in doc["connections"]]
    assert got == EXPECTED[name]
    for c in doc["connections"]:
        for k in c["checks"]:
            assert set(k) == {"name", "status", "detail"} and k["detail"]


def test_verify_human_output_marks_each_check(capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls12-rsa.pcapng", "--key", RSA_KEY,
                         "--ca", ROOT_CA)
    assert code == 0, err
    lines = out.splitlines()
    assert any(l.strip().startswith("✓ client Finished") for l in lines)
    assert any(l.strip().startswith("✓ chain") and "tlsdoc Demo Root CA" in l for l in lines)
    assert any(l.strip().startswith("– CertificateVerify") and "not possible:" in l for l in lines)
    assert lines[-1] == "4 checks: 3 passed, 0 failed, 1 not possible"


def test_without_ca_the_chain_is_not_possible(capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls13.pcapng", "--keylog",
                         CAPTURES / "tls13.keys", "--json")
    assert code == 0
    chain = json.loads(out)["connections"][0]["checks"][-1]
    assert chain == {"name": "chain", "status": "not possible", "detail": "no --ca given"}


def test_without_keys_tls13_checks_are_not_possible(capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls13.pcapng", "--ca", ROOT_CA, "--json")
    assert code == 0
    status = {k["name"]: (k["status"], k["detail"]) for k in json.loads(out)["connections"][0]["checks"]}
    assert status["server Finished"][0] == "not possible" and "no keys given" in status["server Finished"][1]
    assert status["chain"] == ("not possible", "the server's Certificate is encrypted: no keys")


def test_tls12_chain_needs_no_keys(capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls12-ecdhe.pcapng", "--ca", ROOT_CA, "--json")
    assert code == 0
    status = {k["name"]: k["status"] for k in json.loads(out)["connections"][0]["checks"]}
    assert status["chain"] == "passed" and status["ServerKeyExchange signature"] == "passed"


def test_ecdhe_with_only_the_rsa_key(capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls12-ecdhe.pcapng", "--key", RSA_KEY,
                         "--ca", ROOT_CA)
    assert code == 0, "nothing that could run failed"
    assert "forward secrecy" in err and "cannot decrypt ECDHE_RSA" in err
    finished = [l for l in out.splitlines() if "Finished" in l]
    assert len(finished) == 2 and all("– " in l and "not possible" in l for l in finished)
    assert "no key was found for this connection" in finished[0]
    code, out, err = run(capsys, "decrypt", CAPTURES / "tls12-ecdhe.pcapng", "--key", RSA_KEY, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["connections"][0]["application_data"] == {"client": None, "server": None}
    assert doc["connections"][0]["tls"]["decrypted"] is False
    assert len(doc["warnings"]) == 1 and "forward secrecy" in doc["warnings"][0]


# -- failures ----------------------------------------------------------------------------


def _other_ca(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Not the demo CA")])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=36500))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / "other-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_wrong_ca_fails_the_chain_and_exits_1(tmp_path, capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls13.pcapng", "--keylog",
                         CAPTURES / "tls13.keys", "--ca", _other_ca(tmp_path), "--json")
    assert code == 1
    chain = json.loads(out)["connections"][0]["checks"][-1]
    assert chain["name"] == "chain" and chain["status"] == "failed"
    assert "www.example.com" in chain["detail"]


def test_chain_outside_the_validity_period_fails():
    (c,) = analysis.analyze(CAPTURES / "tls12-rsa.pcapng").connections
    ca = load_ca_bundle(ROOT_CA.read_bytes())
    later = dt.datetime(2080, 1, 1, tzinfo=dt.timezone.utc)
    result = check_chain(c.tls, ca, when=later)
    assert result.status is Status.FAILED and "2080-01-01" in result.detail
    good = check_chain(c.tls, ca, when=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    assert good.passed


def _patched_copy(tmp_path, name: str, old: bytes, new: bytes):
    data = (CAPTURES / name).read_bytes()
    assert len(old) == len(new) and data.count(old) == 1
    path = tmp_path / name
    path.write_bytes(data.replace(old, new))
    return path


def _finished_reencrypted(tmp_path, name: str, direction: Direction):
    """A copy of *name* whose Finished (in *direction*) still decrypts but says something else."""
    (c,) = analysis.analyze(CAPTURES / name, keylog=keylog_of(name)).connections
    opened = c.decryption[direction]
    entry = next(e for e in opened.handshake if e.name == "Finished")
    (index,) = entry.records
    rec = opened.record(index)
    content = rec.plaintext.content
    assert content == entry.raw  # the record holds just this Finished
    changed = content[:-1] + bytes([content[-1] ^ 1])
    keys = c.keys
    if keys.tls13:
        prot = keys.server_handshake if direction is SERVER else keys.client_handshake
        fragment = prot.encrypt(22, 0x0303, changed, rec.seq, padding=len(rec.plaintext.padding))
    else:
        prot = keys.server_write if direction is SERVER else keys.client_write
        fragment = prot.encrypt(22, 0x0303, changed, rec.seq, explicit_nonce=rec.plaintext.explicit_nonce)
    original = c.records[direction].records[index].fragment
    return _patched_copy(tmp_path, name, original, fragment)


@pytest.mark.parametrize("name, direction", [
    ("tls13.pcapng", SERVER),
    ("tls12-ecdhe.pcapng", CLIENT),
])
def test_corrupted_finished_fails(tmp_path, capsys, name, direction):
    path = _finished_reencrypted(tmp_path, name, direction)
    code, out, err = run(capsys, "verify", path, "--keylog", keylog_of(name), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["warnings"] == []  # it still decrypts: only the check can tell
    status = {k["name"]: k for k in doc["connections"][0]["checks"]}
    failed = status[f"{direction.sender} Finished"]
    assert failed["status"] == "failed" and "verify_data is" in failed["detail"]


def test_corrupted_server_key_exchange_signature_fails(tmp_path, capsys):
    name = "tls12-ecdhe.pcapng"
    (c,) = analysis.analyze(CAPTURES / name).connections
    ske = c.tls.find("ServerKeyExchange", SERVER).message
    tail = ske.signature[-24:]
    path = _patched_copy(tmp_path, name, tail, tail[:-1] + bytes([tail[-1] ^ 0x40]))
    code, out, err = run(capsys, "verify", path, "--ca", ROOT_CA, "--json")
    assert code == 1
    status = {k["name"]: k for k in json.loads(out)["connections"][0]["checks"]}
    assert status["ServerKeyExchange signature"]["status"] == "failed"
    assert "does not verify" in status["ServerKeyExchange signature"]["detail"]


def test_corrupted_certificate_verify_fails(tmp_path, capsys):
    # Flip a byte of the decrypted CertificateVerify signature and re-encrypt it.
    name = "tls13.pcapng"
    (c,) = analysis.analyze(CAPTURES / name, keylog=keylog_of(name)).connections
    opened = c.decryption[SERVER]
    entry = next(e for e in opened.handshake if e.name == "CertificateVerify")
    (index,) = entry.records
    rec = opened.record(index)
    assert rec.plaintext.content == entry.raw
    changed = entry.raw[:-1] + bytes([entry.raw[-1] ^ 1])
    fragment = c.keys.server_handshake.encrypt(22, 0x0303, changed, rec.seq,
                                              padding=len(rec.plaintext.padding))
    path = _patched_copy(tmp_path, name, c.records[SERVER].records[index].fragment, fragment)
    code, out, err = run(capsys, "verify", path, "--keylog", keylog_of(name), "--json")
    assert code == 1
    status = {k["name"]: k["status"] for k in json.loads(out)["connections"][0]["checks"]}
    assert status["CertificateVerify"] == "failed"


# -- API --------------------------------------------------------------------------------------


def test_results_carry_their_working():
    (c,) = analysis.analyze(CAPTURES / "tls12-rsa.pcapng", keylog=keylog_of("tls12-rsa.pcapng")).connections
    finished = c.checks[0]
    assert finished.name == "client Finished" and finished.passed
    assert finished.expected == finished.computed == c.tls.find("Finished", CLIENT).message.verify_data
    assert [s.name for s in finished.trace] == ["transcript_hash", "verify_data"]
    assert dict(finished.trace[1].inputs)["label"] == b"client finished"
    assert checks.CHECK_NAMES == ("client Finished", "server Finished", "CertificateVerify", "chain")


def test_certificate_verify_content_is_rfc8446_4_4_3():
    content = checks.certificate_verify_content(b"\xaa" * 32, SERVER)
    assert content[:64] == b" " * 64
    assert content[64:98] == b"TLS 1.3, server CertificateVerify\x00"
    assert content[98:] == b"\xaa" * 32


@pytest.mark.parametrize("data", [b"", b"not pem", (CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem").read_bytes()])
def test_ca_bundle_must_hold_certificates(data):
    with pytest.raises(KeyMaterialError):
        load_ca_bundle(data, source="x.pem")


def test_bad_ca_file_is_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "verify", CAPTURES / "tls13.pcapng", "--ca", tmp_path / "none.pem")
    assert code == 2 and err.startswith("tlsdoc: error: ") and "none.pem" in err
    bad = tmp_path / "bad.pem"
    bad.write_text("hello\n")
    code, out, err = run(capsys, "verify", CAPTURES / "tls13.pcapng", "--ca", bad)
    assert code == 2 and "not a PEM certificate bundle" in err and out == ""

"""tlsdoc agrees with tshark on the test corpus (``tests/corpus``): captures it was not developed on.

The corpus holds captures from other TLS stacks (GnuTLS, NSS, BoringSSL,
Python ``ssl``), other suites (AES-256-GCM/SHA-384, ChaCha20-Poly1305,
AES-CBC with MAC-then-encrypt and encrypt-then-MAC, AES-CCM and CCM_8, DHE,
X448, P-256, RSA key exchange without extended master secret), client
certificates, TLS 1.2 resumption and renegotiation, TLS 1.3 KeyUpdate,
HelloRetryRequest and 0-RTT early data, other HTTP framings (chunked, keep-alive, close-delimited, POST), and other
capture conditions (IPv6, Linux cooked SLL2, a 100-byte MSS, interleaved
connections).  See ``tests/corpus/README.md``.

For every capture:

* the files match ``tests/corpus/MANIFEST`` and tshark confirms what the
  manifest claims (version, suite, SNI, ALPN, connections, HTTP exchanges,
  KeyUpdate, HelloRetryRequest, early data, renegotiation), so a
  failure below is about tlsdoc, not about the corpus;
* ``tlsdoc show --json``: connections, endpoints, TCP handshake and RTT
  (``tcp.analysis.initial_rtt``), version, cipher suite, SNI,
  ALPN where visible without keys, client random and the plaintext handshake
  messages per direction equal tshark's;
* ``tlsdoc decrypt --json --keylog``: every handshake message per direction
  (decrypted ones included) and the frame tshark shows it in, the
  application data record count, byte count and SHA-256 per direction, ALPN,
  the HTTP request lines and status lines equal tshark's decryption; each
  response body hash equals the body the recipe's server sent; ``show
  --keylog`` reports the same TLS details as ``decrypt``; where the server's
  RSA key alone decrypts a capture, ``decrypt --key`` agrees with tshark's
  RSA route and with the key log;
* ``tlsdoc verify``: every check it can run passes (both Finished messages,
  the server's signature, the client's CertificateVerify, the chain to the
  demo roots) — tshark has no such checks, but these handshakes are genuine.

tshark runs twice per capture (without keys; with the key log, which also
gives ``-z follow,tls,raw`` for the decrypted bytes), all captures in
parallel, once for the module: that is most of this file's time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import pytest

from conftest import ROOT, require_tool
from oracle import VERSION_LABELS, tls_decrypted_view, tls_view
from tlsdoc.cli import build_parser, main
from tlsdoc.manifest import load_manifest, verify_file
from tlsdoc.registry import CipherSuite

CORPUS = ROOT / "tests" / "corpus"
MANIFEST = load_manifest(CORPUS / "MANIFEST")
ENTRIES = {e.path: e for e in MANIFEST.captures()}
NAMES = list(ENTRIES)


def _load_recipe():
    """tests/corpus/record_corpus.py, for the pages and bodies it served (stdlib only)."""
    spec = importlib.util.spec_from_file_location("tlsdoc_corpus_recipe",
                                                  CORPUS / "record_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


recipe = _load_recipe()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_body(entry, request: str) -> str:
    """SHA-256 of the response body the recipe's servers sent for *request*."""
    method, path, _version = request.split(" ")
    if method == "POST":
        body = recipe.POST_BODY.encode()
        return _sha(f"received {len(body)} bytes, sha256 {_sha(body)}\n".encode())
    if path == "/missing":
        return _sha(b"<p>not found</p>\n")
    return _sha(recipe.PAGE.encode())


def _has_decrypt() -> bool:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return "decrypt" in sub.choices


def run_cli(capsys, *argv: str) -> dict:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _oracle_for(name: str) -> dict:
    """Everything tshark says about one capture, in two runs (without and with the key log)."""
    path = CORPUS / name
    keylog = CORPUS / ENTRIES[name].claims.keylog
    plain = tls_view(path)
    decrypted = tls_decrypted_view(path, keylog=keylog, follow_streams=tuple(plain))
    return {
        "plain": plain,
        "decrypted": decrypted,
        "follow": {s: decrypted[s]["payload"] for s in plain},
    }


@lru_cache(maxsize=None)
def _all_oracles() -> dict[str, dict]:
    """tshark on every capture, the captures in parallel (tshark dominates this file's time)."""
    require_tool("tshark")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(_oracle_for, name) for name in NAMES}
        return {name: future.result() for name, future in futures.items()}


def plain_oracle(name: str) -> dict[int, dict]:
    return _all_oracles()[name]["plain"]


def decrypted_oracle(name: str) -> dict[int, dict]:
    return _all_oracles()[name]["decrypted"]


def followed(name: str) -> dict[int, dict[str, bytes]]:
    return _all_oracles()[name]["follow"]


def plaintext_names(conn_analysis, side: str) -> list[str]:
    """The handshake names of a side that tshark can see without keys."""
    from tlsdoc.wire import Direction

    direction = Direction.CLIENT_TO_SERVER if side == "client" else Direction.SERVER_TO_CLIENT
    return [m.name for m in conn_analysis.tls.messages(direction) if not m.encrypted]


# ------------------------------------------------------------------------ the corpus itself


def test_every_corpus_file_matches_the_manifest():
    listed = {e.path for e in MANIFEST}
    for entry in MANIFEST:
        verify_file(MANIFEST.resolve(entry), MANIFEST)
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
               if p.is_file() and p.suffix in (".pcap", ".pcapng", ".keys", ".pem")}
    assert on_disk == listed
    assert len(ENTRIES) >= 25
    # "small": captures and key logs together stay around 250 KB
    assert sum(e.size for e in MANIFEST if e.kind in ("capture", "keylog")) < 270_000


@pytest.mark.parametrize("name", NAMES)
def test_tshark_confirms_the_manifest(name):
    claims = ENTRIES[name].claims
    extra = ENTRIES[name].extra
    plain = plain_oracle(name)
    dec = decrypted_oracle(name)
    assert len(plain) == claims.connections
    for index, ref in plain.items():
        assert VERSION_LABELS[ref["version"]] == claims.tls_versions[0]
        assert CipherSuite(ref["cipher_suite"]).name == claims.cipher_suite
        assert ref["sni"] == claims.sni
        assert dec[index]["alpn"] == claims.alpn
    exchanges = []
    for ref in dec.values():
        statuses = [r.split(" ")[1] for r in ref["responses"]]
        statuses += ["none"] * (len(ref["requests"]) - len(statuses))  # unanswered
        exchanges += [f"{' '.join(req.split(' ')[:2])} -> {status}"
                      for req, status in zip(ref["requests"], statuses)]
    assert sorted(exchanges) == sorted(extra["http"])
    messages = [m for ref in dec.values() for side in ref["messages"].values() for m in side]
    assert ("KeyUpdate" in messages) == extra["key_update"]
    assert ("EndOfEarlyData" in messages) == extra["early_data"]
    assert any(ref["hello_retry"] for ref in plain.values()) == claims.hello_retry_request
    renegotiated = [dec[i]["messages"]["client"].count("ClientHello") > 1 and not ref["hello_retry"]
                    for i, ref in plain.items()]
    assert any(renegotiated) == extra["renegotiation"]
    if extra["client_auth"]:
        assert all("CertificateVerify" in ref["messages"]["client"] for ref in dec.values())
    if claims.resumption:
        second = dec[1]["messages"]["server"]
        assert "Certificate" not in second and "ServerHello" in second


# ------------------------------------------------------------------------ tlsdoc show


@pytest.mark.parametrize("name", NAMES)
def test_show_matches_tshark(capsys, name):
    from tlsdoc.analysis import analyze

    path = CORPUS / name
    ours = run_cli(capsys, "show", str(path), "--json")
    theirs = plain_oracle(name)
    assert ours["warnings"] == []
    assert len(ours["connections"]) == len(theirs), "connection count"
    analysis = analyze(path)
    for index, conn in enumerate(ours["connections"]):
        ref = theirs[index]
        assert (conn["client"], conn["server"]) == (ref["client"], ref["server"])
        assert conn["tcp"]["handshake"] == ["SYN", "SYN-ACK", "ACK"]
        rtt = decrypted_oracle(name)[index]["initial_rtt_ms"]
        assert conn["tcp"]["rtt_ms"] == pytest.approx(rtt, abs=0.001), "rtt_ms"
        tls = conn["tls"]
        assert tls is not None
        assert tls["version"] == VERSION_LABELS.get(ref["version"])
        assert tls["cipher_suite"]["id"] == ref["cipher_suite"]
        assert tls["cipher_suite"]["name"] == CipherSuite(ref["cipher_suite"]).name
        assert tls["sni"] == ref["sni"]
        if ref["alpn"] is not None:
            assert tls["alpn"] == ref["alpn"]
        assert tls["client_random"] == ref["client_random"]
        assert tls["decrypted"] is False
        for side in ("client", "server"):
            assert plaintext_names(analysis.connections[index], side) == ref["messages"][side], side


# ------------------------------------------------------------------------ tlsdoc decrypt


@pytest.mark.parametrize("name", NAMES)
def test_decrypt_matches_tshark(capsys, name):
    if not _has_decrypt():
        pytest.skip("tlsdoc decrypt not implemented yet")
    entry = ENTRIES[name]
    path = CORPUS / name
    keylog = CORPUS / entry.claims.keylog
    ours = run_cli(capsys, "decrypt", str(path), "--keylog", str(keylog), "--json")
    theirs = decrypted_oracle(name)
    plain = plain_oracle(name)
    assert ours["warnings"] == []
    assert len(ours["connections"]) == len(theirs), "connection count"
    for index, conn in enumerate(ours["connections"]):
        ref = theirs[index]
        assert (conn["client"], conn["server"]) == (ref["client"], ref["server"])
        tls = conn["tls"]
        assert tls["decrypted"] is True
        assert tls["version"] == VERSION_LABELS.get(plain[index]["version"])
        assert tls["cipher_suite"]["id"] == plain[index]["cipher_suite"]
        assert tls["alpn"] == ref["alpn"]
        data = followed(name)[index]
        for side in ("client", "server"):
            assert tls["handshake"][side] == ref["messages"][side], f"{side} handshake"
            app = conn["application_data"][side]
            assert app is not None, f"{side} application data not decrypted"
            assert app["records"] == ref["app_records"][side], f"{side} app data records"
            assert app["bytes"] == len(data[side]), f"{side} app data bytes"
            assert app["sha256"] == _sha(data[side]), f"{side} app data sha256"
        assert [h["request"] for h in conn["http"]] == ref["requests"]
        # a request left unanswered (tls13-early-data) has "response": null
        assert [h["response"] for h in conn["http"] if h["response"] is not None] \
            == ref["responses"]
        for exchange in conn["http"]:
            if exchange["response"] is not None:
                assert exchange["body_sha256"] == expected_body(entry, exchange["request"]), \
                    exchange["request"]

    # The frames each message is shown in (decrypted ones too): tshark names a
    # message in the frame that completes the record holding its last byte.
    from tlsdoc.analysis import analyze
    from tlsdoc.wire import Direction

    analysis = analyze(path, keylog=keylog)
    for index, conn in enumerate(analysis.connections):
        for side, direction in (("client", Direction.CLIENT_TO_SERVER),
                                ("server", Direction.SERVER_TO_CLIENT)):
            records = conn.records[direction].records
            frames = [max(records[m.records[-1]].span.frames)
                      for m in conn.tls.messages(direction)]
            assert frames == theirs[index]["frames"][side], f"{side} handshake frames"

    # `show --keylog` tells the same TLS story as `decrypt`.
    shown = run_cli(capsys, "show", str(path), "--keylog", str(keylog), "--json")
    assert [c["tls"] for c in shown["connections"]] == [c["tls"] for c in ours["connections"]]


SERVER_KEY_CASES = [name for name, e in ENTRIES.items() if e.extra.get("server_key")]


@pytest.mark.parametrize("name", SERVER_KEY_CASES)
def test_decrypt_with_the_server_key_alone_matches_tshark(capsys, name):
    """TLS 1.2 RSA key exchange (here without extended master secret): --key, no key log."""
    if not _has_decrypt():
        pytest.skip("tlsdoc decrypt not implemented yet")
    path = CORPUS / name
    key = ROOT / ENTRIES[name].extra["server_key"]
    ours = run_cli(capsys, "decrypt", str(path), "--key", str(key), "--json")
    with_keylog = run_cli(capsys, "decrypt", str(path), "--keylog",
                          str(CORPUS / ENTRIES[name].claims.keylog), "--json")
    theirs = tls_decrypted_view(path, rsa_key=key)
    assert ours["warnings"] == []
    for index, conn in enumerate(ours["connections"]):
        ref = theirs[index]
        assert conn["tls"]["decrypted"] is True
        for side in ("client", "server"):
            assert conn["tls"]["handshake"][side] == ref["messages"][side], side
            assert conn["application_data"][side]["records"] == ref["app_records"][side], side
        assert [h["request"] for h in conn["http"]] == ref["requests"]
        assert [h["response"] for h in conn["http"]] == ref["responses"]
    assert ours["connections"] == with_keylog["connections"]


def test_decrypt_without_keys_decrypts_nothing(capsys):
    """The ECDSA and DHE captures have no RSA key route: without a key log nothing is claimed."""
    if not _has_decrypt():
        pytest.skip("tlsdoc decrypt not implemented yet")
    for name in ("tls12-ecdhe-ecdsa-aes128gcm.pcapng", "tls12-dhe-rsa-aes128gcm.pcapng",
                 "tls13-chacha20-x448.pcapng"):
        code = main(["decrypt", str(CORPUS / name), "--json"])
        out, _err = capsys.readouterr()
        assert code == 0
        doc = json.loads(out)
        for conn in doc["connections"]:
            assert conn["tls"]["decrypted"] is False
            assert conn["application_data"] == {"client": None, "server": None}
            assert conn["http"] == []


# ------------------------------------------------------------------------ tlsdoc verify


@pytest.fixture(scope="module")
def both_roots(tmp_path_factory):
    """The handbook's RSA demo root and the corpus's ECDSA demo root, in one PEM bundle."""
    bundle = tmp_path_factory.mktemp("ca") / "roots.pem"
    bundle.write_bytes((ROOT / "captures" / "pki" / "root-ca.pem").read_bytes()
                       + (CORPUS / "pki" / "corpus-root-ca.pem").read_bytes())
    return bundle


@pytest.mark.parametrize("name", NAMES)
def test_verify_passes_every_check(capsys, both_roots, name):
    """Genuine handshakes: every check tlsdoc can run passes (tshark has no such checks)."""
    entry = ENTRIES[name]
    code = main(["verify", str(CORPUS / name), "--keylog", str(CORPUS / entry.claims.keylog),
                 "--ca", str(both_roots), "--json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    failed = [(i, c["name"], c["detail"]) for i, conn in enumerate(doc["connections"])
              for c in conn["checks"] if c["status"] == "failed"]
    assert failed == [] and code == 0, err
    version = entry.claims.tls_versions[0]
    for index, conn in enumerate(doc["connections"]):
        status = {c["name"]: c["status"] for c in conn["checks"]}
        assert status["client Finished"] == "passed"
        assert status["server Finished"] == "passed"
        resumed = entry.claims.resumption and index > 0
        if resumed:
            continue
        assert status["chain"] == "passed"
        if version == "TLS 1.3":
            assert status["CertificateVerify"] == "passed"
        elif entry.claims.cipher_suite.startswith("TLS_RSA_"):
            assert "ServerKeyExchange signature" not in status  # RSA key exchange signs nothing
        else:
            assert status["ServerKeyExchange signature"] == "passed"
        if entry.extra["client_auth"]:
            assert status["client CertificateVerify"] == "passed"


# ------------------------------------------------------------------------ the text renderers


@pytest.mark.parametrize("command", ["show", "decrypt", "verify"])
def test_text_output_on_every_capture(capsys, both_roots, command):
    """The human-readable output renders every capture (IPv6, X448, GREASE, KeyUpdate…)."""
    if command != "show" and not _has_decrypt():
        pytest.skip("tlsdoc decrypt not implemented yet")
    for name, entry in ENTRIES.items():
        argv = [command, str(CORPUS / name), "--keylog", str(CORPUS / entry.claims.keylog)]
        if command == "verify":
            argv += ["--ca", str(both_roots)]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, f"{name}: {err}"
        assert entry.claims.cipher_suite in out, name
        if command == "decrypt":
            for exchange in entry.extra["http"]:
                method, target = exchange.split(" ")[:2]
                if entry.extra["renegotiation"]:
                    break  # see test_decrypt_matches_tshark
                assert f"{method} {target} HTTP/1.1" in out, f"{name}: {exchange}"


# ------------------------------------------------------------------------ a key log for one side only

ONE_SIDE = ["tls13-keyupdate.pcapng", "http-chunked.pcapng", "tls13-client-auth.pcapng"]
OTHER = {"client": "server", "server": "client"}


@pytest.mark.parametrize("side", ["server", "client"])
@pytest.mark.parametrize("name", ONE_SIDE)
def test_one_side_secrets_match_tshark(capsys, tmp_path, name, side):
    """TLS 1.3 with only one side's secrets (``SERVER_*`` or ``CLIENT_*`` lines).

    That side decrypts, the other does not.  tshark then shows that side's
    handshake messages, application records and HTTP messages (responses
    from the server's side, requests from the client's); tlsdoc must show the
    same for that side (and may list the other side's encrypted messages as
    ``Encrypted``, which tshark does not name).
    """
    if not _has_decrypt():
        pytest.skip("tlsdoc decrypt not implemented yet")
    require_tool("tshark")
    path = CORPUS / name
    full = (CORPUS / ENTRIES[name].claims.keylog).read_text().splitlines()
    keylog = tmp_path / f"{side}-only.keys"
    prefix = side.upper() + "_"
    keylog.write_text("".join(line + "\n" for line in full if line.startswith(prefix)))
    ours = run_cli(capsys, "decrypt", str(path), "--keylog", str(keylog), "--json")
    theirs = tls_decrypted_view(path, keylog=keylog, follow_streams=(0,))
    (conn,) = ours["connections"]
    ref = theirs[0]
    other = OTHER[side]
    assert conn["tls"]["handshake"][side] == ref["messages"][side]
    assert [m for m in conn["tls"]["handshake"][other] if m != "Encrypted"] \
        == ref["messages"][other]
    assert conn["application_data"][other] is None
    mine = conn["application_data"][side]
    assert mine is not None, f"the {side}'s application data was not decrypted"
    assert mine["records"] == ref["app_records"][side]
    assert mine["sha256"] == _sha(ref["payload"][side])
    key, lines = ("response", ref["responses"]) if side == "server" else ("request", ref["requests"])
    assert lines, "tshark dissects them"
    assert [h[key] for h in conn["http"] if h[key] is not None] == lines, \
        f"HTTP {key}s decrypted from the {side}'s side alone"

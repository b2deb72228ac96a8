"""`tlsdoc decrypt --json` agrees with tshark's decryption on every bundled capture.

tshark (Wireshark 4.0) is the reference.  For each capture and key route
(the key log; for tls12-rsa also the demo server key alone, no key log)
and each TCP connection we compare:

* the handshake message names per side after decryption
  (``tls.handshake.type``, decrypted messages included);
* the number of application data records per side
  (``tls.record.content_type`` 23, the inner type once decrypted);
* the SHA-256 and length of each side's decrypted application bytes
  (``-z follow,tls,raw,N``, which prints decrypted application data per
  direction: checked on tshark 4.0.17);
* the HTTP request lines and status lines, and the response body hashes
  (``--export-objects http``, with ``http.desegment_body:FALSE`` so the
  close-delimited responses of ``openssl s_server -WWW`` are dissected).

Then the tls13 capture's TCP payload is re-wrapped by ``tests/synth.py``
(tiny MSS, reordered segments, duplicated segments): the decrypted result
must not change.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import CAPTURES, ROOT
from oracle import app_data_records, follow_tls, http_body_hashes, http_lines, tls_view
from tlsdoc import capture
from tlsdoc.cli import main
from tlsdoc.manifest import load_manifest

RSA_KEY = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"


def _load_synth():
    # tests/synth.py, loaded by path: bench/synth.py is also called "synth"
    # and test_bench puts bench/ first on sys.path.
    spec = importlib.util.spec_from_file_location("tests_synth", ROOT / "tests" / "synth.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


synth = _load_synth()


def _cases():
    out = []
    for entry in load_manifest(CAPTURES / "MANIFEST").captures():
        claims = entry.claims
        if claims is not None and claims.keylog:
            out.append(pytest.param(entry.path, claims.keylog, None, id=f"{claims.scenario}-keylog"))
    out.append(pytest.param("tls12-rsa.pcapng", None, str(RSA_KEY), id="tls12-rsa-key-only"))
    return out


CASES = _cases()


def decrypt_json(path, keylog=None, key=None) -> dict:
    argv = ["decrypt", str(path), "--json"]
    if keylog:
        argv += ["--keylog", str(keylog)]
    if key:
        argv += ["--key", str(key)]
    import io
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


@lru_cache(maxsize=None)
def reference(name: str, keylog: str | None, key: str | None, tmp: str):
    path = CAPTURES / name
    keylog_path = str(CAPTURES / keylog) if keylog else None
    view = tls_view(path, keylog=keylog_path, rsa_key=key)
    counts = app_data_records(path, keylog=keylog_path, rsa_key=key)
    data = {s: follow_tls(path, s, view[s]["client"], keylog=keylog_path, rsa_key=key) for s in view}
    lines = http_lines(path, keylog=keylog_path, rsa_key=key)
    bodies = http_body_hashes(path, Path(tmp) / "objects", keylog=keylog_path, rsa_key=key)
    return view, counts, data, lines, bodies


@pytest.mark.parametrize("name, keylog, key", CASES)
def test_decrypt_matches_tshark(tmp_path, name, keylog, key):
    ours = decrypt_json(CAPTURES / name, CAPTURES / keylog if keylog else None, key)
    view, counts, data, lines, bodies = reference(name, keylog, key, str(tmp_path))
    assert ours["warnings"] == []
    assert len(ours["connections"]) == len(view)
    our_bodies = []
    for index, conn in enumerate(ours["connections"]):
        ref = view[index]
        tls = conn["tls"]
        assert tls["decrypted"] is True
        for side in ("client", "server"):
            assert tls["handshake"][side] == ref["messages"][side], side
            app = conn["application_data"][side]
            assert app["records"] == counts[index][side], side
            assert app["bytes"] == len(data[index][side]), side
            assert app["sha256"] == hashlib.sha256(data[index][side]).hexdigest(), side
        assert tls["alpn"] == ref["alpn"]
        assert [h["request"] for h in conn["http"]] == lines[index]["requests"]
        assert [h["response"] for h in conn["http"]] == lines[index]["responses"]
        our_bodies.extend(h["body_sha256"] for h in conn["http"])
    assert sorted(our_bodies) == bodies


def test_plain_http_matches_tshark(tmp_path):
    path = CAPTURES / "http.pcapng"
    ours = decrypt_json(path)
    (conn,) = ours["connections"]
    assert conn["tls"] is None and conn["application_data"] == {"client": None, "server": None}
    ref = http_lines(path)[0]
    assert [h["request"] for h in conn["http"]] == ref["requests"]
    assert [h["response"] for h in conn["http"]] == ref["responses"]
    assert [h["body_sha256"] for h in conn["http"]] == http_body_hashes(path, tmp_path / "o")


def test_show_with_keys_lists_the_decrypted_handshake():
    shown = json.loads(_run_show(CAPTURES / "tls13.pcapng", CAPTURES / "tls13.keys"))
    decrypted = decrypt_json(CAPTURES / "tls13.pcapng", CAPTURES / "tls13.keys")
    assert shown["connections"][0]["tls"] == decrypted["connections"][0]["tls"]
    assert shown["connections"][0]["tls"]["decrypted"] is True


def _run_show(path, keylog) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["show", str(path), "--keylog", str(keylog), "--json"]) == 0
    return out.getvalue()


# -- the same bytes, cut and shuffled differently --------------------------------------


def _flights(path: Path):
    """The original connection's payload, as alternating client/server flights."""
    with capture.open_capture(path) as cap:
        segments = [s for s in cap.segments(warn=lambda _m: None) if s.payload]
    client = (segments[0].src, segments[0].sport)
    server = (segments[0].dst, segments[0].dport)
    flights: list[tuple[bool, bytearray]] = []
    for seg in segments:
        from_client = (seg.src, seg.sport) == client
        if flights and flights[-1][0] == from_client:
            flights[-1][1].extend(seg.payload)
        else:
            flights.append((from_client, bytearray(seg.payload)))
    client_msgs, server_msgs = [], []
    for from_client, data in flights:
        if from_client:
            client_msgs.append(bytes(data))
        else:
            if len(server_msgs) < len(client_msgs) - 1:
                server_msgs.append(b"")
            server_msgs.append(bytes(data))
    return client, server, client_msgs, server_msgs


VARIANTS = {
    "tiny-mss": lambda pkts: pkts,
    "reordered": lambda pkts: synth.shuffled(pkts, random.Random(5)),
    "duplicated": lambda pkts: _dup_all(pkts),
}


def _dup_all(pkts):
    out = list(pkts)
    for i in reversed(synth.data_indices(out)[::3]):
        out = synth.duplicate(out, i)
    return out


def _strip(doc: dict) -> dict:
    conns = []
    for c in doc["connections"]:
        c = dict(c)
        c.pop("tcp")
        conns.append(c)
    return {"connections": conns, "warnings": doc["warnings"]}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_tls13_decrypt_unchanged_by_tcp_segmentation(tmp_path, variant):
    original = CAPTURES / "tls13.pcapng"
    keylog = CAPTURES / "tls13.keys"
    client, server, client_msgs, server_msgs = _flights(original)
    mss = 7 if variant == "tiny-mss" else 536
    packets = synth.synth_connection(client_msgs, server_msgs, mss=mss, client=client, server=server)
    path = synth.write_capture(tmp_path / f"{variant}.pcap", VARIANTS[variant](packets))
    before = _strip(decrypt_json(original, keylog))
    after = _strip(decrypt_json(path, keylog))
    assert after == before
    assert after["connections"][0]["tls"]["decrypted"] is True

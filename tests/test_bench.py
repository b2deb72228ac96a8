"""Smoke test of the benchmark's synthetic capture (bench/synth.py); nothing is timed.

The benchmark is only meaningful if its input is a valid, decryptable
capture that says what the synthesiser meant: tshark (the reference) must
find every ClientHello and ServerHello with the SNIs and randoms written,
no bad checksum or TCP anomaly, and decrypt every HTTP response with the
key log.  Speed is measured by ``make bench``, never asserted here.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, require_tool


def _load_bench_synth():
    # Loaded under its own name: tests/synth.py is the module `synth` for
    # the rest of the suite, and sys.path tricks would shadow it.
    spec = importlib.util.spec_from_file_location("bench_synth", ROOT / "bench" / "synth.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_synth"] = module
    spec.loader.exec_module(module)
    return module


synth = _load_bench_synth()

CONNECTIONS = 20


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bench")
    summary = synth.synthesise(directory / "s.pcap", directory / "s.keys", CONNECTIONS,
                               concurrent=5, seed=7, keep_infos=True)
    return summary


def tshark(*args: str) -> list[list[str]]:
    exe = require_tool("tshark")
    proc = subprocess.run([exe, "-n", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def test_summary_is_consistent(synthetic):
    infos = synthetic.infos
    assert synthetic.connections == len(infos) == CONNECTIONS
    assert len({i.client for i in infos}) == CONNECTIONS  # distinct client ip:port
    assert len({i.client_random for i in infos}) == CONNECTIONS
    for info in infos:
        ip = info.client.split(":")[0]
        assert ip.startswith(("192.0.2.", "198.51.100.")), ip
        assert info.server.startswith("203.0.113.") and info.server.endswith(":443")
    keylog = Path(synthetic.keylog).read_text().splitlines()
    assert len(keylog) == 5 * CONNECTIONS
    assert {line.split()[1] for line in keylog} == {i.client_random for i in infos}
    # the pcap is exactly as long as its records say
    data = Path(synthetic.pcap).read_bytes()
    pos, frames = 24, 0
    while pos < len(data):
        pos += 16 + int.from_bytes(data[pos + 8 : pos + 12], "little")
        frames += 1
    assert pos == len(data) == synthetic.bytes
    assert frames == synthetic.frames


def test_tshark_reads_the_hellos_written(synthetic):
    rows = tshark(
        "-r", synthetic.pcap, "-o", "tcp.reassemble_out_of_order:TRUE",
        "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2",
        "-T", "fields", "-e", "tcp.srcport", "-e", "tls.handshake.type", "-e", "tls.handshake.version",
        "-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.extensions_server_name",
        "-e", "tls.handshake.random", "-e", "tls.handshake.extensions.supported_version",
        "-e", "tls.handshake.extensions_alpn_str",
    )
    by_port = {int(i.client.split(":")[1]): i for i in synthetic.infos}
    hellos = collections.Counter(row[1] for row in rows)
    assert hellos == {"1": CONNECTIONS, "2": CONNECTIONS}
    for port, kind, version, suites, sni, random, supported, alpn in rows:
        assert version == "0x0303"
        if kind == "1":
            info = by_port[int(port)]
            assert sni == info.sni == synth.sni_for(info.index)
            assert random == info.client_random
            assert suites.split(",")[0] == "0x1301"
            assert supported.split(",")[:2] == ["0x0304", "0x0303"]
            assert alpn == "h2,http/1.1"
        else:
            assert suites == "0x1301" and supported == "0x0304"


def test_tcp_is_clean(synthetic):
    """Good IPv4 and TCP checksums everywhere; no retransmission, gap or other TCP anomaly."""
    rows = tshark(
        "-r", synthetic.pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
        "-T", "fields", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "tcp.analysis.flags",
        "-e", "tcp.len",
    )
    assert len(rows) == synthetic.frames
    assert {(r[0], r[1], r[2]) for r in rows} == {("1", "1", "")}  # 1 = good, no analysis flags
    assert max(int(r[3]) for r in rows) == synth.MSS


def test_tshark_decrypts_everything(synthetic):
    rows = tshark(
        "-r", synthetic.pcap, "-o", "tcp.reassemble_out_of_order:TRUE",
        "-o", f"tls.keylog_file:{synthetic.keylog}", "-Y", "http.response",
        "-T", "fields", "-e", "http.response.code", "-e", "http.content_length",
    )
    assert [r[0] for r in rows] == ["200"] * CONNECTIONS
    assert sorted(int(r[1]) for r in rows) == sorted(i.response_body_len for i in synthetic.infos)
    # every encrypted handshake message was decrypted too
    types = collections.Counter()
    for (field,) in tshark("-r", synthetic.pcap, "-o", f"tls.keylog_file:{synthetic.keylog}",
                           "-Y", "tls.handshake", "-T", "fields", "-e", "tls.handshake.type"):
        types.update(field.split(","))
    assert types == {"1": CONNECTIONS, "2": CONNECTIONS, "8": CONNECTIONS, "11": CONNECTIONS,
                     "15": CONNECTIONS, "20": 2 * CONNECTIONS, "4": 2 * CONNECTIONS}


def tlsdoc_json(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tlsdoc", *args, "--json"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_tlsdoc_show_agrees_with_the_synthesiser(synthetic):
    doc = tlsdoc_json("show", synthetic.pcap)
    conns = doc["connections"]
    assert len(conns) == CONNECTIONS
    assert doc["warnings"] == []
    expected = {i.client: i for i in synthetic.infos}
    assert {c["client"] for c in conns} == set(expected)
    for conn in conns:
        info = expected[conn["client"]]
        assert conn["server"] == info.server
        assert conn["tcp"]["handshake"] == ["SYN", "SYN-ACK", "ACK"]
        tls = conn["tls"]
        assert tls["version"] == "TLS 1.3"
        assert tls["cipher_suite"] == {"id": 0x1301, "name": "TLS_AES_128_GCM_SHA256"}
        assert tls["sni"] == info.sni
        assert tls["client_random"] == info.client_random
        assert tls["handshake"]["client"][0] == "ClientHello"
        assert tls["handshake"]["server"][0] == "ServerHello"


def test_tlsdoc_decrypt_agrees_with_the_synthesiser(synthetic):
    doc = tlsdoc_json("decrypt", synthetic.pcap, "--keylog", synthetic.keylog)
    conns = doc["connections"]
    assert len(conns) == CONNECTIONS
    assert doc["warnings"] == []
    expected = {i.client: i for i in synthetic.infos}
    for conn in conns:
        info = expected[conn["client"]]
        tls = conn["tls"]
        assert tls["decrypted"] is True
        assert tls["alpn"] == "http/1.1"
        assert tls["handshake"] == {
            "client": ["ClientHello", "Finished"],
            "server": ["ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify",
                       "Finished", "NewSessionTicket", "NewSessionTicket"],
        }
        app = conn["application_data"]
        assert app["client"]["records"] == 1
        assert app["client"]["sha256"] == info.request_sha256
        assert app["server"]["records"] == info.server_records
        assert app["server"]["sha256"] == info.response_sha256
        assert conn["http"] == [{"request": info.request_line, "response": "HTTP/1.1 200 OK",
                                 "body_sha256": info.body_sha256}]


def test_tlsdoc_verify_passes_every_check(synthetic, tmp_path):
    """The synthesiser's Finished MACs, CertificateVerify and chain are real."""
    ca = tmp_path / "root.pem"
    ca.write_bytes(synthetic.ca_pem)
    doc = tlsdoc_json("verify", synthetic.pcap, "--keylog", synthetic.keylog, "--ca", str(ca))
    assert len(doc["connections"]) == CONNECTIONS
    for conn in doc["connections"]:
        checks = {c["name"]: c["status"] for c in conn["checks"]}
        assert checks == {"client Finished": "passed", "server Finished": "passed",
                          "CertificateVerify": "passed", "chain": "passed"}, conn["checks"]

"""tshark as the oracle: what Wireshark's dissectors say about a capture.

Used by the tests that compare tlsdoc with tshark field by field.  Every
function runs tshark once and returns plain Python values.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

from conftest import require_tool

# RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest.
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

# tshark's handshake type numbers → the RFC CamelCase names tlsdoc reports.
HANDSHAKE_NAMES = {
    0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest",
    4: "NewSessionTicket", 5: "EndOfEarlyData", 8: "EncryptedExtensions",
    11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
    14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange",
    20: "Finished", 21: "CertificateURL", 22: "CertificateStatus", 24: "KeyUpdate",
    254: "MessageHash",
}

BASE_PREFS = ["-o", "tcp.reassemble_out_of_order:TRUE", "-o", "tcp.desegment_tcp_streams:TRUE"]


def run_tshark(capture: Path | str, fields: list[str], *, keylog=None, rsa_key=None,
               display_filter: str | None = None, extra: list[str] = ()) -> list[list[str]]:
    """Rows of tab-separated fields, one per frame (all occurrences, comma-joined)."""
    tshark = require_tool("tshark")
    cmd = [tshark, "-n", "-r", str(capture), *BASE_PREFS, *extra]
    if keylog:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    if rsa_key:
        cmd += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    if display_filter:
        cmd += ["-Y", display_filter]
    cmd += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines()]


def tls_view(capture: Path | str, *, keylog=None, rsa_key=None) -> dict[int, dict]:
    """Per tcp.stream: endpoints, visible handshake message names per side, version, suite…"""
    fields = [
        "frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tcp.flags.syn",
        "tcp.flags.ack", "tls.handshake.type", "tls.handshake.random",
        "tls.handshake.ciphersuite", "tls.handshake.extensions.supported_version",
        "tls.handshake.version", "tls.handshake.extensions_server_name",
        "tls.handshake.extensions_alpn_str", "ip.dst", "ipv6.dst", "tcp.dstport",
    ]
    streams: dict[int, dict] = defaultdict(lambda: {
        "client": None, "server": None, "messages": {"client": [], "server": []},
        "client_random": None, "cipher_suite": None, "version": None, "sni": None,
        "alpn": None, "hello_retry": False,
    })
    for row in run_tshark(capture, fields, keylog=keylog, rsa_key=rsa_key):
        row += [""] * (len(fields) - len(row))
        (frame, stream, src4, src6, sport, syn, ack, types, randoms, suites, sup_versions,
         hs_versions, sni, alpn, dst4, dst6, dport) = row
        s = streams[int(stream)]
        src = f"{src4 or src6}:{sport}" if src4 else f"[{src6}]:{sport}"
        dst = f"{dst4}:{dport}" if dst4 else f"[{dst6}]:{dport}"
        if syn == "1" and ack == "0" and s["client"] is None:
            s["client"], s["server"] = src, dst
        if s["client"] is None:  # no SYN seen: tlsdoc guesses too; skip
            continue
        side = "client" if src == s["client"] else "server"
        if not types:
            continue
        type_list = [int(t) for t in types.split(",")]
        random_list = randoms.split(",") if randoms else []
        r_iter = iter(random_list)
        for t in type_list:
            name = HANDSHAKE_NAMES.get(t, f"type {t}")
            if t in (1, 2):
                rnd = next(r_iter, None)
                if t == 1 and s["client_random"] is None:
                    s["client_random"] = rnd
                if t == 2 and rnd == HRR_RANDOM:
                    name = "HelloRetryRequest"
                    s["hello_retry"] = True
            s["messages"][side].append(name)
        if 2 in type_list and side == "server":
            last = suites.split(",")[-1] if suites else ""
            if last:
                s["cipher_suite"] = int(last, 16)
            versions = sup_versions.split(",") if sup_versions else []
            hs = hs_versions.split(",") if hs_versions else []
            if versions:
                s["version"] = int(versions[-1], 16)
            elif hs:
                s["version"] = int(hs[-1], 16)
        if 1 in type_list and sni and s["sni"] is None:
            s["sni"] = sni.split(",")[0]
        if side == "server" and alpn and (2 in type_list or 8 in type_list):
            s["alpn"] = alpn.split(",")[-1]
    return dict(streams)


VERSION_LABELS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1",
                  0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}

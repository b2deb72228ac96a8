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


def tls_decrypted_view(capture: Path | str, *, keylog=None, rsa_key=None,
                       follow_streams: tuple[int, ...] = ()) -> dict[int, dict]:
    """Per tcp.stream, what tshark sees once it decrypts with *keylog* / *rsa_key*.

    ``messages``: every handshake message name per side, in order, including
    the ones inside encrypted records (a HelloRetryRequest is named as such);
    ``app_records``: the number of records whose (inner) content type is
    application data, per side; ``requests``: the HTTP request lines
    (``"GET /index.html HTTP/1.1"``); ``responses``: the HTTP status lines
    (``"HTTP/1.1 200 OK"``); ``alpn``: the protocol the server selected;
    ``frames``: per side, the frame tshark shows each of ``messages`` in (the
    frame that completes the record holding the message's last byte);
    ``initial_rtt_ms``: tshark's ``tcp.analysis.initial_rtt`` (SYN to the
    client's ACK of the SYN-ACK), in milliseconds.  With *follow_streams*,
    the same run also does ``-z follow,tls,raw`` for those streams and each
    of them gets ``payload``: the decrypted application bytes per side (as
    :func:`follow_tls`, without one more tshark run per stream).
    All from one tshark run.  Records tshark could not decrypt keep their
    outer type, so compare app_records only where decryption is expected.

    Added next to :func:`tls_view` (which is left as it is) for the decrypt
    comparisons of ``tests/test_corpus.py``.
    """
    fields = [
        "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tcp.flags.syn", "tcp.flags.ack",
        "ip.dst", "ipv6.dst", "tcp.dstport", "tls.record.content_type",
        "tls.handshake.type", "tls.handshake.random",
        "http.request.method", "http.request.uri", "http.request.version",
        "http.response.version", "http.response.code", "http.response.phrase",
        "tls.handshake.extensions_alpn_str", "frame.number", "tcp.analysis.initial_rtt",
    ]
    streams: dict[int, dict] = defaultdict(lambda: {
        "client": None, "server": None, "messages": {"client": [], "server": []},
        "app_records": {"client": 0, "server": 0}, "requests": [], "responses": [],
        "alpn": None, "frames": {"client": [], "server": []}, "initial_rtt_ms": None,
    })
    follow = [arg for n in follow_streams for arg in ("-z", f"follow,tls,raw,{n}")]
    rows = run_tshark(capture, fields, keylog=keylog, rsa_key=rsa_key,
                      extra=["-o", "http.desegment_body:FALSE", *follow])
    follow_lines: list[str] = []
    if follow_streams:  # the follow blocks come after the field rows
        cut = next((i for i, r in enumerate(rows) if r[0].startswith("=====")), len(rows))
        follow_lines = ["\t".join(r) for r in rows[cut:]]
        rows = [r for r in rows[:cut] if r != [""]]
    for row in rows:
        row += [""] * (len(fields) - len(row))
        (stream, src4, src6, sport, syn, ack, dst4, dst6, dport, ctypes, types, randoms,
         methods, uris, req_versions, resp_versions, codes, phrases, alpn, frame, irtt) = row
        s = streams[int(stream)]
        src = f"{src4}:{sport}" if src4 else f"[{src6}]:{sport}"
        dst = f"{dst4}:{dport}" if dst4 else f"[{dst6}]:{dport}"
        if syn == "1" and ack == "0" and s["client"] is None:
            s["client"], s["server"] = src, dst
        if s["client"] is None:
            continue
        if irtt and s["initial_rtt_ms"] is None:
            s["initial_rtt_ms"] = float(irtt) * 1000
        side = "client" if src == s["client"] else "server"
        if ctypes:
            s["app_records"][side] += sum(1 for t in ctypes.split(",") if t == "23")
        if types:
            r_iter = iter(randoms.split(",") if randoms else [])
            for t in (int(x) for x in types.split(",")):
                name = HANDSHAKE_NAMES.get(t, f"type {t}")
                if t in (1, 2):
                    rnd = next(r_iter, None)
                    if t == 2 and rnd == HRR_RANDOM:
                        name = "HelloRetryRequest"
                s["messages"][side].append(name)
                s["frames"][side].append(int(frame))
            # the protocol the server selected: in ServerHello (TLS 1.2) or
            # EncryptedExtensions (TLS 1.3, visible once decrypted)
            if side == "server" and alpn and {"2", "8"} & set(types.split(",")):
                s["alpn"] = alpn.split(",")[-1]
        if methods:
            for m, u, v in zip(methods.split(","), uris.split(","), req_versions.split(",")):
                s["requests"].append(f"{m} {u} {v}")
        if codes:
            phrase_list = phrases.split(",") if phrases else []
            for i, (v, c) in enumerate(zip(resp_versions.split(","), codes.split(","))):
                phrase = phrase_list[i] if i < len(phrase_list) else ""
                s["responses"].append(f"{v} {c} {phrase}".rstrip())
    stream = node0 = None
    for line in follow_lines:
        if line.startswith("Filter: tcp.stream eq "):
            stream = int(line.rsplit(" ", 1)[1])
            streams[stream]["payload"] = {"client": b"", "server": b""}
        elif line.startswith("Node 0: "):
            node0 = line[len("Node 0: "):].strip()
        elif (stream is not None and line.strip() and not line.startswith(("=", "Follow:", "Node 1:"))):
            # like follow_tls: the first node's chunks unindented, the other's after a tab
            first_is_client = node0 == streams[stream]["client"]
            side = "client" if first_is_client != line.startswith("\t") else "server"
            streams[stream]["payload"][side] += bytes.fromhex(line.strip())
    return dict(streams)


# -- decryption ---------------------------------------------------------------------------
#
# With keys, tshark decrypts and dissects what is inside.  These helpers
# return, per tcp.stream, what tlsdoc's `decrypt --json` must agree with.
# The HTTP preferences follow TOOLCHAIN.md: `http.desegment_body:FALSE` so
# that a response delimited by the close of the connection (openssl s_server
# -WWW sends no Content-Length) is dissected at all.

HTTP_PREFS = ["-o", "http.desegment_body:FALSE"]


def _endpoint(ip4: str, ip6: str, port: str) -> str:
    return f"{ip4}:{port}" if ip4 else f"[{ip6}]:{port}"


def app_data_records(capture, *, keylog=None, rsa_key=None) -> dict[int, dict[str, int]]:
    """Per tcp.stream and side: how many records tshark shows as application_data (23).

    Once decrypted, ``tls.record.content_type`` is a TLS 1.3 record's inner type.
    """
    view = tls_view(capture, keylog=keylog, rsa_key=rsa_key)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"client": 0, "server": 0})
    rows = run_tshark(capture, ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport",
                                "tls.record.content_type"], keylog=keylog, rsa_key=rsa_key)
    for row in rows:
        row += [""] * (5 - len(row))
        stream, src4, src6, sport, types = row
        if not types or int(stream) not in view:
            continue
        side = "client" if _endpoint(src4, src6, sport) == view[int(stream)]["client"] else "server"
        counts[int(stream)][side] += sum(1 for t in types.split(",") if t == "23")
    return dict(counts)


def follow_tls(capture, stream: int, client: str, *, keylog=None, rsa_key=None) -> dict[str, bytes]:
    """The decrypted application data of one tcp.stream, per side (``-z follow,tls,raw``).

    tshark 4.0 prints one hex line per chunk: lines of the first node that
    sent data ("Node 0") unindented, the other node's indented by a tab.

    Args:
        client: the client's ``ip:port`` (to tell which node is which).
    """
    tshark = require_tool("tshark")
    cmd = [tshark, "-n", "-r", str(capture), *BASE_PREFS]
    if keylog:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    if rsa_key:
        cmd += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    cmd += ["-q", "-z", f"follow,tls,raw,{stream}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    node0 = None
    data = {"client": bytearray(), "server": bytearray()}
    body = False
    for line in out.splitlines():
        if line.startswith("Node 0: "):
            node0 = line[len("Node 0: "):].strip()
            continue
        if line.startswith("Node 1:"):
            body = True
            continue
        if not body or line.startswith("====") or not line.strip():
            continue
        first_is_client = node0 == client
        indented = line.startswith("\t")
        side = "client" if first_is_client != indented else "server"
        data[side] += bytes.fromhex(line.strip())
    return {side: bytes(value) for side, value in data.items()}


def http_lines(capture, *, keylog=None, rsa_key=None) -> dict[int, dict[str, list[str]]]:
    """Per tcp.stream: the request lines and status lines tshark dissects, in order.

    Rebuilt from tshark's fields (``method SP uri SP version`` and
    ``version SP code SP phrase``), which is the start line when it uses
    single spaces, as every bundled capture does.
    """
    fields = ["tcp.stream", "http.request.method", "http.request.uri", "http.request.version",
              "http.response.version", "http.response.code", "http.response.phrase"]
    out: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"requests": [], "responses": []})
    for row in run_tshark(capture, fields, keylog=keylog, rsa_key=rsa_key,
                          display_filter="http", extra=HTTP_PREFS):
        row += [""] * (len(fields) - len(row))
        stream, method, uri, version, rversion, code, phrase = row
        if method:
            out[int(stream)]["requests"].append(f"{method} {uri} {version}")
        if code:
            out[int(stream)]["responses"].append(f"{rversion} {code} {phrase}")
    return dict(out)


def http_body_hashes(capture, directory: Path, *, keylog=None, rsa_key=None) -> list[str]:
    """SHA-256 of every HTTP object tshark exports (``--export-objects http``), sorted."""
    import hashlib

    tshark = require_tool("tshark")
    directory.mkdir(parents=True, exist_ok=True)
    cmd = [tshark, "-n", "-r", str(capture), *BASE_PREFS, *HTTP_PREFS]
    if keylog:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    if rsa_key:
        cmd += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    cmd += ["-q", "--export-objects", f"http,{directory}"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir())

#!/usr/bin/env python3
"""Record the test corpus: varied TLS captures from other stacks, suites and conditions.

The bundled captures (``captures/``) are what tlsdoc was developed on; this
corpus is what it is *checked* on.  Each scenario is one small capture (one
HTTPS request unless said otherwise) with the NSS key log its client wrote,
recorded with real TLS stacks between two network namespaces made for the
run (client 192.0.2.10 / 2001:db8::10, server 203.0.113.80 / 2001:db8::80 —
documentation addresses), exactly as ``captures/record.py`` does it: same
network helpers (imported from it, not modified), veth offloads off, static
neighbours, no DNS (``--resolve``), no proxy, nothing can leave.

Stacks: OpenSSL 3.0 (``openssl s_server``/``s_client``, curl, Python ``ssl``
through :func:`serve` and :func:`fetch` below), GnuTLS (``gnutls-cli``,
``gnutls-serv``), NSS (``tstclnt``), BoringSSL (``bssl-tool client``).
A stack that is not installed makes its scenarios fail with a clear message;
``--scenario`` records a subset.

Usage (root)::

    python3 tests/corpus/record_corpus.py                 # every scenario, then MANIFEST
    python3 tests/corpus/record_corpus.py --scenario tls13-keyupdate --verbose
    python3 tests/corpus/record_corpus.py --list

Sub-commands used inside the namespaces (not meant to be run by hand):
``serve`` (a small HTTP/1.1 server behind Python ``ssl``) and ``fetch`` (a
Python ``ssl`` HTTPS client with ``SSLContext.keylog_filename``).

Must never import tlsdoc.  Demo keys only: ``captures/pki`` (RSA chain) and
``tests/corpus/pki`` (ECDSA server and client certificates, ``make_pki.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS_PKI = HERE / "pki"
SERVER_NAME = "www.example.com"
V6 = {"192.0.2.10": "2001:db8::10", "203.0.113.80": "2001:db8::80"}

PAGE = (
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
    "<title>tlsdoc corpus</title></head>\n<body>\n<h1>Hello from www.example.com</h1>\n"
    "<p>A page from the tlsdoc test corpus, served over a recorded TLS connection.</p>\n"
    "</body>\n</html>\n"
)
POST_BODY = "name=tlsdoc&purpose=corpus&text=" + "x" * 200


def _load_base():
    """captures/record.py, imported by path (read only: the bundled recipe)."""
    spec = importlib.util.spec_from_file_location("tlsdoc_captures_record",
                                                  ROOT / "captures" / "record.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# =========================================================================== serve / fetch
# These two run inside the namespaces; they need only the standard library.


def serve(argv: list[str]) -> int:
    """A small HTTP/1.1 server behind Python ``ssl`` (OpenSSL), one thread per connection.

    Routes: ``/index.html`` (Content-Length), ``/chunked`` (Transfer-Encoding:
    chunked, three chunks), ``/close`` (no length, ``Connection: close``:
    the body ends with the connection), ``POST /submit`` (201 Created), anything
    else 404.  Keep-alive unless the client says ``Connection: close``.
    """
    import http.server
    import ssl

    p = argparse.ArgumentParser(prog="record_corpus.py serve")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    p.add_argument("--ciphers")
    p.add_argument("--no-tickets", action="store_true")
    p.add_argument("--num-tickets", type=int)
    p.add_argument("--options", type=lambda v: int(v, 0), default=0,
                   help="extra SSL_OP_* bits, e.g. 0x1 = SSL_OP_NO_EXTENDED_MASTER_SECRET")
    p.add_argument("--keylog")
    args = p.parse_args(argv)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    if args.ciphers:
        ctx.set_ciphers(args.ciphers)
    if args.no_tickets:
        ctx.options |= ssl.OP_NO_TICKET
    if args.num_tickets is not None:
        ctx.num_tickets = args.num_tickets
    if args.options:
        ctx.options |= args.options
    if args.keylog:
        ctx.keylog_filename = args.keylog

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tlsdoc-corpus/1"
        sys_version = ""

        def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
                  **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            page = PAGE.encode()
            if self.path == "/index.html":
                self._send(200, page)
            elif self.path == "/chunked":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                third = len(page) // 3
                for piece in (page[:third], page[third:2 * third], page[2 * third:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            elif self.path == "/close":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(page)
                self.close_connection = True
            else:
                self._send(404, b"<p>not found</p>\n")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            digest = hashlib.sha256(body).hexdigest()
            self._send(201, f"received {len(body)} bytes, sha256 {digest}\n".encode(),
                       "text/plain; charset=utf-8", Location="/submit/1")

        def log_message(self, fmt: str, *a) -> None:
            sys.stderr.write("serve: " + (fmt % a) + "\n")

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
        daemon_threads = True

        def finish_request(self, request, client_address):  # in the connection's thread
            request.settimeout(10)
            try:
                tls = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                sys.stderr.write(f"serve: handshake failed: {exc}\n")
                return
            try:
                self.RequestHandlerClass(tls, client_address, self)
            finally:
                try:
                    tls.settimeout(2)
                    tls.unwrap()  # close_notify, as a well-behaved server sends
                except (ssl.SSLError, OSError):
                    pass

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Server((args.bind, args.port), Handler) as server:
        print("ready", flush=True)
        server.serve_forever()
    return 0


def fetch(argv: list[str]) -> int:
    """A Python ``ssl`` HTTPS client (``http.client``) that writes an NSS key log.

    Each of ``--connections`` connections sends every ``--get`` request in
    order (keep-alive); later connections offer the first one's session
    (``session=``), i.e. TLS 1.2 session ticket / ID or TLS 1.3 PSK resumption.
    """
    import http.client
    import ssl

    p = argparse.ArgumentParser(prog="record_corpus.py fetch")
    p.add_argument("--connect", required=True, help="server address")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cafile", required=True)
    p.add_argument("--keylog", required=True)
    p.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    p.add_argument("--get", action="append", default=[])
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--pause", type=float, default=0.3)
    args = p.parse_args(argv)

    ctx = ssl.create_default_context(cafile=args.cafile)
    if args.tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.keylog_filename = args.keylog
    session = None
    family = socket.AF_INET6 if ":" in args.connect else socket.AF_INET
    for index in range(args.connections):
        raw = socket.socket(family, socket.SOCK_STREAM)
        raw.settimeout(10)
        raw.connect((args.connect, args.port))
        tls = ctx.wrap_socket(raw, server_hostname=SERVER_NAME, session=session)
        print(f"connection {index + 1}: {tls.version()} {tls.cipher()[0]} "
              f"reused={tls.session_reused}", flush=True)
        conn = http.client.HTTPConnection(SERVER_NAME, args.port)
        conn.sock = tls
        paths = args.get or ["/index.html"]
        for n, path in enumerate(paths):
            last = n == len(paths) - 1
            conn.request("GET", path, headers={"Connection": "close"} if last else {})
            response = conn.getresponse()
            body = response.read()
            print(f"  GET {path}: {response.status} {len(body)} bytes", flush=True)
        if index == 0:
            session = tls.session
        time.sleep(0.1)
        try:
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass
        tls.close()
        if index + 1 < args.connections:
            time.sleep(args.pause)
    return 0


# =========================================================================== scenarios


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    stack: str                       # the TLS stacks, client -> server, for the manifest
    version: str                     # "TLS 1.2" | "TLS 1.3"
    suite: str                       # IANA name
    server: str                      # "s_server" | "py" | "gnutls-serv"
    server_args: tuple[str, ...] = ()
    client: str = "curl"             # "curl" | "py" | "gnutls-cli" | "tstclnt" | "bssl" | "s_client"
    client_args: tuple[str, ...] = ()
    paths: tuple[str, ...] = ("/index.html",)
    cert: str = "rsa"                # "rsa" (captures/pki) | "ecdsa" (tests/corpus/pki)
    group: str | None = None
    connections: int = 1
    resumption: bool = False
    client_auth: bool = False
    key_update: bool = False
    http: tuple[str, ...] = ("GET /index.html -> 200",)
    alpn: str | None = "http/1.1"
    server_keylog: bool = False      # the key log comes from the server (client cannot write one)
    rsa_key_decrypts: bool = False   # RSA key exchange: the server key alone decrypts it
    early_data: bool = False
    renegotiation: bool = False
    hello_retry: bool = False
    ipv6: bool = False
    advmss: int | None = None
    delay_ms: float = 0.0
    capture: str = "dumpcap"         # "dumpcap" (pcapng, Ethernet) | "tcpdump-any" (pcap, SLL2)


CURL12 = ("--tlsv1.2", "--tls-max", "1.2")
CURL13 = ("--tlsv1.3",)
S12 = ("-tls1_2", "-no_ticket")


def _s13(suite: str, group: str = "X25519") -> tuple[str, ...]:
    return ("-tls1_3", "-ciphersuites", suite, "-groups", group, "-num_tickets", "1")


SCENARIOS: tuple[Scenario, ...] = (
    # ------------------------------------------------------------------ TLS 1.2 suites
    Scenario("tls12-ecdhe-rsa-aes256gcm",
             "TLS 1.2 ECDHE-RSA with AES-256-GCM and SHA-384 (PRF and Finished use SHA-384).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"), client_args=CURL12,
             group="x25519"),
    Scenario("tls12-ecdhe-rsa-chacha20",
             "TLS 1.2 ECDHE-RSA with ChaCha20-Poly1305 (RFC 7905 nonce: IV xor sequence).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"), client_args=CURL12,
             group="x25519"),
    Scenario("tls12-ecdhe-ecdsa-aes128gcm",
             "TLS 1.2 ECDHE-ECDSA with AES-128-GCM: an ECDSA P-256 server certificate "
             "(tests/corpus/pki), the ServerKeyExchange signed with ECDSA.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"), client_args=CURL12,
             cert="ecdsa", group="x25519"),
    Scenario("tls12-cbc-sha-mte",
             "TLS 1.2 ECDHE-RSA with AES-128-CBC and HMAC-SHA1, MAC-then-encrypt: the server "
             "refuses encrypt_then_mac (s_server -no_etm), so records are "
             "CBC(plaintext || MAC || padding) with an explicit IV.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-AES128-SHA", "-no_etm"), client_args=CURL12,
             group="x25519"),
    Scenario("tls12-cbc-sha256-etm",
             "TLS 1.2 ECDHE-RSA with AES-128-CBC and HMAC-SHA256, encrypt-then-MAC (RFC 7366, "
             "OpenSSL's default for CBC): the MAC covers the ciphertext.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-AES128-SHA256"), client_args=CURL12,
             group="x25519"),
    Scenario("tls12-ecdhe-ecdsa-aes128ccm",
             "TLS 1.2 ECDHE-ECDSA with AES-128-CCM (16-byte tag, RFC 7251).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "s_server",
             (*S12, "-cipher", "ECDHE-ECDSA-AES128-CCM"),
             client_args=(*CURL12, "--ciphers", "ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES128-GCM-SHA256"),
             cert="ecdsa", group="x25519"),
    Scenario("tls12-dhe-rsa-aes128gcm",
             "TLS 1.2 finite-field DHE-RSA (s_server's automatic DH parameters) with "
             "AES-128-GCM: ServerKeyExchange carries p, g and Ys.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "s_server",
             (*S12, "-cipher", "DHE-RSA-AES128-GCM-SHA256"),
             client_args=(*CURL12, "--ciphers", "DHE-RSA-AES128-GCM-SHA256")),
    # ------------------------------------------------------------------ TLS 1.3 suites
    Scenario("tls13-aes256gcm-p256",
             "TLS 1.3 TLS_AES_256_GCM_SHA384 (HKDF with SHA-384) with a P-256 key share.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.3", "TLS_AES_256_GCM_SHA384",
             "s_server", _s13("TLS_AES_256_GCM_SHA384", "P-256"),
             client_args=(*CURL13, "--curves", "P-256:X25519"), group="secp256r1"),
    Scenario("tls13-chacha20-x448",
             "TLS 1.3 TLS_CHACHA20_POLY1305_SHA256 with an X448 key share.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.3", "TLS_CHACHA20_POLY1305_SHA256",
             "s_server", _s13("TLS_CHACHA20_POLY1305_SHA256", "X448"),
             client_args=(*CURL13, "--curves", "X448:X25519"), group="x448"),
    Scenario("tls13-aes128ccm",
             "TLS 1.3 TLS_AES_128_CCM_SHA256 (not in OpenSSL's default list: both sides "
             "enable it).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.3", "TLS_AES_128_CCM_SHA256",
             "s_server", _s13("TLS_AES_128_CCM_SHA256"),
             client_args=(*CURL13, "--tls13-ciphers",
                          "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256"),
             group="x25519"),
    # ------------------------------------------------------------------ client authentication
    Scenario("tls12-client-auth",
             "TLS 1.2 with a client certificate: CertificateRequest, then the client's "
             "Certificate, ClientKeyExchange and CertificateVerify (ECDSA demo client cert).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-Verify", "1"),
             client_args=CURL12, group="x25519", client_auth=True),
    Scenario("tls13-client-auth",
             "TLS 1.3 with a client certificate: CertificateRequest in the server's encrypted "
             "flight, the client answers Certificate, CertificateVerify, Finished.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.3", "TLS_AES_128_GCM_SHA256",
             "s_server", (*_s13("TLS_AES_128_GCM_SHA256"), "-Verify", "1"),
             client_args=CURL13, group="x25519", client_auth=True),
    # ------------------------------------------------------------------ other stacks
    Scenario("python-ssl",
             "Python ssl (http.client, SSLContext.keylog_filename) against Python ssl "
             "(http.server): TLS 1.3, HTTP/1.1 with Content-Length.",
             "Python ssl -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "py",
             client="py", group="x25519"),
    Scenario("gnutls-cli",
             "GnuTLS gnutls-cli (SSLKEYLOGFILE) against Python ssl: GnuTLS's own ClientHello.",
             "gnutls-cli (GnuTLS) -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "py",
             client="gnutls-cli", group="x25519"),
    Scenario("gnutls-serv-cbc-mte",
             "curl against a GnuTLS server (gnutls-serv --http) limited to TLS 1.2 "
             "AES-128-CBC/HMAC-SHA1 without encrypt_then_mac: GnuTLS's CBC records. "
             "gnutls-serv asks for an optional client certificate (CertificateRequest) "
             "and curl answers with an empty Certificate; no ALPN.",
             "curl (OpenSSL) -> gnutls-serv (GnuTLS)", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "gnutls-serv",
             ("--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:"
              "-MAC-ALL:+SHA1:-KX-ALL:+ECDHE-RSA:%NO_ETM"),
             client_args=CURL12, group="x25519", alpn=None),
    Scenario("nss-tstclnt",
             "NSS tstclnt against openssl s_server: NSS's own ClientHello. Debian's NSS is "
             "built without SSLKEYLOGFILE support, so the key log is the server's "
             "(s_server -keylogfile): the same secrets, written by the other side.",
             "tstclnt (NSS) -> openssl s_server", "TLS 1.3", "TLS_AES_128_GCM_SHA256",
             "s_server", _s13("TLS_AES_128_GCM_SHA256"), client="tstclnt", group="x25519",
             alpn=None, server_keylog=True),
    Scenario("boringssl-grease",
             "BoringSSL bssl client with -grease and -permute-extensions against Python ssl: "
             "GREASE cipher suites, extensions, groups and versions in the ClientHello.",
             "bssl-tool client (BoringSSL) -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384",
             "py", client="bssl", group="x25519"),
    # ------------------------------------------------------------------ HTTP variety
    Scenario("http-chunked",
             "HTTP/1.1 response with Transfer-Encoding: chunked (three chunks, each its own "
             "record), TLS 1.3.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "py",
             client_args=CURL13, paths=("/chunked",), group="x25519",
             http=("GET /chunked -> 200",)),
    Scenario("http-keepalive",
             "Two requests on one keep-alive connection (200 then 404), TLS 1.2.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
             "py", ("--tls-max", "1.2", "--no-tickets"), client_args=CURL12,
             paths=("/index.html", "/missing"), group="x25519",
             http=("GET /index.html -> 200", "GET /missing -> 404")),
    Scenario("http-close",
             "HTTP/1.1 response without a length, delimited by the server closing the "
             "connection (Connection: close), TLS 1.3.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "py",
             client_args=CURL13, paths=("/close",), group="x25519",
             http=("GET /close -> 200",)),
    Scenario("http-post",
             "HTTP/1.1 POST with a 232-byte form body, answered 201 Created, TLS 1.2.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
             "py", ("--tls-max", "1.2", "--no-tickets"),
             client_args=(*CURL12, "--data-binary", POST_BODY), paths=("/submit",),
             group="x25519", http=("POST /submit -> 201",)),
    # ------------------------------------------------------------------ resumption, key update
    Scenario("tls12-resume-session-id",
             "Two TLS 1.2 connections: a full handshake, then an abbreviated one resuming by "
             "session ID (no tickets; ServerHello echoes the ID, no Certificate).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
             client_args=(*CURL12, "--rate", "4/s"), paths=("/index.html", "/index.html"),
             group="x25519", connections=2, resumption=True,
             http=("GET /index.html -> 200", "GET /index.html -> 200")),
    Scenario("tls12-resume-ticket",
             "Two TLS 1.2 connections from a Python client: a full handshake ending in a "
             "NewSessionTicket, then an abbreviated one resuming with that ticket (session=).",
             "Python ssl -> Python ssl", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
             "py", ("--tls-max", "1.2"), client="py", client_args=("--tls-max", "1.2",
                                                                   "--connections", "2"),
             group="x25519", connections=2, resumption=True,
             http=("GET /index.html -> 200", "GET /index.html -> 200")),
    Scenario("tls13-keyupdate",
             "TLS 1.3 KeyUpdate: openssl s_client sends a request, then 'K' (KeyUpdate, "
             "update_requested), then a second request; the server answers with its own "
             "KeyUpdate before the second response.",
             "openssl s_client -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "py",
             client="s_client", client_args=("keyupdate",), group="x25519", key_update=True,
             http=("GET /index.html -> 200", "GET /close -> 200")),
    # ------------------------------------------------------------------ more suites and handshakes
    Scenario("tls12-ecdhe-ecdsa-aes128ccm8",
             "TLS 1.2 ECDHE-ECDSA with AES-128-CCM_8: CCM with an 8-byte tag (RFC 7251).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "s_server",
             (*S12, "-cipher", "ECDHE-ECDSA-AES128-CCM8"),
             client_args=(*CURL12, "--ciphers", "ECDHE-ECDSA-AES128-CCM8"), cert="ecdsa",
             group="x25519"),
    Scenario("tls13-aes128ccm8",
             "TLS 1.3 TLS_AES_128_CCM_8_SHA256 (8-byte tag), ECDSA certificate.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.3", "TLS_AES_128_CCM_8_SHA256",
             "s_server", _s13("TLS_AES_128_CCM_8_SHA256"),
             client_args=(*CURL13, "--tls13-ciphers", "TLS_AES_128_CCM_8_SHA256"),
             cert="ecdsa", group="x25519"),
    Scenario("tls12-cbc-sha384-mte",
             "TLS 1.2 ECDHE-ECDSA with AES-256-CBC and HMAC-SHA384, MAC-then-encrypt "
             "(s_server -no_etm): a 48-byte MAC inside the CBC padding; PRF with SHA-384.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "s_server",
             (*S12, "-cipher", "ECDHE-ECDSA-AES256-SHA384", "-no_etm"), client_args=CURL12,
             cert="ecdsa", group="x25519"),
    Scenario("tls12-rsa-kx-cbc-noems",
             "TLS 1.2 RSA key exchange with AES-256-CBC/HMAC-SHA256 (encrypt-then-MAC) and "
             "NO extended master secret (the server sets SSL_OP_NO_EXTENDED_MASTER_SECRET): "
             "the demo server key (captures/pki) alone decrypts it, through the classic "
             "master secret PRF.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.2", "TLS_RSA_WITH_AES_256_CBC_SHA256", "py",
             ("--tls-max", "1.2", "--no-tickets", "--ciphers", "AES256-SHA256",
              "--options", "0x1"),
             client_args=CURL12, rsa_key_decrypts=True),
    Scenario("tls12-renegotiation",
             "TLS 1.2 client-initiated secure renegotiation (openssl s_client 'R', s_server "
             "-client_renegotiation): a second full handshake inside the encrypted connection, "
             "then the request under the new keys.",
             "openssl s_client -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-client_renegotiation"),
             client="s_client", client_args=("renegotiate",), cert="ecdsa", group="x25519",
             renegotiation=True),
    Scenario("gnutls-cli-hrr",
             "GnuTLS gnutls-cli offering key shares the server does not accept: the server "
             "(P-384 only) answers with a HelloRetryRequest; TLS 1.3.",
             "gnutls-cli (GnuTLS) -> openssl s_server", "TLS 1.3", "TLS_AES_128_GCM_SHA256",
             "s_server", _s13("TLS_AES_128_GCM_SHA256", "P-384"), client="gnutls-cli",
             cert="ecdsa", group="secp384r1", alpn="http/1.1", hello_retry=True),
    Scenario("tls13-early-data",
             "TLS 1.3 0-RTT: a first connection gets a ticket; the second resumes with it and "
             "sends a request as early data (CLIENT_EARLY_TRAFFIC_SECRET, EndOfEarlyData), "
             "then the same request after the handshake; gnutls-serv answers once.",
             "openssl s_client -> gnutls-serv (GnuTLS)", "TLS 1.3", "TLS_AES_256_GCM_SHA384",
             "gnutls-serv", ("--earlydata", "--maxearlydata", "16384"), client="s_client",
             client_args=("early-data",), cert="ecdsa", group="x25519", connections=2,
             resumption=True, early_data=True, alpn=None,
             http=("GET /index.html -> 200", "GET /index.html -> none",
                   "GET /index.html -> 200")),
    # ------------------------------------------------------------------ conditions
    Scenario("ipv6",
             "TLS 1.3 over IPv6 (2001:db8::10 -> 2001:db8::80, documentation prefix).",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.3", "TLS_AES_128_GCM_SHA256",
             "s_server", _s13("TLS_AES_128_GCM_SHA256"), client_args=CURL13,
             group="x25519", ipv6=True),
    Scenario("sll2-any",
             "TLS 1.3 captured with tcpdump -i any: pcap with Linux cooked v2 (SLL2) headers.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "py",
             client_args=CURL13, group="x25519", capture="tcpdump-any"),
    Scenario("tiny-mss",
             "TLS 1.2 ECDHE-RSA with an advertised MSS of 100 on both sides (ip route advmss): "
             "every record above 100 bytes spans several TCP segments.",
             "curl (OpenSSL) -> openssl s_server", "TLS 1.2",
             "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "s_server",
             (*S12, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"), client_args=CURL12,
             group="x25519", advmss=100),
    Scenario("multi-conn",
             "Four concurrent HTTPS connections (curl --parallel, Connection: close) to a "
             "threaded server across a 25 ms delay line: segments of the connections "
             "interleave in the capture. TLS 1.2.",
             "curl (OpenSSL) -> Python ssl", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
             "py", ("--tls-max", "1.2", "--no-tickets"),
             client_args=(*CURL12, "--parallel", "--parallel-immediate", "--parallel-max", "4",
                          "-H", "Connection: close"),
             paths=("/index.html", "/chunked", "/close", "/index.html"), group="x25519",
             connections=4, delay_ms=25.0,
             http=("GET /index.html -> 200", "GET /chunked -> 200", "GET /close -> 200",
                   "GET /index.html -> 200")),
)
BY_NAME = {s.name: s for s in SCENARIOS}


# =========================================================================== network


def make_network(base, sc: Scenario):
    """A base.Network (captures/record.py) with this corpus's options."""

    class CorpusNetwork(base.Network):
        def __init__(self) -> None:
            super().__init__(sc.delay_ms)
            tag = os.getpid()
            self.client = f"tlsdoc-corpus-c-{tag}"
            self.server = f"tlsdoc-corpus-s-{tag}"
            self.middle = f"tlsdoc-corpus-m-{tag}" if sc.delay_ms > 0 else None

        def _add_ns(self, name: str) -> None:
            if not sc.ipv6:
                return super()._add_ns(name)
            base.run(["ip", "netns", "add", name])
            self.created.append(name)
            # IPv6 on, but quiet: no DAD, no router solicitations, no RAs.
            for key in ("default", "all"):
                for knob, value in (("accept_dad", 0), ("dad_transmits", 0),
                                    ("router_solicitations", 0), ("accept_ra", 0)):
                    path = f"/proc/sys/net/ipv6/conf/{key}/{knob}"
                    base.run(self.ns(name, "sh", "-c", f"test ! -e {path} || echo {value} > {path}"))
            base.run(self.ns(name, "ip", "link", "set", "lo", "up"))

        def _host(self, ns, ifname, address, peer, peer_mac) -> None:
            mss = ("advmss", str(sc.advmss)) if sc.advmss else ()
            if sc.ipv6:
                address, peer = V6[address], V6[peer]
                base.run(self.ns(ns, "ip", "-6", "address", "add", f"{address}/128", "dev",
                                 ifname, "nodad"))
                base.run(self.ns(ns, "ip", "link", "set", ifname, "up"))
                base.run(self.ns(ns, "ip", "-6", "route", "add", f"{peer}/128", "dev", ifname,
                                 "src", address, *mss))
                base.run(self.ns(ns, "ip", "-6", "neigh", "replace", peer, "lladdr", peer_mac,
                                 "dev", ifname, "nud", "permanent"))
                return
            base.run(self.ns(ns, "ip", "address", "add", f"{address}/32", "dev", ifname))
            base.run(self.ns(ns, "ip", "link", "set", ifname, "up"))
            base.run(self.ns(ns, "ip", "route", "add", f"{peer}/32", "dev", ifname, "src",
                             address, *mss))
            base.run(self.ns(ns, "ip", "neigh", "replace", peer, "lladdr", peer_mac, "dev",
                             ifname, "nud", "permanent"))

    return CorpusNetwork()


# =========================================================================== recording


def _addr(base, sc: Scenario, ip: str) -> str:
    return V6[ip] if sc.ipv6 else ip


def _stdin_client(argv, env, script, log: Path, timeout: float = 15.0) -> None:
    """Run a client that reads the request from stdin, feeding *script* (bytes | seconds)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                env=env)
        try:
            for step in script:
                if isinstance(step, (int, float)):
                    time.sleep(step)
                else:
                    proc.stdin.write(step)
                    proc.stdin.flush()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        finally:
            if proc.poll() is None:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
                try:
                    proc.wait(2)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    try:
                        proc.wait(3)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()


def _request(path: str, close: bool = True) -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return (f"GET {path} HTTP/1.1\r\nHost: {SERVER_NAME}\r\nUser-Agent: tlsdoc-corpus\r\n"
            f"Accept: */*\r\n{extra}\r\n").encode()


def record_one(base, sc: Scenario, procs, workdir: Path, out: Path, chain: Path) -> list[Path]:
    net = make_network(base, sc)
    try:
        net.create(procs, workdir)
        return _record(base, sc, net, procs, workdir, out, chain)
    finally:
        procs.stop_all()
        net.delete()


def _record(base, sc, net, procs, workdir, out, chain) -> list[Path]:
    docroot = workdir / "www"
    suffix = ".pcap" if sc.capture == "tcpdump-any" else ".pcapng"
    cap_path = workdir / f"{sc.name}{suffix}"
    keys = workdir / f"{sc.name}.keys"
    for stale in (cap_path, keys):
        stale.unlink(missing_ok=True)
    client_ip = _addr(base, sc, base.CLIENT_IP)
    server_ip = _addr(base, sc, base.SERVER_IP)
    if sc.cert == "ecdsa":
        cert, key, chain_file = (CORPUS_PKI / "www.example.com-ecdsa.pem",
                                 CORPUS_PKI / "www.example.com-ecdsa.DEMO-ONLY.key.pem",
                                 CORPUS_PKI / "www.example.com-ecdsa.pem")
        cafile = CORPUS_PKI / "corpus-root-ca.pem"
    else:
        cert, key, chain_file = (base.PKI / base.LEAF_CERT, base.PKI / base.LEAF_KEY, chain)
        cafile = base.PKI / base.ROOT_CERT

    # ---- server
    if sc.server == "s_server":
        argv = ["openssl", "s_server", "-6" if sc.ipv6 else "-4", "-accept", "443", "-WWW",
                "-quiet", "-naccept", str(sc.connections), "-alpn", "http/1.1",
                "-cert", str(cert), "-key", str(key)]
        if sc.cert == "rsa":
            argv += ["-cert_chain", str(base.PKI / base.INTERMEDIATE_CERT)]
        if sc.client_auth:
            argv += ["-CAfile", str(CORPUS_PKI / "corpus-root-ca.pem")]
        if sc.server_keylog:
            argv += ["-keylogfile", str(keys)]
        argv += list(sc.server_args)
    elif sc.server == "py":
        argv = [sys.executable, str(Path(__file__).resolve()), "serve", "--bind", server_ip,
                "--port", "443", "--cert", str(chain_file), "--key", str(key),
                *sc.server_args]
    elif sc.server == "gnutls-serv":
        (workdir / "httpdata").write_text(PAGE)
        argv = ["gnutls-serv", "--http", "-p", "443", "--x509certfile", str(chain_file),
                "--x509keyfile", str(key), "--httpdata", str(workdir / "httpdata"),
                *sc.server_args]
    else:
        raise base.RecipeError(f"unknown server {sc.server}")
    server_log = workdir / f"{sc.name}.server.log"
    server = procs.start(net.ns(net.server, *argv), log=server_log, cwd=docroot)
    base.wait_for(lambda: server.poll() is not None or base.listening(net, 443),
                  f"{sc.name} server on port 443")
    if server.poll() is not None:
        raise base.RecipeError(f"{sc.name}: server exited:\n"
                               + server_log.read_text(errors="replace"))

    # ---- capture
    if sc.capture == "tcpdump-any":
        cap_argv = ["tcpdump", "-i", "any", "--immediate-mode", "-U", "-n", "-w", str(cap_path),
                    "tcp"]
    else:
        comment = (f"tlsdoc corpus scenario {sc.name}: {SERVER_NAME} {client_ip} -> "
                   f"{server_ip}; demo keys only; recorded by tests/corpus/record_corpus.py")
        cap_argv = ["dumpcap", "-q", "-i", "veth-c", "-n", "-f", "tcp", "-w", str(cap_path),
                    "--capture-comment", comment]
    cap_log = workdir / f"{sc.name}.capture.log"
    cap = procs.start(net.ns(net.client, *cap_argv), log=cap_log)
    base.wait_for(lambda: cap.poll() is not None
                  or (cap_path.exists() and cap_path.stat().st_size > 0), "capture to start")
    time.sleep(0.5)
    if cap.poll() is not None:
        raise base.RecipeError("capture exited:\n" + cap_log.read_text(errors="replace"))

    # ---- client
    env = dict(procs.env, SSLKEYLOGFILE=str(keys))
    client_log = workdir / f"{sc.name}.client.log"
    host_for_url = f"[{server_ip}]" if sc.ipv6 else server_ip
    if sc.client == "curl":
        curl = ["curl", "-q", "--silent", "--show-error", "--http1.1", "--noproxy", "*",
                "--max-time", "20", "--resolve", f"{SERVER_NAME}:443:{host_for_url}",
                "--cacert", str(cafile), "--write-out", "%{http_code}\\n"]
        if sc.client_auth:
            curl += ["--cert", str(CORPUS_PKI / "client.pem"),
                     "--key", str(CORPUS_PKI / "client.DEMO-ONLY.key.pem")]
        curl += list(sc.client_args)
        for index, path in enumerate(sc.paths):
            curl += ["--output", str(workdir / f"{sc.name}.body{index}"),
                     f"https://{SERVER_NAME}{path}"]
        codes = base.run(net.ns(net.client, *curl), env=env, timeout=40).split()
        expected = [h.rsplit(" ", 1)[1] for h in sc.http]
        if sorted(codes) != sorted(expected):
            raise base.RecipeError(f"{sc.name}: curl got {codes}, expected {expected}")
    elif sc.client == "py":
        base.run(net.ns(net.client, sys.executable, str(Path(__file__).resolve()), "fetch",
                        "--connect", server_ip, "--cafile", str(cafile), "--keylog", str(keys),
                        *sc.client_args), env=procs.env, timeout=40)
    elif sc.client == "gnutls-cli":
        _stdin_client(net.ns(net.client, "gnutls-cli", "--x509cafile", str(cafile),
                             "--sni-hostname", SERVER_NAME, "--verify-hostname", SERVER_NAME,
                             "--alpn", "http/1.1", "-p", "443", server_ip),
                      env, [0.5, _request("/index.html")], client_log)
    elif sc.client == "tstclnt":
        _stdin_client(net.ns(net.client, "tstclnt", "-D", "-o", "-h", server_ip, "-a",
                             SERVER_NAME, "-p", "443", "-V", "tls1.2:tls1.3"),
                      env, [0.5, _request("/index.html")], client_log)
    elif sc.client == "bssl":
        _stdin_client(net.ns(net.client, "bssl-tool", "client", "-connect",
                             f"{server_ip}:443", "-server-name", SERVER_NAME,
                             "-root-certs", str(cafile), "-alpn-protos", "http/1.1",
                             "-grease", "-permute-extensions"),
                      env, [0.5, _request("/index.html")], client_log)
    elif sc.client == "s_client":
        s_client = ["openssl", "s_client", "-connect", f"{server_ip}:443", "-servername",
                    SERVER_NAME, "-CAfile", str(cafile), "-alpn", "http/1.1",
                    "-keylogfile", str(keys)]
        mode = sc.client_args[0]
        if mode == "keyupdate":  # 'K': KeyUpdate with update_requested
            _stdin_client(net.ns(net.client, *s_client, "-tls1_3"), env,
                          [0.5, _request("/index.html", close=False), 0.5, b"K\n", 0.5,
                           _request("/close")], client_log)
        elif mode == "renegotiate":  # 'R': a second handshake inside the first
            _stdin_client(net.ns(net.client, *s_client, "-tls1_2"), env,
                          [0.5, b"R\n", 0.7, _request("/index.html")], client_log)
        elif mode == "early-data":  # a ticket, then 0-RTT data in a second connection
            session = workdir / f"{sc.name}.session.pem"
            request_file = workdir / f"{sc.name}.early.txt"
            request_file.write_bytes(_request("/index.html"))
            session.unlink(missing_ok=True)
            _stdin_client(net.ns(net.client, *s_client, "-tls1_3", "-sess_out", str(session)),
                          env, [0.5, _request("/index.html")], client_log, timeout=5)
            time.sleep(0.3)
            _stdin_client(net.ns(net.client, *s_client, "-tls1_3", "-sess_in", str(session),
                                 "-early_data", str(request_file)),
                          env, [0.5, _request("/index.html")], client_log, timeout=5)
            if "Early data was accepted" not in client_log.read_text(errors="replace"):
                raise base.RecipeError(f"{sc.name}: the server did not accept early data")
        else:
            raise base.RecipeError(f"unknown s_client mode {mode}")
    else:
        raise base.RecipeError(f"unknown client {sc.client}")

    time.sleep(0.8 if sc.delay_ms else 0.5)  # the closing FIN/ACKs
    procs.stop(cap)
    if sc.server == "s_server":
        try:
            server.wait(2.0)
        except subprocess.TimeoutExpired:
            pass
    procs.stop(server)
    if not keys.exists() or not keys.read_text().strip():
        log = client_log.read_text(errors="replace") if client_log.exists() else ""
        raise base.RecipeError(f"{sc.name}: the client wrote no key log\n{log}")
    if client_log.exists() and sc.client in ("gnutls-cli", "tstclnt", "bssl", "s_client"):
        text = client_log.read_text(errors="replace")
        if "HTTP/1." not in text:
            raise base.RecipeError(f"{sc.name}: no HTTP response seen by the client:\n{text}")
    written = []
    for src in (cap_path, keys):
        dst = out / src.name
        shutil.copyfile(src, dst)
        written.append(dst)
    return written


# =========================================================================== manifest


def versions(base) -> dict[str, str]:
    def first(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "not installed"
        text = (done.stdout or done.stderr).strip()
        return text.splitlines()[0] if text else "unknown"

    return {
        "kernel": f"Linux {platform.release()}",
        "openssl": first(["openssl", "version"]),
        "curl": first(["curl", "--version"]),
        "python": f"Python {platform.python_version()}",
        "python_ssl": __import__("ssl").OPENSSL_VERSION,
        "gnutls": first(["gnutls-cli", "--version"]),
        "nss": first(["dpkg-query", "-W", "-f", "libnss3 ${Version}", "libnss3"]),
        "boringssl": first(["dpkg-query", "-W", "-f", "android-boringssl ${Version}",
                            "android-boringssl"]),
        "dumpcap": first(["dumpcap", "--version"]),
        "tcpdump": first(["tcpdump", "--version"]),
        "iproute2": first(["ip", "-V"]),
    }


PKI_FILES = (
    ("pki/corpus-root-ca.pem", "certificate",
     "Corpus demo root CA (ECDSA P-256; its key was discarded after signing)."),
    ("pki/www.example.com-ecdsa.pem", "certificate",
     "ECDSA P-256 server certificate for www.example.com, signed by the corpus root."),
    ("pki/www.example.com-ecdsa.DEMO-ONLY.key.pem", "private-key",
     "DEMO ONLY key of the ECDSA server certificate. Never use it for anything else."),
    ("pki/client.pem", "certificate",
     "Demo client certificate 'tlsdoc demo client' (ECDSA P-256, clientAuth)."),
    ("pki/client.DEMO-ONLY.key.pem", "private-key",
     "DEMO ONLY key of the demo client certificate. Never use it for anything else."),
)


def write_manifest(base, out: Path, recorded_with: dict[str, str]) -> Path:
    parts = [
        "# tests/corpus/MANIFEST - the test corpus: varied TLS captures from other stacks,\n"
        "# suites and conditions, with their key logs.  TOML, same format as\n"
        "# captures/MANIFEST (read by tlsdoc.manifest).  Written by\n"
        "# tests/corpus/record_corpus.py.  Paths are relative to this file.  DEMO keys only.\n\n"
        "format = 1\n"
        f"server_name = {base._toml_str(SERVER_NAME)}\n"
        f"client = {base._toml_str(base.CLIENT_IP)}\n"
        f"server = {base._toml_str(base.SERVER_IP)}\n"
        f"client_ipv6 = {base._toml_str(V6[base.CLIENT_IP])}\n"
        f"server_ipv6 = {base._toml_str(V6[base.SERVER_IP])}\n\n"
        "[recorded_with]\n"
        + "".join(f"{k} = {base._toml_str(v)}\n" for k, v in recorded_with.items())
        + "\n"
    ]
    for sc in SCENARIOS:
        found = [p for p in (out / f"{sc.name}.pcapng", out / f"{sc.name}.pcap") if p.exists()]
        if not found:
            continue
        capture = found[0]
        parts.append(base._file_entry(
            out, capture, "capture", sc.description,
            scenario=sc.name, frames=base.count_frames(capture), connections=sc.connections,
            tls_versions=[sc.version], cipher_suite=sc.suite, group=sc.group,
            sni=SERVER_NAME, alpn=sc.alpn, hello_retry_request=sc.hello_retry,
            resumption=sc.resumption, keylog=f"{sc.name}.keys",
            http_status=int(sc.http[0].rsplit(" ", 1)[1]),
            stack=sc.stack, http=list(sc.http), client_auth=sc.client_auth,
            key_update=sc.key_update, early_data=sc.early_data,
            renegotiation=sc.renegotiation, ip_version=6 if sc.ipv6 else 4,
            server_key=(f"captures/pki/{base.LEAF_KEY}" if sc.rsa_key_decrypts else None),
            link_type="LINUX_SLL2" if sc.capture == "tcpdump-any" else "ETHERNET",
            advmss=sc.advmss, one_way_delay_ms=int(sc.delay_ms),
        ))
        parts.append("\n")
        parts.append(base._file_entry(
            out, out / f"{sc.name}.keys", "keylog",
            f"NSS key log written by the {'server' if sc.server_keylog else 'client'} "
            f"({sc.stack.split(' -> ')[1 if sc.server_keylog else 0]}) while recording "
            f"{capture.name}; DEMO ONLY.", capture=capture.name))
        parts.append("\n")
    for rel, kind, description in PKI_FILES:
        if (out / rel).exists():
            parts.append(base._file_entry(out, out / rel, kind, description))
            parts.append("\n")
    manifest = out / "MANIFEST"
    manifest.write_text("".join(parts).rstrip("\n") + "\n")
    return manifest


# =========================================================================== main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve(argv[1:])
    if argv[:1] == ["fetch"]:
        return fetch(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--scenario", action="append", choices=sorted(BY_NAME))
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--no-manifest", action="store_true")
    parser.add_argument("--manifest-only", action="store_true",
                        help="only rewrite MANIFEST for the files already in --out")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc.name:28} {sc.version} {sc.suite:45} {sc.stack}")
        return 0
    base = _load_base()
    base.VERBOSE = args.verbose
    if args.manifest_only:
        print(f"wrote {write_manifest(base, args.out.resolve(), versions(base))}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C",
           "HOME": "/nonexistent"}
    procs = base.Processes(env)
    failed = []
    try:
        if os.geteuid() != 0:
            raise base.RecipeError("needs root (network namespaces)")
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tlsdoc-corpus-") as tmp:
            workdir = Path(tmp)
            os.chmod(workdir, 0o755)
            (workdir / "www").mkdir()
            (workdir / "www" / "index.html").write_text(PAGE)
            chain = workdir / "rsa-chain.pem"
            chain.write_bytes((base.PKI / base.LEAF_CERT).read_bytes()
                              + (base.PKI / base.INTERMEDIATE_CERT).read_bytes())
            for name in args.scenario or [s.name for s in SCENARIOS]:
                started = time.monotonic()
                try:
                    files = record_one(base, BY_NAME[name], procs, workdir, out, chain)
                except base.RecipeError as exc:
                    print(f"{name}: FAILED: {exc}", file=sys.stderr)
                    failed.append(name)
                    continue
                print(f"{name}: {', '.join(f'{p.name} ({p.stat().st_size} B)' for p in files)}"
                      f" in {time.monotonic() - started:.1f} s", flush=True)
        if not args.no_manifest:
            print(f"wrote {write_manifest(base, out, versions(base))}")
    except base.RecipeError as exc:
        print(f"record_corpus.py: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
    if failed:
        print(f"record_corpus.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Record the handbook's bundled captures (the recipe behind ``make captures``).

Consumes the demo PKI in ``captures/pki/`` (made once by ``captures/pki.py``)
and real TLS stacks found on PATH: ``openssl s_server`` as the HTTPS server,
``python3 -m http.server`` as the plain HTTP server, ``curl`` (OpenSSL
build, honouring ``SSLKEYLOGFILE``) as the client, and ``dumpcap`` (pcapng;
``tcpdump`` as a fallback, pcap) to capture.  Produces, in ``--out DIR``,
for every scenario ``NAME``: ``NAME.pcapng`` (or ``NAME.pcap``), the key log
``NAME.keys`` for TLS scenarios, and a ``MANIFEST`` (TOML) listing every
file in DIR it knows about with its SHA-256, size and what it demonstrates.

The network, built fresh for each run and deleted afterwards::

    client ns              middle ns                       server ns
    192.0.2.10  veth-c <-> mid-c [delay_forwarder.py] mid-s <-> veth-s  203.0.113.80

Three network namespaces joined by two veth pairs, MTU 1500, offloads off on
every veth so that frames are real-sized with valid checksums, IPv6 off,
fixed MAC addresses and static neighbour entries (no ARP, no router
solicitations: a capture holds exactly one conversation).  Each address
reaches the other through an on-link route.  ``delay_forwarder.py`` delays
every frame by ``--delay-ms`` (default 25 ms each way, so RTT ~ 50 ms);
``--delay-ms 0`` joins client and server by one veth pair instead.  The
capture is taken on the client's veth.  Nothing is ever sent to an address
outside these namespaces: no proxy, no DNS (curl ``--resolve``), no
``.curlrc`` (``curl -q``).

Clean-up happens in ``finally``: every process this script started is
stopped by its PID (SIGTERM, then SIGKILL) and every namespace it created is
deleted, also when a step fails.

Must never import tlsdoc.  Needs root, Linux, iproute2, ethtool, openssl,
curl, dumpcap or tcpdump.  ``--help`` lists the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PKI = HERE / "pki"
SERVER_NAME = "www.example.com"
CLIENT_IP = "192.0.2.10"
SERVER_IP = "203.0.113.80"
CLIENT_MAC = "02:00:c0:00:02:0a"  # locally administered; echoes 192.0.2.10
SERVER_MAC = "02:00:cb:00:71:50"  # echoes 203.0.113.80
MID_MACS = ("02:00:00:00:01:0c", "02:00:00:00:01:05")
MTU = 1500
URL_PATH = "/index.html"  # s_server -WWW cannot serve "/" (it opens the empty file name)

ROOT_CERT = "root-ca.pem"
INTERMEDIATE_CERT = "intermediate-ca.pem"
LEAF_CERT = f"{SERVER_NAME}.pem"
LEAF_KEY = f"{SERVER_NAME}.DEMO-ONLY.key.pem"

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>www.example.com (tlsdoc demo)</title>
</head>
<body>
<h1>Hello from www.example.com</h1>
<p>This small page was fetched over the network recorded in the tlsdoc
handbook's bundled captures.  If you can read it in Wireshark, the
decryption worked.</p>
</body>
</html>
"""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One capture: the server and client command lines and what it shows."""

    name: str
    description: str
    server_args: tuple[str, ...]  # extra openssl s_server options; () for plain HTTP
    client_args: tuple[str, ...]  # extra curl options
    tls_versions: tuple[str, ...] = ()
    cipher_suite: str | None = None
    group: str | None = None
    connections: int = 1
    hello_retry_request: bool = False
    resumption: bool = False
    rsa_key_decrypts: bool = False

    @property
    def tls(self) -> bool:
        return bool(self.tls_versions)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="tls12-rsa",
        description=(
            "TLS 1.2 with RSA key exchange: the client encrypts the premaster secret "
            "with the server's public key (ClientKeyExchange); extended master secret "
            "negotiated; no session ticket. Decryptable with the demo server key alone "
            "or with the key log."
        ),
        server_args=("-tls1_2", "-cipher", "AES128-GCM-SHA256", "-no_ticket"),
        client_args=("--tlsv1.2", "--tls-max", "1.2"),
        tls_versions=("TLS 1.2",),
        cipher_suite="TLS_RSA_WITH_AES_128_GCM_SHA256",
        rsa_key_decrypts=True,
    ),
    Scenario(
        name="tls12-ecdhe",
        description=(
            "TLS 1.2 with ECDHE key exchange signed by the server's RSA key "
            "(ServerKeyExchange); forward secrecy: the server key does NOT decrypt it, "
            "the key log does. No session ticket."
        ),
        server_args=("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-no_ticket"),
        client_args=("--tlsv1.2", "--tls-max", "1.2"),
        tls_versions=("TLS 1.2",),
        cipher_suite="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        group="x25519",
    ),
    Scenario(
        name="tls13",
        description=(
            "TLS 1.3 full handshake, one round trip, X25519 key share; certificate "
            "encrypted; one NewSessionTicket. Decryptable with the key log only."
        ),
        server_args=(
            "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519",
            "-num_tickets", "1",
        ),
        client_args=("--tlsv1.3",),
        tls_versions=("TLS 1.3",),
        cipher_suite="TLS_AES_128_GCM_SHA256",
        group="x25519",
    ),
    Scenario(
        name="tls13-hrr",
        description=(
            "TLS 1.3 with a HelloRetryRequest: the client's first key_share is X25519 "
            "only, the server accepts only P-256 (secp256r1), so it asks again and the "
            "client sends a second ClientHello. Decryptable with the key log only."
        ),
        server_args=(
            "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256",
            "-num_tickets", "1",
        ),
        client_args=("--tlsv1.3",),
        tls_versions=("TLS 1.3",),
        cipher_suite="TLS_AES_128_GCM_SHA256",
        group="secp256r1",
        hello_retry_request=True,
    ),
    Scenario(
        name="tls13-resumption",
        description=(
            "Two TLS 1.3 connections in one capture: the first is a full handshake that "
            "ends with a NewSessionTicket, the second resumes with that ticket "
            "(pre_shared_key, psk_dhe_ke with an X25519 key share, no certificate). "
            "Decryptable with the key log only."
        ),
        server_args=(
            "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519",
            "-num_tickets", "1",
        ),
        # --rate: start the second transfer 0.5 s after the first, so that the first
        # connection has closed before the second one opens.
        client_args=("--tlsv1.3", "--rate", "2/s"),
        tls_versions=("TLS 1.3",),
        cipher_suite="TLS_AES_128_GCM_SHA256",
        group="x25519",
        connections=2,
        resumption=True,
    ),
    Scenario(
        name="http",
        description=(
            "Plain HTTP/1.1 GET over TCP port 80, no TLS: three-way handshake, request, "
            "response, close. For the TCP chapter."
        ),
        server_args=(),
        client_args=(),
    ),
)
BY_NAME = {s.name: s for s in SCENARIOS}


VERBOSE = False  # --verbose: echo every command line to stderr


def echo(argv: list[str], extra_env: dict[str, str] | None = None) -> None:
    if VERBOSE:
        env = "".join(f"{k}={shlex.quote(v)} " for k, v in (extra_env or {}).items())
        print(f"+ {env}{shlex.join(argv)}", file=sys.stderr, flush=True)


class RecipeError(Exception):
    """A step of the recipe failed; the message says which."""


# --------------------------------------------------------------------------- processes


class Processes:
    """Every process the recipe starts, so that ``finally`` can stop each by PID."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[subprocess.Popen] = []

    def start(self, argv: list[str], *, log: Path, cwd: Path | None = None,
              extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        env = dict(self.env, **(extra_env or {}))
        echo(argv, extra_env)
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=cwd, env=env)
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 3.0) -> int | None:
        """SIGTERM the process (by its PID), then SIGKILL it if it lingers."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc in self.running:
            self.running.remove(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            try:
                self.stop(proc)
            except Exception as exc:  # keep cleaning up
                print(f"record.py: could not stop PID {proc.pid}: {exc}", file=sys.stderr)


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 30.0,
        extra_env: dict[str, str] | None = None) -> str:
    """Run a short command to completion; raise RecipeError with its output on failure."""
    echo(argv, extra_env)
    if extra_env:
        env = dict(env if env is not None else os.environ, **extra_env)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RecipeError(f"timed out after {timeout} s: {' '.join(argv)}") from exc
    if done.returncode != 0:
        raise RecipeError(
            f"exit {done.returncode}: {' '.join(argv)}\n"
            + done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        )
    return done.stdout.decode(errors="replace")


def wait_for(predicate, what: str, timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RecipeError(f"timed out waiting for {what}")
        time.sleep(step)


# --------------------------------------------------------------------------- network


class Network:
    """The namespaces and veth pairs of one run; ``delete()`` removes them all."""

    def __init__(self, delay_ms: float) -> None:
        tag = f"{os.getpid()}"
        self.client = f"tlsdoc-client-{tag}"
        self.server = f"tlsdoc-server-{tag}"
        self.middle = f"tlsdoc-mid-{tag}" if delay_ms > 0 else None
        self.delay_ms = delay_ms
        self.created: list[str] = []

    def ns(self, name: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", name, *argv]

    def _add_ns(self, name: str) -> None:
        run(["ip", "netns", "add", name])
        self.created.append(name)
        # No IPv6 at all: no router solicitations or MLD reports in the captures.
        # (sh rather than sysctl, which lives in procps and may be missing.)
        for key in ("default", "all"):
            knob = f"/proc/sys/net/ipv6/conf/{key}/disable_ipv6"
            try:
                run(self.ns(name, "sh", "-c", f"test ! -e {knob} || echo 1 > {knob}"))
            except RecipeError:
                pass  # nothing to silence
        run(self.ns(name, "ip", "link", "set", "lo", "up"))

    def _veth(self, ns_a: str, if_a: str, mac_a: str, ns_b: str, if_b: str, mac_b: str) -> None:
        run(["ip", "link", "add", if_a, "netns", ns_a, "address", mac_a, "mtu", str(MTU),
             "type", "veth", "peer", "name", if_b, "netns", ns_b, "address", mac_b,
             "mtu", str(MTU)])
        for ns, ifname in ((ns_a, if_a), (ns_b, if_b)):
            run(self.ns(ns, "ethtool", "-K", ifname, "tso", "off", "gso", "off", "gro", "off",
                        "tx", "off", "rx", "off"))

    def _host(self, ns: str, ifname: str, address: str, peer: str, peer_mac: str) -> None:
        run(self.ns(ns, "ip", "address", "add", f"{address}/32", "dev", ifname))
        run(self.ns(ns, "ip", "link", "set", ifname, "up"))
        run(self.ns(ns, "ip", "route", "add", f"{peer}/32", "dev", ifname, "src", address))
        run(self.ns(ns, "ip", "neigh", "replace", peer, "lladdr", peer_mac, "dev", ifname,
                    "nud", "permanent"))

    def create(self, procs: Processes, workdir: Path) -> None:
        self._add_ns(self.client)
        self._add_ns(self.server)
        if self.middle is None:
            self._veth(self.client, "veth-c", CLIENT_MAC, self.server, "veth-s", SERVER_MAC)
        else:
            self._add_ns(self.middle)
            self._veth(self.client, "veth-c", CLIENT_MAC, self.middle, "mid-c", MID_MACS[0])
            self._veth(self.server, "veth-s", SERVER_MAC, self.middle, "mid-s", MID_MACS[1])
            for ifname in ("mid-c", "mid-s"):
                run(self.ns(self.middle, "ip", "link", "set", ifname, "promisc", "on", "up"))
            log = workdir / "forwarder.log"
            fwd = procs.start(
                self.ns(self.middle, sys.executable, "-u", str(HERE / "delay_forwarder.py"),
                        "mid-c", "mid-s", "--delay-ms", str(self.delay_ms)),
                log=log,
            )
            wait_for(lambda: fwd.poll() is not None or b"ready" in log.read_bytes(),
                     "the delay forwarder")
            if fwd.poll() is not None:
                raise RecipeError("delay forwarder died:\n" + log.read_text(errors="replace"))
        self._host(self.client, "veth-c", CLIENT_IP, SERVER_IP, SERVER_MAC)
        self._host(self.server, "veth-s", SERVER_IP, CLIENT_IP, CLIENT_MAC)

    def delete(self) -> None:
        for name in reversed(self.created):
            try:
                run(["ip", "netns", "delete", name])
            except RecipeError as exc:
                print(f"record.py: {exc}", file=sys.stderr)
        self.created.clear()


# --------------------------------------------------------------------------- recording


def listening(net: Network, port: int) -> bool:
    out = subprocess.run(net.ns(net.server, "ss", "-Hltn", f"sport = :{port}"),
                         capture_output=True, text=True).stdout
    return bool(out.strip())


def capture_command(tool: str, net: Network, path: Path, scenario: Scenario) -> list[str]:
    if tool == "dumpcap":
        comment = (f"tlsdoc scenario {scenario.name}: {SERVER_NAME} {CLIENT_IP} -> {SERVER_IP}; "
                   "demo keys only; recorded by captures/record.py")
        return net.ns(net.client, "dumpcap", "-q", "-i", "veth-c", "-n", "-w", str(path),
                      "--capture-comment", comment)
    return net.ns(net.client, "tcpdump", "-i", "veth-c", "--immediate-mode", "-U", "-n",
                  "-w", str(path))


def record_one(scenario: Scenario, net: Network, procs: Processes, tool: str,
               workdir: Path, out: Path) -> list[Path]:
    """Record *scenario* into *out*; return the files written."""
    suffix = ".pcapng" if tool == "dumpcap" else ".pcap"
    docroot = workdir / "www"
    tmp_capture = workdir / f"{scenario.name}{suffix}"
    tmp_keys = workdir / f"{scenario.name}.keys"
    for stale in (tmp_capture, tmp_keys):
        stale.unlink(missing_ok=True)

    if scenario.tls:
        port = 443
        server_argv = net.ns(
            net.server, "openssl", "s_server", "-4", "-accept", str(port), "-WWW", "-quiet",
            "-naccept", str(scenario.connections), "-alpn", "http/1.1",
            "-cert", str(PKI / LEAF_CERT), "-key", str(PKI / LEAF_KEY),
            "-cert_chain", str(PKI / INTERMEDIATE_CERT), *scenario.server_args)
        url = f"https://{SERVER_NAME}{URL_PATH}"
    else:
        port = 80
        server_argv = net.ns(net.server, sys.executable, "-m", "http.server", str(port),
                             "--bind", SERVER_IP, "--directory", str(docroot))
        url = f"http://{SERVER_NAME}{URL_PATH}"
    server = procs.start(server_argv, log=workdir / f"{scenario.name}.server.log", cwd=docroot)
    wait_for(lambda: server.poll() is not None or listening(net, port),
             f"{scenario.name} server on port {port}")
    if server.poll() is not None:
        raise RecipeError(f"{scenario.name}: server exited:\n"
                          + (workdir / f"{scenario.name}.server.log").read_text(errors="replace"))

    cap_log = workdir / f"{scenario.name}.capture.log"
    cap = procs.start(capture_command(tool, net, tmp_capture, scenario), log=cap_log)
    wait_for(lambda: cap.poll() is not None
             or (tmp_capture.exists() and tmp_capture.stat().st_size > 0),
             f"{tool} to start")
    time.sleep(0.3)  # the file header is written just before the capture loop starts
    if cap.poll() is not None:
        raise RecipeError(f"{tool} exited:\n" + cap_log.read_text(errors="replace"))

    curl = ["curl", "-q", "--silent", "--show-error", "--fail", "--http1.1",
            "--noproxy", "*", "--max-time", "20",
            "--resolve", f"{SERVER_NAME}:{port}:{SERVER_IP}", *scenario.client_args]
    if scenario.tls:
        curl += ["--cacert", str(PKI / ROOT_CERT)]
    urls = [url] * scenario.connections
    for index, _ in enumerate(urls):
        curl += ["--output", str(workdir / f"{scenario.name}.body{index}")]
    curl += urls
    extra = {"SSLKEYLOGFILE": str(tmp_keys)} if scenario.tls else {}
    run(net.ns(net.client, *curl), env=procs.env, extra_env=extra)

    time.sleep(0.5)  # let the closing FIN/ACKs (and delayed frames) reach the capture
    procs.stop(cap)
    if scenario.tls:
        try:
            server.wait(2.0)  # -naccept: s_server exits by itself after the last connection
        except subprocess.TimeoutExpired:
            pass
    procs.stop(server)

    for index in range(scenario.connections):
        body = (workdir / f"{scenario.name}.body{index}").read_bytes()
        if body != PAGE.encode():
            raise RecipeError(f"{scenario.name}: connection {index + 1} did not fetch the page")
    if scenario.tls and not tmp_keys.exists():
        raise RecipeError(f"{scenario.name}: curl wrote no key log (SSLKEYLOGFILE ignored?)")

    written = []
    for src in (tmp_capture, tmp_keys) if scenario.tls else (tmp_capture,):
        dst = out / src.name
        shutil.copyfile(src, dst)
        written.append(dst)
    return written


def tool_versions(tool: str) -> dict[str, str]:
    def first_line(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return (done.stdout or done.stderr).strip().splitlines()[0]

    return {
        "kernel": f"Linux {platform.release()}",
        "openssl": first_line(["openssl", "version"]),
        "curl": first_line(["curl", "--version"]),
        "capture": first_line([tool, "--version"]),
        "iproute2": first_line(["ip", "-V"]),
        "python": f"Python {platform.python_version()}",
    }


# --------------------------------------------------------------------------- manifest


def count_frames(path: Path) -> int:
    """Count packet blocks in a pcapng (EPB/SPB/OPB) or records in a pcap file."""
    data = path.read_bytes()
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        count, offset, order = 0, 0, "little"
        while offset + 12 <= len(data):
            btype = int.from_bytes(data[offset:offset + 4], order)
            if btype == 0x0A0D0D0A:
                order = "little" if data[offset + 8:offset + 12] == b"\x4d\x3c\x2b\x1a" else "big"
            blen = int.from_bytes(data[offset + 4:offset + 8], order)
            if btype in (2, 3, 6):
                count += 1
            if blen < 12:
                break
            offset += blen
        return count
    order = "little" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    count, offset = 0, 24
    while offset + 16 <= len(data):
        caplen = int.from_bytes(data[offset + 8:offset + 12], order)
        offset += 16 + caplen
        count += 1
    return count


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def _file_entry(out: Path, path: Path, kind: str, description: str, **extra) -> str:
    data = path.read_bytes()
    fields = {
        "path": path.relative_to(out).as_posix(),
        "kind": kind,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "description": description,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return "[[file]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in fields.items())


def write_manifest(out: Path, versions: dict[str, str], delay_ms: float) -> Path:
    """Write ``out/MANIFEST`` for the captures in *out* (and out/pki if present)."""
    key_path = f"pki/{LEAF_KEY}"
    pki_in_out = (out / "pki" / LEAF_KEY).exists()
    parts = [
        "# captures/MANIFEST - every bundled file with its SHA-256, size and what it\n"
        "# demonstrates.  TOML, read by tlsdoc.manifest (stdlib tomllib).  Written by\n"
        "# captures/record.py; the build refuses a file whose hash does not match.\n"
        "# Paths are relative to this file.  All keys are DEMO ONLY.\n\n"
        "format = 1\n"
        f"server_name = {_toml_str(SERVER_NAME)}\n"
        f"client = {_toml_str(CLIENT_IP)}\n"
        f"server = {_toml_str(SERVER_IP)}\n"
        f"one_way_delay_ms = {delay_ms:g}\n\n"
        "[recorded_with]\n"
        + "".join(f"{k} = {_toml_str(v)}\n" for k, v in versions.items())
        + "\n"
    ]
    for sc in SCENARIOS:  # every capture in out, recorded by this run or an earlier one
        name = sc.name
        found = [p for p in (out / f"{name}.pcapng", out / f"{name}.pcap") if p.exists()]
        if not found:
            continue
        capture = found[0]
        parts.append(_file_entry(
            out, capture, "capture", sc.description,
            scenario=sc.name,
            frames=count_frames(capture),
            connections=sc.connections,
            tls_versions=list(sc.tls_versions),
            cipher_suite=sc.cipher_suite,
            group=sc.group,
            sni=SERVER_NAME if sc.tls else None,
            hello_retry_request=sc.hello_retry_request if sc.tls else None,
            resumption=sc.resumption if sc.tls else None,
            alpn="http/1.1" if sc.tls else None,
            keylog=f"{name}.keys" if sc.tls else None,
            rsa_key=key_path if sc.rsa_key_decrypts and pki_in_out else None,
            http_status=200,
        ))
        parts.append("\n")
        if sc.tls:
            parts.append(_file_entry(
                out, out / f"{name}.keys", "keylog",
                f"NSS key log (SSLKEYLOGFILE) written by curl while recording {capture.name}; "
                "DEMO ONLY.",
                capture=capture.name,
            ))
            parts.append("\n")
    if pki_in_out:
        pki_files = (
            (ROOT_CERT, "certificate", "Demo root CA certificate (trust anchor; its key was "
             "discarded after signing)."),
            (INTERMEDIATE_CERT, "certificate", "Demo intermediate CA certificate, signed by the "
             "root (its key was discarded after signing)."),
            (LEAF_CERT, "certificate", f"Server certificate for {SERVER_NAME} (RSA 2048, SAN "
             f"{SERVER_NAME}), signed by the intermediate."),
            (LEAF_KEY, "private-key", f"DEMO ONLY private key of the {SERVER_NAME} certificate; "
             "decrypts tls12-rsa by itself. Never use it for anything else."),
        )
        for fname, kind, description in pki_files:
            parts.append(_file_entry(out, out / "pki" / fname, kind, description))
            parts.append("\n")
    manifest = out / "MANIFEST"
    manifest.write_text("".join(parts).rstrip("\n") + "\n")
    return manifest


# --------------------------------------------------------------------------- main


def preflight(tool: str | None) -> str:
    if os.geteuid() != 0:
        raise RecipeError("needs root (network namespaces); run it with sudo")
    for name in ("ip", "ethtool", "openssl", "curl", "ss"):
        if shutil.which(name) is None:
            raise RecipeError(f"{name} is not installed")
    for name in (PKI / ROOT_CERT, PKI / INTERMEDIATE_CERT, PKI / LEAF_CERT, PKI / LEAF_KEY):
        if not name.exists():
            raise RecipeError(f"{name} is missing; run captures/pki.py first")
    candidates = [tool] if tool else ["dumpcap", "tcpdump"]
    for name in candidates:
        if shutil.which(name):
            return name
    raise RecipeError(f"no capture tool: install {' or '.join(candidates)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the captures")
    parser.add_argument("--scenario", action="append", choices=sorted(BY_NAME),
                        help="record only this scenario (repeatable; default: all)")
    parser.add_argument("--delay-ms", type=float, default=25.0,
                        help="one-way delay added by the forwarder (0: direct veth pair)")
    parser.add_argument("--capture-tool", choices=("dumpcap", "tcpdump"),
                        help="default: dumpcap if installed, else tcpdump")
    parser.add_argument("--no-manifest", action="store_true", help="do not write out/MANIFEST")
    parser.add_argument("--verbose", action="store_true", help="echo every command to stderr")
    args = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose

    names = args.scenario or [s.name for s in SCENARIOS]
    # SIGTERM (e.g. from a CI timeout) unwinds through the finally blocks below,
    # like Ctrl-C does, so that processes and namespaces are still cleaned up.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C",
           "HOME": "/nonexistent"}
    procs = Processes(env)
    try:
        tool = preflight(args.capture_tool)
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        net = Network(args.delay_ms)
        with tempfile.TemporaryDirectory(prefix="tlsdoc-record-") as tmp:
            workdir = Path(tmp)
            os.chmod(workdir, 0o755)
            (workdir / "www").mkdir()
            (workdir / "www" / URL_PATH.lstrip("/")).write_text(PAGE)
            try:
                net.create(procs, workdir)
                for name in names:
                    started = time.monotonic()
                    files = record_one(BY_NAME[name], net, procs, tool, workdir, out)
                    print(f"{name}: {', '.join(f'{p.name} ({p.stat().st_size} B)' for p in files)}"
                          f" in {time.monotonic() - started:.1f} s")
            finally:
                procs.stop_all()
                net.delete()
        if not args.no_manifest:
            manifest = write_manifest(out, tool_versions(tool), args.delay_ms)
            print(f"wrote {manifest}")
    except RecipeError as exc:
        print(f"record.py: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())

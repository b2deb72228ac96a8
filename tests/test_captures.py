"""The bundled captures: intact, as described by captures/MANIFEST, decryptable, re-recordable.

Three layers:

* the manifest itself: every entry exists with its size and SHA-256, every
  data file in ``captures/`` is listed, and :func:`tlsdoc.manifest.verify_file`
  refuses a tampered, truncated or unlisted copy, naming it;
* tshark as an independent oracle: for each capture it must report the TLS
  version, cipher suite, group, SNI, ALPN, HelloRetryRequest, resumption,
  number of connections and frames that the manifest claims, the handshake
  messages per direction this file expects, and an HTTP 200 decrypted with
  the shipped key log (and, for tls12-rsa only, with the demo server key
  alone);
* as root, ``captures/record.py --out TMP`` records every scenario again and
  the new captures must have the same structure (versions, suites, groups,
  handshake messages per direction and connection) as the bundled ones.

Tools (tshark; root, ip, ethtool, curl, openssl, dumpcap or tcpdump for the
re-recording) are optional locally and required in CI, see conftest.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import CAPTURES, missing, require_root, require_tool
from tlsdoc.errors import CaptureError
from tlsdoc.manifest import Manifest, load_manifest, verify_file

MANIFEST_PATH = CAPTURES / "MANIFEST"
MANIFEST = load_manifest(MANIFEST_PATH)
CAPTURE_ENTRIES = MANIFEST.captures()
TLS_ENTRIES = tuple(e for e in CAPTURE_ENTRIES if e.claims.tls_versions)
DATA_SUFFIXES = {".pcap", ".pcapng", ".keys", ".pem"}

SCENARIOS = ("tls12-rsa", "tls12-ecdhe", "tls13", "tls13-hrr", "tls13-resumption", "http")

# RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest.
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
VERSIONS = {0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
SUITES = {
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0x1301: "TLS_AES_128_GCM_SHA256",
}
GROUPS = {0x0017: "secp256r1", 0x001D: "x25519"}
HANDSHAKE_NAMES = {
    1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 8: "EncryptedExtensions",
    11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
    14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange", 20: "Finished",
}
EXT_PRE_SHARED_KEY = 41

# What each scenario shows, per connection: (client messages, server messages),
# as tshark decodes them with the key log.
_TLS13_FULL = (
    ("ClientHello", "Finished"),
    ("ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify", "Finished",
     "NewSessionTicket"),
)
EXPECTED_HANDSHAKES = {
    "tls12-rsa": [(("ClientHello", "ClientKeyExchange", "Finished"),
                   ("ServerHello", "Certificate", "ServerHelloDone", "Finished"))],
    "tls12-ecdhe": [(("ClientHello", "ClientKeyExchange", "Finished"),
                     ("ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone",
                      "Finished"))],
    "tls13": [_TLS13_FULL],
    "tls13-hrr": [(("ClientHello", "ClientHello", "Finished"),
                   ("HelloRetryRequest",) + _TLS13_FULL[1])],
    "tls13-resumption": [
        _TLS13_FULL,
        (("ClientHello", "Finished"),
         ("ServerHello", "EncryptedExtensions", "Finished", "NewSessionTicket")),
    ],
    "http": [((), ())],
}

# --------------------------------------------------------------------------- tshark

FIELDS = (
    "frame.number", "tcp.stream", "ip.src", "tcp.flags.syn", "tcp.flags.ack",
    "tls.handshake.type", "tls.handshake.version", "tls.handshake.extensions.supported_version",
    "tls.handshake.ciphersuite", "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_key_share_group", "tls.handshake.server_named_curve",
    "tls.handshake.extension.type", "tls.handshake.random", "tls.handshake.extensions_alpn_str",
    "http.response.code", "tls.record.content_type",
)


@lru_cache(maxsize=None)
def tshark_frames(capture: Path, keylog: Path | None = None,
                  rsa_key: Path | None = None) -> tuple[dict[str, list[str]], ...]:
    """One row per frame: field name -> list of values (tshark -T fields)."""
    argv = [require_tool("tshark"), "-n", "-r", str(capture),
            "-o", "tcp.reassemble_out_of_order:TRUE", "-o", "http.desegment_body:FALSE",
            "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    # An empty key log setting is explicit, so that no user preference sneaks in.
    argv += ["-o", f"tls.keylog_file:{keylog or ''}"]
    if rsa_key is not None:
        argv += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    for name in FIELDS:
        argv += ["-e", name]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = []
    for line in done.stdout.splitlines():
        values = line.split("|")
        assert len(values) == len(FIELDS), line
        rows.append({name: [v for v in value.split(",") if v]
                     for name, value in zip(FIELDS, values)})
    return tuple(rows)


def _int(text: str) -> int:
    return int(text, 0)


def structure(capture: Path, keylog: Path | None) -> dict:
    """What tshark sees in a capture, independent of timing and segmentation."""
    rows = tshark_frames(capture, keylog)
    client_ip = next(r["ip.src"][0] for r in rows
                     if r["tcp.flags.syn"] == ["1"] and r["tcp.flags.ack"] == ["0"])
    streams: dict[str, dict[str, list[str]]] = {}
    server_hellos, versions, suites, groups, snis, alpns = [], set(), set(), set(), set(), set()
    resumed = []
    for row in rows:
        if not row["tcp.stream"]:
            continue
        stream = streams.setdefault(row["tcp.stream"][0], {"client": [], "server": []})
        side = "client" if row["ip.src"] == [client_ip] else "server"
        types = [_int(t) for t in row["tls.handshake.type"]]
        is_hrr = HRR_RANDOM in row["tls.handshake.random"]
        for htype in types:
            name = HANDSHAKE_NAMES.get(htype, f"type{htype}")
            if htype == 2 and is_hrr:
                name = "HelloRetryRequest"
            stream[side].append(name)
        snis.update(row["tls.handshake.extensions_server_name"])
        alpns.update(a for a in row["tls.handshake.extensions_alpn_str"] if side == "server")
        if 2 in types and not is_hrr:
            server_hellos.append(row)
            selected = row["tls.handshake.extensions.supported_version"] or \
                row["tls.handshake.version"]
            versions.update(VERSIONS.get(_int(v), v) for v in selected)
            suites.update(SUITES.get(_int(s), s) for s in row["tls.handshake.ciphersuite"])
            groups.update(GROUPS.get(_int(g), g)
                          for g in row["tls.handshake.extensions_key_share_group"])
            resumed.append(EXT_PRE_SHARED_KEY in map(_int, row["tls.handshake.extension.type"]))
        if 12 in types:
            groups.update(GROUPS.get(_int(g), g) for g in row["tls.handshake.server_named_curve"])
    connections = [
        (tuple(s["client"]), tuple(s["server"])) for _, s in sorted(streams.items(),
                                                                    key=lambda kv: int(kv[0]))
    ]
    return {
        "connections": connections,
        "tls_versions": sorted(versions),
        "cipher_suites": sorted(suites),
        "groups": sorted(groups),
        "sni": sorted(snis),
        "alpn": sorted(alpns),
        "resumed": resumed,
        "http_status": [int(c) for r in rows for c in r["http.response.code"]],
    }


def http_codes(capture: Path, keylog: Path | None = None, rsa_key: Path | None = None):
    return [int(c) for r in tshark_frames(capture, keylog, rsa_key)
            for c in r["http.response.code"]]


def _keylog(entry) -> Path | None:
    return MANIFEST.resolve(entry.claims.keylog) if entry.claims.keylog else None


def _ids(entries):
    return [e.path for e in entries]


# --------------------------------------------------------------------------- the manifest


def test_manifest_describes_every_scenario():
    assert [e.claims.scenario for e in CAPTURE_ENTRIES] == list(SCENARIOS)
    for entry in TLS_ENTRIES:
        keylog = MANIFEST.get(entry.claims.keylog)
        assert keylog is not None and keylog.kind == "keylog", entry.path
        assert entry.claims.sni == MANIFEST.settings["server_name"] == "www.example.com"
    with_key = [e.claims.scenario for e in CAPTURE_ENTRIES if e.claims.rsa_key]
    assert with_key == ["tls12-rsa"]
    key = MANIFEST.get(CAPTURE_ENTRIES[0].claims.rsa_key)
    assert key.kind == "private-key" and "DEMO-ONLY" in key.path
    kinds = {e.kind for e in MANIFEST}
    assert kinds == {"capture", "keylog", "certificate", "private-key"}


def test_every_data_file_is_listed():
    on_disk = {p.relative_to(CAPTURES).as_posix() for p in CAPTURES.rglob("*")
               if p.is_file() and p.suffix in DATA_SUFFIXES}
    listed = {e.path for e in MANIFEST}
    assert on_disk == listed


def test_captures_are_small():
    sizes = [e.size for e in CAPTURE_ENTRIES]
    assert max(sizes) < 100_000 and sum(e.size for e in MANIFEST) < 400_000


@pytest.mark.parametrize("entry", MANIFEST.entries, ids=_ids(MANIFEST.entries))
def test_entry_exists_and_matches(entry):
    path = MANIFEST.resolve(entry)
    data = path.read_bytes()
    assert len(data) == entry.size
    assert hashlib.sha256(data).hexdigest() == entry.sha256
    assert verify_file(path) == entry
    assert verify_file(path, MANIFEST) == entry


def test_demo_key_is_labelled():
    key = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"
    assert key.read_text().startswith("DEMO ONLY")
    assert not list(CAPTURES.rglob("*ca*.key*")), "CA private keys must not be shipped"


@pytest.fixture
def copied(tmp_path) -> Path:
    """A copy of the manifest and one capture in a fresh directory."""
    shutil.copy(MANIFEST_PATH, tmp_path / "MANIFEST")
    shutil.copy(CAPTURES / "tls13.pcapng", tmp_path / "tls13.pcapng")
    return tmp_path


def test_verify_accepts_an_intact_copy(copied):
    assert verify_file(copied / "tls13.pcapng").claims.scenario == "tls13"


def test_verify_refuses_a_tampered_copy(copied):
    path = copied / "tls13.pcapng"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(data)
    with pytest.raises(CaptureError, match="SHA-256") as info:
        verify_file(path)
    assert "tls13.pcapng" in str(info.value)


def test_verify_refuses_a_truncated_copy(copied):
    path = copied / "tls13.pcapng"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CaptureError, match="size") as info:
        verify_file(path)
    assert "tls13.pcapng" in str(info.value)


def test_verify_refuses_an_unlisted_file(copied):
    path = copied / "mine.pcapng"
    shutil.copy(copied / "tls13.pcapng", path)
    with pytest.raises(CaptureError, match="not listed") as info:
        verify_file(path)
    assert "mine.pcapng" in str(info.value)


def test_verify_refuses_a_listed_but_missing_file(copied):
    with pytest.raises(CaptureError) as info:
        verify_file(copied / "tls12-rsa.pcapng")
    assert "tls12-rsa.pcapng" in str(info.value)


def test_verify_without_any_manifest(tmp_path):
    path = tmp_path / "lonely.pcapng"
    path.write_bytes(b"")
    with pytest.raises(CaptureError, match="no MANIFEST") as info:
        verify_file(path)
    assert "lonely.pcapng" in str(info.value)


_GOOD = ('format = 1\n[[file]]\npath = "a.keys"\nkind = "keylog"\nsize = 1\n'
         'sha256 = "' + "0" * 64 + '"\n')


@pytest.mark.parametrize("text, complaint", [
    ("format = [", "TOML"),
    ("format = 2\n", "format"),
    (_GOOD.replace('"0', '"x'), "sha256"),
    (_GOOD.replace('"a.keys"', '"../a.keys"'), "relative path"),
    (_GOOD.replace('"keylog"', '"secret"'), "kind"),
    (_GOOD.replace("size = 1", "size = true"), "size"),
    (_GOOD + _GOOD.replace("format = 1\n", ""), "listed twice"),
    (_GOOD.replace('kind = "keylog"', 'kind = "capture"'), "scenario"),
])
def test_malformed_manifest_is_refused(tmp_path, text, complaint):
    path = tmp_path / "MANIFEST"
    path.write_text(text)
    with pytest.raises(CaptureError, match=complaint) as info:
        load_manifest(path)
    assert "MANIFEST" in str(info.value)


def test_load_good_minimal_manifest(tmp_path):
    path = tmp_path / "MANIFEST"
    path.write_text(_GOOD)
    manifest = load_manifest(path)
    assert isinstance(manifest, Manifest) and len(manifest) == 1
    entry = manifest.get("a.keys")
    assert (entry.kind, entry.size, entry.claims) == ("keylog", 1, None)
    with pytest.raises(AttributeError):
        entry.size = 2  # frozen


# --------------------------------------------------------------------------- tshark's view


@pytest.mark.parametrize("entry", CAPTURE_ENTRIES, ids=_ids(CAPTURE_ENTRIES))
def test_tshark_agrees_with_the_manifest(entry):
    claims = entry.claims
    capture = MANIFEST.resolve(entry)
    rows = tshark_frames(capture, _keylog(entry))
    seen = structure(capture, _keylog(entry))
    syns = [r for r in rows if r["tcp.flags.syn"] == ["1"] and r["tcp.flags.ack"] == ["0"]]

    assert len(rows) == claims.frames
    assert len(syns) == len(seen["connections"]) == claims.connections
    assert seen["tls_versions"] == sorted(claims.tls_versions)
    assert seen["cipher_suites"] == ([claims.cipher_suite] if claims.cipher_suite else [])
    assert seen["groups"] == ([claims.group] if claims.group else [])
    assert seen["sni"] == ([claims.sni] if claims.sni else [])
    assert seen["alpn"] == ([claims.alpn] if claims.alpn else [])
    hrrs = sum(c[1].count("HelloRetryRequest") for c in seen["connections"])
    assert (hrrs > 0) == claims.hello_retry_request
    if claims.tls_versions:
        # A resumption: some ServerHello accepts a pre_shared_key and its
        # connection carries no Certificate.
        assert any(seen["resumed"]) == claims.resumption
        resumed = [conn for conn, psk in zip(seen["connections"], seen["resumed"]) if psk]
        assert all("Certificate" not in server for _, server in resumed)
    else:
        assert not any(r["tls.record.content_type"] for r in rows), "TLS in the http capture"
    assert seen["http_status"] == [claims.http_status] * claims.connections


@pytest.mark.parametrize("entry", CAPTURE_ENTRIES, ids=_ids(CAPTURE_ENTRIES))
def test_handshake_messages_per_direction(entry):
    seen = structure(MANIFEST.resolve(entry), _keylog(entry))
    assert seen["connections"] == EXPECTED_HANDSHAKES[entry.claims.scenario]


def test_client_and_server_addresses():
    for entry in CAPTURE_ENTRIES:
        rows = tshark_frames(MANIFEST.resolve(entry))
        assert {a for r in rows for a in r["ip.src"]} == {"192.0.2.10", "203.0.113.80"}


@pytest.mark.parametrize("entry", TLS_ENTRIES, ids=_ids(TLS_ENTRIES))
def test_decrypts_with_the_key_log_only_with_it(entry):
    capture = MANIFEST.resolve(entry)
    assert http_codes(capture, _keylog(entry)) == [200] * entry.claims.connections
    assert http_codes(capture) == []


@pytest.mark.parametrize("entry", TLS_ENTRIES, ids=_ids(TLS_ENTRIES))
def test_demo_server_key_alone(entry):
    """Only RSA key exchange falls to the server's key; ECDHE and TLS 1.3 do not."""
    capture = MANIFEST.resolve(entry)
    key = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"
    codes = http_codes(capture, None, key)
    if entry.claims.rsa_key:
        assert MANIFEST.resolve(entry.claims.rsa_key) == key
        assert codes == [200] * entry.claims.connections
    else:
        assert codes == []


# --------------------------------------------------------------------------- re-recording


def _capture_tool() -> str:
    for name in ("dumpcap", "tcpdump"):
        if shutil.which(name):
            return name
    missing("neither dumpcap nor tcpdump is installed")


def _require_netns() -> None:
    """Root is not enough in an unprivileged container: try making a namespace."""
    probe = f"tlsdoc-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        missing(f"cannot create network namespaces: {made.stderr.strip()}")
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)


@pytest.mark.slow
def test_rerecording_gives_the_same_structure(tmp_path):
    require_root()
    for tool in ("ip", "ethtool", "curl", "openssl", "tshark", "ss"):
        require_tool(tool)
    _capture_tool()
    _require_netns()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(CAPTURES / "record.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=180,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert elapsed < 60, f"re-recording took {elapsed:.0f} s"
    # Clean-up is part of the recipe: no namespace of this run is left behind.
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "tlsdoc-" not in netns

    fresh = load_manifest(tmp_path / "MANIFEST")
    assert [e.claims.scenario for e in fresh.captures()] == list(SCENARIOS)
    for new in fresh:
        verify_file(fresh.resolve(new))
    for old in CAPTURE_ENTRIES:
        new_entry = next(e for e in fresh.captures() if e.claims.scenario == old.claims.scenario)
        # Everything the manifest claims, except how many frames TCP happened to use
        # and the rsa_key path (the PKI is not copied into a fresh output directory).
        ignore = {"frames": 0, "rsa_key": None}
        assert {**vars(new_entry.claims), **ignore} == {**vars(old.claims), **ignore}
        before = structure(MANIFEST.resolve(old), _keylog(old))
        after = structure(fresh.resolve(new_entry), _keylog_in(fresh, new_entry))
        assert after == before, old.claims.scenario
    tls12_rsa = next(e for e in fresh.captures() if e.claims.scenario == "tls12-rsa")
    key = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"
    assert http_codes(fresh.resolve(tls12_rsa), None, key) == [200]


def _keylog_in(manifest: Manifest, entry) -> Path | None:
    return manifest.resolve(entry.claims.keylog) if entry.claims.keylog else None
